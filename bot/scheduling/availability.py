"""Free/busy maths. Every instant is an aware datetime and every comparison happens in UTC,
because Python compares datetimes that share a tzinfo by wall clock, not by instant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.calendars.provider import Interval
from bot.calendars.provider import utc as utc  # re-exported: the maths speaks UTC
from bot.timeparse import wall_clock
from storage.records import WorkingHours


@dataclass(frozen=True, slots=True)
class Person:
    """What the maths needs to know about one participant."""

    uid: str
    zone: ZoneInfo
    hours: WorkingHours
    busy: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class SlotRules:
    length: timedelta = timedelta(minutes=30)
    step: timedelta = timedelta(minutes=30)
    buffer: timedelta = timedelta(0)  # kept free before and after every busy interval
    notice: timedelta = timedelta(hours=1)  # nothing bookable sooner than this from now


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals; touching intervals are joined."""
    ordered = sorted((utc(s), utc(e)) for s, e in intervals)
    merged: list[Interval] = []
    for start, end in ordered:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    start, end = utc(start), utc(end)
    return [(max(s, start), min(e, end)) for s, e in merge(intervals) if e > start and s < end]


def working_windows(
    hours: WorkingHours, zone: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """The working hours of every local day touching [start, end), as UTC intervals."""
    first = utc(start).astimezone(zone).date() - timedelta(days=1)
    last = utc(end).astimezone(zone).date() + timedelta(days=1)
    windows: list[Interval] = []
    day = first
    while day <= last:
        if day.isoweekday() in hours.weekdays:
            windows.append(
                (_local(day, hours.start_minute, zone), _local(day, hours.end_minute, zone))
            )
        day += timedelta(days=1)
    return clip(windows, start, end)


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute >= 24 * 60:
        return utc(wall_clock(day + timedelta(days=1), time(0), zone))
    return utc(wall_clock(day, time(minute // 60, minute % 60), zone))


def subtract(windows: Iterable[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """Parts of `windows` not covered by `busy`."""
    blocked = merge(busy)
    free: list[Interval] = []
    for start, end in merge(windows):
        cursor = start
        for b_start, b_end in blocked:
            if b_end <= cursor or b_start >= end:
                continue
            if b_start > cursor:
                free.append((cursor, b_start))
            cursor = max(cursor, b_end)
            if cursor >= end:
                break
        if cursor < end:
            free.append((cursor, end))
    return free


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Both inputs merged; linear sweep."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def free_time(person: Person, start: datetime, end: datetime, rules: SlotRules) -> list[Interval]:
    """A person's bookable time: working hours minus busy time widened by the buffer."""
    padded = [(s - rules.buffer, e + rules.buffer) for s, e in person.busy]
    return subtract(working_windows(person.hours, person.zone, start, end), padded)


def common_free(
    people: Sequence[Person], start: datetime, end: datetime, rules: SlotRules
) -> list[Interval]:
    if not people:
        return []
    common = free_time(people[0], start, end, rules)
    for person in people[1:]:
        common = intersect(common, free_time(person, start, end, rules))
        if not common:
            break
    return common


def slots(
    free: Iterable[Interval], rules: SlotRules, now: datetime, align_zone: ZoneInfo
) -> list[Interval]:
    """Meeting-length slots inside `free`, starting on `step` boundaries of the local clock."""
    earliest = utc(now) + rules.notice
    step_minutes = max(1, int(rules.step.total_seconds() // 60))
    found: list[Interval] = []
    for start, end in merge(free):
        cursor = _align(max(start, earliest), step_minutes, align_zone)
        while cursor + rules.length <= end:
            found.append((cursor, cursor + rules.length))
            cursor += rules.step
    return found


def _align(moment: datetime, step_minutes: int, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    minute_of_day = local.hour * 60 + local.minute
    extra = (-minute_of_day) % step_minutes
    if extra == 0 and local.second == 0 and local.microsecond == 0:
        return utc(moment)
    base = local.replace(second=0, microsecond=0) + timedelta(minutes=extra or step_minutes)
    return utc(base)
