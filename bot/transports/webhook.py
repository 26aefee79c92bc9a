"""POST /cometchat/webhook: CometChat webhooks, bot callbacks and scheduler interactions.

An event is written to the durable inbox before we answer 200 (CometChat never redelivers
after a 200); when storage cannot take it we answer 503, and CometChat retries (10 s, then 30 s).
"""

from __future__ import annotations

import base64
import dataclasses
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.config import CometChatConfig, previous_webhook_until
from bot.core import urls
from bot.core.messages import Event, IncomingMessage, MembershipChange, SchedulerPick
from bot.core.runtime import RUNTIME, Runtime
from bot.transports.cometchat import (
    MEMBERSHIP_TRIGGERS,
    PayloadError,
    incoming,
    membership_change,
    message_of,
)
from bot.transports.scheduler import read_pick
from storage import is_storage_fault

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_BODY = 64 * 1024
MAX_DEPTH = 32  # CometChat's payloads nest about 6 deep
MAX_ID = 100  # uids, guids and message ids: the store's key columns
MAX_NAME = 200  # display names: longer ones are cut, not refused
RETRY_AFTER = "10"


def _authorized(header: str, settings: CometChatConfig, now: datetime) -> bool:
    """The current Basic credentials, or the previous ones until their rotation window ends."""
    if _matches(header, settings.webhook_username, settings.webhook_password):
        return True
    until = previous_webhook_until(settings)
    username = settings.webhook_previous_username or settings.webhook_username
    return (
        until is not None
        and now < until
        and _matches(header, username, settings.webhook_previous_password)
    )


def _matches(header: str, username: str, password: str) -> bool:
    if not username or not password:
        return False  # an endpoint without credentials configured accepts nothing
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    # aiohttp keeps undecodable header bytes as surrogates; they must compare unequal, not raise.
    return hmac.compare_digest(header.encode(errors="surrogateescape"), expected.encode())


def cleaned(value: Any, depth: int = 0) -> Any:
    """The JSON value without NUL characters (PostgreSQL text cannot hold them); PayloadError
    when it nests deeper than any CometChat payload does."""
    if depth > MAX_DEPTH:
        raise PayloadError(f"body nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {cleaned(k, depth + 1): cleaned(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [cleaned(v, depth + 1) for v in value]
    return value


def _short(what: str, value: str) -> None:
    if len(value) > MAX_ID:
        raise PayloadError(f"{what} is longer than {MAX_ID} characters")


def checked(event: Event) -> Event:
    """The event with its ids within the store's limits (one clear limit each), names cut."""
    if isinstance(event, IncomingMessage):
        _short("message id", event.id)
        _short("sender uid", event.sender.uid)
        _short("receiver", event.conversation.receiver)
        if event.parent_id is not None:
            _short("parent id", event.parent_id)
        sender = dataclasses.replace(event.sender, name=event.sender.name[:MAX_NAME])
        return dataclasses.replace(event, sender=sender)
    if isinstance(event, SchedulerPick):
        _short("interaction id", event.id)
        _short("picker uid", event.picker)
        _short("share id", event.share_id)
        return event
    _short("guid", event.guid)
    for uid in event.uids:
        _short("member uid", uid)
    return event


def event_of(body: dict[str, Any]) -> Event | None:
    """The event a webhook body carries; None for kinds we don't handle; PayloadError -> 400."""
    trigger = body.get("trigger")
    if trigger is not None and not isinstance(trigger, str):
        raise PayloadError("trigger must be a string")
    if trigger in MEMBERSHIP_TRIGGERS:
        change: MembershipChange | None = membership_change(body)
        if change is None:
            raise PayloadError("membership event without group or user")
        return checked(change)
    if trigger == "ui_message_interacted":
        return checked(read_pick(body))
    message = message_of(body)
    inbound = incoming(message) if message is not None else None
    return checked(inbound) if inbound is not None else None


def _stale(message: IncomingMessage, runtime: Runtime, max_age: int) -> bool:
    age = runtime.services.clock.now() - message.sent_at
    return age > timedelta(seconds=max_age)


def _answer(error: str, status: int, **headers: str) -> web.Response:
    return web.json_response({"error": error}, status=status, headers=headers or None)


@routes.post(urls.WEBHOOK)
async def webhook(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    settings = runtime.config.cometchat
    # Credentials first: nothing from an unauthenticated caller is read or parsed.
    if not _authorized(
        request.headers.get("Authorization", ""), settings, runtime.services.clock.now()
    ):
        return _answer("unauthorized", 401, **{"WWW-Authenticate": 'Basic realm="calbot"'})
    if (request.content_length or 0) > MAX_BODY:
        return _answer("body too large", 413)
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return _answer("body too large", 413)
    try:
        body = cleaned(json.loads(raw))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _answer("body must be JSON, nested at most 32 levels", 400)
    if not isinstance(body, dict):
        return _answer("body must be a JSON object", 400)
    try:
        event = event_of(body)
    except PayloadError as problem:
        return _answer(str(problem), 400)
    if event is None:
        return web.json_response({"ok": True})  # receipts, reactions...: nothing to do
    if isinstance(event, IncomingMessage) and _stale(event, runtime, settings.max_message_age):
        # Answered 200 so CometChat does not redeliver it; an old message is not a request.
        log.warning("ignored message %s: sent at %s, older than %d s", event.id,
                    event.sent_at.isoformat(), settings.max_message_age)  # fmt: skip
        runtime.services.metrics.inc("calbot_messages_total", outcome="stale")
        return web.json_response({"ok": True, "ignored": "sent too long ago"})
    try:
        await runtime.accept(event)
    except Exception as problem:
        if not is_storage_fault(problem):
            raise
        log.warning("storage refused an inbound event (%s); answering 503", problem)
        return _answer("temporarily unavailable", 503, **{"Retry-After": RETRY_AFTER})
    return web.json_response({"ok": True})
