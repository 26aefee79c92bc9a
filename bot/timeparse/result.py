"""ParsedTime: what a time expression resolved to, and how it is shown back to people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from bot.timeparse.lexicon import PART_WINDOWS

Granularity = Literal["minute", "day"]


@dataclass(frozen=True, slots=True)
class ParsedTime:
    """What was understood. `start` is exact only when `window` is None (see there)."""

    start: datetime | None
    end: datetime | None
    duration: timedelta | None  # the stated meeting length, if any
    granularity: Granularity | None
    matched: str = ""  # the words that were read, cleaned ("tmrw 3" -> "tomorrow 3")
    part_of_day: str | None = None  # "afternoon" etc. when no clock time was given

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        """The span to search for a free slot, or None when a clock time was given.

        Whole days and day ranges give their days; a part of day ("friday afternoon")
        gives its hours (afternoon 13-17) in the zone it was parsed in, while `start`
        stays the part's default start (13:00) as the parsing conventions require.
        """
        if self.start is None:
            return None
        if self.granularity == "day":
            end = self.end or _add(self.start, timedelta(days=1), wall=True)
            return self.start, end
        if self.part_of_day is not None and self.part_of_day in PART_WINDOWS:
            first, last = PART_WINDOWS[self.part_of_day]
            begin = self.start.replace(hour=first, minute=0)
            return _add(begin, timedelta(0), wall=True), _add(
                self.start.replace(hour=last, minute=0), timedelta(0), wall=True
            )
        return None

    @property
    def duration_minutes(self) -> int | None:
        if self.start is not None and self.end is not None:
            # Same-zone datetimes subtract as wall clocks; elapsed time needs UTC.
            elapsed = self.end.astimezone(UTC) - self.start.astimezone(UTC)
            return round(elapsed.total_seconds() / 60)
        if self.duration is not None:
            return round(self.duration.total_seconds() / 60)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "duration_minutes": self.duration_minutes,
            "granularity": self.granularity,
        }

    def describe(self, zone: tzinfo | None = None) -> str:
        """'Tue 1 Dec 2026, 15:00–15:30 EST', in `zone` (default: the zone it was parsed in)."""
        if self.start is None:
            return f"{self.duration_minutes} min, at a time still to be found"
        start = self.start.astimezone(zone) if zone else self.start
        end = (self.end.astimezone(zone) if zone else self.end) if self.end else None
        if self.granularity == "day":
            if end is None or end - start <= timedelta(days=1):
                return f"{_day(start)} {start:%Y} (whole day)"
            last = end - timedelta(days=1)
            return f"{_day(start)} – {_day(last)} {last:%Y}"
        text = f"{_day(start)} {start:%Y}, {start:%H:%M}"
        if end is not None:
            text += f"–{end:%H:%M}" if end.date() == start.date() else f" – {_day(end)} {end:%H:%M}"
        return f"{text} {_zone_name(start)}"


def _add(moment: datetime, delta: timedelta, *, wall: bool) -> datetime:
    """Wall-clock arithmetic re-normalised through UTC, so a DST gap moves forward."""
    if wall:
        return (moment + delta).astimezone(UTC).astimezone(moment.tzinfo)
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


def _day(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b}"


def _zone_name(moment: datetime) -> str:
    name = moment.tzname() or ""
    if name.startswith(("+", "-")):
        return f"UTC{name[:3]}:{name[3:]}" if ":" not in name else f"UTC{name}"
    return name
