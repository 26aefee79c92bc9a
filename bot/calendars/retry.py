"""The backoff both HTTP calendars retry with: capped exponential with full jitter, so many
workers that failed together do not come back together."""

from __future__ import annotations

from collections.abc import Callable

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def backoff(attempt: int, jitter: Callable[[], float]) -> float:
    """Seconds to wait before retry `attempt + 1`; `jitter` gives a fraction in [0, 1)."""
    return jitter() * min(BACKOFF_CAP, BACKOFF_BASE * 2.0**attempt)
