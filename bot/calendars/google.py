"""Google Calendar as a CalendarProvider: free/busy and events on the primary calendar only.

google-api-python-client is synchronous, so each call runs on the calendar I/O thread pool with
a pooled httplib2 connection of its own (they are not thread-safe) and a socket timeout; the API
description is built once per process (bot.calendars.google_client). Retries are ours: capped
exponential backoff with full jitter for 429, 403 rate limits, 5xx and network errors; other
errors are permanent. Access tokens are refreshed single-flight per user; `invalid_grant` marks
the connection for reconnecting and tells the user once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import google.auth.exceptions
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from bot.calendars import choice, google_client, google_meet, google_oauth, google_tokens
from bot.calendars import google_calendars as calendars
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
from bot.config import GoogleConfig
from storage.records import Connection
from storage.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SOCKET_TIMEOUT = 10.0
FREEBUSY_BATCH = 50
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
Reconnect = Callable[[Connection], Awaitable[None]]


class GoogleCalendar:
    name = "google"
    capabilities = Capabilities(
        "Google Calendar",
        "oauth",
        invites_attendees=True,
        account_is_email=True,
        account_label="Google account",
        video_meetings=True,
    )

    def __init__(
        self,
        config: GoogleConfig,
        store: Store,
        vault: TokenVault,
        on_reconnect: Reconnect,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        timeout: float = SOCKET_TIMEOUT,
    ) -> None:
        self._timeout = timeout
        self._http = google_client.HttpPool(timeout)
        self._endpoint = config.api_base.rstrip("/") + "/calendar/v3/"
        self._config = config
        self._store = store
        self._vault = vault
        self._on_reconnect = on_reconnect
        self._sleep = sleep
        self._jitter = jitter
        self._credentials: dict[tuple[str, int], Credentials] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._rejected: dict[str, str | None] = {}  # uid -> access token Google answered 401 to

    # CalendarProvider ----------------------------------------------------------------------------
    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        results: dict[str, BusyResult] = {}
        for offset in range(0, len(owners), FREEBUSY_BATCH):
            chunk = owners[offset : offset + FREEBUSY_BATCH]
            results.update(await self._free_busy_chunk(chunk, start, end))
        return results

    async def _free_busy_chunk(
        self, chunk: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        results: dict[str, BusyResult] = {}
        if len(chunk) > 1:
            # One query for the whole group and every calendar each member chose, with the first
            # member's token; calendars it may not see (another domain, not shared) are asked
            # again with their owner's token.
            ids = {o.uid: calendars.group_ids(o.account, self._choice(o).busy) for o in chunk}
            try:
                every = list(dict.fromkeys(i for member in ids.values() for i in member))
                answer = await self._query(chunk[0], start, end, every)
                for owner in chunk:
                    busy = calendars.merged(answer, ids[owner.uid])
                    if busy is not None:
                        results[owner.uid] = busy
            except CalendarError as problem:
                if problem.reconnect:
                    raise
        for owner in chunk:
            if owner.uid not in results:
                results[owner.uid] = await self._own_free_busy(owner, start, end)
        return results

    async def _own_free_busy(self, owner: Connection, start: datetime, end: datetime) -> BusyResult:
        ids = list(self._choice(owner).busy)
        answer = await self._query(owner, start, end, ids)
        busy = calendars.merged(answer, ids)
        if busy is None:
            reasons = calendars.problems(answer, ids)
            return BusyResult((), error=f"Google could not read the calendar ({reasons})")
        return busy

    def _choice(self, owner: Connection) -> choice.Choice:
        """Which calendars count as busy and which receives events (the primary by default)."""
        secret: dict[str, Any] = {}
        # A secret that no longer opens: the call itself will ask the owner to reconnect.
        with contextlib.suppress(TokenError):
            if owner.token is not None:
                secret = self._vault.open(owner.uid, owner.token)
        return choice.stored(secret, calendars.PRIMARY)

    async def _query(
        self, owner: Connection, start: datetime, end: datetime, ids: list[str]
    ) -> dict[str, Any]:
        body = {
            "timeMin": _rfc3339(start),
            "timeMax": _rfc3339(end),
            "items": [{"id": calendar_id} for calendar_id in ids],
        }
        answer = await self._call(owner, lambda api: api.freebusy().query(body=body))
        calendars: dict[str, Any] = answer.get("calendars", {})
        return calendars

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        body = {
            "id": draft.event_id,
            **_text_and_times(draft),
            "attendees": [{"email": email} for email in draft.attendee_emails],
            "transparency": "opaque",
            "extendedProperties": {"private": {"calbot": draft.event_id}},
            **google_meet.video_fields(draft),
        }
        # Without attendees there is nobody to notify: leave sendUpdates out rather than send
        # "none", which the discovery document warns "can have significant adverse effects".
        notify = {"sendUpdates": "all"} if draft.attendee_emails else {}
        notify.update(google_meet.insert_options(draft))
        target = self._choice(owner).receives
        try:
            created = await self._call(
                owner,
                lambda api: api.events().insert(calendarId=target, body=body, **notify),
            )
        except _Duplicate:
            # The id exists: a retry after a lost answer, or a second attempt. Ours if it is live.
            existing = await self._call(
                owner, lambda api: api.events().get(calendarId=target, eventId=draft.event_id)
            )
            if existing.get("status") == "cancelled":
                raise CalendarError("that event was deleted in Google Calendar") from None
            joined = google_meet.join_url(existing, draft)
            return CreatedEvent(draft.event_id, existing.get("htmlLink"), True, joined)
        joined = google_meet.join_url(created, draft)
        return CreatedEvent(created["id"], created.get("htmlLink"), False, joined)

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        body = {
            **_text_and_times(draft),
            "sequence": draft.sequence,
            **({"location": draft.join_url} if draft.join_url and not draft.conference else {}),
        }
        notify = {"sendUpdates": "all"} if draft.attendee_emails else {}
        target = self._choice(owner).receives  # where create_event put it
        try:
            # patch, not update: fields we never set (attendees' answers, conference data,
            # reminders the owner added) stay as they are.
            updated = await self._call(
                owner,
                lambda api: api.events().patch(
                    calendarId=target, eventId=event_id, body=body, **notify
                ),
            )
        except _Gone:
            raise CalendarError("that event was deleted in Google Calendar") from None
        if updated.get("status") == "cancelled":
            raise CalendarError("that event was deleted in Google Calendar")
        return CreatedEvent(
            event_id,
            updated.get("htmlLink"),
            already_existed=True,
            join_url=google_meet.join_url(updated, draft),
        )

    async def delete_event(self, owner: Connection, event_id: str) -> bool:
        target = self._choice(owner).receives
        try:
            await self._call(
                owner,
                lambda api: api.events().delete(
                    calendarId=target, eventId=event_id, sendUpdates="all"
                ),
            )
        except _Gone:
            return False
        return True

    async def calendar_timezone(self, owner: Connection) -> str | None:
        # settings.get needs a calendar(.settings) scope we never ask for (the real API answers
        # 403); an events list, which calendar.events.owned allows, names the calendar's zone.
        answer = await self._call(
            owner,
            lambda api: api.events().list(calendarId="primary", maxResults=1, fields="timeZone"),
        )
        value = answer.get("timeZone")
        return str(value) if value else None

    async def revoke(self, owner: Connection) -> None:
        self._credentials.pop((owner.uid, owner.generation), None)
        if owner.token is None:
            return
        try:
            secret = self._vault.open(owner.uid, owner.token)
        except TokenError as problem:
            log.warning("could not open %s's Google token to revoke it: %s", owner.uid, problem)
            return  # no key opens it any more: nothing we hold can use it either
        try:
            confirmed = await google_oauth.revoke(self._config, secret["refresh_token"])
        except google_oauth.OAuthError as problem:
            raise CalendarError(f"Google could not be reached to revoke: {problem}") from None
        if not confirmed:
            raise CalendarError("Google did not confirm the revocation")

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
        try:
            return await calendars.listing(lambda make: self._call(owner, make))
        except CalendarError as problem:
            if "403" in str(problem):
                # Connected before we asked for calendar.calendarlist.readonly.
                raise choice.ChoiceRefused(
                    "I may not list your Google calendars yet: send /connect and allow it."
                ) from None
            raise

    # Calls, retries, tokens ---------------------------------------------------------------------
    async def _call(self, owner: Connection, make: Callable[[Any], Any]) -> dict[str, Any]:
        refreshed_after_401 = False
        for attempt in range(MAX_ATTEMPTS):
            credentials = await self._fresh_credentials(owner)
            try:
                answer: dict[str, Any] = await google_client.in_thread(
                    self._execute, credentials, make
                )
                return answer
            except HttpError as error:
                status, reason = error.status_code, google_client.refusal_reason(error)
                if status == 409:
                    raise _Duplicate() from None
                if status in (404, 410):
                    raise _Gone() from None
                if status == 401 and not refreshed_after_401:
                    refreshed_after_401 = True
                    self._credentials.pop((owner.uid, owner.generation), None)
                    self._rejected[owner.uid] = credentials.token
                    continue
                retryable = (
                    status == 429 or status >= 500 or (status == 403 and reason in RATE_REASONS)
                )
                if not retryable:
                    raise CalendarError(f"Google refused the request ({status} {reason})") from None
                problem = f"{status} {reason}"
            except google.auth.exceptions.RefreshError as error:
                await self._refresh_failed(owner, error)
            except (TimeoutError, ConnectionError, OSError, httplib2.HttpLib2Error) as error:
                problem = f"network: {error!r}"
            if attempt + 1 < MAX_ATTEMPTS:
                delay = backoff(attempt, self._jitter)
                log.info("Google call failed (%s); retry %d in %.2fs", problem, attempt + 1, delay)
                await self._sleep(delay)
        raise CalendarError(f"Google Calendar is not answering ({problem})")

    def _execute(self, credentials: Credentials, make: Callable[[Any], Any]) -> Any:
        return google_client.execute(self._http, self._endpoint, credentials, make)

    async def _fresh_credentials(self, owner: Connection) -> Credentials:
        key = (owner.uid, owner.generation)
        async with self._locks.setdefault(owner.uid, asyncio.Lock()):
            credentials = self._credentials.get(key)
            if credentials is None:
                credentials = self._build_credentials(owner)
                self._credentials[key] = credentials
            if not credentials.valid:
                try:
                    # Shared with the other workers through the connection row (one refresh).
                    rejected = self._rejected.pop(owner.uid, None)
                    credentials = await google_tokens.fresh(
                        self._store, self._vault, self._config, owner, rejected
                    )
                    self._credentials[key] = credentials
                except google.auth.exceptions.RefreshError as error:
                    await self._refresh_failed(owner, error)
                except google.auth.exceptions.TransportError as error:
                    raise CalendarError(f"Google sign-in is not answering ({error})") from None
            return credentials

    def _build_credentials(self, owner: Connection) -> Credentials:
        if owner.token is None:
            raise CalendarError("no Google token stored", reconnect=True)
        try:
            secret = self._vault.open(owner.uid, owner.token)
        except TokenError as problem:
            raise CalendarError(str(problem), reconnect=True) from None
        # scopes=None: sending the requested scopes on refresh breaks partial grants.
        return Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=secret["refresh_token"],
            token_uri=self._config.token_uri,
            client_id=self._config.client_id,
            client_secret=self._config.client_secret,
            scopes=None,
        )

    async def _refresh_failed(self, owner: Connection, error: Exception) -> None:
        retryable = getattr(error, "retryable", False)
        if retryable:
            raise CalendarError(f"Google sign-in is not answering ({error})") from None
        self._credentials.pop((owner.uid, owner.generation), None)
        await self._store.set_connection_status(owner.uid, "needs_reconnect")
        await self._on_reconnect(owner)
        raise CalendarError("Google no longer accepts this connection", reconnect=True) from None


class _Duplicate(Exception):
    pass


class _Gone(Exception):
    pass


def _text_and_times(draft: EventDraft) -> dict[str, Any]:
    """What creating and updating an event both send."""
    return {
        "summary": draft.title,
        "description": draft.description,
        "start": {"dateTime": _rfc3339(draft.start), "timeZone": draft.timezone},
        "end": {"dateTime": _rfc3339(draft.end), "timeZone": draft.timezone},
    }


def _rfc3339(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
