"""Finding times for a group: candidates on a grid, ranked fewest-outside-hours, then fairest
across time zones, then earliest; compromises with who conflicts when nothing fits everyone."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendars.provider import Interval
from bot.scheduling.availability import merge, utc, working_windows
from storage.records import WorkingHours

GRID = timedelta(minutes=30)
SHORTLIST = 3
PER_DAY = 2


@dataclass(frozen=True, slots=True)
class Member:
    uid: str
    name: str
    zone: ZoneInfo
    hours: WorkingHours
    required: bool
    busy: tuple[Interval, ...] | None  # None: no calendar connected, availability unknown


@dataclass(frozen=True, slots=True)
class Candidate:
    start: datetime
    end: datetime
    busy: tuple[str, ...]  # members whose calendar shows a conflict
    outside: tuple[str, ...]  # members for whom it is outside working hours
    strain: int  # the largest number of minutes anyone would spend outside their hours

    def blocked_for(self, required: set[str]) -> tuple[str, ...]:
        return tuple(uid for uid in self.busy if uid in required)


class _Index:
    """Sorted, merged intervals with an O(log n) containment test."""

    def __init__(self, intervals: Sequence[Interval]) -> None:
        self.items = merge(intervals)
        self.starts = [s for s, _ in self.items]

    def inside(self, start: datetime, end: datetime) -> bool:
        at = bisect.bisect_right(self.starts, start)
        return at > 0 and self.items[at - 1][1] >= end


def candidates(
    members: Sequence[Member],
    start: datetime,
    end: datetime,
    length: timedelta,
    now: datetime,
    notice: timedelta = timedelta(hours=1),
) -> list[Candidate]:
    """Every grid slot of `length` in the window, with who is busy or outside their hours."""
    start, end = max(utc(start), utc(now) + notice), utc(end)
    first = _ceil(start)
    grid = _Grid(first, length, max(0, (end - length - first) // GRID + 1))
    busy: list[list[str]] = [[] for _ in range(grid.count)]
    # Colleagues tend to share a zone and the default hours: each distinct pair is one bit,
    # worked out once, and a slot's outside-hours list depends only on its bits.
    bits: dict[tuple[WorkingHours, ZoneInfo], int] = {}
    outside = [0] * grid.count
    away = bytearray(grid.count)  # someone is wholly outside their hours: the most strain
    strain = [0] * grid.count  # otherwise the most minutes anyone spends outside them
    for m in members:
        if m.busy is not None:
            for k in grid.overlapping(merge(m.busy)):
                busy[k].append(m.uid)
        if (m.hours, m.zone) in bits:
            continue
        bit = bits[(m.hours, m.zone)] = 1 << len(bits)
        days = (start - timedelta(days=1), end + timedelta(days=1))
        hours = grid.working(merge(working_windows(m.hours, m.zone, *days)))
        for low, high in hours.outside:
            for k in range(low, high):
                outside[k] |= bit
        for low, high in hours.away:
            away[low:high] = b"\1" * (high - low)
        for k, minutes in hours.partly.items():
            strain[k] = max(strain[k], minutes)
    named: dict[int, tuple[str, ...]] = {}
    for mask in set(outside):
        named[mask] = tuple(m.uid for m in members if bits[(m.hours, m.zone)] & mask)
    most = int(length.total_seconds() // 60)
    found = []
    for k in range(grid.count):
        at = grid.start(k)
        strained = most if away[k] else strain[k]
        found.append(Candidate(at, at + length, tuple(busy[k]), named[outside[k]], strained))
    return found


@dataclass(frozen=True, slots=True)
class _Hours:
    """Where the grid's slots fall against one person's working hours (ranges of k)."""

    outside: list[tuple[int, int]]  # not wholly inside one working window
    away: list[tuple[int, int]]  # not touching any working window
    partly: dict[int, int]  # k -> minutes outside, for slots partly inside


@dataclass(frozen=True, slots=True)
class _Grid:
    """Candidate k runs from first + k * GRID for `length`, for k from 0 up to `count`.

    On a regular grid each busy interval and each working window maps to a range of k by
    arithmetic, so scoring costs intervals plus flags, not candidates times members times
    intervals (for 50 people over 7 days that was most of a /find)."""

    first: datetime
    length: timedelta
    count: int

    def start(self, k: int) -> datetime:
        return self.first + k * GRID

    def overlapping(self, intervals: Sequence[Interval]) -> list[int]:
        """Each k whose slot overlaps one of the sorted, merged `intervals`, once, in order."""
        first, length, count = self.first, self.length, self.count
        found: list[int] = []
        for s, e in intervals:  # _touching, inlined: a /find reads a thousand of these
            low = max(0, (s - length - first) // GRID + 1, found[-1] + 1 if found else 0)
            found.extend(range(low, min(count, -((first - e) // GRID))))
        return found

    def working(self, windows: Sequence[Interval]) -> _Hours:
        """The slots against sorted, merged working `windows`. A slot partly inside has its
        covered seconds summed window by window, as the per-slot scan this replaced did, so
        its minutes outside round the same."""
        inside, touching = [], []
        covered: dict[int, float] = {}
        for s, e in windows:
            low, high = self._touching(s, e)
            first_in = max(low, self._starting(s))
            stop_in = min(high, max(0, (e - self.length - self.first) // GRID + 1))
            if first_in < stop_in:
                inside.append((first_in, stop_in))
                partly = [*range(low, first_in), *range(stop_in, high)]
            else:
                partly = list(range(low, high))
            touching.append((low, high))
            for k in partly:
                at = self.start(k)
                overlap = (min(e, at + self.length) - max(s, at)).total_seconds()
                covered[k] = covered.get(k, 0.0) + overlap
        whole = self.length.total_seconds()
        return _Hours(
            self._gaps(inside),
            self._gaps(touching),
            {k: int((whole - seconds) // 60) for k, seconds in covered.items()},
        )

    def _gaps(self, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The ranges of k that none of `ranges` (sorted by their low end) covers."""
        gaps, done = [], 0
        for low, high in ranges:
            if low > done:
                gaps.append((done, low))
            done = max(done, high)
        if done < self.count:
            gaps.append((done, self.count))
        return gaps

    def _touching(self, start: datetime, end: datetime) -> tuple[int, int]:
        """The slots overlapping [start, end): k from low up to (not including) high."""
        low = (start - self.length - self.first) // GRID + 1
        return min(self.count, max(0, low)), min(self.count, self._starting(end))

    def _starting(self, moment: datetime) -> int:
        """The first k whose slot starts at or after `moment`."""
        return max(0, -((self.first - moment) // GRID))


def shortlist(
    found: Sequence[Candidate],
    members: Sequence[Member],
    organizer: str | None = None,
    size: int = SHORTLIST,
) -> tuple[list[Candidate], bool]:
    """The best `size` slots, and whether they suit every required member.

    Suiting means free in their calendar and inside their working hours. Slots the organizer's
    calendar is busy for are never offered (the booking would refuse them). When nothing suits
    everyone, compromises come fewest-conflicts first, then fairest across zones (the least
    time anyone spends outside their hours), then earliest."""
    required = {m.uid for m in members if m.required}
    # (misfits, rank, candidate); misfits: required members busy, required members outside.
    scored = []
    for c in found:
        if organizer is not None and organizer in c.busy:
            continue
        blocked = len(required.intersection(c.busy))
        misfits = (blocked, len(required.intersection(c.outside)))
        others = len(c.busy) - blocked + len(c.outside)
        scored.append((misfits, (*misfits, c.strain, others, c.start), c))
    fitting = [s for s in scored if s[0] == (0, 0)]
    pool = fitting or sorted(scored, key=lambda s: s[0])
    if not fitting and pool:
        pool = [s for s in pool if s[0] == pool[0][0]]

    chosen: list[Candidate] = []
    per_day: dict[str, int] = {}
    for _, _, c in sorted(pool, key=lambda s: s[1]):
        day = c.start.date().isoformat()
        if any(c.start < other.end and other.start < c.end for other in chosen):
            continue
        if per_day.get(day, 0) >= PER_DAY:
            continue
        chosen.append(c)
        per_day[day] = per_day.get(day, 0) + 1
        if len(chosen) == size:
            break
    return sorted(chosen, key=lambda c: c.start), bool(fitting)


def stretch(
    hours: WorkingHours, zone: ZoneInfo, start: datetime, end: datetime
) -> tuple[str, str] | None:
    """How a slot falls outside someone's working hours, on their own clock: ("07:00",
    "2h early"); None when it is inside them."""
    windows = _Index(
        working_windows(hours, zone, start - timedelta(days=1), end + timedelta(days=1))
    )
    if windows.inside(utc(start), utc(end)):
        return None
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.isoweekday() not in hours.weekdays:
        return f"{local_start:%a %H:%M}", "a day off"
    day_start = local_start.hour * 60 + local_start.minute
    early = hours.start_minute - day_start
    if early > 0:
        return f"{local_start:%H:%M}", f"{_span(early)} early"
    late = int((local_end - local_start).total_seconds() // 60) + day_start - hours.end_minute
    return f"until {local_end:%H:%M}", f"{_span(max(late, 0))} late"


def _span(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"


def _ceil(moment: datetime) -> datetime:
    step = int(GRID.total_seconds())
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(-(-seconds // step) * step, moment.tzinfo)
