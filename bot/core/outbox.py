"""Every outgoing message is written to the store first and delivered by a relay, so a crash or
a chat-service outage delays messages instead of losing them. Keys make re-posting idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.clock import Clock
from bot.core.messages import OutgoingMessage
from bot.core.metrics import Metrics
from storage.records import OutboxItem
from storage.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# A claimed row returns to the pool after this, should its sender die while sending.
LEASE = timedelta(seconds=60)
BACKOFF_CAP_SECONDS = 300.0
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


class Outbox:
    def __init__(
        self, store: Store, transport: Transport, clock: Clock, metrics: Metrics | None = None
    ) -> None:
        self._metrics = metrics or Metrics()
        self._store = store
        self._transport = transport
        self._clock = clock
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._stopping = False

    async def post(self, key: str, message: OutgoingMessage) -> bool:
        """Queue `message` once per `key`; False when that key was already queued."""
        queued = await self._store.enqueue(key, message.to_json(), self._clock.now())
        self._wake.set()
        return queued

    def stop(self) -> None:
        """Ask the relay loop to end after the pass it is in (shutdown)."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Rows were queued behind the outbox's back (in a booking transaction): look now."""
        self._wake.set()

    async def flush(self, limit: int = 100) -> int:
        """Try every message that is due now; returns how many were delivered."""
        async with self._flushing:
            conversations: dict[tuple[str, str], list[tuple[OutboxItem, OutgoingMessage]]] = {}
            for item in await self._store.claim_due(self._clock.now(), limit, LEASE):
                message = OutgoingMessage.from_json(item.payload)
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
                    retry_at = self._retry_at(item.attempts, problem)
                    self._metrics.inc(
                        "calbot_outbox_failed_total", permanent=str(retry_at is None).lower()
                    )
                    await self._store.mark_failed(item.id, retry_at, str(problem))
                    log.warning("delivery of %s failed: %s", item.dedup_key, problem)
                    if retry_at is not None:
                        for later, _ in queue[position + 1 :]:
                            await self._store.release(later.id, retry_at)
                        break
                    continue
                await self._store.mark_delivered(item.id, self._clock.now())
                self._metrics.inc("calbot_outbox_sent_total")
                delivered += 1
        return delivered

    def _retry_at(self, attempts: int, problem: DeliveryError) -> datetime | None:
        """None gives up (the row is marked dead); otherwise full-jitter backoff or Retry-After."""
        if problem.permanent or attempts + 1 >= MAX_ATTEMPTS:
            return None
        delay = random.uniform(0, min(BACKOFF_CAP_SECONDS, 2.0 ** (attempts + 1)))
        if problem.retry_after is not None:
            delay = max(delay, problem.retry_after)
        return self._clock.now() + timedelta(seconds=delay)

    async def run(self, poll_seconds: float = 1.0) -> None:
        """The relay loop; runs until stopped or cancelled."""
        while not self._stopping:
            try:
                await self.flush()
            except Exception:
                log.exception("outbox relay pass failed; retrying")
            if self._stopping:
                break
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_seconds)
