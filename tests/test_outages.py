"""Outages around real `calbot serve` workers: CometChat answering 503 for over ten (simulated)
minutes, refusing our key for a while, and the database going away; what was accepted before is
delivered once after, and what arrived meanwhile was refused so its sender retries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import unused_port

from storage import SqlStore, open_store
from storage.tables import inbox, outbox
from tests.chat import meet
from tests.test_crash import until
from tests.workers import (
    Providers,
    Worker,
    auth_header,
    fake_providers,
    webhook_message,
    worker_config,
    workers,
)

HELP = "Here is what I can do"


def start(
    providers: Providers, url: str, folder: Path
) -> AbstractAsyncContextManager[list[Worker]]:
    return workers(1, url, providers.cometchat_base, folder, "send_per_minute = 100000\n",
                   providers.worker_env, log_level="INFO")  # fmt: skip


async def post(http: aiohttp.ClientSession, worker: Worker, message_id: str, uid: str) -> int:
    body = webhook_message(message_id, uid, "/help")
    async with http.post(f"{worker.url}/cometchat/webhook", json=body) as response:
        return response.status


async def column(store: SqlStore, query: sa.Select[Any]) -> list[int]:
    async with store._engine.connect() as conn:
        return [int(row[0]) for row in await conn.execute(query)]


async def minutes_pass(store: SqlStore, minutes: int) -> None:
    """Simulated time for the outbox: rows look `minutes` old and their backoff has run out."""
    now = datetime.now(UTC)
    async with store._engine.begin() as conn:
        await conn.execute(
            sa.update(outbox)
            .where(outbox.c.status == "pending")
            .values(created_at=now - timedelta(minutes=minutes), next_attempt_at=now)
        )


def helped(providers: Providers) -> Counter[str]:
    received = providers.cometchat.received
    return Counter(r.body["receiver"] for r in received if HELP in r.body["data"]["text"])


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[tuple[Providers, SqlStore, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outages.db'}"
    async with fake_providers() as providers:
        store = await open_store(url)
        try:
            yield providers, store, url
        finally:
            await store.close()


async def test_ten_minutes_of_cometchat_503_then_every_message_is_delivered_once(
    sqlite: tuple[Providers, SqlStore, str], tmp_path: Path
) -> None:
    providers, store, url = sqlite
    fake, people = providers.cometchat, [f"user{n}" for n in range(20)]
    fake.add_users(*people)
    for _ in range(100_000):
        fake.fail(503, "ERR_SERVICE_UNAVAILABLE")
    attempts = sa.select(outbox.c.attempts).order_by(outbox.c.id)
    async with (
        aiohttp.ClientSession(headers=auth_header()) as http,
        start(providers, url, tmp_path) as [worker],
    ):
        statuses = [await post(http, worker, f"m-{uid}", uid) for uid in people]
        assert statuses == [200] * len(people)
        for minute in range(1, 12):  # each simulated minute, every reply is tried again
            tried = await column(store, attempts)
            await minutes_pass(store, minute)

            async def again(before: list[int] = tried) -> bool:
                now = await column(store, attempts)
                return len(now) == len(people) and all(
                    a > b for a, b in zip(now, before + [0] * len(people), strict=False)
                )

            for _ in range(600):
                if await again():
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"minute {minute}: not every reply was retried")
        gone = outbox.c.status.not_in(("pending", "sending"))
        statuses = await column(store, sa.select(sa.func.count()).select_from(outbox).where(gone))
        assert statuses == [0], "nothing parked or dropped during the outage"
        assert min(await column(store, attempts)) >= 11
        fake.script.clear()  # CometChat is back
        await minutes_pass(store, 12)
        await until(lambda: len(helped(providers)) == len(people), seconds=60)
        await asyncio.sleep(1.0)  # a duplicate would arrive now
    assert helped(providers) == Counter(people), "each message delivered exactly once"


async def paused(http: aiohttp.ClientSession, worker: Worker) -> bool:
    async with http.get(f"{worker.url}/healthz") as response:
        return bool((await response.json()).get("status") == "degraded")


async def test_a_refused_key_parks_nothing_and_all_is_delivered_once_it_works(
    sqlite: tuple[Providers, SqlStore, str], tmp_path: Path
) -> None:
    providers, store, url = sqlite
    fake, people = providers.cometchat, [f"user{n}" for n in range(10)]
    fake.add_users(*people)
    key, fake.api_key = fake.api_key, "rotated-elsewhere"  # every send: 401
    async with (
        aiohttp.ClientSession(headers=auth_header()) as http,
        start(providers, url, tmp_path) as [worker],
    ):
        assert [await post(http, worker, f"m-{uid}", uid) for uid in people] == [200] * 10
        for _ in range(600):
            if await paused(http, worker):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("sending never paused")
        await minutes_pass(store, 30)  # the rows age; a pause is nobody's message's fault
        await asyncio.sleep(1.0)
        parked = sa.select(sa.func.count()).select_from(outbox)
        assert await column(store, parked.where(outbox.c.status == "parked")) == [0]
        assert not fake.received
        fake.api_key = key  # the key works again; the next probe (5 s) gets through
        await until(lambda: len(helped(providers)) == len(people), seconds=60)
        assert not await paused(http, worker)
        await asyncio.sleep(1.0)
    assert helped(providers) == Counter(people)
    assert await column(store, parked.where(outbox.c.status != "delivered")) == [0]


async def test_an_unreachable_postgresql_at_start_is_one_line_per_retry_password_hidden(
    tmp_path: Path,
) -> None:
    port = unused_port()  # nothing listens there
    url = f"postgresql+asyncpg://calbot:hunter2-pw@127.0.0.1:{port}/calbot"
    config = tmp_path / "worker.toml"
    config.write_text(worker_config(unused_port(), url, "http://127.0.0.1:9/v3"))
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", "--config", str(config),
            env={**os.environ, "CALBOT_LOG_LEVEL": "INFO"}, stdout=sink, stderr=sink,
        )  # fmt: skip
    try:
        for _ in range(300):  # attempts at 0 s, 1 s, 3 s...
            if log.read_text().count("is unreachable") >= 2 or process.returncode is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        if process.returncode is None:
            process.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)
        if process.returncode is None:
            process.kill()
    text = log.read_text()
    lines = [line for line in text.splitlines() if "is unreachable" in line]
    assert len(lines) >= 2, text[-2000:]
    assert f"postgresql+asyncpg://calbot:***@127.0.0.1:{port}/calbot" in lines[0]
    assert "retrying in" in lines[0]
    assert "hunter2-pw" not in text
    assert "Traceback" not in text


class Proxy:
    """A TCP proxy in front of PostgreSQL that can be cut: the database 'goes down' for the
    worker (connections die, new ones are refused) and comes back on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, unused_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()
            self._open.discard(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_a_database_down_window_on_postgresql(
    postgres_database: str | None, tmp_path: Path
) -> None:
    if postgres_database is None:
        pytest.skip("set CALBOT_TEST_POSTGRES_URL to run the PostgreSQL outage")
    direct = sa.make_url(postgres_database)
    proxy = Proxy((direct.host or "127.0.0.1", direct.port or 5432))
    await proxy.start()
    through_proxy = direct.set(port=proxy.port).render_as_string(hide_password=False)
    people = [f"user{n}" for n in range(10)]
    async with fake_providers() as providers:
        fake = providers.cometchat
        fake.add_users(*people, "late1", "late2", "late3")
        store = await open_store(postgres_database)
        try:
            await meet(store, "alice", "America/New_York")
            await meet(store, "bob", "Europe/Berlin")
            for _ in range(100_000):
                fake.fail(503, "ERR_SERVICE_UNAVAILABLE")  # replies wait in the outbox
            async with (
                aiohttp.ClientSession(headers=auth_header()) as http,
                start(providers, through_proxy, tmp_path) as [worker],
            ):
                share = webhook_message("share", "alice", "/share @bob")
                async with http.post(f"{worker.url}/cometchat/webhook", json=share) as r:
                    assert r.status == 200
                statuses = [await post(http, worker, f"m-{u}", u) for u in people]
                assert statuses == [200] * len(people)
                handled = sa.select(sa.func.count()).select_from(inbox)
                handled = handled.where(inbox.c.status == "done")
                for _ in range(600):
                    if await column(store, handled) == [len(people) + 1]:
                        break
                    await asyncio.sleep(0.05)
                async with store._engine.connect() as conn:
                    queued = json.dumps([r[0] for r in await conn.execute(
                        sa.select(outbox.c.payload))])  # fmt: skip
                [link] = set(re.findall(r"http://127\.0\.0\.1:\d+/book/[^\s\"\\]+", queued))
                await proxy.stop()  # the database goes away
                refused = [await post(http, worker, f"m-{u}", u) for u in ("late1", "late2")]
                assert refused == [503, 503], "the sender retries what we could not store"
                async with http.get(f"{worker.url}/healthz") as health:
                    assert health.status == 503
                async with http.get(link) as shown:  # the booking page /share linked
                    assert shown.status == 503 and shown.headers["Retry-After"]
                    assert shown.content_type == "text/html"
                    assert "Traceback" not in await shown.text()
                await proxy.start()  # the database is back; no restart
                fake.script.clear()
                await minutes_pass(store, 1)
                for _ in range(600):
                    async with http.get(f"{worker.url}/healthz") as health:
                        if health.status == 200:
                            break
                    await asyncio.sleep(0.05)
                late = [await post(http, worker, f"m-{u}", u) for u in ("late1", "late2")]
                assert late == [200, 200]  # CometChat's retry of what was refused
                everyone = [*people, "late1", "late2"]
                await until(lambda: len(helped(providers)) == len(everyone), seconds=60)
                await asyncio.sleep(1.0)
            assert helped(providers) == Counter(everyone), "each delivered exactly once"
        finally:
            await store.close()
            with contextlib.suppress(AssertionError):
                await proxy.stop()
