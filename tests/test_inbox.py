"""The durable inbox in one process: hostile bytes get 4xx, a storage fault gets 503 (and the
error page), and an event re-run after a crash is answered once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import socketio
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import unused_port
from sqlalchemy import event

from bot.calendars.local import LocalCalendar
from bot.calendars.provider import BusyResult, CalendarProvider
from bot.core.inbox import LEASE, Inbox
from bot.core.messages import Conversation, IncomingMessage, Sender
from bot.core.runtime import RUNTIME
from bot.scheduling import booking
from bot.scheduling.cards import INVITE_TYPE
from bot.serve import build_demo_app, demo_config
from bot.transports.hub import NOT_ACCEPTED
from storage import SqlStore
from storage.records import Connection
from storage.tables import inbox
from tests.chat import Chat, meet
from tests.fakes import Crash, CrashAfterCreate, FrozenClock, PassThrough
from tests.test_cometchat import AUTH, World, current, message
from tests.test_cometchat import world as world  # the fixture


async def test_hostile_bodies_are_refused_with_4xx(world: World) -> None:
    assert await world.post(None, raw=b"[" * 60000) == 400
    assert await world.post(current(message("/help", message_id="x" * 101))) == 400
    assert await world.post(current(message("/help", sender="a" * 101))) == 400
    assert await world.post(current(message("/he\x00lp", message_id="nul"))) == 200
    assert [r.body["data"]["text"][:21] for r in world.fake.received] == ["Here is what I can do"]


async def test_storage_fault_answers_503_and_everything_accepted_is_answered_after(
    world: World,
) -> None:
    engine: Any = world.site.runtime.services.store._engine  # type: ignore[attr-defined]

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    assert await world.post(current(message("/help", message_id="before"))) == 200
    event.listen(engine.sync_engine, "connect", read_only)
    await engine.dispose()  # every new connection is read-only: a full or read-only disk
    try:
        refused = await world.site.client.post(  # not world.post: it flushes the outbox
            "/cometchat/webhook",
            json=current(message("/help", message_id="during")),
            headers={"Authorization": AUTH},
        )
        assert refused.status == 503
        assert refused.headers["Retry-After"]
        health = await world.site.client.get("/healthz")
        assert health.status == 503
        assert (await health.json())["storage"] == "read-only"
    finally:
        event.remove(engine.sync_engine, "connect", read_only)
        await engine.dispose()
    # CometChat retries the one we refused; storage is back without a restart.
    assert await world.post(current(message("/help", message_id="during"))) == 200
    assert (await world.site.client.get("/healthz")).status == 200
    assert len(world.fake.received) == 2


async def test_an_event_whose_worker_died_is_run_again_and_answered_once(world: World) -> None:
    runtime = world.site.runtime
    assert await world.post(current(message("/help", message_id="m1"))) == 200
    # The worker died after queuing the reply but before marking the event done.
    async with runtime.services.store._engine.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(sa.update(inbox).values(status="working"))
    world.site.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await runtime.inbox.relay_once() == 1
    await runtime.inbox.drain()
    await runtime.services.outbox.flush()
    assert len(world.fake.received) == 1, "the re-run's reply is the one already queued"
    assert await runtime.services.store.inbox_pending_count() == 0


@contextlib.contextmanager
def read_only(engine: Any) -> Iterator[None]:
    """Every new connection refuses writes, as on a full or read-only disk."""

    def refuse_writes(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    event.listen(engine.sync_engine, "connect", refuse_writes)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "connect", refuse_writes)


async def test_the_demo_hub_answers_only_what_the_inbox_took(tmp_path: Path) -> None:
    port = unused_port()
    app = build_demo_app(demo_config("127.0.0.1", port, tmp_path / "data"))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    bob = socketio.AsyncClient()
    replies: asyncio.Queue[str] = asyncio.Queue()

    async def seen(message: dict[str, Any]) -> None:
        if message["sender"] == "calbot":
            await replies.put(message["data"]["text"])

    bob.on("message", seen)
    try:
        runtime = app[RUNTIME]
        engine: Any = runtime.services.store._engine  # type: ignore[attr-defined]
        await bob.connect(f"http://127.0.0.1:{port}", auth={"uid": "bob"}, transports=["websocket"])
        for _ in range(200):  # until the bot's own hub socket is connected
            if not len(runtime.background):
                break
            await asyncio.sleep(0.05)

        async def say(text: str) -> dict[str, Any]:
            sent = {"receiver": "calbot", "receiverType": "user", "text": text}
            answer: dict[str, Any] = await bob.call("send", sent, timeout=15)
            return answer

        assert "ok" in await say("/help")
        assert (await asyncio.wait_for(replies.get(), 15)).startswith("Here is what I can do")
        with read_only(engine):
            await engine.dispose()
            assert await say("/help") == {"error": NOT_ACCEPTED}
        await engine.dispose()
        assert "ok" in await say("/help")  # sent again, taken now
        assert (await asyncio.wait_for(replies.get(), 15)).startswith("Here is what I can do")
        async with engine.connect() as conn:
            taken = await conn.scalar(sa.select(sa.func.count()).select_from(inbox))
        assert taken == 2, "the refused message was never written down, the others were"
        assert replies.empty()
    finally:
        await bob.disconnect()
        await runner.cleanup()


class CrashAfterHold(PassThrough):
    """Wraps a calendar: the process 'dies' at the first calendar look made while a booking is
    held (the re-check right after the hold), before anything reaches the calendar."""

    def __init__(self, inner: CalendarProvider, store: SqlStore) -> None:
        super().__init__(inner)
        self.store, self.crashed = store, False

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        held = await self.store.stale_holds(datetime(9999, 1, 1, tzinfo=UTC))
        if held and not self.crashed:
            self.crashed = True
            raise Crash()
        return await self.inner.free_busy(owners, start, end)


def crashing(kind: str, store: SqlStore) -> CalendarProvider:
    local = LocalCalendar(store)
    return CrashAfterHold(local, store) if kind == "hold" else CrashAfterCreate(local)


@pytest.mark.parametrize("crash", ["hold", "event"])
async def test_a_book_run_again_after_a_crash_finishes_its_own_hold(
    store: SqlStore, clock: FrozenClock, crash: str
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    first = Chat(store, clock, calendar=crashing(crash, store))
    await first.say("/share @bob", sender="alice")
    message = IncomingMessage(
        id="book-1",
        sender=Sender("bob", "Bob"),
        conversation=Conversation("user", "calbot"),
        text="/book tomorrow 3pm",
        sent_at=clock.now(),
    )
    dying = Inbox(store, partial(first.dispatcher.dispatch, deduplicated=True), clock)
    item = await dying.accept(message)
    assert item is not None
    with pytest.raises(Crash):
        await dying.process(item)
    [held] = await store.stale_holds(datetime(9999, 1, 1, tzinfo=UTC))

    clock.advance(seconds=LEASE.total_seconds() + 1)
    restarted = Chat(store, clock)  # a new process: same database, a working calendar
    inbox = Inbox(store, partial(restarted.dispatcher.dispatch, deduplicated=True), clock)
    assert await inbox.relay_once() == 1
    await inbox.drain()
    await booking.recover(restarted.services)  # what start-up runs: nothing left to settle
    await restarted.services.outbox.flush()

    [booked] = await store.upcoming_bookings("bob", clock.now())
    assert booked.id == held.id and booked.status == "confirmed"
    events = await store.local_busy(["alice"], clock.now(), clock.now() + timedelta(days=3))
    assert len(events["alice"]) == 1, "one event in Alice's calendar"
    invites = [m for m in restarted.sent if m.type == INVITE_TYPE]
    assert len(invites) == 1 and invites[0].receiver == "bob"
    told = [m.text for m in restarted.sent if m.receiver == "bob" and m.type == "text"]
    assert len(told) == 1 and told[0].startswith("Booked"), told
    assert await store.inbox_pending_count() == 0
