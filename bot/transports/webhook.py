"""POST /cometchat/webhook: CometChat webhooks, bot callbacks and scheduler interactions."""

from __future__ import annotations

import base64
import hmac
import json
import logging

from aiohttp import web

from bot.core import urls
from bot.core.runtime import RUNTIME
from bot.transports.cometchat import (
    MEMBERSHIP_TRIGGERS,
    PayloadError,
    incoming,
    membership_change,
    message_of,
)
from bot.transports.scheduler import read_pick

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_BODY = 64 * 1024


def _authorized(header: str, username: str, password: str) -> bool:
    if not username or not password:
        return False  # an endpoint without credentials configured accepts nothing
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    return hmac.compare_digest(header.encode(), expected.encode())


@routes.post(urls.WEBHOOK)
async def webhook(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    settings = runtime.config.cometchat
    # Credentials first: nothing from an unauthenticated caller is read or parsed.
    if not _authorized(
        request.headers.get("Authorization", ""),
        settings.webhook_username,
        settings.webhook_password,
    ):
        return web.json_response(
            {"error": "unauthorized"},
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="calbot"'},
        )
    if (request.content_length or 0) > MAX_BODY:
        return web.json_response({"error": "body too large"}, status=413)
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return web.json_response({"error": "body too large"}, status=413)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return web.json_response({"error": "body must be JSON"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    trigger = body.get("trigger")
    if trigger is not None and not isinstance(trigger, str):
        return web.json_response({"error": "trigger must be a string"}, status=400)
    if trigger in MEMBERSHIP_TRIGGERS:
        change = membership_change(body)
        if change is None:
            return web.json_response(
                {"error": "membership event without group or user"}, status=400
            )
        runtime.background.spawn(runtime.dispatcher.dispatch(change), "membership")
        return web.json_response({"ok": True})
    if trigger == "ui_message_interacted":
        try:
            pick = read_pick(body)
        except PayloadError as problem:
            return web.json_response({"error": str(problem)}, status=400)
        runtime.background.spawn(runtime.dispatcher.dispatch(pick), "interaction")
        return web.json_response({"ok": True})
    try:
        message = message_of(body)
        inbound = incoming(message) if message is not None else None
    except PayloadError as problem:
        return web.json_response({"error": str(problem)}, status=400)
    if inbound is not None:
        # CometChat wants an answer within 2 s and retries otherwise; the work happens after.
        runtime.background.spawn(runtime.dispatcher.dispatch(inbound), f"message-{inbound.id}")
    return web.json_response({"ok": True})
