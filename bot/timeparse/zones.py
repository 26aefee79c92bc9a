"""Turning what people type ("Europe/Berlin", "new york", "PST", "UTC+5:30") into a zone."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

# Region abbreviations mean the region's wall clock all year (time_expressions.md §11):
# people say "PST" in July and mean Pacific time.
ABBREVIATIONS = {
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "ct": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mt": "America/Denver",
    "mountain": "America/Denver",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "bst": "Europe/London",
    "gmt": "UTC",
    "utc": "UTC",
    "z": "UTC",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
}

OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


@cache
def _known_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def known_zone(name: str) -> ZoneInfo | None:
    """The zone for an exact IANA name from an untrusted source, else None.

    Checked against the installed list first: ZoneInfo() itself reads the file system and
    raises IsADirectoryError, OSError or ValueError for names like "Europe", a 10 kB string,
    or "../etc".
    """
    return ZoneInfo(name) if name in _known_names() else None


@cache
def _zone_index() -> dict[str, str]:
    """Lower-cased IANA names and their city parts ("new_york", "new york") -> IANA name."""
    index: dict[str, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if name.startswith(("Etc/", "SystemV/", "posix/", "right/")) or "/" not in name:
            continue
        index.setdefault(name.lower(), name)
        city = name.rsplit("/", 1)[1].lower()
        index.setdefault(city, name)
        index.setdefault(city.replace("_", " "), name)
    for name in ("UTC",):
        index[name.lower()] = name
    return index


def resolve_zone_name(text: str) -> str | None:
    """An IANA name for `text`, or None when it names no zone we know."""
    cleaned = " ".join(text.strip().split()).lower()
    if not cleaned:
        return None
    if cleaned in ABBREVIATIONS:
        return ABBREVIATIONS[cleaned]
    return _zone_index().get(cleaned) or _zone_index().get(cleaned.replace(" ", "_"))


def resolve_tzinfo(text: str) -> tzinfo | None:
    """Like resolve_zone_name, but also accepts fixed offsets ("UTC+5:30", "GMT-5", "+0200")."""
    match = OFFSET.match(text.strip())
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes >= 60:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(delta if sign == "+" else -delta)
    name = resolve_zone_name(text)
    return ZoneInfo(name) if name else None
