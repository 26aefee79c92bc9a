"""Sliding-window rate limits per key: CometChat sends per sender (counted in the store, by
every worker together), booking posts per address (in memory, per worker)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class SendLimit(Protocol):
    async def wait_for(self, key: str) -> float:
        """Seconds to wait before `key` may send; 0 means go (and the send is counted)."""
        ...


class SlotCounter(Protocol):
    async def take_send_slot(
        self, sender: str, now: datetime, limit: int, window: timedelta
    ) -> float: ...


class SharedRateLimit:
    """The chat service limits sends per person, whichever worker sends them: the window is
    kept in the store, so two workers do not each spend the whole budget."""

    def __init__(
        self,
        store: SlotCounter,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._limit = limit
        self._window = timedelta(seconds=window)
        self._clock = clock

    async def wait_for(self, key: str) -> float:
        return await self._store.take_send_slot(key, self._clock(), self._limit, self._window)


class LocalSendLimit:
    """The same limit counted in this process alone (a client used without a store)."""

    def __init__(self, limit: int) -> None:
        self._rate = RateLimit(limit)

    async def wait_for(self, key: str) -> float:
        return self._rate.wait_for(key)


class RateLimit:
    """At most `limit` events per key in any `window` seconds."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._swept_at = 0.0

    def wait_for(self, key: str) -> float:
        """Seconds to wait before `key` may act; 0 means go (and the event is counted)."""
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self._window:
            events.popleft()
        if len(events) >= self._limit:
            return self._window - (now - events[0])
        events.append(now)
        self._forget_idle(now)
        return 0.0

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._events)

    def _forget_idle(self, now: float) -> None:
        # Keys seen once (a scan from many addresses) must not pile up in memory; sweeping at
        # most once a window keeps a busy limiter from scanning every key on every event.
        if len(self._events) > 4 * max(self._limit, 256) and now - self._swept_at >= self._window:
            self._swept_at = now
            for key in [k for k, e in self._events.items() if not e or now - e[-1] >= self._window]:
                del self._events[key]
