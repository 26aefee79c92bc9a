"""A local server that speaks Google's OAuth and Calendar v3 HTTP, for the real client code.

Accounts have a calendar (busy times, events, a zone). Free/busy of another account's calendar
is visible to tokens of the same e-mail domain, like a Workspace domain. `fail(path, ...)` queues
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

from tests.faults import stall_or_drop


@dataclass
class Account:
    email: str
    timezone: str = "Europe/Berlin"
    busy: list[tuple[str, str]] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)


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
        self.codes: dict[str, dict[str, str]] = {}
        self.revoked: list[str] = []
        self.calls: list[tuple[str, str]] = []
        self.script: dict[str, list[Scripted]] = {}
        self.granted_scope = ""
        self.latency = 0.0  # seconds added to every answer, like a round trip to Google

    def add_account(self, email: str, timezone: str = "Europe/Berlin") -> Account:
        self.accounts[email] = Account(email, timezone)
        return self.accounts[email]

    def issue_refresh_token(self, email: str) -> str:
        token = "1//rt-" + secrets.token_hex(8)
        self.refresh_tokens[token] = email
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
        app.router.add_get("/calendar/v3/calendars/{cal}/events/{event}", self._get_event)
        app.router.add_delete("/calendar/v3/calendars/{cal}/events/{event}", self._delete)
        app.router.add_get("/calendar/v3/users/me/settings/{setting}", self._setting)
        return app

    @web.middleware
    async def _log_and_script(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
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
        response: web.StreamResponse = await handler(request)
        return response

    def _owner(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        return self.access_tokens.get(header.removeprefix("Bearer "))

    def _access_token(self, email: str) -> str:
        token = "ya29." + secrets.token_hex(8)
        self.access_tokens[token] = email
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
            return web.json_response(
                {
                    "access_token": self._access_token(grant["email"]),
                    "expires_in": 3599,
                    "token_type": "Bearer",
                    "scope": self.granted_scope or grant["scope"],
                    "refresh_token": self.issue_refresh_token(grant["email"]),
                }
            )
        email = self.refresh_tokens.get(str(form.get("refresh_token")))
        if email is None:
            return web.json_response(
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
                status=400,
            )
        return web.json_response(
            {
                "access_token": self._access_token(email),
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "openid",
            }
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        token = str((await request.post()).get("token"))
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
            if account is None or wanted.split("@")[-1] != email.split("@")[-1]:
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
        account = self.accounts[email]
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
        stored = {
            **event,
            "status": "confirmed",
            "htmlLink": f"https://calendar.test/{event['id']}",
        }
        account.events[event["id"]] = stored
        return web.json_response(stored)

    async def _get_event(self, request: web.Request) -> web.Response:
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
        return web.json_response(event)

    async def _delete(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        event = self.accounts[email].events.get(request.match_info["event"])
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

    async def _setting(self, request: web.Request) -> web.Response:
        email = self._owner(request)
        if email is None:
            return self._unauthorized()
        return web.json_response(
            {"kind": "calendar#setting", "id": "timezone", "value": self.accounts[email].timezone}
        )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rate_limited(status: int = 403) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": "Rate Limit Exceeded",
            "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded"}],
        }
    }


def json_body(text: str) -> dict[str, Any]:
    return dict(json.loads(text))
