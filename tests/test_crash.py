"""A `calbot serve` process SIGKILLed in the middle of a booking, then started again: the booking
is finished once, with one event and one invite, and nothing is lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from storage import SqlStore, open_store
from storage.tables import bookings
from tests.fake_cometchat import FakeCometChat
from tests.fake_google import FakeGoogle
from tests.workers import (
    Providers,
    Worker,
    auth_header,
    fake_providers,
    google_section,
    webhook_message,
    workers,
)

EVENTS = "/calendar/v3/calendars/primary/events"


@dataclass
class Crashable:
    providers: Providers
    store: SqlStore
    url: str
    folder: Path

    @property
    def google(self) -> FakeGoogle:
        return self.providers.google

    @property
    def cometchat(self) -> FakeCometChat:
        return self.providers.cometchat

    def worker(self) -> Any:
        extra = google_section(self.providers.google_base)
        return workers(1, self.url, self.providers.cometchat_base, self.folder, extra,
                       self.providers.worker_env)  # fmt: skip

    def invites(self) -> list[dict[str, Any]]:
        return [
            r.body for r in self.cometchat.received if r.body["type"] == "extension_calendar_invite"
        ]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Crashable]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    async with fake_providers() as providers:
        store = await open_store(url)
        try:
            await providers.meet(store, "alice", "America/New_York", "alice@example.com")
            await providers.meet(store, "bob", "Europe/Berlin")
            yield Crashable(providers, store, url, tmp_path)
        finally:
            await store.close()


async def say(http: aiohttp.ClientSession, worker: Worker, uid: str, text: str, n: str) -> None:
    body = webhook_message(n, uid, text)
    async with http.post(f"{worker.url}/cometchat/webhook", json=body) as response:
        assert response.status == 200


async def until(condition: Any, seconds: float = 30) -> None:
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize("applied", [False, True], ids=["before-insert", "after-insert"])
async def test_sigkill_mid_booking_then_restart_books_once(world: Crashable, applied: bool) -> None:
    # The event insert stalls: either before Google applies it, or after (the answer is lost).
    world.google.fail(EVENTS, 0, delay=120, after=applied)
    async with aiohttp.ClientSession(headers=auth_header()) as http:
        async with world.worker() as [first]:
            await say(http, first, "alice", "/share @bob", "m1")
            await until(
                lambda: any(r.body["category"] == "custom" for r in world.cometchat.received)
            )
            await say(http, first, "bob", "/book @alice tomorrow 10am", "m2")
            await until(lambda: ("POST", EVENTS) in world.google.calls)
            first.process.kill()  # SIGKILL: no cleanup, no flush, no goodbye
            await first.process.wait()
        events = sum(len(a.events) for a in world.google.accounts.values())
        assert events == (1 if applied else 0)
        assert world.invites() == []
        # Time passes: the hold is older than the sweeper's two-minute grace period.
        async with world.store._engine.begin() as conn:
            await conn.execute(
                sa.update(bookings).values(created_at=datetime.now(UTC) - timedelta(minutes=3))
            )
        async with world.worker() as [second]:
            await until(lambda: len(world.invites()) >= 1)
            await say(http, second, "bob", "/book @alice tomorrow 10am", "m2")  # redelivered
            await asyncio.sleep(1.0)  # a second invite or event would arrive now
    assert sum(len(a.events) for a in world.google.accounts.values()) == 1
    assert len(world.invites()) == 1
    [booked] = await world.store.upcoming_bookings("alice", datetime.now(UTC))
    assert booked.status == "confirmed"


async def test_sigterm_finishes_accepted_work_and_delivers_its_replies(world: Crashable) -> None:
    world.cometchat.latency = 0.3  # replies take a while to send
    async with aiohttp.ClientSession(headers=auth_header()) as http, world.worker() as [worker]:
        await say(http, worker, "alice", "/share @bob", "s1")
        for n in range(5):
            await say(http, worker, "bob", "/help", f"h{n}")
        worker.process.terminate()  # SIGTERM, as a deploy or Ctrl+C would
        assert await asyncio.wait_for(worker.process.wait(), 30) == 0
        with pytest.raises(aiohttp.ClientConnectionError):  # no longer accepting
            await say(http, worker, "bob", "/help", "late")
    texts = [r.body["data"].get("text", "") for r in world.cometchat.received]
    assert sum(t.startswith("Here is what I can do") for t in texts) == 5
    assert sum(t.startswith("Shared your free time") for t in texts) == 1
    assert await world.store.pending_count() == 0  # nothing left leased or waiting
