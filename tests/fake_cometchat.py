"""A local server that speaks CometChat's REST v3 (the send endpoints) for the real client."""

from __future__ import annotations

import asyncio
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


@dataclass
class FakeCometChat:
    api_key: str = "rest-key"
    received: list[Received] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)
    next_id: int = 1000
    latency: float = 0.0  # seconds added to every answer, like a round trip to CometChat
    listeners: list[Callable[[Received], None]] = field(default_factory=list)

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
        body = {"error": {"message": code.lower(), "code": code, "source": "chat-api"}}
        self.script.append(Scripted(status, body, headers, delay, drop))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/messages", self._send)
        app.router.add_post("/v3/bots/{uid}/messages", self._send)
        app.router.add_post("/v3/messages/{parent}/thread", self._send)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        if request.headers.get("apikey") != self.api_key:
            return web.json_response(
                {"error": {"code": "AUTH_ERR_APIKEY_NOT_FOUND", "message": "bad key"}}, status=401
            )
        if self.script:
            answer = self.script.pop(0)
            await stall_or_drop(request, answer.delay, answer.drop)
            if answer.status:
                return web.json_response(answer.body, status=answer.status, headers=answer.headers)
        body = await request.json()
        received = Received(request.path, dict(request.headers), body)
        self.received.append(received)
        for listener in self.listeners:
            listener(received)
        self.next_id += 1
        sender = request.headers.get("onBehalfOf") or request.match_info.get("uid", "")
        return web.json_response({"data": {**body, "id": str(self.next_id), "sender": sender}})
