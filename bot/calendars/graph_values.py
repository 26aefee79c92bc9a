"""Graph's values as Python ones and back: mailbox zones, dateTime strings, Retry-After and
JSON bodies that may be no object at all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from tzlocal.windows_tz import win_tz

from bot.calendars.provider import utc


def windows_to_iana(name: str) -> str | None:
    """A mailbox zone ("W. Europe Standard Time") as IANA, from CLDR's windowsZones table."""
    if name in win_tz:
        return str(win_tz[name])
    try:
        ZoneInfo(name)  # some mailboxes already hold an IANA name
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def transaction_id(event_id: str) -> str:
    return f"calbot-{event_id}"


def span(event: dict[str, Any]) -> tuple[datetime, datetime]:
    return _parse(event["start"]), _parse(event["end"])


def _parse(value: dict[str, str]) -> datetime:
    # Prefer: outlook.timezone="UTC" makes every dateTime UTC wall time without an offset.
    return datetime.fromisoformat(value["dateTime"][:26]).replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S")


def seconds(header: str | None) -> float | None:
    try:
        return max(float(header), 0.0) if header else None
    except ValueError:
        return None


async def json_object(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        value = await response.json(content_type=None)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
