"""Every outgoing message is written to the store first and delivered by a relay, so a crash or
a chat-service outage delays messages instead of losing them. Keys make re-posting idempotent.

A message we owe is never dropped: transient failures retry with capped backoff for
`give_up_after`, then the row is parked (kept, listed and re-driven by `calbot outbox`); a refusal
of one message (400, 404) parks it with the reason; a refusal of our credentials (401, 403) is
nobody's message's fault, so sending pauses for everyone until a probe gets through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.clock import Clock
from bot.core.messages import OutgoingMessage
from bot.core.metrics import Metrics
from storage.records import OutboxItem
from storage.store import Store

log = logging.getLogger(__name__)

# A claimed row returns to the pool after this, should its sender die while sending.
LEASE = timedelta(seconds=60)
BACKOFF_CAP_SECONDS = 300.0
GIVE_UP_AFTER = timedelta(hours=24)
# While our credentials are refused, one row probes this often (doubling up to the cap).
PROBE_FIRST_SECONDS = 5.0
AUTH_STATUSES = (401, 403)
# Conversations served at once by one relay pass; each conversation's messages stay in order.
PARALLEL_CONVERSATIONS = 16


class Transport(Protocol):
    """Delivers one message to the chat service; raises DeliveryError when it could not."""

    async def send(self, message: OutgoingMessage) -> None: ...

    async def close(self) -> None: ...


class DeliveryError(Exception):
    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent
        self.status: int | None = None  # the chat service's HTTP status, when it answered


class Paused:
    """Why sending is paused (credentials refused) and when the next probe may go."""

    def __init__(self, reason: str, probe_at: datetime) -> None:
        self.reason = reason
        self.probe_at = probe_at
        self.probes = 0


class Outbox:
    def __init__(
        self,
        store: Store,
        transport: Transport,
        clock: Clock,
        metrics: Metrics | None = None,
        give_up_after: timedelta = GIVE_UP_AFTER,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._give_up_after = give_up_after
        self.paused: Paused | None = None
        self._store = store
        self._transport = transport
        self._clock = clock
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._stopping = False
        # Rows this process queued, leased to it as they were written: the relay sends them
        # without a claim. Rows queued elsewhere and retries come from the table.
        self._ready: list[tuple[OutboxItem, OutgoingMessage]] = []
        self._look = True
        self._looked_at = 0.0

    async def post(self, key: str, message: OutgoingMessage) -> bool:
        """Queue `message` once per `key`; False when that key was already queued."""
        item = await self._store.enqueue_leased(key, message.to_json(), self._clock.now(), LEASE)
        if item is None:
            return False
        self._ready.append((item, message))
        self._wake.set()
        return True

    def stop(self) -> None:
        """Ask the relay loop to end after the pass it is in (shutdown)."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Rows were queued behind the outbox's back (in a booking transaction): look now."""
        self._look = True
        self._wake.set()

    async def flush(self, limit: int = 100, *, look: bool = True) -> int:
        """Send what this process queued and, when `look`, every other message that is due
        now; returns how many were delivered."""
        async with self._flushing:
            now = self._clock.now()
            ready, self._ready = self._ready, []
            if self.paused is not None:
                for item, _ in ready:  # the probe below decides when anything goes again
                    await self._store.release(item.id, now)
                ready, look = [], True
                if now < self.paused.probe_at:
                    return 0
                limit = 1  # one row probes whether the credentials work again
            # A row that waited here for most of its lease (a long outage's backlog) is left
            # to the lease: sending it now could race another worker's claim of it.
            pending = [(i, m) for i, m in ready if i.next_attempt_at - now > LEASE / 2]
            if look:
                try:
                    claimed = await self._store.claim_due(now, limit, LEASE)
                except Exception:
                    self._ready[:0] = ready  # not lost to a failed read: the next pass has them
                    raise
                pending += [(item, OutgoingMessage.from_json(item.payload)) for item in claimed]
            conversations: dict[tuple[str, str], list[tuple[OutboxItem, OutgoingMessage]]] = {}
            for item, message in sorted(pending, key=lambda pair: pair[0].id):
                key = (message.receiver_type, message.receiver)
                conversations.setdefault(key, []).append((item, message))
            gate = asyncio.Semaphore(PARALLEL_CONVERSATIONS)
            counts = await asyncio.gather(
                *(self._deliver_in_order(queue, gate) for queue in conversations.values())
            )
        return sum(counts)

    async def _deliver_in_order(
        self, queue: list[tuple[OutboxItem, OutgoingMessage]], gate: asyncio.Semaphore
    ) -> int:
        """One conversation's messages, oldest first; after a failure the rest wait their turn
        so a reply never arrives before the message it follows."""
        delivered = 0
        async with gate:
            for position, (item, message) in enumerate(queue):
                try:
                    await self._transport.send(message)
                except asyncio.CancelledError:
                    # Hand unsent rows back now rather than leave them leased for a minute.
                    # The one in flight may have arrived; resending it is the lesser evil.
                    for unsent, _ in queue[position:]:
                        await self._store.release(unsent.id, self._clock.now())
                    raise
                except DeliveryError as problem:
                    retry_at = await self._failed(item, problem)
                    for later, _ in queue[position + 1 :]:
                        await self._store.release(later.id, retry_at)
                    break
                self._resumed()
                await self._store.mark_delivered(item.id, self._clock.now())
                self._metrics.inc("calbot_outbox_sent_total")
                delivered += 1
        return delivered

    async def _failed(self, item: OutboxItem, problem: DeliveryError) -> datetime:
        """Record a failed send; returns when the conversation's later rows may go."""
        now = self._clock.now()
        if problem.status in AUTH_STATUSES:
            # Not this message's fault: hand it back uncounted and pause everyone's sending.
            self._pause(str(problem))
            assert self.paused is not None
            await self._store.release(item.id, self.paused.probe_at)
            return self.paused.probe_at
        self._resumed()  # the service answered about this message, so our key works
        if problem.permanent:
            self._metrics.inc("calbot_outbox_parked_total", reason="refused")
            await self._store.mark_failed(item.id, None, str(problem))
            log.error("chat service refused %s; parked: %s", item.dedup_key, problem)
            return now
        delay = random.uniform(0, min(BACKOFF_CAP_SECONDS, 2.0 ** (item.attempts + 1)))
        if problem.retry_after is not None:
            delay = max(delay, problem.retry_after)
        retry_at = now + timedelta(seconds=delay)
        parked = await self._store.mark_failed(
            item.id, retry_at, str(problem), park_if_created_before=now - self._give_up_after
        )
        self._metrics.inc("calbot_outbox_failed_total", permanent=str(parked).lower())
        if parked:
            self._metrics.inc("calbot_outbox_parked_total", reason="gave_up")
            log.error("gave up on %s after %s; parked: %s", item.dedup_key,
                      self._give_up_after, problem)  # fmt: skip
        else:
            log.warning("delivery of %s failed: %s", item.dedup_key, problem)
        return retry_at

    def _pause(self, reason: str) -> None:
        now = self._clock.now()
        if self.paused is None:
            # Once, loudly: every message waits until the key works again.
            log.error("the chat service refuses our credentials (%s); sending is paused "
                      "until a probe succeeds", reason)  # fmt: skip
            self.paused = Paused(reason, now)
            self._metrics.inc("calbot_outbox_paused_total")
        self.paused.probes += 1
        wait = min(BACKOFF_CAP_SECONDS, PROBE_FIRST_SECONDS * 2.0 ** (self.paused.probes - 1))
        self.paused.probe_at = now + timedelta(seconds=wait)

    def _resumed(self) -> None:
        if self.paused is not None:
            log.warning("the chat service accepts our credentials again; sending resumes")
            self.paused = None
            self._wake.set()

    async def relay_pass(self, poll_seconds: float = 1.0) -> int:
        """One pass of the relay loop. Our own replies need no read of the table; retries and
        rows queued elsewhere are looked for every `poll_seconds` however busy the relay is,
        and at once after `wake()`."""
        look = self._look or time.monotonic() - self._looked_at >= poll_seconds
        if look:
            self._look, self._looked_at = False, time.monotonic()
        return await self.flush(look=look)

    async def run(self, poll_seconds: float = 1.0) -> None:
        """The relay loop; runs until stopped or cancelled."""
        while not self._stopping:
            # Cleared before the pass, not after: a reply queued while the pass runs sets it
            # again, so the next pass starts at once instead of after `poll_seconds`.
            self._wake.clear()
            try:
                await self.relay_pass(poll_seconds)
            except Exception:
                log.exception("outbox relay pass failed; retrying")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_seconds)
