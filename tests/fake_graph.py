"""A local server that speaks the Microsoft identity platform's token endpoint and the slice of
Microsoft Graph v1.0 the provider uses, with Graph's documented shapes, for the real client code.

Strict where Graph is: no bearer token or an unknown one -> 401 InvalidAuthenticationToken;
refresh tokens rotate on every use and a rotated-away one gets invalid_grant; an unknown $select
field or $filter -> 400; calendarView without its window -> 400; a missing item -> 404
ErrorItemNotFound; an event POSTed to a calendar the account may not edit -> 403. An account
has a default calendar (`/me/calendarView`, `/me/events`, `/me/calendar/...`) and may have more
(`add_calendar`), listed by `/me/calendars` and addressed as `/me/calendars/{id}/...`.
`fail(path, ...)` queues scripted answers (429 + Retry-After, 5xx, stalls);
`calls` logs every request and `selected` every $select field ever asked for.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from tzlocal.windows_tz import win_tz

from tests.fake_ms_identity import FakeIdentity
from tests.faults import stall_or_drop

EVENT_FIELDS = {
    "id", "subject", "body", "bodyPreview", "start", "end", "showAs", "isCancelled", "isAllDay",
    "location", "attendees", "organizer", "webLink", "transactionId", "type", "seriesMasterId",
    "createdDateTime", "lastModifiedDateTime", "sensitivity", "categories", "isOnlineMeeting",
    "onlineMeetingProvider", "onlineMeeting", "onlineMeetingUrl",
}  # fmt: skip
MEETING_PROVIDERS = {"teamsForBusiness", "skypeForBusiness", "skypeForConsumer", "unknown"}
CALENDAR_FIELDS = {
    "id", "name", "color", "hexColor", "isDefaultCalendar", "changeKey", "canShare",
    "canViewPrivateItems", "canEdit", "allowedOnlineMeetingProviders", "owner",
}  # fmt: skip
USER_FIELDS = {"id", "displayName", "mail", "userPrincipalName", "givenName", "surname"}
PROPERTY_ID = re.compile(r"String \{[0-9a-f-]{36}\} Name \w+")
FILTER = re.compile(
    r"singleValueExtendedProperties/Any\(ep: ep/id eq '(?P<id>[^']+)' and "
    r"ep/value eq '(?P<value>(?:[^']|'')*)'\)"
)


@dataclass
class Account:
    email: str
    windows_zone: str = "W. Europe Standard Time"
    mailbox_readable: bool = True
    # Work or school accounts can hold Teams meetings; personal Outlook.com ones cannot.
    teams: bool = True
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)
    placed: dict[str, str] = field(default_factory=dict)  # event id -> calendar id

    def __post_init__(self) -> None:
        self.default = self.add_calendar("Calendar", default=True)

    def add_calendar(self, name: str, *, can_edit: bool = True, default: bool = False) -> str:
        """Another calendar in the mailbox (a shared one with `can_edit=False`)."""
        calendar_id = "AAMkCal" + secrets.token_urlsafe(16)
        self.calendars[calendar_id] = {
            "id": calendar_id,
            "name": name,
            "color": "auto",
            "isDefaultCalendar": default,
            "canEdit": can_edit,
            "canShare": can_edit,
            "owner": {"name": self.email, "address": self.email},
        }
        return calendar_id

    def in_calendar(self, calendar_id: str) -> list[dict[str, Any]]:
        return [
            e for i, e in self.events.items() if self.placed.get(i, self.default) == calendar_id
        ]

    def add(
        self, start: datetime, end: datetime, calendar: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Put an event in a calendar (the default one unless named) as another app would
        (times in UTC)."""
        event = {
            "id": "AAMk" + secrets.token_urlsafe(24),
            "subject": "Private matter",
            "start": {"dateTime": _wall(start), "timeZone": "UTC"},
            "end": {"dateTime": _wall(end), "timeZone": "UTC"},
            "showAs": "busy",
            "isCancelled": False,
            "isAllDay": False,
            **extra,
        }
        self.events[event["id"]] = event
        self.placed[event["id"]] = calendar or self.default
        return event

    def add_all_day(self, day: date, days: int = 1, **extra: Any) -> dict[str, Any]:
        """An all-day event: midnight to midnight on the mailbox's own clock."""
        first = datetime.combine(day, time())
        return self.add(first, first + timedelta(days=days), isAllDay=True, **extra)


ACCOUNT = web.RequestKey("account", Account)


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    delay: float = 0.0
    after: bool = False
    drop: bool = False


class FakeGraph(FakeIdentity):
    def __init__(self, client_id: str = "ms-cid", client_secret: str = "ms-secret") -> None:
        super().__init__(client_id, client_secret)
        self.accounts: dict[str, Account] = {}
        self.calls: list[tuple[str, str]] = []
        self.selected: set[str] = set()
        self.script: dict[str, list[Scripted]] = {}
        self.page_size = 2
        self.prefer: list[str] = []  # Prefer headers sent to calendarView

    def add_account(self, email: str, windows_zone: str = "W. Europe Standard Time") -> Account:
        self.accounts[email] = Account(email, windows_zone)
        return self.accounts[email]

    def fail(
        self,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
        after: bool = False,
        drop: bool = False,
    ) -> None:
        for _ in range(times):
            self.script.setdefault(path, []).append(
                Scripted(status, body or {}, headers or {}, delay, after, drop)
            )

    def throttle(self, path: str, retry_after: int, times: int = 1) -> None:
        """Graph's 429: `TooManyRequests` with the seconds to wait in Retry-After."""
        body = {"error": {"code": "TooManyRequests", "message": "Too many requests."}}
        self.fail(path, 429, body, headers={"Retry-After": str(retry_after)}, times=times)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._log_and_script])
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/me", self._me)
        app.router.add_get("/v1.0/me/calendars", self._list_calendars)
        for base in ("/v1.0/me", "/v1.0/me/calendar", "/v1.0/me/calendars/{calendar}"):
            app.router.add_get(base + "/calendarView", self._calendar_view)
            app.router.add_get(base + "/events", self._list_events)
            app.router.add_post(base + "/events", self._create)
        app.router.add_delete("/v1.0/me/events/{id}", self._delete)
        app.router.add_patch("/v1.0/me/events/{id}", self._patch)
        app.router.add_get("/v1.0/me/mailboxSettings/timeZone", self._time_zone)
        return app

    @web.middleware
    async def _log_and_script(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        queued = self.script.get(f"{request.method} {request.path}") or self.script.get(
            request.path
        )
        if queued:
            answer = queued.pop(0)
            if answer.after:
                done: web.StreamResponse = await handler(request)
                await stall_or_drop(request, answer.delay, answer.drop)
                return done
            await stall_or_drop(request, answer.delay, answer.drop)
            return web.json_response(answer.body, status=answer.status, headers=answer.headers)
        if request.path.startswith("/v1.0/"):
            email = self.access_tokens.get(
                request.headers.get("Authorization", "").removeprefix("Bearer ")
            )
            if email is None:
                return graph_error(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token is empty." if "Authorization" not in request.headers else
                    "Access token validation failure. Invalid audience.",
                    headers={"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
                )  # fmt: skip
            request[ACCOUNT] = self.accounts[email]
            bad = self._bad_select(request)
            if bad is not None:
                return bad
        response: web.StreamResponse = await handler(request)
        return response

    def _bad_select(self, request: web.Request) -> web.Response | None:
        wanted = [f for f in request.query.get("$select", "").split(",") if f]
        kind = {"/v1.0/me": "user", "/v1.0/me/calendars": "calendar"}.get(request.path, "event")
        known = {"user": USER_FIELDS, "calendar": CALENDAR_FIELDS}.get(kind, EVENT_FIELDS)
        self.selected.update(wanted)
        for name in wanted:
            if name not in known:
                return graph_error(
                    400,
                    "RequestBroker--ParseUri",
                    f"Could not find a property named '{name}' on type 'microsoft.graph.{kind}'.",
                )
        return None

    # Graph ---------------------------------------------------------------------------------------
    async def _me(self, request: web.Request) -> web.Response:
        account: Account = request[ACCOUNT]
        return web.json_response(
            {"id": "id-" + account.email, "mail": None, "userPrincipalName": account.email}
        )

    async def _list_calendars(self, request: web.Request) -> web.Response:
        account: Account = request[ACCOUNT]
        wanted = [f for f in request.query.get("$select", "").split(",") if f]
        value = [
            {k: v for k, v in c.items() if not wanted or k in wanted or k == "id"}
            for c in account.calendars.values()
        ]
        return web.json_response(
            {"@odata.context": "$metadata#users('me')/calendars", "value": value}
        )

    def _calendar(self, request: web.Request) -> str | None:
        """The calendar a path addresses; None when the id is not one of the account's."""
        account: Account = request[ACCOUNT]
        calendar_id = request.match_info.get("calendar", account.default)
        return calendar_id if calendar_id in account.calendars else None

    async def _calendar_view(self, request: web.Request) -> web.Response:
        account: Account = request[ACCOUNT]
        calendar_id = self._calendar(request)
        if calendar_id is None:
            return _not_found()
        try:
            start = _instant(request.query["startDateTime"])
            end = _instant(request.query["endDateTime"])
        except (KeyError, ValueError):
            return graph_error(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
            )
        self.prefer.append(request.headers.get("Prefer", ""))
        zone = ZoneInfo(win_tz[account.windows_zone])
        found = []
        for event in account.in_calendar(calendar_id):
            first, last = _span(event, zone)
            if first < end and last > start:
                found.append((first, event))
        found.sort(key=lambda pair: pair[0])
        offset = int(request.query.get("$skiptoken", "0"))
        page = [self._shown(e, request) for _, e in found][offset : offset + self.page_size]
        answer: dict[str, Any] = {
            "@odata.context": "$metadata#users('me')/calendarView",
            "value": page,
        }
        if offset + self.page_size < len(found):
            nxt = request.url.update_query({"$skiptoken": str(offset + self.page_size)})
            answer["@odata.nextLink"] = str(nxt)
        return web.json_response(answer)

    def _shown(self, event: dict[str, Any], request: web.Request) -> dict[str, Any]:
        shown = dict(event)
        if not event["isAllDay"]:
            # Graph answers in UTC without a Prefer header too; only the bot's zone is used here.
            label, target = "UTC", ZoneInfo("UTC")
            for edge in ("start", "end"):
                moment = _parse(event[edge]["dateTime"], event[edge]["timeZone"])
                shown[edge] = {"dateTime": _wall(moment.astimezone(target)), "timeZone": label}
        else:
            # All-day events float: midnight in whatever zone was asked for.
            for edge in ("start", "end"):
                shown[edge] = {"dateTime": event[edge]["dateTime"], "timeZone": "UTC"}
        wanted = [f for f in request.query.get("$select", "").split(",") if f]
        if wanted:
            shown = {k: v for k, v in shown.items() if k in wanted or k == "id"}
        return {"@odata.etag": 'W/"' + secrets.token_hex(4) + '"', **shown}

    async def _list_events(self, request: web.Request) -> web.Response:
        account: Account = request[ACCOUNT]
        calendar_id = self._calendar(request)
        if calendar_id is None:
            return _not_found()
        match = FILTER.fullmatch(request.query.get("$filter", ""))
        if match is None:
            return graph_error(400, "BadRequest", "Invalid filter clause")
        value = match["value"].replace("''", "'")
        found = [
            {"id": e["id"], "webLink": e["webLink"]}
            for e in account.in_calendar(calendar_id)
            if {"id": match["id"], "value": value} in e.get("singleValueExtendedProperties", [])
        ]
        return web.json_response({"value": found})

    async def _create(self, request: web.Request) -> web.Response:
        account: Account = request[ACCOUNT]
        calendar_id = self._calendar(request)
        if calendar_id is None:
            return _not_found()
        if not account.calendars[calendar_id]["canEdit"]:
            return graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials.")
        body = await request.json()
        problem = _invalid_event(body)
        if "onlineMeeting" in body:  # read-only: asked for with isOnlineMeeting
            problem = "onlineMeeting is read-only; ask with isOnlineMeeting."
        if problem:
            return graph_error(400, "ErrorInvalidRequest", problem)
        tid = body.get("transactionId")
        for event in account.events.values():
            if tid and event.get("transactionId") == tid:
                return web.json_response(event, status=201)  # a repeated POST: the same event
        event_id = "AAMk" + secrets.token_urlsafe(24)
        event = {
            "showAs": "busy",
            "isCancelled": False,
            "isAllDay": False,
            **body,
            "id": event_id,
            "webLink": f"https://outlook.office365.test/owa/?itemid={event_id}",
            **_online_meeting(account, body, event_id),
        }
        account.events[event_id] = event
        account.placed[event_id] = calendar_id
        return web.json_response(event, status=201)

    async def _patch(self, request: web.Request) -> web.Response:
        account: Account = request[ACCOUNT]
        event = account.events.get(request.match_info["id"])
        if event is None:
            return graph_error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        body = await request.json()
        # Graph refuses read-only properties in a PATCH; these are the ones we must never send.
        readonly = {"id", "webLink", "transactionId", "isCancelled", "onlineMeeting"} & set(body)
        if readonly:
            return graph_error(400, "ErrorInvalidRequest", f"read-only: {sorted(readonly)}")
        problem = _invalid_event({**event, **body})
        if problem:
            return graph_error(400, "ErrorInvalidRequest", problem)
        event.update(body)
        return web.json_response(event)

    async def _delete(self, request: web.Request) -> web.Response:
        account: Account = request[ACCOUNT]
        account.placed.pop(request.match_info["id"], None)
        if account.events.pop(request.match_info["id"], None) is None:
            return graph_error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return web.Response(status=204)

    async def _time_zone(self, request: web.Request) -> web.Response:
        account: Account = request[ACCOUNT]
        if not account.mailbox_readable:
            return graph_error(403, "ErrorAccessDenied", "Access is denied.")
        return web.json_response(
            {"@odata.context": "$metadata#Edm.String", "value": account.windows_zone}
        )


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": code, "message": message, "innerError": {"request-id": "r1"}}}
    return web.json_response(body, status=status, headers=headers)


def _not_found() -> web.Response:
    return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def _invalid_event(body: dict[str, Any]) -> str | None:
    try:
        start = _parse(body["start"]["dateTime"], body["start"]["timeZone"])
        end = _parse(body["end"]["dateTime"], body["end"]["timeZone"])
    except (KeyError, TypeError, ValueError):
        return "The event's start and end need a dateTime and a known timeZone."
    if end <= start:
        return "The Event's end time must be after its start time."
    for prop in body.get("singleValueExtendedProperties", []):
        if not PROPERTY_ID.fullmatch(str(prop.get("id", ""))):
            return "The extended property id is not valid."
    if len(str(body.get("transactionId", ""))) > 255:
        return "transactionId is too long."
    if body.get("onlineMeetingProvider", "unknown") not in MEETING_PROVIDERS:
        return "The onlineMeetingProvider is not valid."
    return None


def _online_meeting(account: Account, body: dict[str, Any], event_id: str) -> dict[str, Any]:
    """Like Graph: a Teams meeting only when asked for and the account can hold one; otherwise
    isOnlineMeeting comes back false and onlineMeeting null."""
    wanted = body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") == (
        "teamsForBusiness"
    )
    if not (wanted and account.teams):
        return {"isOnlineMeeting": False, "onlineMeetingProvider": "unknown", "onlineMeeting": None}
    join = f"https://teams.microsoft.test/l/meetup-join/{event_id[-12:]}"
    return {"isOnlineMeeting": True, "onlineMeeting": {"joinUrl": join}}


def _span(event: dict[str, Any], zone: ZoneInfo) -> tuple[datetime, datetime]:
    if event["isAllDay"]:
        return tuple(  # type: ignore[return-value]
            datetime.fromisoformat(event[e]["dateTime"]).replace(tzinfo=zone).astimezone(UTC)
            for e in ("start", "end")
        )
    return (
        _parse(event["start"]["dateTime"], event["start"]["timeZone"]),
        _parse(event["end"]["dateTime"], event["end"]["timeZone"]),
    )


def _parse(wall: str, zone_name: str) -> datetime:
    zone = ZoneInfo("UTC" if zone_name == "UTC" else win_tz.get(zone_name, zone_name))
    return datetime.fromisoformat(wall[:26]).replace(tzinfo=zone).astimezone(UTC)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a window needs an offset")
    return moment


def _wall(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000")
