"""What the booking and Move pages share: the reader's zone, the CSRF cookie, the times a page
sends back and the day-by-day grid those times are picked from."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.core.context import Services
from bot.timeparse.zones import known_zone
from bot.web.render import PageProblem

CSRF_COOKIE = "calbot_csrf"
COMMON_ZONES = ("UTC", "America/Los_Angeles", "America/Denver", "America/Chicago",
                "America/New_York", "America/Sao_Paulo", "Europe/London", "Europe/Berlin",
                "Africa/Lagos", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
                "Australia/Sydney")  # fmt: skip

Days = dict[str, list[dict[str, Any]]]


def reader_zone(name: str | None, fallback: str) -> ZoneInfo:
    """The reader's zone from the page's form, or their own when it names no known zone."""
    return (known_zone(name) if name else None) or ZoneInfo(fallback)


def zone_choices(zone: ZoneInfo, own: str) -> list[str]:
    return sorted({*COMMON_ZONES, zone.key, own})


def day_label(moment: date) -> str:
    return f"{moment:%a} {moment.day} {moment:%b}"


def grid(days: Days) -> list[dict[str, Any]]:
    return [{"label": label, "entries": entries} for label, entries in days.items()]


def page_nonce(request: web.Request) -> str:
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_csrf_cookie(response: web.Response, services: Services, nonce: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="Strict",
        secure=services.settings.public_url.startswith("https://"),
    )


def checked_nonce(
    request: web.Request, form: Mapping[str, Any], expected: Callable[[str], str]
) -> str:
    """The browser's nonce once the form's CSRF tag matches it; a 403 page otherwise."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if not nonce or not hmac.compare_digest(str(form.get("csrf", "")), expected(nonce)):
        raise PageProblem(403, "This form has expired. Reload the page and pick a time again.")
    return nonce


def instant(text: object) -> datetime | None:
    """A time the page sent back: aware, and in years a booking can have (a start near year 1
    or 9999 overflows as soon as it is turned into UTC); None for anything else."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        if moment.tzinfo is None or not 2000 <= moment.astimezone(UTC).year <= 2200:
            return None
    except (ValueError, OverflowError):
        return None
    return moment


def selected(chosen: object, days: list[Any]) -> str | None:
    """The slot picked on the chat card, as the grid spells it (offsets may be written apart)."""
    if not isinstance(chosen, str):
        return None
    wanted = instant(chosen)
    if wanted is None:
        return None
    for day in days:
        for entry in day["entries"]:
            if not entry["busy"] and datetime.fromisoformat(entry["value"]) == wanted:
                return str(entry["value"])
    return None


def nearest(asked: object, days: list[Any], count: int = 3) -> list[dict[str, Any]]:
    """The free times on the page closest to a time that is no longer free."""
    wanted = instant(asked)
    if wanted is None:
        return []
    try:
        free = [
            (abs(datetime.fromisoformat(entry["value"]) - wanted), day["label"], entry)
            for day in days
            for entry in day["entries"]
            if not entry["busy"]
        ]
    except (ValueError, TypeError):
        return []
    closest = sorted(free, key=lambda item: item[0])[:count]
    return [
        {"day": label, **entry} for _, label, entry in sorted(closest, key=lambda i: i[2]["value"])
    ]
