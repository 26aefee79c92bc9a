"""Find the parts of a time expression (zone, dates, clock times, durations, ...) in cleaned text.

Each extractor consumes the span it understood, so later, looser patterns cannot re-read it;
the order of the extractors is the grammar's precedence. Anything that looks like a time or a
date but cannot exist (25:00, 13pm, Feb 30) raises TimeParseError instead of being skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo

from bot.timeparse.errors import TimeParseError
from bot.timeparse.lexicon import (
    KNOWN_DAY_WORDS,
    MONTH,
    MONTH_NAMES,
    MONTHS,
    NUM,
    PARTS_OF_DAY,
    WD,
    WEEKDAYS,
    number,
)
from bot.timeparse.zones import resolve_tzinfo


@dataclass(frozen=True, slots=True)
class Clock:
    hour: int
    minute: int
    meridiem: str | None  # "am", "pm", or None when not said
    literal: bool  # 24-hour reading is certain (14:00, 08:15, 0900, noon)


@dataclass(slots=True)
class Found:
    zone: tzinfo | None = None
    elapsed: timedelta | None = None
    day: date | None = None
    day_end: date | None = None  # exclusive end of a day range
    clock: Clock | None = None
    clock_end: Clock | None = None
    part: str | None = None
    midnight: bool = False
    duration: timedelta | None = None
    today_only: bool = False  # "tonight", "this evening": never rolls to tomorrow
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Prefs:
    date_order: str = "MDY"
    next_weekday: str = "next_week"


class Scanner:
    def __init__(self, text: str) -> None:
        self.text = f" {text} "

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.search(self.text)
        if match:
            start, end = match.span()
            self.text = self.text[:start] + " " * (end - start) + self.text[end:]
        return match


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


H = r"(?:hours?|hrs?|h)"
M = r"(?:minutes?|mins?|m)"
NUMF = (
    r"(?:\d+(?:\.\d+)?|(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven"
    r"|twelve)\b)"
)
DUR = (
    rf"(?:(?:an?|one)\s+hour\s+and\s+a\s+half|half\s+an?\s+hour|an?\s+half\s+hour"
    rf"|(?P<dh>{NUMF})\s*{H}(?:\s*(?:and\s+)?(?P<dhm>\d+)(?!\s*(?:am|pm|:|\.\d))\s*{M}?)?"
    rf"|(?P<dm>{NUMF})\s*{M})"
)
TIME = r"(?:\d{1,2}(?::\d{2}|\.\d{2}(?=\s*[ap]m))?(?:\s*[ap]m)?|noon|midnight|midday)"

ZONE_IANA = _re(r"\b([a-z]+(?:_[a-z]+)*/[a-z_]+(?:/[a-z_]+)?)\b")
ZONE_OFFSET = _re(r"\b(?:utc|gmt)\s*([+-]\s*\d{1,2}(?::?\d{2})?)\b")
ZONE_NUMERIC = _re(r"(?<=\s)([+-]\d{2}:?\d{2})(?=\s)")
ZONE_CITY2 = _re(r"\b([a-z]+\s[a-z]+)\s+time\b")
ZONE_CITY = _re(r"\b([a-z]+)\s+time\b")
ZONE_ABBR = _re(r"\b(pst|pdt|est|edt|cst|cdt|mst|mdt|cet|cest|bst|gmt|utc|jst|ist|aest|aedt)\b")
ZONE_SHORT = _re(r"(?:(?<=\d)|(?<=am)|(?<=pm)|(?<=noon))\s*\b(et|pt|ct|mt|eastern|pacific)\b")

ELAPSED = _re(rf"\bin\s+{DUR}(?=\W)")
IN_DAYS = _re(rf"\bin\s+(?:a\s+)?({NUM})?\s*(days?|weeks?)\b(?:\s+on\s+({WD}))?")
FROM_NOW = _re(rf"\b({NUM})\s+(days?|weeks?)\s+from\s+(now|today)\b")
WEEK_FROM = _re(rf"\b(?:a|one|({NUM}))\s+weeks?\s+from\s+({WD}|today|tomorrow)\b")
DURATION = _re(rf"(?<![\w.:])(?:for\s+)?{DUR}(?=\W)")

WD_RANGE = _re(rf"\b(?:from\s+)?({WD})\s*(?:-|to|through|thru|until|till)\s*({WD})\b")
MONTH_RANGE = _re(
    rf"\b({MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|to|through|thru|until)\s*"
    rf"(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*(?:am|pm|:))"
)
WEEK_WD = _re(rf"\b(?:on\s+)?({WD})\s+(?:of\s+)?(this|next)\s+week\b")
WD_WEEK = _re(rf"\b(this|next)\s+week(?:'s)?\s+(?:on\s+)?({WD})\b")
WD_AFTER_NEXT = _re(rf"\b({WD})\s+after\s+next\b")
WEEK = _re(r"\b(this|next)\s+(week|weekend|month)\b|\b(weekend)\b")
NEXT_DAYS = _re(rf"\b(?:the\s+)?(?:next|coming)\s+({NUM})\s+days\b")

ISO_DATE = _re(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
SLASH_DATE = _re(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b")
MONTH_DAY = _re(
    rf"\b(?:{WD}\s+)?({MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*(?:am|pm|:\d))(?:\s+(\d{{4}})\b)?"
)
DAY_MONTH = _re(
    rf"\b(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH})(?:\s+(\d{{4}}))?\b"
)
ORDINAL = _re(r"\b(?:on\s+)?the\s+(\d{1,2})(st|nd|rd|th)\b")
RELATIVE_DAY = _re(r"\b(?:the\s+)?(day\s+after\s+tomorrow|tomorrow|today|tonight|yesterday)\b")
WEEKDAY = _re(rf"\b(?:(this\s+coming|coming|this|next|last)\s+)?({WD})\b")
UNKNOWN_DAY = _re(r"\b([a-z]+day)\b")

PART = _re(
    r"\b(this\s+)?(first\s+thing|end\s+of\s+(?:the\s+)?day|close\s+of\s+business|eod|cob"
    r"|lunchtime|lunch|morning|afternoon|evening|tonight|night)\b"
)
NOON = _re(r"\b(noon|midday|midnight)\b")
HALF_PAST = _re(r"\b(half|quarter)\s+(past|to)\s+(\d{1,2})\b(?:\s*([ap]m)\b)?")
RANGE = _re(
    rf"(?:\b(from|between)\s+)?(?<![\w:.])({TIME})\s*(?:-|\bto\b|\buntil\b|\btill\b|\band\b)\s*({TIME})\b"
)
CLOCK_MERIDIEM = _re(r"(?<![\w:.])(\d{1,2})(?:[:.](\d{2}))?\s*([ap]m)\b")
CLOCK_COLON = _re(r"(?<![\w:.])(\d{1,2}):(\d{2})\b")
CLOCK_MILITARY = _re(r"(?<![\w:.])([01]\d)([0-5]\d)\b")
CLOCK_CUED = _re(r"\b(?:at|around|about|by|@)\s+(\d{1,3})(?:\.(\d{2}))?\b(?![:./])")


def extract(text: str, today: date, prefs: Prefs) -> Found:
    scan = Scanner(text)
    found = Found()
    _zone(scan, found)
    _relative(scan, found, today)
    _durations(scan, found)
    _day_ranges(scan, found, today)
    _dates(scan, found, today, prefs)
    _clock(scan, found)
    _parts(scan, found)
    leftover = UNKNOWN_DAY.search(scan.text)
    if leftover and leftover.group(1) not in KNOWN_DAY_WORDS:
        raise TimeParseError(
            f"I don't know which day '{leftover.group(1)}' is. Use a weekday (mon-sun), "
            "'tomorrow', or a date such as Dec 3."
        )
    return found


IANA_REGIONS = {
    "africa",
    "america",
    "antarctica",
    "asia",
    "atlantic",
    "australia",
    "europe",
    "indian",
    "pacific",
    "etc",
}


def _zone(scan: Scanner, found: Found) -> None:
    patterns = (ZONE_IANA, ZONE_OFFSET, ZONE_NUMERIC, ZONE_CITY2, ZONE_CITY, ZONE_ABBR, ZONE_SHORT)
    for pattern in patterns:
        match = pattern.search(scan.text)
        if match is None:
            continue
        name = match.group(1)
        if pattern is ZONE_OFFSET:
            name = "utc" + name.replace(" ", "")
        zone = resolve_tzinfo(name)
        if zone is None:
            if pattern is ZONE_IANA and name.split("/")[0] in IANA_REGIONS:
                raise TimeParseError(
                    f"I don't know the time zone '{name}'. Use a name such as Europe/Berlin."
                )
            continue
        scan.take(re.compile(re.escape(match.group(0))))
        found.zone = zone
        return


def _relative(scan: Scanner, found: Found, today: date) -> None:
    if match := scan.take(ELAPSED):
        found.elapsed = _duration_of(match)
        return
    if match := scan.take(IN_DAYS):
        count = int(number(match.group(1))) if match.group(1) else 1
        if match.group(3):  # "in 2 weeks on monday": that weekday of the week N weeks on
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=count)
            found.day = monday + timedelta(days=WEEKDAYS[match.group(3)])
        else:
            unit = 7 if match.group(2).startswith("week") else 1
            found.day = today + timedelta(days=count * unit)
        return
    if match := scan.take(FROM_NOW):
        unit = 7 if match.group(2).startswith("week") else 1
        found.day = today + timedelta(days=int(number(match.group(1))) * unit)
        return
    if match := scan.take(WEEK_FROM):
        weeks = int(number(match.group(1))) if match.group(1) else 1
        anchor = match.group(2)
        base = (
            today
            if anchor == "today"
            else today + timedelta(days=1)
            if anchor == "tomorrow"
            else _weekday_after(today, WEEKDAYS[anchor], strictly=True)
        )
        found.day = base + timedelta(weeks=weeks)


def _durations(scan: Scanner, found: Found) -> None:
    if match := scan.take(DURATION):
        found.duration = _duration_of(match)
        if found.duration <= timedelta(0):
            raise TimeParseError("A meeting needs a length above zero, such as 30 min.")


def _duration_of(match: re.Match[str]) -> timedelta:
    text = match.group(0)
    if "half" in text and "hour" in text:
        return timedelta(minutes=90 if "and a half" in text else 30)
    if match.group("dh"):
        minutes = number(match.group("dh")) * 60 + int(match.group("dhm") or 0)
    else:
        minutes = number(match.group("dm"))
    return timedelta(minutes=round(minutes))


def _day_ranges(scan: Scanner, found: Found, today: date) -> None:
    if match := scan.take(WD_RANGE):
        first = _weekday_after(today, WEEKDAYS[match.group(1)], strictly=True)
        last = _weekday_after(first, WEEKDAYS[match.group(2)], strictly=False)
        found.day, found.day_end = first, last + timedelta(days=1)
    elif match := scan.take(MONTH_RANGE):
        month = MONTHS[match.group(1).rstrip(".")]
        first = _next_date(today, month, int(match.group(2)), None)
        last = _valid_date(first.year, month, int(match.group(3)))
        if last < first:
            raise TimeParseError("That date range runs backwards; put the earlier day first.")
        found.day, found.day_end = first, last + timedelta(days=1)
    elif match := scan.take(NEXT_DAYS):
        found.day, found.day_end = today, today + timedelta(days=int(number(match.group(1))))
    elif (
        not WEEK_WD.search(scan.text)
        and not WD_WEEK.search(scan.text)
        and (match := scan.take(WEEK))
    ):
        which, unit = (match.group(1) or "this"), (match.group(2) or match.group(3))
        monday = today - timedelta(days=today.weekday())
        if which == "next":
            monday += timedelta(weeks=1)
        if unit == "week":
            found.day, found.day_end = monday, monday + timedelta(weeks=1)
        elif unit == "weekend":
            found.day, found.day_end = monday + timedelta(days=5), monday + timedelta(days=7)
        else:
            first = today.replace(day=1)
            if which == "next":
                first = (first + timedelta(days=32)).replace(day=1)
            found.day, found.day_end = first, (first + timedelta(days=32)).replace(day=1)


def _dates(scan: Scanner, found: Found, today: date, prefs: Prefs) -> None:
    if found.day is not None:
        return
    monday = today - timedelta(days=today.weekday())
    if match := scan.take(ISO_DATE):
        found.day = _valid_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    elif match := scan.take(SLASH_DATE):
        first, second = int(match.group(1)), int(match.group(2))
        month, day = (first, second) if prefs.date_order == "MDY" else (second, first)
        year = match.group(3)
        found.day = _next_date(today, month, day, _full_year(year) if year else None)
    elif match := scan.take(MONTH_DAY):
        year = int(match.group(3)) if match.group(3) else None
        found.day = _next_date(today, MONTHS[match.group(1).rstrip(".")], int(match.group(2)), year)
    elif match := scan.take(DAY_MONTH):
        year = int(match.group(3)) if match.group(3) else None
        found.day = _next_date(today, MONTHS[match.group(2).rstrip(".")], int(match.group(1)), year)
    elif match := scan.take(ORDINAL):
        found.day = _next_day_of_month(today, int(match.group(1)))
    elif match := scan.take(RELATIVE_DAY):
        word = " ".join(match.group(1).split())
        offsets = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
        found.day = today + timedelta(days=offsets.get(word, 2))
        if word == "tonight":
            found.part, found.today_only = "tonight", True
    elif match := scan.take(WEEK_WD) or scan.take(WD_WEEK):
        groups = match.groups()
        name, which = (groups[0], groups[1]) if groups[0] in WEEKDAYS else (groups[1], groups[0])
        offset = 7 if which == "next" else 0
        found.day = monday + timedelta(days=offset + WEEKDAYS[name])
    elif match := scan.take(WD_AFTER_NEXT):
        found.day = monday + timedelta(days=14 + WEEKDAYS[match.group(1)])
    elif match := scan.take(WEEKDAY):
        found.day = _weekday(today, WEEKDAYS[match.group(2)], match.group(1), prefs)


def _weekday(today: date, target: int, modifier: str | None, prefs: Prefs) -> date:
    modifier = " ".join(modifier.split()) if modifier else None
    if modifier == "this":
        return _weekday_after(today, target, strictly=False)
    if modifier == "last":
        return today - timedelta(days=(today.weekday() - target - 1) % 7 + 1)
    if modifier == "next" and prefs.next_weekday == "next_week":
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + target)
    return _weekday_after(today, target, strictly=True)


def _weekday_after(start: date, target: int, *, strictly: bool) -> date:
    ahead = (target - start.weekday()) % 7
    if ahead == 0 and strictly:
        ahead = 7
    return start + timedelta(days=ahead)


def _full_year(text: str) -> int:
    return int(text) + (2000 if len(text) == 2 else 0)


def _valid_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise TimeParseError(
            f"There is no month {month}; check the date (I read dates as "
            "month/day unless you choose /settings dates dmy)."
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise TimeParseError(
            f"{MONTH_NAMES[month]} {year} has no day {day}. Check the date?"
        ) from None


def _next_date(today: date, month: int, day: int, year: int | None) -> date:
    """The date itself when the year is given; else its next occurrence on or after today."""
    if year is not None:
        return _valid_date(year, month, day)
    try:
        date(2028, month, day)  # a leap year: only days that no year has fail here (Feb 30)
    except ValueError:
        if not 1 <= month <= 12:
            _valid_date(2028, month, day)  # raises the month message
        raise TimeParseError(f"{MONTH_NAMES[month]} has no day {day}. Check the date?") from None
    for candidate_year in range(today.year, today.year + 9):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise TimeParseError(f"I couldn't find a coming {MONTH_NAMES[month]} {day}.")


def _next_day_of_month(today: date, day: int) -> date:
    if not 1 <= day <= 31:
        raise TimeParseError(f"No month has a day {day}.")
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
            if candidate >= today:
                return candidate
        except ValueError:
            pass
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise TimeParseError(f"No month has a day {day}.")  # pragma: no cover - 31 always recurs


def _clock(scan: Scanner, found: Found) -> None:
    _single_clock(scan, found)
    # Whatever still looks like a clock time must at least be a valid one ("25:00", "13pm").
    if bad := CLOCK_MERIDIEM.search(scan.text):
        _checked(int(bad.group(1)), int(bad.group(2) or 0), bad.group(3), bad.group(0))
    if bad := CLOCK_COLON.search(scan.text):
        _checked(int(bad.group(1)), int(bad.group(2)), None, bad.group(0))
    if bad := CLOCK_CUED.search(scan.text):
        _checked(int(bad.group(1)), 0, None, bad.group(0))


def _single_clock(scan: Scanner, found: Found) -> None:
    span = RANGE.search(scan.text)
    # "2-3 people" is not a time: a range of bare numbers needs a day or from/between beside it.
    bare = span is not None and not re.search(r"[:a-z]", span.group(2) + span.group(3))
    if bare and span is not None and span.group(1) is None and found.day is None:
        span = None
    if span and (span.group(1) == "between" or "and" not in span.group(0).split()):
        scan.take(RANGE)
        found.clock, found.clock_end = _clock_word(span.group(2)), _clock_word(span.group(3))
        found.midnight = span.group(2).strip() == "midnight"
        return
    if match := scan.take(HALF_PAST):
        hour = int(match.group(3))
        if not 1 <= hour <= 12:
            raise TimeParseError(f"'{match.group(0)}' isn't a time on a clock.")
        minute = 30 if match.group(1) == "half" else 15
        if match.group(2) == "to":
            hour, minute = (hour - 1) % 12 or 12, 60 - minute
        found.clock = Clock(hour, minute, match.group(4), literal=False)
    elif match := scan.take(CLOCK_MERIDIEM):
        found.clock = _checked(
            int(match.group(1)), int(match.group(2) or 0), match.group(3), match.group(0)
        )
    elif match := scan.take(CLOCK_COLON):
        found.clock = _checked(
            int(match.group(1)),
            int(match.group(2)),
            None,
            match.group(0),
            literal=match.group(1).startswith("0") or int(match.group(1)) > 12,
        )
    elif match := scan.take(CLOCK_MILITARY):
        found.clock = _checked(
            int(match.group(1)), int(match.group(2)), None, match.group(0), literal=True
        )
    elif match := scan.take(NOON):
        found.clock = _clock_word(match.group(1))
        found.midnight = match.group(1) == "midnight"
    elif match := scan.take(CLOCK_CUED):
        found.clock = _checked(int(match.group(1)), int(match.group(2) or 0), None, match.group(0))


def _clock_word(text: str) -> Clock:
    text = text.strip()
    if text in ("noon", "midday"):
        return Clock(12, 0, None, literal=True)
    if text == "midnight":
        return Clock(0, 0, None, literal=True)
    match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap]m)?", text)
    assert match is not None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    literal = match.group(2) is not None and (match.group(1).startswith("0") or hour > 12)
    return _checked(hour, minute, match.group(3), text, literal=literal)


def _checked(
    hour: int, minute: int, meridiem: str | None, text: str, *, literal: bool = False
) -> Clock:
    valid = minute < 60 and (1 <= hour <= 12 if meridiem else 0 <= hour <= 23)
    if not valid:
        raise TimeParseError(
            f"'{text.strip()}' isn't a time on a clock. Use 24-hour times up to 23:59, "
            "or 1-12 with am/pm."
        )
    return Clock(hour, minute, meridiem, literal or hour == 0 or hour > 12)


def _parts(scan: Scanner, found: Found) -> None:
    if match := scan.take(PART):
        word = " ".join(match.group(2).split())
        found.part = "end of day" if word.startswith(("end of", "close of")) else word
        if match.group(1) or word == "tonight":
            found.today_only = True
    if found.part is not None and found.part not in PARTS_OF_DAY:
        found.part = None
