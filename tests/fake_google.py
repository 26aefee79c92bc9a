"""A local server that speaks Google's OAuth and Calendar v3 HTTP, for the real client code.

Accounts have a calendar (busy times, events, a zone). Free/busy of another account's calendar
is visible to tokens of the same e-mail domain, like a Workspace domain, but never between
consumer (gmail.com) accounts. Strict like the real API: every Calendar call is checked against
the discovery document shipped in google-api-python-client (tests/google_discovery.py): the
token must hold one of the method's scopes (else 403 insufficientPermissions, with `details`),
query parameters and the JSON body must fit the method's schema (else 400). `fail(path, ...)` queues
scripted answers (429, 403 rateLimitExceeded, 500, slow, invalid_grant); `calls` logs every
request so tests can assert which endpoints were (never) used.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.calendars.google_oauth import SCOPES
from tests import google_discovery
from tests.faults import stall_or_drop

CONSUMER_DOMAINS = {"gmail.com", "googlemail.com"}


@dataclass
class Account:
    email: str
    timezone: str = "Europe/Berlin"
    busy: list[tuple[str, str]] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: str = ""
    # Other calendars in this account's calendarList: calendar id -> accessRole.
    shared: dict[str, str] = field(default_factory=dict)


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    delay: float = 0.0
    after: bool = False  # do the work, then stall before answering (a lost response)
    drop: bool = False  # hang up without an answer (a dropped connection)


class FakeGoogle:
    def __init__(self, client_id: str = "cid", client_secret: str = "csecret") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.accounts: dict[str, Account] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> email
        self.access_tokens: dict[str, str] = {}  # access token -> email
        self.scopes: dict[str, str] = {}  # refresh or access token -> its space-separated scopes
        self.violations: list[str] = []  # every request the real API would have refused
        self.queries: list[tuple[str, str, dict[str, str]]] = []  # method, path, query string
        self.codes: dict[str, dict[str, str]] = {}
        self.revoked: list[str] = []
        self.revoke_outages = 0  # the next N revocations answer 503, as Google does when down
        self.calls: list[tuple[str, str]] = []
        self.script: dict[str, list[Scripted]] = {}
        self.granted_scope = ""
        self.latency = 0.0  # seconds added to every answer, like a round trip to Google

    def add_account(self, email: str, timezone: str = "Europe/Berlin") -> Account:
        self.accounts[email] = Account(email, timezone)
        return self.accounts[email]

    def add_calendar(
        self, email: str, calendar_id: str, summary: str, role: str = "owner"
    ) -> Account:
        """A secondary calendar (or one shared with `email`) in the account's calendarList."""
        calendar = self.accounts.setdefault(
            calendar_id, Account(calendar_id, self.accounts[email].timezone, summary=summary)
        )
        self.accounts[email].shared[calendar_id] = role
        return calendar

    def issue_refresh_token(self, email: str, scope: str = " ".join(SCOPES)) -> str:
        token = "1//rt-" + secrets.token_hex(8)
        self.refresh_tokens[token] = email
        self.scopes[token] = scope
        return token

    def consent(self, email: str, query: dict[str, str]) -> str:
        """What Google's consent screen does: returns a code for the callback."""
        code = "4/code-" + secrets.token_hex(8)
        self.codes[code] = {"email": email, **query}
        return code

    def fail(
        self,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        *,
        times: int = 1,
        delay: float = 0.0,
        after: bool = False,
        drop: bool = False,
    ) -> None:
        for _ in range(times):
            self.script.setdefault(path, []).append(
                Scripted(status, body or {}, delay, after, drop)
            )

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._log_and_script])
        app.router.add_post("/token", self._token)
        app.router.add_post("/revoke", self._revoke)
        app.router.add_get("/v1/userinfo", self._userinfo)
        app.router.add_post("/calendar/v3/freeBusy", self._free_busy)
        app.router.add_post("/calendar/v3/calendars/{cal}/events", self._insert)
        app.router.add_get("/calendar/v3/calendars/{cal}/events", self._list_events)
        app.router.add_get("/calendar/v3/calendars/{cal}/events/{event}", self._get_event)
        app.router.add_delete("/calendar/v3/calendars/{cal}/events/{event}", self._delete)
        app.router.add_patch("/calendar/v3/calendars/{cal}/events/{event}", self._patch)
        app.router.add_get("/calendar/v3/users/me/settings/{setting}", self._setting)
        app.router.add_get("/calendar/v3/users/me/calendarList", self._calendar_list)
        return app

    @web.middleware
    async def _log_and_script(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        self.queries.append((request.method, request.path, dict(request.query)))
        if self.latency:
            await asyncio.sleep(self.latency)
        queued = self.script.get(request.path)
        if queued:
            answer = queued.pop(0)
            if answer.after:
                done: web.StreamResponse = await handler(request)
                await asyncio.sleep(answer.delay)
                return done
            await stall_or_drop(request, answer.delay, answer.drop)
            if answer.status:
                return web.json_response(answer.body, status=answer.status)
        if request.path.startswith("/calendar/"):
            refusal = await self._refusal(request)
            if refusal is not None:
                self.violations.append(f"{request.method} {request.path}: {refusal.text}")
                return refusal
        response: web.StreamResponse = await handler(request)
        return response

    async def _refusal(self, request: web.Request) -> web.Response | None:
        """What Google answers instead of running the call: wrong scope, parameter or body."""
        method = google_discovery.method_for(request.method, request.path)
        if method is None:
            return web.json_response({"error": {"code": 404, "message": "Not Found"}}, status=404)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return None  # the handler answers 401 like Google does
        granted = set(self.scopes.get(token, "").split())
        if not granted & method.scopes:
            return web.json_response(insufficient_scope(method.id), status=403)
        problems = google_discovery.query_problems(method, dict(request.query))
        if method.request is not None:
            try:
                body = await request.json()
            except ValueError:
                body = None
            problems += google_discovery.body_problems(method.request, body)
        if problems:
            return web.json_response(
                {
                    "error": {
                        "code": 400,
                        "message": "; ".join(problems),
                        "errors": [
                            {"domain": "global", "reason": "invalid", "message": problems[0]}
                        ],
                        "status": "INVALID_ARGUMENT",
                    }
                },
                status=400,
            )
        return None

    def _owner(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        return self.access_tokens.get(header.removeprefix("Bearer "))

    def _access_token(self, email: str, scope: str) -> str:
        token = "ya29." + secrets.token_hex(8)
        self.access_tokens[token] = email
        self.scopes[token] = scope
        return token

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if "Authorization" in request.headers:
            raw = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
            client_id, client_secret = raw.split(":", 1)
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if (
                grant is None
                or grant["redirect_uri"] != form.get("redirect_uri")
                or challenge.rstrip(b"=").decode() != grant["code_challenge"]
            ):
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Bad code."}, status=400
                )
            scope = self.granted_scope or grant["scope"]
            return web.json_response(
                {
                    "access_token": self._access_token(grant["email"], scope),
                    "expires_in": 3599,
                    "token_type": "Bearer",
                    "scope": scope,
                    "refresh_token": self.issue_refresh_token(grant["email"], scope),
                }
            )
        refresh = str(form.get("refresh_token"))
        email = self.refresh_tokens.get(refresh)
        if email is None:
            return web.json_response(
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
                status=400,
            )
        scope = self.scopes[refresh]  # a refresh answers with what was granted at consent
        return web.json_response(
            {
                "access_token": self._access_token(email, scope),
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": scope,
            }
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        token = str((await request.post()).get("token"))
        if self.revoke_outages > 0:
            self.revoke_outages -= 1
            return web.json_response({"error": "backend_error"}, status=503)
        self.revoked.append(token)
        email = self.refresh_tokens.pop(token, None) or self.access_tokens.pop(token, None)
        if email is None:
            return web.json_response({"error": "invalid_token"}, status=400)
        return web.Response(status=200)

    async def _userinfo(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"sub": "sub-" + email, "email": email, "email_verified": True})

    def _unauthorized(self) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "code": 401,
                    "message": "Invalid Credentials",
                    "errors": [{"reason": "authError"}],
                }
            },
            status=401,
        )

    async def _free_busy(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        body = await request.json()
        start, end = _instant(body["timeMin"]), _instant(body["timeMax"])
        calendars: dict[str, Any] = {}
        for item in body["items"]:
            wanted = email if item["id"] == "primary" else item["id"]
            account = self.accounts.get(wanted)
            domain = wanted.split("@")[-1]
            visible = (
                wanted == email
                or wanted in self.accounts[email].shared
                or (domain == email.split("@")[-1] and domain not in CONSUMER_DOMAINS)
            )
            if account is None or not visible:
                calendars[item["id"]] = {
                    "busy": [],
                    "errors": [{"domain": "global", "reason": "notFound"}],
                }
                continue
            spans = account.busy + [
                (e["start"]["dateTime"], e["end"]["dateTime"])
                for e in account.events.values()
                if e["status"] != "cancelled"
            ]
            calendars[item["id"]] = {
                "busy": [
                    {"start": s, "end": e}
                    for s, e in sorted(spans)
                    if _instant(s) < end and _instant(e) > start
                ]
            }
        return web.json_response(
            {
                "kind": "calendar#freeBusy",
                "timeMin": body["timeMin"],
                "timeMax": body["timeMax"],
                "calendars": calendars,
            }
        )

    async def _insert(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        event = await request.json()
        if not re.fullmatch(r"[a-v0-9]{5,1024}", str(event.get("id", ""))):
            return web.json_response(
                {
                    "error": {
                        "code": 400,
                        "message": "Invalid resource id value.",
                        "errors": [{"reason": "invalid"}],
                    }
                },
                status=400,
            )
        account = self._calendar(request, email, write=True)
        if event["id"] in account.events:
            return web.json_response(
                {
                    "error": {
                        "code": 409,
                        "message": "The requested identifier already exists.",
                        "errors": [{"domain": "global", "reason": "duplicate"}],
                    }
                },
                status=409,
            )
        conference = _conference(event, request.query.get("conferenceDataVersion", "0"))
        if isinstance(conference, web.Response):
            return conference
        stored = {
            **{k: v for k, v in event.items() if k != "conferenceData"},
            **conference,
            "status": "confirmed",
            "htmlLink": f"https://calendar.test/{event['id']}",
        }
        account.events[event["id"]] = stored
        return web.json_response(stored)

    async def _list_events(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        answer: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": email,
            "timeZone": self.accounts[email].timezone,
            "items": list(self.accounts[email].events.values())[
                : int(request.query.get("maxResults", "250"))
            ],
        }
        fields = request.query.get("fields")
        if fields:  # a partial response: only the named top-level fields
            answer = {k: v for k, v in answer.items() if k in fields.split(",")}
        return web.json_response(answer)

    async def _get_event(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        event = self._calendar(request, email).events.get(request.match_info["event"])
        if event is None:
            return web.json_response(
                {
                    "error": {
                        "code": 404,
                        "message": "Not Found",
                        "errors": [{"reason": "notFound"}],
                    }
                },
                status=404,
            )
        return web.json_response(event)

    async def _patch(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        event = self.accounts[email].events.get(request.match_info["event"])
        if event is None:
            return web.json_response(
                {
                    "error": {
                        "code": 404,
                        "message": "Not Found",
                        "errors": [{"reason": "notFound"}],
                    }
                },
                status=404,
            )
        body = await request.json()
        # Like Google: a SEQUENCE lower than the stored one is refused.
        if int(body.get("sequence", event.get("sequence", 0))) < int(event.get("sequence", 0)):
            return web.json_response(
                {"error": {"code": 400, "message": "Invalid sequence value.",
                           "errors": [{"reason": "invalidSequenceValue"}]}},
                status=400,
            )  # fmt: skip
        event.update(body)
        return web.json_response(event)

    async def _delete(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        account = self._calendar(request, email, write=True)
        event = account.events.get(request.match_info["event"])
        if event is None or event["status"] == "cancelled":
            return web.json_response(
                {
                    "error": {
                        "code": 410,
                        "message": "Resource has been deleted",
                        "errors": [{"reason": "deleted"}],
                    }
                },
                status=410,
            )
        event["status"] = "cancelled"
        return web.Response(status=204)

    def _calendar(self, request: web.Request, email: str, *, write: bool = False) -> Account:
        """The calendar a path names, if this account may use it (like Google: 404, or 403
        requiredAccessLevel for writing into a calendar shared read-only)."""
        wanted = request.match_info["cal"]
        if wanted in ("primary", email):
            return self.accounts[email]
        role = self.accounts[email].shared.get(wanted)
        if role is None:
            body = {"error": {"code": 404, "message": "Not Found",
                              "errors": [{"reason": "notFound"}]}}  # fmt: skip
            raise web.HTTPNotFound(text=json.dumps(body), content_type="application/json")
        if write and role not in ("writer", "owner"):
            body = {"error": {"code": 403,
                              "message": "You need to have writer access to this calendar.",
                              "errors": [{"reason": "requiredAccessLevel"}]}}  # fmt: skip
            raise web.HTTPForbidden(text=json.dumps(body), content_type="application/json")
        return self.accounts[wanted]

    async def _calendar_list(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        account = self.accounts[email]
        items = [{"kind": "calendar#calendarListEntry", "id": email, "summary": email,
                  "primary": True, "accessRole": "owner",
                  "timeZone": account.timezone}]  # fmt: skip
        for calendar_id, role in account.shared.items():
            other = self.accounts[calendar_id]
            items.append({"kind": "calendar#calendarListEntry", "id": calendar_id,
                          "summary": other.summary, "accessRole": role,
                          "timeZone": other.timezone})  # fmt: skip
        return web.json_response({"kind": "calendar#calendarList", "items": items})

    async def _setting(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        return web.json_response(
            {"kind": "calendar#setting", "id": "timezone", "value": self.accounts[email].timezone}
        )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rate_limited(status: int = 403, *, details: bool = False) -> dict[str, Any]:
    """Google's rate-limit answer; with `details`, also the ErrorInfo that 403s carry today."""
    body: dict[str, Any] = {
        "error": {
            "code": status,
            "message": "Rate Limit Exceeded",
            "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded"}],
        }
    }
    if details:
        body["error"]["status"] = "PERMISSION_DENIED"
        body["error"]["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {"service": "calendar-json.googleapis.com"},
            }
        ]
    return body


def insufficient_scope(method_id: str) -> dict[str, Any]:
    """The real body of a 403 for a token without the method's scope (Analog#296, 2025)."""
    return {
        "error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [
                {
                    "message": "Insufficient Permission",
                    "domain": "global",
                    "reason": "insufficientPermissions",
                }
            ],
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "domain": "googleapis.com",
                    "metadata": {"service": "calendar-json.googleapis.com", "method": method_id},
                }
            ],
        }
    }


def json_body(text: str) -> dict[str, Any]:
    return dict(json.loads(text))


MEET_TYPES = {"hangoutsMeet", "eventHangout", "eventNamedHangout"}


def _conference(event: dict[str, Any], version: str) -> dict[str, Any] | web.Response:
    """Like Google: conferenceData counts only with conferenceDataVersion=1 (else it is
    dropped); a createRequest needs a requestId and a known solution, and the answer carries
    `hangoutLink` and the video entry point."""
    request = (event.get("conferenceData") or {}).get("createRequest")
    if version != "1" or request is None:
        return {}
    kind = (request.get("conferenceSolutionKey") or {}).get("type")
    if not request.get("requestId") or kind not in MEET_TYPES:
        return web.json_response(
            {"error": {"code": 400, "message": "Invalid conference type value.",
                       "errors": [{"reason": "invalid"}]}},
            status=400,
        )  # fmt: skip
    code = hashlib.sha256(request["requestId"].encode()).hexdigest()
    letters = code.translate(str.maketrans("0123456789", "ghijklmnop"))  # Meet codes are letters
    meeting = f"{letters[:3]}-{letters[3:7]}-{letters[7:10]}"
    uri = f"https://meet.google.com/{meeting}"
    return {
        "hangoutLink": uri,
        "conferenceData": {
            "createRequest": {**request, "status": {"statusCode": "success"}},
            "entryPoints": [
                {"entryPointType": "video", "uri": uri, "label": uri.removeprefix("https://")}
            ],
            "conferenceSolution": {"key": {"type": kind}, "name": "Google Meet"},
            "conferenceId": meeting,
        },
    }
