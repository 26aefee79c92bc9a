"""Connecting a CalDAV account: a live test of URL, user name and app password, with one clear
sentence per failure, and the calendar that will hold booked events. Blocking; callers use
`verify_credentials`, which runs in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error
from caldav.requests import HTTPBearerAuth
from requests.exceptions import ConnectionError as NetworkError
from requests.exceptions import Timeout

Failure = Literal["wrong_url", "unreachable", "not_caldav", "wrong_password", "no_calendar"]
CALDAV = "{urn:ietf:params:xml:ns:caldav}"


class CalDavProblem(Exception):
    """The connect form's answer: `kind` for code, the text for the person."""

    def __init__(self, kind: Failure, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class CalDavAccount:
    calendar_url: str
    calendar_name: str
    timezone: str | None


@contextmanager
def client(url: str, username: str, password: str, timeout: float) -> Iterator[DAVClient]:
    dav = DAVClient(url, username=username, password=password, timeout=round(timeout) or 1)
    try:
        yield dav
    finally:
        dav.close()


async def verify_credentials(
    url: str, username: str, password: str, *, seconds: float = 10.0
) -> CalDavAccount:
    """Sign in and find a calendar for events, or raise CalDavProblem saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CalDavProblem(
            "wrong_url", "That is not a web address. It looks like https://caldav.example.com/."
        )
    return await asyncio.to_thread(_verify, url.strip(), username, password, seconds)


def _verify(url: str, username: str, password: str, timeout: float) -> CalDavAccount:
    host = urlsplit(url).hostname
    with client(url, username, password, timeout) as dav:
        try:
            principal = dav.principal()  # type: ignore[no-untyped-call]
            calendars = principal.calendars()
        except dav_error.AuthorizationError:
            if isinstance(dav.auth, HTTPBearerAuth):
                # caldav falls back to a bearer token only when the server offers neither
                # Basic nor Digest: an OAuth API, not a CalDAV server taking app passwords.
                raise _not_caldav(host) from None
            raise CalDavProblem(
                "wrong_password",
                f"{host} did not accept that user name and password. Many providers (iCloud, "
                "Fastmail) need an app-specific password rather than your usual one.",
            ) from None
        except (NetworkError, Timeout):
            raise CalDavProblem(
                "unreachable", f"I couldn't reach {host}. Check the address and try again."
            ) from None
        except Exception:  # caldav raises many kinds (DAVError, NotImplementedError for an
            # unknown auth scheme, parse errors) when the other side is not a CalDAV server
            raise _not_caldav(host) from None
        for calendar in calendars:
            if _holds_events(calendar):
                return CalDavAccount(
                    str(calendar.url),
                    str(calendar.name or "calendar"),  # the displayname calendars() read
                    calendar_zone(dav, str(calendar.url)),
                )
    raise CalDavProblem(
        "no_calendar",
        f"Your account on {host} has no calendar for events. Create one in your calendar app, "
        "then try again.",
    )


def _not_caldav(host: str | None) -> CalDavProblem:
    return CalDavProblem(
        "not_caldav",
        f"{host} answered, but not as a CalDAV server. Check the address: your "
        "provider's help pages give the CalDAV one.",
    )


def event_calendars(dav: DAVClient) -> list[tuple[str, str, bool]]:
    """(collection URL, display name, writable) of every calendar for events the user has."""
    principal = dav.principal()  # type: ignore[no-untyped-call]
    return [
        (str(calendar.url), str(calendar.name or "calendar"), True)
        for calendar in principal.calendars()
        if _holds_events(calendar)
    ]


def _holds_events(calendar: Calendar) -> bool:
    try:
        components = calendar.get_supported_components()
        return "VEVENT" in components
    except (dav_error.DAVError, KeyError):
        return True  # the property is optional; assume a plain calendar


def calendar_zone(dav: DAVClient, calendar_url: str) -> str | None:
    """The calendar's `calendar-timezone` (RFC 4791 5.2.2) as an IANA name, if it has one."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-timezone/></D:prop>'
        "</D:propfind>"
    )
    answer = dav.propfind(calendar_url, body, depth=0)
    if answer.tree is None:
        return None
    for node in answer.tree.iter(f"{CALDAV}calendar-timezone"):
        if not node.text:
            continue
        for zone in icalendar.Calendar.from_ical(node.text).walk("VTIMEZONE"):
            name = str(zone.get("TZID", ""))
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return name
    return None
