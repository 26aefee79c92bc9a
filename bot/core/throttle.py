"""A sliding-window rate limit per key: CometChat sends per sender, booking posts per address."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


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
