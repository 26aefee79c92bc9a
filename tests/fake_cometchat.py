"""A local server that speaks CometChat's REST v3 (the send endpoints) for the real client.

Strict like the real service (../shared/reference/cometchat_clients.md): only the categories
the REST spec's enum allows (message, custom), `data` at most 10 KB, only uids it knows (404
ERR_UID_NOT_FOUND), at most `per_minute` sends a minute per sender (429
ERR_TOO_MANY_REQUESTS with Retry-After, as the rate-limits page describes; 30 unless a test
models an app whose limit CometChat raised), and error bodies shaped like CometChat's,
devMessage included. Tests that
exercise the unverified path of sending `interactive` messages through REST opt in to it with
`accept_categories`.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.faults import stall_or_drop


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    delay: float = 0.0  # stall this long first (a slow service)
    drop: bool = False  # then hang up without an answer (a dropped connection)


# The people (and the bot) that tests/chat.py and the worker tests talk about.
TEST_USERS = ("calbot", "alice", "bob")
CATEGORIES = frozenset({"message", "custom"})  # the REST v3 enum for POST /messages
DATA_LIMIT = 10 * 1024


def error_body(code: str, message: str, dev_message: str) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "devMessage": dev_message,
            "source": "chat-api",
            "code": code,
        }
    }


@dataclass
class FakeCometChat:
    api_key: str = "rest-key"
    users: set[str] = field(default_factory=lambda: set(TEST_USERS))
    accept_categories: frozenset[str] = CATEGORIES
    refused: list[Received] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)
    next_id: int = 1000
    latency: float = 0.0  # seconds added to every answer, like a round trip to CometChat
    listeners: list[Callable[[Received], None]] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # guid -> member uids
    per_minute: int = 30
    clock: Callable[[], float] = time.monotonic
    sends: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> body as sent
    edits: list[Received] = field(default_factory=list)

    def fail(
        self,
        status: int,
        code: str = "",
        *,
        retry_after: str | None = None,
        delay: float = 0.0,
        drop: bool = False,
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        body = error_body(code, code.lower(), f"scripted {status} {code}")
        self.script.append(Scripted(status, body, headers, delay, drop))

    def add_users(self, *uids: str) -> None:
        self.users.update(uid.lower() for uid in uids)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/messages", self._send)
        app.router.add_post("/v3/bots/{uid}/messages", self._send)
        app.router.add_post("/v3/messages/{parent}/thread", self._send)
        app.router.add_put("/v3/messages/{id}", self._update)
        app.router.add_get("/v3/groups/{guid}/members", self._members)
        return app

    def _bad_key(self, request: web.Request) -> web.Response | None:
        if request.headers.get("apikey") == self.api_key:
            return None
        return web.json_response(
            error_body("AUTH_ERR_APIKEY_NOT_FOUND", "The API key you provided is not valid.",
                       "Please verify the apiKey header."),
            status=401,
        )  # fmt: skip

    async def _members(self, request: web.Request) -> web.Response:
        """GET /groups/{guid}/members as REST v3 pages it (perPage at most 100... 1000)."""
        if refused := self._bad_key(request):
            return refused
        guid = request.match_info["guid"]
        if guid not in self.groups:
            return web.json_response(
                error_body("ERR_GUID_NOT_FOUND", f"The group with guid {guid} does not exist.",
                           "Please verify the guid."),
                status=404,
            )  # fmt: skip
        try:
            per_page = int(request.query.get("perPage", "100"))
            page = int(request.query.get("page", "1"))
        except ValueError:
            return web.json_response(
                error_body("ERR_BAD_REQUEST", "Invalid request.", ""), status=400
            )
        if not 1 <= per_page <= 1000 or page < 1:
            return web.json_response(
                error_body("ERR_BAD_REQUEST", "Invalid request.", ""), status=400
            )
        members = self.groups[guid]
        chunk = members[(page - 1) * per_page : page * per_page]
        pages = max(1, -(-len(members) // per_page))
        data = [{"uid": uid, "name": uid.capitalize(), "scope": "participant"} for uid in chunk]
        pagination = {"total": len(members), "count": len(chunk), "per_page": per_page,
                      "current_page": page, "total_pages": pages}  # fmt: skip
        return web.json_response({"data": data, "meta": {"pagination": pagination}})

    async def _send(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        if refused := self._bad_key(request):
            return refused
        if self.script:
            answer = self.script.pop(0)
            await stall_or_drop(request, answer.delay, answer.drop)
            if answer.status:
                return web.json_response(answer.body, status=answer.status, headers=answer.headers)
        body = await request.json()
        received = Received(request.path, dict(request.headers), body)
        sender = request.headers.get("onBehalfOf") or request.match_info.get("uid", "")
        refusal = self._refusal(request, body) or self._over_limit(sender.lower())
        if refusal is not None:
            self.refused.append(received)
            return refusal
        self.received.append(received)
        for listener in self.listeners:
            listener(received)
        self.next_id += 1
        self.messages[str(self.next_id)] = body
        return web.json_response({"data": {**body, "id": str(self.next_id), "sender": sender}})

    async def _update(self, request: web.Request) -> web.Response:
        """PUT /messages/{id} (Update Message): replaces `data` of a message that exists."""
        if refused := self._bad_key(request):
            return refused
        message_id = request.match_info["id"]
        body = await request.json()
        if message_id not in self.messages:
            return web.json_response(
                error_body("ERR_MSG_NOT_FOUND", f"The message {message_id} does not exist.",
                           "Please verify the message id."),
                status=404,
            )  # fmt: skip
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or len(json.dumps(data)) > DATA_LIMIT:
            return web.json_response(
                error_body("ERR_BAD_REQUEST", "Invalid request.", "data must be an object."),
                status=400,
            )
        self.messages[message_id] = {**self.messages[message_id], "data": data}
        self.edits.append(Received(request.path, dict(request.headers), body))
        return web.json_response({"data": {**self.messages[message_id], "id": message_id}})

    def _over_limit(self, sender: str) -> web.Response | None:
        """Counts the send, or answers 429 when `sender` already sent `per_minute` in 60 s."""
        now = self.clock()
        sent = self.sends[sender]
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if len(sent) < self.per_minute:
            sent.append(now)
            return None
        wait = math.ceil(60 - (now - sent[0]))
        return web.json_response(
            error_body(
                "ERR_TOO_MANY_REQUESTS",
                "Too many requests.",
                f"{sender} sent {self.per_minute} messages in the last minute.",
            ),
            status=429,
            headers={"Retry-After": str(wait), "X-Rate-Limit-Reset": str(int(time.time()) + wait)},
        )

    def _refusal(self, request: web.Request, body: Any) -> web.Response | None:
        """What the real service would answer instead of sending, or None to send."""
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return web.json_response(
                error_body("ERR_BAD_REQUEST", "Invalid request.", "data must be an object."),
                status=400,
            )
        if body.get("category") not in self.accept_categories:
            return web.json_response(
                error_body(
                    "ERR_BAD_REQUEST",
                    "Invalid request.",
                    f"The category must be one of {sorted(self.accept_categories)}.",
                ),
                status=400,
            )
        size = len(json.dumps(body["data"]))
        if size > DATA_LIMIT:
            return web.json_response(
                error_body(
                    "ERR_BAD_REQUEST",
                    "Invalid request.",
                    f"The data object is {size} bytes; at most {DATA_LIMIT} are allowed.",
                ),
                status=400,
            )
        uids = [request.headers.get("onBehalfOf"), request.match_info.get("uid")]
        if body.get("receiverType") == "user":
            uids.append(str(body.get("receiver", "")))
        for uid in uids:
            if uid is not None and uid.lower() not in self.users:
                return web.json_response(
                    error_body(
                        "ERR_UID_NOT_FOUND",
                        f"The uid {uid} does not exist.",
                        f"Please create a user with uid {uid} first.",
                    ),
                    status=404,
                )
        return None
