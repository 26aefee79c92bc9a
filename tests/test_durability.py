"""Accepted means durable, against real `calbot serve` processes: what a worker answered 200 for
is answered once after a SIGKILL and restart, and a SIGTERM finishes or hands back its work."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from storage import SqlStore, open_store
from storage.tables import inbox, outbox
from tests.test_crash import until
from tests.workers import (
    Providers,
    Worker,
    auth_header,
    fake_providers,
    google_section,
    webhook_message,
    workers,
)

HELP = "Here is what I can do"
N = 300


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Providers, SqlStore, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'durable.db'}"
    async with fake_providers() as providers:
        store = await open_store(url)
        try:
            await providers.meet(store, "alice", "America/New_York", "alice@example.com")
            await providers.meet(store, "bob", "Europe/Berlin")
            yield providers, store, url
        finally:
            await store.close()


def start(
    providers: Providers, url: str, folder: Path
) -> AbstractAsyncContextManager[list[Worker]]:
    # CometChat's own 30-a-minute cap would stretch 300 replies over ten minutes.
    extra = "send_per_minute = 100000\n" + google_section(providers.google_base)
    return workers(1, url, providers.cometchat_base, folder, extra, providers.worker_env,
                   log_level="INFO")  # fmt: skip


async def post(http: aiohttp.ClientSession, worker: Worker, n: int, uid: str, text: str) -> int:
    body = webhook_message(f"m{n}", uid, text)
    async with http.post(f"{worker.url}/cometchat/webhook", json=body) as response:
        return response.status


async def leases_run_out(store: SqlStore) -> None:
    """Time passes: the dead worker's leases (inbox and outbox) expire, backoffs run out."""
    now = datetime.now(UTC)
    async with store._engine.begin() as conn:
        await conn.execute(sa.update(inbox).where(inbox.c.status == "working")
                           .values(next_attempt_at=now))  # fmt: skip
        await conn.execute(sa.update(outbox).where(outbox.c.status.in_(("sending", "pending")))
                           .values(next_attempt_at=now))  # fmt: skip


async def test_sigkill_after_300_accepted_webhooks_then_restart_answers_each_once(
    world: tuple[Providers, SqlStore, str], tmp_path: Path
) -> None:
    providers, store, url = world
    fake = providers.cometchat
    fake.add_users(*(f"user{n}" for n in range(N)))
    for _ in range(10 * N):
        fake.fail(503, "ERR_DOWN")  # nothing gets out before the kill: no reply in flight
    gate = asyncio.Semaphore(40)
    async with aiohttp.ClientSession(headers=auth_header()) as http:
        async with start(providers, url, tmp_path) as [first]:

            async def one(n: int) -> int:
                async with gate:
                    return await post(http, first, n, f"user{n}", "/help")

            statuses = await asyncio.gather(*(one(n) for n in range(N)))
            first.process.kill()  # SIGKILL the moment the 300th 200 is in
            await first.process.wait()
        assert statuses == [200] * N
        async with store._engine.connect() as conn:
            unfinished = await conn.scalar(
                sa.select(sa.func.count()).select_from(inbox).where(inbox.c.status != "done")
            )
        print(f"inbox events not done at SIGKILL: {unfinished}/{N}")
        fake.script.clear()  # CometChat is back
        await leases_run_out(store)
        async with start(providers, url, tmp_path):

            def all_answered() -> bool:
                return len({r.body["receiver"] for r in fake.received}) >= N

            await until(all_answered, seconds=120)
            await asyncio.sleep(1.0)  # a duplicate would arrive now
    replies = Counter(r.body["receiver"] for r in fake.received if HELP in r.body["data"]["text"])
    assert set(replies) == {f"user{n}" for n in range(N)}
    assert set(replies.values()) == {1}, "each message answered exactly once"


def shared(providers: Providers) -> int:
    texts = [r.body["data"].get("text", "") for r in providers.cometchat.received]
    return sum(text.startswith("Shared your free time") for text in texts)


async def test_sigterm_during_60_slow_commands_answers_all_60(
    world: tuple[Providers, SqlStore, str], tmp_path: Path
) -> None:
    providers, store, url = world
    providers.google.latency = 0.5  # every calendar call is slow
    async with aiohttp.ClientSession(headers=auth_header()) as http:
        async with start(providers, url, tmp_path) as [worker]:
            statuses = await asyncio.gather(
                *(post(http, worker, n, "alice", "/share @bob") for n in range(60))
            )
            worker.process.terminate()  # SIGTERM, as a deploy would
            assert await asyncio.wait_for(worker.process.wait(), 60) == 0
        assert statuses == [200] * 60
        async with start(providers, url, tmp_path):
            # A restart runs whatever the stopped worker handed back.
            await until(lambda: shared(providers) >= 60, seconds=120)
            await asyncio.sleep(1.0)
    assert shared(providers) == 60
    assert await store.inbox_pending_count() == 0
