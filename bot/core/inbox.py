"""The durable inbox: an inbound event is written to the store before a transport answers for it,
and marked done only after its work is done, so a crash, a deploy or a storage fault delays an
accepted event instead of losing it.

The process that accepts an event works on it at once (the row is stored already leased to it);
the relay loop picks up what nobody finished: events of a worker that died (lease expired) or
that were handed back (shutdown, storage fault). Re-running an event is safe because its replies
are keyed by the event id in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import Clock
from bot.core.messages import (
    Conversation,
    Event,
    IncomingMessage,
    MembershipChange,
    SchedulerPick,
    Sender,
)
from bot.core.metrics import Metrics
from storage.records import InboxItem
from storage.store import Store

log = logging.getLogger(__name__)

# An event whose worker has not finished it after this is someone else's to run (a slow command
# is well under it; a dead worker's events wait this long).
LEASE = timedelta(seconds=120)
BACKOFF_CAP_SECONDS = 300.0
# Events one relay pass takes over at once.
BATCH = 32

Dispatch = Callable[[Event], Awaitable[None]]

# The key of the inbox event being run in this task: work with side effects outside the outbox
# (a booking's hold) keys itself by it, so a re-run resumes that work instead of tripping on it.
CURRENT_EVENT: ContextVar[str | None] = ContextVar("calbot_inbox_event", default=None)


def event_key(event: Event) -> str:
    """One row per delivery of the same event: CometChat retries a webhook it got no 200 for."""
    if isinstance(event, IncomingMessage):
        return f"m:{event.id}"
    if isinstance(event, SchedulerPick):
        return f"p:{event.id}"
    # Membership changes carry no id and are idempotent (add/remove): every one is stored.
    return f"g:{uuid.uuid4().hex}"


def event_to_json(event: Event) -> dict[str, Any]:
    if isinstance(event, IncomingMessage):
        return {
            "kind": "message",
            "id": event.id,
            "sender": [event.sender.uid, event.sender.name],
            "conversation": [event.conversation.kind, event.conversation.receiver],
            "text": event.text,
            "sent_at": event.sent_at.isoformat(),
            "mentions": dict(event.mentions),
            "parent_id": event.parent_id,
        }
    if isinstance(event, SchedulerPick):
        return {
            "kind": "pick",
            "id": event.id,
            "share_id": event.share_id,
            "picker": event.picker,
            "start": event.start.isoformat(),
            "minutes": event.minutes,
        }
    return {"kind": "membership", "guid": event.guid, "uids": list(event.uids),
            "joined": event.joined}  # fmt: skip


def event_from_json(raw: dict[str, Any]) -> Event:
    kind = raw["kind"]
    if kind == "message":
        where = raw["conversation"][0]
        if where not in ("user", "group"):
            raise ValueError(f"bad conversation kind {where!r}")
        return IncomingMessage(
            id=raw["id"],
            sender=Sender(*raw["sender"]),
            conversation=Conversation(where, raw["conversation"][1]),
            text=raw["text"],
            sent_at=datetime.fromisoformat(raw["sent_at"]),
            mentions=raw["mentions"],
            parent_id=raw["parent_id"],
        )
    if kind == "pick":
        return SchedulerPick(
            id=raw["id"],
            share_id=raw["share_id"],
            picker=raw["picker"],
            start=datetime.fromisoformat(raw["start"]),
            minutes=raw["minutes"],
        )
    if kind == "membership":
        return MembershipChange(raw["guid"], tuple(raw["uids"]), bool(raw["joined"]))
    raise ValueError(f"unknown inbox event kind {kind!r}")


class Inbox:
    def __init__(
        self, store: Store, dispatch: Dispatch, clock: Clock, metrics: Metrics | None = None
    ) -> None:
        self._store = store
        self._dispatch = dispatch
        self._clock = clock
        self._metrics = metrics or Metrics()
        self._working: dict[int, asyncio.Task[Any]] = {}  # item id -> the task running it
        self._relayed: set[asyncio.Task[None]] = set()  # strong references to relay tasks
        self._wake = asyncio.Event()
        self._stopping = False

    async def accept(self, event: Event) -> InboxItem | None:
        """Write `event` down, leased to this process; None when it was accepted before.
        Raises whatever the store raises: the transport must then not say yes (503)."""
        payload = event_to_json(event)
        item_id = await self._store.accept(event_key(event), payload, self._clock.now(), LEASE)
        if item_id is None:
            self._metrics.inc("calbot_inbox_total", outcome="duplicate")
            return None
        self._metrics.inc("calbot_inbox_total", outcome="accepted")
        return InboxItem(item_id, event_key(event), payload, 1)

    def start(self, item: InboxItem) -> None:
        """Work on a leased item in a task this inbox owns."""
        task = asyncio.create_task(self.process(item), name=f"inbox-{item.id}")
        self._relayed.add(task)
        task.add_done_callback(self._relayed.discard)

    async def process(self, item: InboxItem) -> None:
        """Run one event; done only when its work is, handed back when it could not finish."""
        if item.id in self._working:
            return  # our own slow event whose lease ran out: it is still running here
        task = asyncio.current_task()
        assert task is not None
        self._working[item.id] = task
        try:
            await self._process(item)
        finally:
            self._working.pop(item.id, None)

    async def _process(self, item: InboxItem) -> None:
        try:
            event = event_from_json(item.payload)
        except (KeyError, TypeError, ValueError, IndexError):
            log.exception("inbox event %s is unreadable; marking it done", item.key)
            await self._store.finish_inbound(item.id, self._clock.now())
            return
        CURRENT_EVENT.set(item.key)  # this task's own context: no reset needed
        try:
            await self._dispatch(event)
        except asyncio.CancelledError:
            # Shutdown: hand it back now instead of leaving it leased for minutes.
            with contextlib.suppress(Exception):
                await self._store.release_inbound(item.id, self._clock.now(), "interrupted")
            raise
        except Exception as problem:
            # The dispatcher funnels every handler error, so this is the store failing under
            # it (disk full, database down): try again later; the replies' keys make it safe.
            delay = min(BACKOFF_CAP_SECONDS, 2.0**item.attempts)
            log.warning("inbox event %s failed (%s); retrying in %.0fs", item.key, problem, delay)
            self._metrics.inc("calbot_inbox_retried_total")
            with contextlib.suppress(Exception):
                retry_at = self._clock.now() + timedelta(seconds=delay)
                await self._store.release_inbound(item.id, retry_at, str(problem))
            return
        # Not in the replies' transaction: a handler queues several replies in separate writes
        # and the dispatcher owns those. Safe all the same, since what a re-run repeats is
        # keyed by this event: replies (`<id>:<n>` outbox keys), bookings (holds keyed by the
        # event), invites (`invite:<booking>`); what is not keyed is idempotent (settings,
        # votes, memberships) or an unseen row (a second share whose card is never sent).
        # tests/test_inbox.py re-runs events that died before their replies and mid-booking.
        try:
            await self._store.finish_inbound(item.id, self._clock.now())
        except Exception:
            # The work is done and its replies queued; a re-run after the lease is harmless.
            log.warning("could not mark inbox event %s done; it will re-run", item.key)

    async def relay_once(self) -> int:
        """Take over events nobody is working on; returns how many were started."""
        items = await self._store.claim_inbound(self._clock.now(), BATCH, LEASE)
        for item in items:
            self.start(item)
        return len(items)

    async def run(self, poll_seconds: float = 2.0) -> None:
        """The relay loop; runs until stopped or cancelled."""
        while not self._stopping:
            self._wake.clear()
            try:
                await self.relay_once()
            except Exception as problem:
                log.warning("inbox relay pass failed (%s); retrying", problem)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_seconds)

    async def drain(self) -> None:
        """Wait for the events being worked on now (tests, and close())."""
        while tasks := {*self._working.values(), *self._relayed}:
            await asyncio.wait(tasks)

    def wake(self) -> None:
        self._wake.set()

    def __len__(self) -> int:
        return len(self._working)

    async def close(self, grace_seconds: float = 20.0) -> None:
        """Shutdown: stop taking events, let running ones finish for a while, then cancel the
        rest, which hands them back for the next worker."""
        self._stopping = True
        self._wake.set()
        if self._working:
            await asyncio.wait(set(self._working.values()), timeout=grace_seconds)
        for task in list(self._working.values()):
            task.cancel()
        if self._working:
            await asyncio.wait(set(self._working.values()), timeout=5)
