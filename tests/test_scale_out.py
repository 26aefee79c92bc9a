"""Several `calbot serve` processes on one PostgreSQL: one winner per slot, one reply per message,
one Google token refresh per owner, and three workers behind a load balancer answer like one."""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.calendars.google import GoogleCalendar
from storage import Connection, SqlStore, WorkingHours, open_store
from tests.conftest import _fresh_store
from tests.fake_cometchat import FakeCometChat
from tests.google_site import google_world
from tests.workers import Worker, auth_header, webhook_message, workers

TAKEN = "That slot was just taken. Pick another time in Alice's calendar."


@pytest.fixture
async def cluster(
    postgres_database: str | None, tmp_path: Path
) -> AsyncIterator[tuple[list[Worker], FakeCometChat, SqlStore]]:
    if postgres_database is None:
        pytest.skip("two workers need PostgreSQL: set CALBOT_TEST_POSTGRES_URL (.ci/run does)")
    store = await _fresh_store(postgres_database)  # migrated before the workers start
    fake = FakeCometChat(per_minute=1000)  # as the workers' send_per_minute
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        async with workers(
            2,
            postgres_database,
            str(server.make_url("/v3")),
            tmp_path,
            extra="send_per_minute = 1000",
        ) as pair:
            yield pair, fake, store
    finally:
        await server.close()
        await store.close()


async def deliveries(fake: FakeCometChat, done: Any, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if done():
            return
        await asyncio.sleep(0.1)
    texts = sorted({r.body["data"].get("text", "")[:90] for r in fake.received})
    raise AssertionError(f"timed out; received {len(fake.received)} messages: {texts}")


async def test_fifty_bookers_across_two_workers_make_exactly_one_event(
    cluster: tuple[list[Worker], FakeCometChat, SqlStore],
) -> None:
    pair, fake, store = cluster
    await store.ensure_user("alice", "Alice", "America/New_York")
    await store.update_user(
        "alice",
        timezone="America/New_York",
        working_hours=WorkingHours(0, 24 * 60, (1, 2, 3, 4, 5, 6, 7)),
    )
    await store.save_connection("alice", "local", "alice", None)
    bookers = [f"b{n:02d}" for n in range(50)]
    for uid in bookers:
        await store.ensure_user(uid, uid.upper(), "America/New_York")
    async with aiohttp.ClientSession(headers=auth_header()) as http:
        share = await http.post(
            f"{pair[0].url}/cometchat/webhook",
            json=webhook_message("s1", "alice", "/share", "crowd"),
        )
        assert share.status == 200
        await deliveries(fake, lambda: any(r.body["category"] == "custom" for r in fake.received))
        before = await store.local_busy(
            ["alice"], datetime.now(UTC), datetime.now(UTC) + timedelta(days=8)
        )
        workers_cycle = itertools.cycle(pair)
        posts = [
            http.post(
                f"{next(workers_cycle).url}/cometchat/webhook",
                json=webhook_message(f"book-{uid}", uid, "/book @alice tomorrow 9am", "crowd"),
            )
            for uid in bookers
        ]
        statuses = [response.status for response in await asyncio.gather(*posts)]
    assert statuses == [200] * 50

    def answers() -> list[str]:
        return [
            r.body["data"].get("text", "")
            for r in fake.received
            if r.body["receiver"] == "crowd" and r.body["category"] == "message"
        ]

    await deliveries(
        fake, lambda: len([t for t in answers() if t.startswith("Booked") or t == TAKEN]) >= 50
    )
    await asyncio.sleep(1.0)  # anything extra would arrive now
    assert sum(t.startswith("Booked") for t in answers()) == 1
    assert sum(t == TAKEN for t in answers()) == 49
    assert sum(r.body["type"] == "extension_calendar_invite" for r in fake.received) == 1
    after = await store.local_busy(
        ["alice"], datetime.now(UTC), datetime.now(UTC) + timedelta(days=8)
    )
    assert len(after["alice"]) == len(before["alice"]) + 1


async def test_a_webhook_delivered_to_both_workers_is_processed_once(
    cluster: tuple[list[Worker], FakeCometChat, SqlStore],
) -> None:
    pair, fake, store = cluster
    await store.ensure_user("alice", "Alice", "America/New_York")
    async with aiohttp.ClientSession(headers=auth_header()) as http:
        posts = [
            http.post(
                f"{worker.url}/cometchat/webhook", json=webhook_message("dup-1", "alice", "/help")
            )
            for worker in pair
            for _ in range(3)
        ]
        assert [r.status for r in await asyncio.gather(*posts)] == [200] * 6
    await deliveries(fake, lambda: len(fake.received) >= 1)
    await asyncio.sleep(1.5)
    assert len(fake.received) == 1


async def test_workers_share_one_google_token_refresh_per_owner(
    postgres_database: str | None,
) -> None:
    """Two workers (two engines, two providers) asking for one owner's free/busy at once: Google
    sees one refresh; the second worker takes the access token the first stored."""
    if postgres_database is None:
        pytest.skip("needs PostgreSQL: set CALBOT_TEST_POSTGRES_URL")
    first = await _fresh_store(postgres_database)
    second = await open_store(postgres_database)
    try:
        async with google_world(first) as world:
            other = GoogleCalendar(world.config, second, world.vault, _no_reconnect)
            ana = await world.connect(first, "ana", "ana@example.com", "Europe/Berlin")
            start = datetime.now(UTC)
            calls = [
                provider.free_busy([ana], start, start + timedelta(days=1))
                for provider in (world.provider, other)
                for _ in range(4)
            ]
            results = await asyncio.gather(*calls)
            assert all(r["ana"].error is None for r in results)
            assert sum(1 for _, path in world.fake.calls if path == "/token") == 1
            stored = await second.get_connection("ana")
            assert stored is not None and stored.token is not None
            assert world.vault.open("ana", stored.token)["access_token"].startswith("ya29.")
            # A third worker starting later needs no refresh at all.
            late = GoogleCalendar(world.config, second, world.vault, _no_reconnect)
            await late.free_busy([ana], start, start + timedelta(days=1))
            assert sum(1 for _, path in world.fake.calls if path == "/token") == 1
    finally:
        await first.close()
        await second.close()


async def _no_reconnect(owner: Connection) -> None:
    raise AssertionError(f"{owner.uid} was asked to reconnect")


class RoundRobin:
    """A tiny load balancer: each request to the next worker in turn, as a proxy would."""

    def __init__(self, pool: list[Worker]) -> None:
        self._next = itertools.cycle(pool)
        self.forwarded = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        return app

    async def _forward(self, request: web.Request) -> web.Response:
        worker = next(self._next)
        self.forwarded += 1
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                request.method,
                f"{worker.url}{request.path_qs}",
                data=await request.read(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            ) as answer,
        ):
            return web.Response(status=answer.status, body=await answer.read())


SCRIPT_PAIRS = 6
LINK = re.compile(r"https?://\S+")


async def run_script(url: str, pool: list[Worker], fake: FakeCometChat) -> list[tuple[str, str]]:
    """Six owners share, their bookers book and ask for help, all at once through `url`;
    returns every (receiver, text) the bot sent, links blanked (tokens differ per run)."""
    pairs = [(f"o{n}", f"b{n}") for n in range(SCRIPT_PAIRS)]

    async def say(http: aiohttp.ClientSession, sender: str, text: str) -> None:
        body = webhook_message(uuid.uuid4().hex, sender, text)
        async with http.post(f"{url}/cometchat/webhook", json=body) as response:
            assert response.status == 200

    def texts(uid: str) -> list[str]:
        return [
            r.body["data"].get("text", "")
            for r in fake.received
            if r.body["receiver"] == uid and r.body["category"] == "message"
        ]

    steps = [
        [(o, f"/share @{b}", "Shared your free time") for o, b in pairs],
        [(b, f"/book @{o} tomorrow 11am for 30 min", "Booked") for o, b in pairs],
        [(b, "/help", "") for o, b in pairs],
    ]
    async with aiohttp.ClientSession(headers=auth_header()) as http:
        for step in steps:
            seen = {sender: len(texts(sender)) for sender, _, _ in step}
            await asyncio.gather(*(say(http, sender, text) for sender, text, _ in step))
            await deliveries(
                fake,
                lambda step=step, seen=seen: all(
                    any(t.startswith(prefix) for t in texts(sender)[seen[sender] :])
                    for sender, _, prefix in step
                ),
            )
    await asyncio.sleep(1.0)  # anything extra would arrive now
    return sorted(
        (str(r.body["receiver"]), LINK.sub("<link>", r.body["data"].get("text", "")))
        for r in fake.received
    )


async def seed_pairs(store: SqlStore) -> None:
    for n in range(SCRIPT_PAIRS):
        for uid in (f"o{n}", f"b{n}"):
            await store.ensure_user(uid, uid.upper(), "America/New_York")
            await store.update_user(
                uid,
                timezone="America/New_York",
                working_hours=WorkingHours(0, 24 * 60, (1, 2, 3, 4, 5, 6, 7)),
            )
            await store.save_connection(uid, "local", uid, None)


async def test_three_workers_behind_a_round_robin_proxy_answer_like_one(
    postgres_database: str | None, tmp_path: Path
) -> None:
    if postgres_database is None:
        pytest.skip("needs PostgreSQL: set CALBOT_TEST_POSTGRES_URL")
    results = []
    for count in (1, 3):
        (tmp_path / str(count)).mkdir()
        store = await _fresh_store(postgres_database)
        await seed_pairs(store)
        fake = FakeCometChat(per_minute=1000)  # as the workers' send_per_minute
        fake.add_users(*(f"{role}{n}" for n in range(SCRIPT_PAIRS) for role in "ob"))
        chat_server = TestServer(fake.app(), host="127.0.0.1")
        await chat_server.start_server()
        try:
            async with workers(
                count,
                postgres_database,
                str(chat_server.make_url("/v3")),
                tmp_path / str(count),
                extra="send_per_minute = 1000",
                log_level="WARNING",
            ) as pool:
                balancer = RoundRobin(pool)
                proxy = TestServer(balancer.app(), host="127.0.0.1")
                await proxy.start_server()
                try:
                    url = str(proxy.make_url("")).rstrip("/")
                    results.append(await run_script(url, pool, fake))
                finally:
                    await proxy.close()
                assert balancer.forwarded == 3 * SCRIPT_PAIRS
        finally:
            await chat_server.close()
            await store.close()
    one, three = results
    assert len(one) >= 3 * SCRIPT_PAIRS
    assert three == one
