"""Find the parts of a time expression (zone, dates, clock times, durations, ...) in cleaned text.

Each extractor consumes the span it understood, so later, looser patterns cannot re-read it;
the order of the extractors is the grammar's precedence. Anything that looks like a time or a
date but cannot exist (25:00, 13pm, Feb 30) raises TimeParseError instead of being skipped, and
so does a time-like word left unused (a weekday that contradicts the date, a second clock time).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.timeparse import clocks, dates
from bot.timeparse.days import WEEKDAY_NAMES, show
from bot.timeparse.errors import TimeParseError
from bot.timeparse.lexicon import KNOWN_DAY_WORDS, WD, WEEKDAYS, number
from bot.timeparse.scan import Found, Prefs, Scanner
from bot.timeparse.zones import resolve_tzinfo

_H = r"(?:hours?|hrs?|h)"
_M = r"(?:minutes?|mins?|m)"
_NUMF = (
    r"(?:\d+(?:\.\d+)?|(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven"
    r"|twelve)\b)"
)
_DUR = (
    r"(?:(?:an?|one)\s+hour\s+and\s+a\s+half|half\s+(?:an?\s+)?hour|an?\s+half\s+hour"
    r"|(?:(?:a|one)\s+)?quarter\s+(?:of\s+)?an?\s+hour|three\s+quarters\s+of\s+an?\s+hour"
    rf"|(?P<dh>{_NUMF})\s*{_H}(?:\s*(?:and\s+)?(?P<dhm>\d+)(?!\s*(?:am|pm|:|\.\d))\s*{_M}?)?"
    rf"|(?P<dm>{_NUMF})\s*{_M})"
)
_ABOUT = r"(?:(?:about|around|roughly|approximately|approx|~)\s*)?"

_ZONE_IANA = re.compile(r"\b([a-z]+(?:_[a-z]+)*/[a-z_]+(?:/[a-z_]+)?)\b")
_ZONE_OFFSET = re.compile(r"\b(?:utc|gmt)\s*([+-]\s*\d{1,2}(?::?\d{2})?)\b")
_ZONE_NUMERIC = re.compile(r"(?<=\s)([+-]\d{2}:?\d{2})(?=\s)")
_ZONE_CITY3 = re.compile(r"\b([a-z]+\s[a-z]+\s[a-z]+)\s+time\b")
_ZONE_CITY2 = re.compile(r"\b([a-z]+\s[a-z]+)\s+time\b")
_ZONE_CITY = re.compile(r"\b([a-z]+)\s+time\b")
_ZONE_ABBR = re.compile(
    r"\b(pst|pdt|est|edt|cst|cdt|mst|mdt|cet|cest|bst|gmt|utc|jst|ist|aest|aedt)\b"
)
_ZONE_SHORT = re.compile(
    r"(?:(?<=\d)|(?<=am)|(?<=pm)|(?<=noon))\s*\b(et|pt|ct|mt|eastern|pacific)\b"
)
_ZONES = (
    _ZONE_IANA, _ZONE_OFFSET, _ZONE_NUMERIC, _ZONE_CITY3, _ZONE_CITY2, _ZONE_CITY, _ZONE_ABBR,
    _ZONE_SHORT,
)  # fmt: skip
_IANA_REGIONS = {"africa", "america", "antarctica", "asia", "atlantic", "australia", "europe",
                 "indian", "pacific", "etc"}  # fmt: skip

# Start offsets, never meeting lengths (§5): "in about 20 min", "6 hours from now", "45 min later".
_ELAPSED = re.compile(rf"\bin\s+{_ABOUT}{_DUR}(?=\W)")
_ELAPSED_AFTER = re.compile(rf"(?<![\w.:]){_ABOUT}{_DUR}\s+(?:from\s+now|later)\b")
_ELAPSED_BARE = re.compile(
    rf"\bin\s+{_ABOUT}(\d{{1,3}})(?![\w:./])(?!\s*(?:[a-z]*days?|weeks?|months?|years?|[ap]m)\b)"
    r"(?=\s*$|\s+(?:or|ok|okay|please|pls|then|mins?)\b)"
)
_DURATION = re.compile(rf"(?<![\w.:])(?:for\s+)?{_DUR}(?=\W)")
_UNKNOWN_DAY = re.compile(r"\b([a-z]+day)\b")
_LEFTOVER_WEEKDAY = re.compile(rf"\b({WD})\b")


def extract(text: str, today: date, prefs: Prefs) -> tuple[Found, str]:
    """The parts found in `text`, and the words that were read."""
    scan = Scanner(text)
    found = Found()
    _zone(scan, found)
    _elapsed(scan, found)
    dates.relative_days(scan, found, today)
    _durations(scan, found)
    clocks.day_hour(scan, found)
    clocks.end_day_range(scan, found, today, prefs)
    dates.day_ranges(scan, found, today, prefs)
    dates.dates(scan, found, today, prefs)
    clocks.clock(scan, found)
    clocks.parts(scan, found)
    _leftovers(scan, found)
    return found, scan.matched()


def _leftovers(scan: Scanner, found: Found) -> None:
    leftover = _UNKNOWN_DAY.search(scan.text)
    if leftover and leftover.group(1) not in KNOWN_DAY_WORDS:
        raise TimeParseError(
            f"I don't know which day '{leftover.group(1)}' is. Use a weekday (mon-sun), "
            "'tomorrow', or a date such as Dec 3."
        )
    weekday = _LEFTOVER_WEEKDAY.search(scan.text)
    if weekday and found.day is not None and found.day_end is None:
        said = WEEKDAYS[weekday.group(1)]
        if said != found.day.weekday():
            raise TimeParseError(
                f"You wrote {WEEKDAY_NAMES[said]}, but I read the day as {show(found.day)}. "
                "Which one did you mean?"
            )
        scan.consume(*weekday.span())


def _zone(scan: Scanner, found: Found) -> None:
    for pattern in _ZONES:
        for match in pattern.finditer(scan.text):
            name = match.group(1)
            if pattern is _ZONE_OFFSET:
                name = "utc" + name.replace(" ", "")
            zone = resolve_tzinfo(name)
            if zone is None:
                if pattern is _ZONE_IANA and name.split("/")[0] in _IANA_REGIONS:
                    raise TimeParseError(
                        f"I don't know the time zone '{name}'. Use a name such as Europe/Berlin."
                    )
                continue
            scan.consume(*match.span())
            found.zone = zone
            return


def _elapsed(scan: Scanner, found: Found) -> None:
    if match := scan.take(_ELAPSED) or scan.take(_ELAPSED_AFTER):
        found.elapsed = _duration_of(match)
    elif match := scan.take(_ELAPSED_BARE):  # "in 15": minutes
        found.elapsed = timedelta(minutes=int(match.group(1)))


def _durations(scan: Scanner, found: Found) -> None:
    if match := scan.take(_DURATION):
        found.duration = _duration_of(match)
        if found.duration <= timedelta(0):
            raise TimeParseError("A meeting needs a length above zero, such as 30 min.")


def _duration_of(match: re.Match[str]) -> timedelta:
    text = match.group(0)
    if "quarter" in text:
        return timedelta(minutes=45 if "three" in text else 15)
    if "half" in text and "hour" in text:
        return timedelta(minutes=90 if "and a half" in text else 30)
    if match.group("dh"):
        minutes = number(match.group("dh")) * 60 + int(match.group("dhm") or 0)
    else:
        minutes = number(match.group("dm"))
    return timedelta(minutes=round(minutes))
