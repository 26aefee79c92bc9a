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
    """Sorted, merged intervals with an O(log n) overlap test."""

    def __init__(self, intervals: Sequence[Interval]) -> None:
        self.items = merge(intervals)
        self.starts = [s for s, _ in self.items]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        at = bisect.bisect_left(self.starts, end)
        return at > 0 and self.items[at - 1][1] > start

    def inside(self, start: datetime, end: datetime) -> bool:
        at = bisect.bisect_right(self.starts, start)
        return at > 0 and self.items[at - 1][1] >= end

    def minutes_outside(self, start: datetime, end: datetime) -> int:
        covered = sum(
            (
                (min(e, end) - max(s, start)).total_seconds()
                for s, e in self.items
                if s < end and e > start
            ),
            0.0,
        )
        return int(((end - start).total_seconds() - covered) // 60)


def candidates(
    members: Sequence[Member],
    start: datetime,
    end: datetime,
    length: timedelta,
    now: datetime,
    notice: timedelta = timedelta(hours=1),
) -> list[Candidate]:
    start, end = max(utc(start), utc(now) + notice), utc(end)
    busy = {m.uid: _Index(m.busy) for m in members if m.busy is not None}
    hours = {
        m.uid: _Index(
            working_windows(m.hours, m.zone, start - timedelta(days=1), end + timedelta(days=1))
        )
        for m in members
    }
    cursor = _ceil(start)
    found: list[Candidate] = []
    while cursor + length <= end:
        stop = cursor + length
        outside = tuple(m.uid for m in members if not hours[m.uid].inside(cursor, stop))
        found.append(
            Candidate(
                start=cursor,
                end=stop,
                busy=tuple(uid for uid, index in busy.items() if index.overlaps(cursor, stop)),
                outside=outside,
                strain=max(
                    (hours[uid].minutes_outside(cursor, stop) for uid in outside), default=0
                ),
            )
        )
        cursor += GRID
    return found


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
    bookable = [c for c in found if organizer is None or organizer not in c.busy]

    def misfits(c: Candidate) -> tuple[int, int]:
        return len(c.blocked_for(required)), sum(1 for uid in c.outside if uid in required)

    fitting = [c for c in bookable if misfits(c) == (0, 0)]
    pool = fitting or sorted(bookable, key=misfits)
    if not fitting and pool:
        fewest = misfits(pool[0])
        pool = [c for c in pool if misfits(c) == fewest]

    def rank(c: Candidate) -> tuple[int, int, int, int, datetime]:
        optional_busy = len(c.busy) - len(c.blocked_for(required))
        return (*misfits(c), c.strain, optional_busy + len(c.outside), c.start)

    chosen: list[Candidate] = []
    per_day: dict[str, int] = {}
    for c in sorted(pool, key=rank):
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
