"""Turn extracted parts into instants: reference time, the user's zone, DST, the future rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.timeparse.errors import NOTHING_FOUND, TimeParseError
from bot.timeparse.lexicon import PARTS_OF_DAY, PM_PARTS
from bot.timeparse.result import ParsedTime
from bot.timeparse.scan import ClockTime, Found


def resolve(found: Found, now: datetime, zone: tzinfo, matched: str = "") -> ParsedTime:
    today = now.astimezone(zone).date()
    if found.elapsed is not None:
        start = (now.astimezone(UTC) + found.elapsed).astimezone(zone)
        return _with_duration(start, None, found.duration, matched)
    times = _times_of_day(found)
    if times is None:
        if found.day is not None:
            start = wall_clock(found.day, time(0), zone)
            end = wall_clock(found.day_end, time(0), zone) if found.day_end else None
            return ParsedTime(start, end, found.duration, "day", matched)
        if found.duration is not None:
            return ParsedTime(None, None, found.duration, None, matched)
        raise TimeParseError(NOTHING_FOUND)
    first, last = times
    clock_zone = found.zone or zone
    day = found.day
    if day is None:
        day = today
        if found.midnight or (not found.today_only and wall_clock(day, first, clock_zone) <= now):
            day += timedelta(days=1)
    elif found.midnight:
        day += timedelta(days=1)  # "friday at midnight" is the night after Friday
    start = wall_clock(day, first, clock_zone)
    end = None
    if last is not None:
        end = wall_clock(found.end_day or day, last, clock_zone)
        if end <= start:
            if found.end_day is not None:
                raise TimeParseError(
                    f"That range ends ({end:%a %d %b %H:%M}) before it starts "
                    f"({start:%a %d %b %H:%M}); put the earlier time first."
                )
            end = wall_clock(day + timedelta(days=1), last, clock_zone)
    part = found.part if found.clock is None else None
    return _with_duration(
        start.astimezone(zone), end.astimezone(zone) if end else None, found.duration, matched, part
    )


def wall_clock(day: date, at: time, zone: tzinfo) -> datetime:
    """A wall-clock time as an instant: gaps move forward, overlaps take the first (fold=0)."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def _with_duration(
    start: datetime,
    end: datetime | None,
    duration: timedelta | None,
    matched: str,
    part: str | None = None,
) -> ParsedTime:
    if end is None and duration is not None:
        end = (start.astimezone(UTC) + duration).astimezone(start.tzinfo)
    return ParsedTime(start, end, duration, "minute", matched, part)


def _times_of_day(found: Found) -> tuple[time, time | None] | None:
    if found.clock is not None and found.clock_end is not None:
        if found.end_day is not None:  # each end stands on its own day
            return _time(found.clock, found.part), _time(found.clock_end, found.part)
        return _range(found.clock, found.clock_end, found.part)
    if found.clock is not None:
        return _time(found.clock, found.part), None
    if found.part is not None:
        hour, minute = PARTS_OF_DAY[found.part]
        return time(hour, minute), None
    return None


def _hour(clock: ClockTime, part: str | None) -> int:
    hour = clock.hour
    if clock.meridiem == "am":
        return 0 if hour == 12 else hour
    if clock.meridiem == "pm":
        return hour if hour == 12 else hour + 12
    if clock.literal:
        return hour
    if part in PM_PARTS:
        return hour + 12 if hour < 12 else hour
    if part in ("morning", "first thing"):
        return hour
    # Bare hours in business chat: 1-7 mean the afternoon, 8-11 the morning, 12 noon.
    return hour + 12 if 1 <= hour <= 7 else hour


def _time(clock: ClockTime, part: str | None) -> time:
    minutes = (_hour(clock, part) * 60 + clock.minute + clock.offset) % (24 * 60)
    return time(minutes // 60, minutes % 60)


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _range(a: ClockTime, b: ClockTime, part: str | None) -> tuple[time, time]:
    """Meridiem flows to the side without one when that keeps start before end (3-4pm, 11-1pm)."""
    if a.meridiem is None and b.meridiem is not None and not a.literal:
        end = _hour(b, part) * 60 + b.minute
        same = ClockTime(a.hour, a.minute, b.meridiem, literal=False)
        if _hour(same, part) * 60 + a.minute < end:
            return _time(same, part), _time(b, part)
        other = "am" if b.meridiem == "pm" else "pm"
        return _time(ClockTime(a.hour, a.minute, other, literal=False), part), _time(b, part)
    if b.meridiem is None and not b.literal and (a.meridiem is not None or a.literal):
        # The end reads as whichever of its two clock readings gives the shortest meeting
        # ("11pm - 2" = 23:00-02:00, "23:30 - 3:35" = 23:30-03:35, "14:00 - 3" = 14-15).
        first = _time(a, part)
        start = first.hour * 60 + first.minute
        readings = [
            ClockTime(b.hour, b.minute, meridiem, literal=False) for meridiem in ("am", "pm")
        ]
        best = min(readings, key=lambda end: (_minutes(_time(end, part)) - start - 1) % 1440)
        return first, _time(best, part)
    first, last = _time(a, part), _time(b, part)
    bare = a.meridiem is None and b.meridiem is None and not b.literal
    if (
        bare
        and last <= first
        and last.hour + 12 <= 23
        and time(last.hour + 12, last.minute) > first
    ):
        last = time(last.hour + 12, last.minute)
    return first, last
