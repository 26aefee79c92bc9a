"""CometChat allows 30 sends a minute per sender, whichever worker sends them: the window is
counted in the store, so two workers together stay inside it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

from storage import SqlStore, open_store
from storage.tables import send_windows
from tests.conftest import _fresh_store
from tests.fake_cometchat import FakeCometChat
from tests.workers import auth_header, webhook_message, workers

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


async def test_a_sender_gets_thirty_sends_a_minute_and_learns_when_the_next_frees(
    any_store: SqlStore,
) -> None:
    for second in range(30):
        at = T0 + timedelta(seconds=second)
        assert await any_store.take_send_slot("calbot", at, 30, MINUTE) == 0
    late = T0 + timedelta(seconds=40)
    # The first send (at 0 s) leaves the window after 60 s (counted by whole seconds, so up
    # to one second later, never sooner): 20 to 21 s from now.
    assert 20 <= await any_store.take_send_slot("calbot", late, 30, MINUTE) <= 21
    assert await any_store.take_send_slot("alice", late, 30, MINUTE) == 0  # her own budget
    # A refused attempt is not counted: once the first send has left, one slot is free.
    freed = T0 + timedelta(seconds=61)
    assert await any_store.take_send_slot("calbot", freed, 30, MINUTE) == 0
    assert 0 < await any_store.take_send_slot("calbot", freed, 30, MINUTE) <= 1
    quiet = T0 + timedelta(minutes=5)
    assert await any_store.take_send_slot("calbot", quiet, 30, MINUTE) == 0


async def test_a_raised_limit_keeps_the_window_small(any_store: SqlStore) -> None:
    """An app whose limit CometChat raised sends thousands a minute: still one row of at most
    a number per second, and still exact at the limit."""
    for n in range(3000):
        at = T0 + timedelta(milliseconds=20 * n)  # 50 a second for a minute
        assert await any_store.take_send_slot("calbot", at, 3000, MINUTE) == 0
    assert await any_store.take_send_slot("calbot", T0 + MINUTE, 3000, MINUTE) > 0
    async with any_store._read() as conn:
        stored = (await conn.execute(sa.select(send_windows.c.sent))).scalar_one()
    assert len(stored) == 60 and sum(stored.values()) == 3000


async def test_two_stores_on_one_database_share_one_budget(any_store: SqlStore) -> None:
    """Two workers are two engines on the same database, racing for the same sender."""
    other = await open_store(any_store._engine.url.render_as_string(hide_password=False))
    try:
        stores = [any_store, other] * 20
        waits = await asyncio.gather(
            *(store.take_send_slot("calbot", T0, 30, MINUTE) for store in stores)
        )
    finally:
        await other.close()
    assert sum(wait == 0 for wait in waits) == 30
    assert all(60 <= wait <= 61 for wait in waits if wait)


async def test_forget_me_removes_the_senders_window(any_store: SqlStore) -> None:
    await any_store.ensure_user("alice", "Alice", "UTC")
    await any_store.take_send_slot("alice", T0, 30, MINUTE)
    assert await any_store.rows_about("alice") == 2
    assert (await any_store.forget_user("alice"))["send_windows"] == 1
    assert await any_store.rows_about("alice") == 0


@pytest.fixture
async def chat_service() -> AsyncIterator[tuple[FakeCometChat, str]]:
    fake = FakeCometChat()  # CometChat's own limit: 30 a minute per sender
    fake.add_users(*(f"u{n:02d}" for n in range(40)))
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("/v3"))
    await server.close()


async def test_two_workers_answering_forty_people_keep_the_bot_inside_its_limit(
    postgres_database: str | None,
    tmp_path: Path,
    chat_service: tuple[FakeCometChat, str],
) -> None:
    if postgres_database is None:
        pytest.skip("two workers need PostgreSQL: set CALBOT_TEST_POSTGRES_URL (.ci/run does)")
    fake, base = chat_service
    store = await _fresh_store(postgres_database)
    try:
        async with workers(2, postgres_database, base, tmp_path, log_level="WARNING") as pair:
            async with aiohttp.ClientSession(headers=auth_header()) as http:
                posts = [
                    http.post(
                        f"{pair[n % 2].url}/cometchat/webhook",
                        json=webhook_message(f"help-{n}", f"u{n:02d}", "/help"),
                    )
                    for n in range(40)
                ]
                assert [r.status for r in await asyncio.gather(*posts)] == [200] * 40
            for _ in range(300):
                if len(fake.received) >= 30 and await store.pending_count() == 10:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # a send over the limit would arrive (and be refused) now
    finally:
        await store.close()
    # Each worker alone would have sent 20 at once: 40 in the minute, 10 refused with 429.
    assert [r.body for r in fake.refused] == []
    assert len(fake.received) == 30
    assert len({r.body["receiver"] for r in fake.received}) == 30
