"""A share's busy time, kept briefly: the booking page and the busy file are public GETs, and
each uncached one costs a free/busy call on the sharer's token (a link scanner could burn their
quota). Entries are keyed by the owner's active bookings in the range, so any booking,
cancellation or move (through chat or the page, in any worker) misses the cache at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.calendars.provider import Interval
from bot.core.context import Services
from bot.scheduling import freebusy
from storage.records import Connection

Key = tuple[str, int, datetime, datetime, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class _Entry:
    fetched_at: datetime
    busy: tuple[Interval, ...]


class BusyCache:
    def __init__(self, lifetime: timedelta = timedelta(seconds=45), size: int = 2048) -> None:
        self._lifetime = lifetime
        self._size = size
        self._entries: dict[Key, _Entry] = {}

    async def busy(
        self,
        services: Services,
        connection: Connection,
        start: datetime,
        end: datetime,
        who: str,
    ) -> list[Interval]:
        """Merged busy intervals of `connection` over [start, end), at most `lifetime` old."""
        now = services.clock.now()
        bookings = await services.store.active_bookings(connection.uid, start, end)
        version = tuple(sorted((b.id, b.status) for b in bookings))
        key: Key = (connection.uid, connection.generation, start, end, version)
        entry = self._entries.get(key)
        if entry is not None and timedelta(0) <= now - entry.fetched_at < self._lifetime:
            return list(entry.busy)
        busy = await freebusy.busy_for(services, connection, start, end, who)
        if len(self._entries) >= self._size:
            # Oldest first: dicts keep insertion order, and a scan of many shares is bounded.
            for stale in list(self._entries)[: self._size // 4]:
                del self._entries[stale]
        self._entries[key] = _Entry(now, tuple(busy))
        return busy
