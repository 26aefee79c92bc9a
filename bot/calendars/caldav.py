"""CalDAV calendars (iCloud, Fastmail, Nextcloud, ...) with the `caldav` package.

The client is synchronous, so every call runs in a worker thread with its own DAVClient. Busy time
is computed from the events in the window (not every server answers a free-busy REPORT), with
`recurring-ical-events` expanding recurrences and their exceptions; transparent and cancelled
events are free; all-day and floating times are read on the owner's own clock. Events are PUT
with `If-None-Match: *` at a path and UID derived from the booking, so a retry gets 412 and finds
the first one. Credentials (server URL, user name, app password, chosen calendar) are sealed with
the TokenVault like OAuth tokens; there is nothing to revoke on the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from time import sleep
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from bot.calendars import choice
from bot.calendars.caldav_account import (
    CalDavAccount,
    CalDavProblem,
    calendar_zone,
    client,
    event_calendars,
    verify_credentials,
)
from bot.calendars.provider import (
    BusyResult,
    CalendarError,
    CalendarInfo,
    Capabilities,
    CreatedEvent,
    EventDraft,
    utc,
)
from bot.calendars.tokens import TokenError, TokenVault
from storage.records import Connection
from storage.store import Store

__all__ = [
    "CalDavAccount",
    "CalDavCalendar",
    "CalDavProblem",
    "seal_credentials",
    "verify_credentials",
]

log = logging.getLogger(__name__)

# Floating and all-day times are widened by a day on the server side and cut on ours.
MARGIN = timedelta(days=1)
Reconnect = Callable[[Connection], Awaitable[None]]
T = TypeVar("T")
PUT_ATTEMPTS = 4
PUT_PAUSE = 0.1


def seal_credentials(
    vault: TokenVault, uid: str, url: str, username: str, password: str, calendar_url: str
) -> bytes:
    secret = {"url": url, "username": username, "password": password, "calendar": calendar_url}
    return vault.seal(uid, secret)


class CalDavCalendar:
    name = "caldav"
    capabilities = Capabilities("CalDAV calendar", "credentials")

    def __init__(
        self, store: Store, vault: TokenVault, on_reconnect: Reconnect, *, timeout: float = 10.0
    ) -> None:
        self._store = store
        self._vault = vault
        self._on_reconnect = on_reconnect
        self._timeout = timeout

    # CalendarProvider ----------------------------------------------------------------------------
    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        answers = await asyncio.gather(*(self._busy(owner, start, end) for owner in owners))
        return {owner.uid: answer for owner, answer in zip(owners, answers, strict=True)}

    async def _busy(self, owner: Connection, start: datetime, end: datetime) -> BusyResult:
        zone = await self._owner_zone(owner)

        def query(dav: DAVClient, secret: dict[str, Any]) -> list[str]:
            chosen = choice.stored(secret, secret["calendar"])
            return [text for url in chosen.busy for text in _query(dav, url, start, end)]

        texts = await self._run(owner, query)
        busy = busy_from_ical(texts, zone, utc(start), utc(end))
        return BusyResult(tuple(busy))

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        if draft.end <= draft.start:
            raise CalendarError("an event must end after it starts")
        uid = event_uid(draft.event_id)
        body = _ical(uid, draft)

        def put(dav: DAVClient, secret: dict[str, Any]) -> bool:
            href = _href(secret["calendar"], uid)
            headers = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
            for attempt in range(PUT_ATTEMPTS):
                status = dav.put(href, body, headers).status
                if status in (200, 201, 204):
                    return True
                if status == 412:
                    return False  # already there: a retry after a lost answer
                if status not in (423, 503):
                    break
                # Xandikos answers 423 Locked while another write to the calendar runs.
                sleep(PUT_PAUSE * (attempt + 1))
            raise CalendarError(f"the CalDAV server refused the event ({status})")

        created = await self._run(owner, put)
        return CreatedEvent(
            draft.event_id, url=None, already_existed=not created, join_url=draft.join_url or None
        )

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        if draft.end <= draft.start:
            raise CalendarError("an event must end after it starts")
        uid = event_uid(event_id)
        body = _ical(uid, draft)

        def put(dav: DAVClient, secret: dict[str, Any]) -> None:
            # The same resource and UID, replaced: If-Match * so a deleted event stays deleted.
            headers = {"Content-Type": "text/calendar; charset=utf-8", "If-Match": "*"}
            for attempt in range(PUT_ATTEMPTS):
                status = dav.put(_href(secret["calendar"], uid), body, headers).status
                if status in (200, 201, 204):
                    return
                if status in (404, 412):
                    raise CalendarError("that event was deleted from the CalDAV calendar")
                if status not in (423, 503):
                    break
                sleep(PUT_PAUSE * (attempt + 1))
            raise CalendarError(f"the CalDAV server refused the change ({status})")

        await self._run(owner, put)
        return CreatedEvent(event_id, url=None, already_existed=True)

    async def delete_event(self, owner: Connection, event_id: str) -> bool:
        def delete(dav: DAVClient, secret: dict[str, Any]) -> bool:
            answer = dav.delete(_href(secret["calendar"], event_uid(event_id)))
            if answer.status in (404, 410):
                return False
            if answer.status >= 300:
                raise CalendarError(f"the CalDAV server refused to delete ({answer.status})")
            return True

        return await self._run(owner, delete)

    async def calendar_timezone(self, owner: Connection) -> str | None:
        return await self._run(owner, lambda dav, secret: calendar_zone(dav, secret["calendar"]))

    async def revoke(self, owner: Connection) -> None:
        # App passwords are revoked in the account's own settings; the caller forgets ours.
        log.info("CalDAV has no revocation; %s's credentials are only deleted", owner.uid)

    # Calls ---------------------------------------------------------------------------------------
    async def calendars(self, owner: Connection) -> list[CalendarInfo]:
        def listing(dav: DAVClient, secret: dict[str, Any]) -> list[CalendarInfo]:
            return choice.stored(secret, secret["calendar"]).mark(event_calendars(dav))

        return await self._run(owner, listing)

    async def choose(
        self, owner: Connection, busy: Sequence[str], receives: str
    ) -> list[CalendarInfo]:
        found = await self._run(owner, lambda dav, _: event_calendars(dav))
        chosen = choice.checked(found, busy, receives)
        # "calendar" is where events are PUT (and looked for on cancel).
        await choice.save(self._store, self._vault, owner, chosen, {"calendar": receives})
        return chosen.mark(found)

    async def _owner_zone(self, owner: Connection) -> ZoneInfo:
        name = await self.calendar_timezone(owner)
        if name is None:
            user = await self._store.get_user(owner.uid)
            name = user.timezone if user else "UTC"
        return ZoneInfo(name)

    async def _run(self, owner: Connection, work: Callable[[DAVClient, dict[str, Any]], T]) -> T:
        if owner.token is None:
            raise CalendarError("no CalDAV credentials stored", reconnect=True)
        try:
            secret = self._vault.open(owner.uid, owner.token)
        except TokenError as problem:
            raise CalendarError(str(problem), reconnect=True) from None

        def call() -> T:
            with client(
                secret["url"], secret["username"], secret["password"], self._timeout
            ) as dav:
                return work(dav, secret)

        try:
            return await asyncio.to_thread(call)
        except dav_error.AuthorizationError:
            await self._store.set_connection_status(owner.uid, "needs_reconnect")
            await self._on_reconnect(owner)
            raise CalendarError(
                "the CalDAV server no longer accepts the password", reconnect=True
            ) from None
        except CalendarError:
            raise
        except Exception as problem:  # caldav and requests raise many unrelated kinds
            raise CalendarError(f"the CalDAV server is not answering ({problem!r})") from None


def event_uid(event_id: str) -> str:
    return f"calbot-{event_id}"


def _href(calendar_url: str, uid: str) -> str:
    return calendar_url.rstrip("/") + f"/{uid}.ics"


def _query(dav: DAVClient, calendar_url: str, start: datetime, end: datetime) -> list[str]:
    report = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{_stamp(start - MARGIN)}" end="{_stamp(end + MARGIN)}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""
    answer = dav.report(calendar_url, report, depth=1)
    if answer.status >= 300 or answer.tree is None:
        raise CalendarError(f"the CalDAV server did not list events ({answer.status})")
    found = answer.tree.iter("{urn:ietf:params:xml:ns:caldav}calendar-data")
    return [node.text for node in found if node.text]


def busy_from_ical(
    texts: Sequence[str], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Busy spans in [start, end) from iCalendar objects: recurrences expanded, exceptions
    applied, TRANSP:TRANSPARENT and STATUS:CANCELLED skipped, dates as the owner's days."""
    busy: list[tuple[datetime, datetime]] = []
    for text in texts:
        calendar = icalendar.Calendar.from_ical(text)
        window = (start.astimezone(zone) - MARGIN, end.astimezone(zone) + MARGIN)
        for event in recurring_ical_events.of(calendar).between(*window):
            if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            first, last = _instant(event.get("DTSTART").dt, zone), _end(event, zone)
            if first < end and last > start:
                busy.append((max(first, start), min(last, end)))
    return sorted(busy)


def _end(event: icalendar.Event, zone: ZoneInfo) -> datetime:
    if event.get("DTEND") is not None:
        return _instant(event.get("DTEND").dt, zone)
    begin = event.get("DTSTART").dt
    if event.get("DURATION") is not None:
        length: timedelta = event.get("DURATION").dt
        return _instant(begin, zone) + length
    # RFC 5545 3.6.1: a date lasts the day, a date-time with no end lasts no time at all.
    return _instant(begin + timedelta(days=1) if not isinstance(begin, datetime) else begin, zone)


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _ical(uid: str, draft: EventDraft) -> str:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//calbot//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", utc(draft.start))
    event.add("dtend", utc(draft.end))
    event.add("summary", draft.title)
    if draft.description:
        event.add("description", draft.description)
    if draft.join_url:
        event.add("location", draft.join_url)
        event.add("url", draft.join_url)
    event.add("sequence", draft.sequence)
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return str(calendar.to_ical().decode())


def _stamp(moment: datetime) -> str:
    return utc(moment).strftime("%Y%m%dT%H%M%SZ")
