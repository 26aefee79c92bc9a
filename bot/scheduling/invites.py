"""Add-to-calendar links (Google, Yahoo, Outlook.com, Office 365) and the .ics for one meeting.

Formats follow shared/reference/invite_links.md: UTC with `Z` wherever the service honours it,
Yahoo gets wall-clock time in the reader's zone (it ignores `Z`), every value is percent-encoded
with `quote(safe="")` (space is %20, never +), Outlook bodies are HTML with <br>, and the .ics is
METHOD:PUBLISH with UTC times, a stable UID, a fixed DTSTAMP, SEQUENCE and TEXT escaping.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//calbot//Calendar Bot 1.0//EN"
OUTLOOK_COM = "https://outlook.live.com/calendar/0/deeplink/compose"
OFFICE_365 = "https://outlook.cloud.microsoft/calendar/deeplink/compose"


@dataclass(frozen=True, slots=True)
class Invite:
    uid: str  # stable per booking, so a cancel or change replaces instead of duplicating
    title: str
    start: datetime
    end: datetime
    timezone: str  # the organizer's zone, used for Yahoo when the reader's is unknown
    description: str = ""
    location: str = ""
    url: str = ""
    created: datetime | None = None  # DTSTAMP; fixed per booking so the same bytes come back
    sequence: int = 0
    cancelled: bool = False


def _q(value: str) -> str:
    return quote(value, safe="")


def _utc(moment: datetime, fmt: str) -> str:
    return moment.astimezone(UTC).strftime(fmt)


def links(invite: Invite, reader_zone: str | None = None) -> dict[str, str]:
    return {
        "google": google_link(invite),
        "yahoo": yahoo_link(invite, reader_zone),
        "outlook": outlook_link(invite, OUTLOOK_COM),
        "office365": outlook_link(invite, OFFICE_365),
    }


def google_link(invite: Invite) -> str:
    dates = f"{_utc(invite.start, '%Y%m%dT%H%M%SZ')}/{_utc(invite.end, '%Y%m%dT%H%M%SZ')}"
    parts = [("action", "TEMPLATE"), ("text", invite.title), ("dates", dates)]
    if invite.description:
        parts.append(("details", invite.description))
    if invite.location:
        parts.append(("location", invite.location))
    return "https://calendar.google.com/calendar/render?" + _query(parts)


def yahoo_link(invite: Invite, reader_zone: str | None = None) -> str:
    zone = ZoneInfo(reader_zone or invite.timezone)
    start, end = invite.start.astimezone(zone), invite.end.astimezone(zone)
    description = invite.description
    note = f"Times in {zone.key}."
    description = f"{description}\n{note}" if description else note
    parts = [
        ("v", "60"),
        ("TITLE", " ".join(invite.title.split())),  # Yahoo drops line breaks in titles
        ("ST", start.strftime("%Y%m%dT%H%M%S")),
        ("ET", end.strftime("%Y%m%dT%H%M%S")),
        ("DESC", description),
    ]
    if invite.location:
        parts.append(("in_loc", invite.location))
    return "https://calendar.yahoo.com/?" + _query(parts)


def outlook_link(invite: Invite, base: str) -> str:
    parts = [
        ("path", "/calendar/action/compose"),
        ("rru", "addevent"),
        ("startdt", _utc(invite.start, "%Y-%m-%dT%H:%M:%SZ")),
        ("enddt", _utc(invite.end, "%Y-%m-%dT%H:%M:%SZ")),
        ("subject", invite.title),
    ]
    if invite.description:
        parts.append(("body", html.escape(invite.description).replace("\n", "<br>")))
    if invite.location:
        parts.append(("location", invite.location))
    return f"{base}?" + _query(parts)


def _query(parts: list[tuple[str, str]]) -> str:
    return "&".join(f"{key}={_q(value)}" for key, value in parts)


def ics(invite: Invite) -> str:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # PUBLISH even for a cancellation: CANCEL needs a real ORGANIZER mailbox; a higher SEQUENCE
    # with STATUS:CANCELLED under the same UID updates the imported event instead.
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", invite.uid)
    event.add("dtstamp", (invite.created or invite.start).astimezone(UTC))
    event.add("dtstart", invite.start.astimezone(UTC))
    event.add("dtend", invite.end.astimezone(UTC))
    event.add("summary", invite.title)
    if invite.description:
        event.add("description", invite.description)
    if invite.location:
        event.add("location", invite.location)
    if invite.url:
        event.add("url", invite.url)
    event.add("sequence", invite.sequence)
    event.add("status", "CANCELLED" if invite.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    text: str = calendar.to_ical().decode("utf-8")
    return text
