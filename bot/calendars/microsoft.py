"""Microsoft 365 / Outlook.com calendars over Microsoft Graph (plain aiohttp, no SDK).

Busy time comes from `calendarView` (it works for personal and work accounts; `getSchedule`
does not for personal ones), selecting only start, end, showAs, isCancelled and isAllDay, never
the subject. Events carry our booking's event id twice: as `transactionId`, so Graph swallows a
repeated POST after a lost answer, and as a private extended property, so we can find the event
again by our id (delete, "already exists"). Refresh tokens rotate on every use: each new one is
stored (see microsoft_tokens). Retries: 429 and 5xx honour Retry-After, else capped exponential
backoff with full jitter; 401 refreshes the access token once. A person's busy time is the
union of the calendars they chose; booked events go to the receiving one (see choice.py and
microsoft_calendars.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from yarl import URL

from bot.calendars import choice, graph_values, microsoft_teams
from bot.calendars import microsoft_calendars as calendars
from bot.calendars.graph_values import windows_to_iana
from bot.calendars.microsoft_tokens import GraphTokens, Reconnect, TokenStore
from bot.calendars.provider import (
    BusyResult,
    CalendarError,
    CalendarInfo,
    Capabilities,
    CreatedEvent,
    EventDraft,
    utc,
)
from bot.calendars.retry import backoff
from bot.calendars.tokens import TokenError, TokenVault
from bot.config import MicrosoftConfig
from storage.records import Connection

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
MAX_RETRY_AFTER = 30.0  # a longer Retry-After is not worth holding a chat reply for
TIMEOUT = 10.0
SELECT_BUSY = "start,end,showAs,isCancelled,isAllDay"
FREE_SHOW_AS = {"free", "workingElsewhere"}
# A named MAPI string property in our own property set; Graph can $filter on it.
ID_PROPERTY = "String {5b8e3f4e-9a1c-4f7e-8d62-3c0b7a1e2f10} Name calbotEventId"


class MicrosoftCalendar:
    name = "microsoft"
    capabilities = Capabilities(
        "Microsoft 365 / Outlook",
        "oauth",
        invites_attendees=True,
        account_is_email=True,
        video_meetings=True,
    )

    def __init__(
        self,
        config: MicrosoftConfig,
        store: TokenStore,
        vault: TokenVault,
        on_reconnect: Reconnect,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        timeout: float = TIMEOUT,
    ) -> None:
        self._config = config
        self._api = config.api_base.rstrip("/")
        self._store = store
        self._vault = vault
        self._tokens = GraphTokens(config, store, vault, on_reconnect, sleep)
        self._sleep = sleep
        self._jitter = jitter
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._zones: dict[tuple[str, int], str | None] = {}

    # CalendarProvider ----------------------------------------------------------------------------
    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        async with self._session() as session:
            answers = await asyncio.gather(
                *(self._busy(session, owner, start, end) for owner in owners)
            )
        return {owner.uid: answer for owner, answer in zip(owners, answers, strict=True)}

    async def _busy(
        self, session: aiohttp.ClientSession, owner: Connection, start: datetime, end: datetime
    ) -> BusyResult:
        chosen = self._choice(owner).busy
        try:
            spans = await asyncio.gather(
                *(self._view(session, owner, c, start, end) for c in chosen)
            )
        except _Gone:
            # A chosen calendar was deleted in Outlook: unknown busy time, not "all free".
            return BusyResult((), error="one of the chosen Microsoft calendars no longer exists")
        return BusyResult(tuple(sorted(set().union(*spans))))

    async def _view(
        self,
        session: aiohttp.ClientSession,
        owner: Connection,
        calendar_id: str,
        start: datetime,
        end: datetime,
    ) -> set[tuple[datetime, datetime]]:
        url: URL | None = (calendars.base(self._api, calendar_id) / "calendarView").with_query(
            {
                "startDateTime": graph_values.iso(start),
                "endDateTime": graph_values.iso(end),
                "$select": SELECT_BUSY,
            }
        )
        busy: set[tuple[datetime, datetime]] = set()
        zone: ZoneInfo | None = None
        while url is not None:
            page = await self._call(session, owner, "GET", url, prefer_utc=True)
            for event in page.get("value", []):
                if event.get("isCancelled") or event.get("showAs") in FREE_SHOW_AS:
                    continue
                span = graph_values.span(event)
                if event.get("isAllDay") and span[0].time() == span[0].min.time():
                    # All-day events float: midnight to midnight on the owner's own clock.
                    zone = zone or ZoneInfo(await self._zone(session, owner) or "UTC")
                    span = (utc(span[0].replace(tzinfo=zone)), utc(span[1].replace(tzinfo=zone)))
                if span[0] < end and span[1] > start:
                    busy.add((max(span[0], start), min(span[1], end)))
            link = page.get("@odata.nextLink")
            url = URL(link, encoded=True) if link else None
        return busy

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        body = {
            **_text_and_times(draft),
            "attendees": [
                {"emailAddress": {"address": email}, "type": "required"}
                for email in draft.attendee_emails
            ],
            "showAs": "busy",
            "transactionId": graph_values.transaction_id(draft.event_id),
            "singleValueExtendedProperties": [{"id": ID_PROPERTY, "value": draft.event_id}],
            **microsoft_teams.video_fields(draft),
        }
        target = calendars.base(self._api, self._choice(owner).receives) / "events"
        async with self._session() as session:
            existing = await self._find(session, owner, draft.event_id, receiving_only=True)
            if existing is not None:
                joined = microsoft_teams.join_url(existing, draft)
                return CreatedEvent(draft.event_id, existing.get("webLink"), True, joined)
            try:
                created = await self._call(session, owner, "POST", target, body)
            except _Gone:
                raise CalendarError(
                    "the calendar chosen to receive meetings no longer exists; pick another "
                    "with /calendars"
                ) from None
        joined = microsoft_teams.join_url(created, draft)
        return CreatedEvent(draft.event_id, created.get("webLink"), False, joined)

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        body = {
            **_text_and_times(draft),
            **({"location": {"displayName": draft.join_url}} if draft.join_url else {}),
        }
        async with self._session() as session:
            # Graph ids change when an item moves between folders; ours is the extended property.
            existing = await self._find(session, owner, event_id)
            if existing is None:
                raise CalendarError("that event was deleted in the Microsoft 365 calendar")
            try:
                url = URL(f"{self._api}/me/events/{existing['id']}")
                updated = await self._call(session, owner, "PATCH", url, body)
            except _Gone:
                raise CalendarError(
                    "that event was deleted in the Microsoft 365 calendar"
                ) from None
        return CreatedEvent(event_id, updated.get("webLink"), already_existed=True)

    async def delete_event(self, owner: Connection, event_id: str) -> bool:
        async with self._session() as session:
            existing = await self._find(session, owner, event_id)
            if existing is None:
                return False
            try:
                url = URL(f"{self._api}/me/events/{existing['id']}")
                await self._call(session, owner, "DELETE", url)
            except _Gone:
                return False
        return True

    async def calendar_timezone(self, owner: Connection) -> str | None:
        async with self._session() as session:
            return await self._zone(session, owner)

    async def revoke(self, owner: Connection) -> None:
        # Graph has no per-token revocation: forgetting the token (the caller deletes the
        # connection) is all we can do; the user can remove the app at myapps/account.live.com.
        self._tokens.forget(owner)
        self._zones.pop((owner.uid, owner.generation), None)
        log.info("Microsoft has no token revocation; %s's token is only deleted", owner.uid)

    async def calendars(self, owner: Connection) -> list[CalendarInfo]:
        return self._choice(owner).mark(await self._listing(owner))

    async def choose(
        self, owner: Connection, busy: Sequence[str], receives: str
    ) -> list[CalendarInfo]:
        found = await self._listing(owner)
        chosen = choice.checked(found, busy, receives)
        await choice.save(self._store, self._vault, owner, chosen)
        return chosen.mark(found)

    async def _listing(self, owner: Connection) -> list[tuple[str, str, bool]]:
        async with self._session() as session:
            return await calendars.listing(
                self._api, lambda url: self._call(session, owner, "GET", url)
            )

    def _choice(self, owner: Connection) -> choice.Choice:
        """Which calendars count as busy and which receives events (the default by default)."""
        secret: dict[str, Any] = {}
        # A secret that no longer opens: the call itself will ask the owner to reconnect.
        with contextlib.suppress(TokenError):
            if owner.token is not None:
                secret = self._vault.open(owner.uid, owner.token)
        return choice.stored(secret, calendars.DEFAULT)

    # Graph calls ---------------------------------------------------------------------------------
    def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=self._timeout)

    async def _find(
        self,
        session: aiohttp.ClientSession,
        owner: Connection,
        event_id: str,
        *,
        receiving_only: bool = False,
    ) -> dict[str, Any] | None:
        """Our event by its id: in the receiving calendar, else (it may have been made before
        the person chose another one) in the other calendars they chose."""
        quoted = event_id.replace("'", "''")
        query = {
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{ID_PROPERTY}' "
            f"and ep/value eq '{quoted}')",
            "$select": "id,webLink,onlineMeeting",
        }
        chosen = self._choice(owner)
        places = [chosen.receives] if receiving_only else [chosen.receives, *chosen.busy]
        for calendar_id in dict.fromkeys(places):
            url = (calendars.base(self._api, calendar_id) / "events").with_query(query)
            with contextlib.suppress(_Gone):  # a chosen calendar deleted meanwhile
                found = (await self._call(session, owner, "GET", url)).get("value", [])
                if found:
                    return dict(found[0])
        return None

    async def _zone(self, session: aiohttp.ClientSession, owner: Connection) -> str | None:
        key = (owner.uid, owner.generation)
        if key not in self._zones:
            url = URL(f"{self._api}/me/mailboxSettings/timeZone")
            try:
                answer = await self._call(session, owner, "GET", url)
            except _Forbidden:
                return None  # granted without MailboxSettings.Read
            self._zones[key] = windows_to_iana(str(answer.get("value", "")))
        return self._zones[key]

    async def _call(
        self,
        session: aiohttp.ClientSession,
        owner: Connection,
        method: str,
        url: URL,
        body: dict[str, Any] | None = None,
        *,
        prefer_utc: bool = False,
    ) -> dict[str, Any]:
        refreshed = False
        problem = "no answer"
        for attempt in range(MAX_ATTEMPTS):
            token = await self._tokens.access_token(session, owner)
            headers = {"Authorization": f"Bearer {token}"}
            if prefer_utc:
                headers["Prefer"] = 'outlook.timezone="UTC"'
            wait: float | None = None
            try:
                async with session.request(method, url, json=body, headers=headers) as response:
                    status = response.status
                    answer = await graph_values.json_object(response)
                    retry_after = response.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as error:
                problem = f"network: {error!r}"
            else:
                if status < 300:
                    return answer
                code = str(answer.get("error", {}).get("code", status))
                if status == 401 and not refreshed:
                    refreshed = True
                    self._tokens.refused(owner, token)
                    continue
                if status == 404:
                    raise _Gone()
                if status == 403:
                    raise _Forbidden(f"Microsoft refused the request (403 {code})")
                if status != 429 and status < 500:
                    raise CalendarError(f"Microsoft refused the request ({status} {code})")
                problem = f"{status} {code}"
                wait = graph_values.seconds(retry_after)
                if wait is not None and wait > MAX_RETRY_AFTER:
                    raise CalendarError(f"Microsoft asks us to wait {wait:.0f} s ({problem})")
            if attempt + 1 < MAX_ATTEMPTS:
                if wait is None:
                    wait = backoff(attempt, self._jitter)
                log.info("Graph call failed (%s); retry %d in %.2fs", problem, attempt + 1, wait)
                await self._sleep(wait)
        raise CalendarError(f"Microsoft Graph is not answering ({problem})")


def _text_and_times(draft: EventDraft) -> dict[str, Any]:
    """What creating and updating an event both send (times as UTC wall time, as Graph wants)."""
    if draft.end <= draft.start:
        raise CalendarError("an event must end after it starts")
    return {
        "subject": draft.title,
        "body": {"contentType": "text", "content": draft.description},
        "start": {"dateTime": graph_values.local(draft.start), "timeZone": "UTC"},
        "end": {"dateTime": graph_values.local(draft.end), "timeZone": "UTC"},
    }


class _Gone(CalendarError):
    def __init__(self) -> None:
        super().__init__("Microsoft could not find that item (404)")


class _Forbidden(CalendarError):
    pass
