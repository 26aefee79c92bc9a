"""POST /cometchat/scheduler: slot clicks sent by the chat clients themselves.

CometChat's UI kits do not relay a scheduler click through CometChat's servers: the reader's
app POSTs to `scheduleElement.action.url` with only `Content-Type: application/json` and the
action's `headers` (web kit: a browser fetch, so a CORS preflight comes first). Webhook
credentials would be visible to every recipient of the message, so this route has none; the
signed token the bubble carries in `action.payload` is the credential. It names the share and
who it is for (one reader, or a group whose members we check), and it expires with the share.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.config import CometChatConfig
from bot.core import urls
from bot.core.links import LinkError
from bot.core.messages import SchedulerPick
from bot.core.runtime import RUNTIME
from bot.transports.cometchat import PayloadError
from bot.transports.scheduler import read_pick
from bot.transports.webhook import checked, cleaned
from storage import is_storage_fault

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_BODY = 16 * 1024  # a click is well under 2 KB
PREFLIGHT_MAX_AGE = "600"


class Refused(Exception):
    """A click we will not book; the text tells the clicker why (safe to show)."""


def cors_headers(settings: CometChatConfig, origin: str | None) -> dict[str, str]:
    """CORS answer headers for `origin`; none for an origin we don't serve (or no origin)."""
    if origin is None or not settings.allows_origin(origin):
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        # The kit sends Content-Type plus the action's own headers; we put none there.
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        "Vary": "Origin",
    }


@routes.options(urls.SCHEDULER)
async def preflight(request: web.Request) -> web.Response:
    settings = request.app[RUNTIME].config.cometchat
    origin = request.headers.get("Origin")
    headers = cors_headers(settings, origin)
    if "Access-Control-Allow-Origin" not in headers:
        return web.json_response(
            {"error": "This site may not send scheduler clicks to this bot."},
            status=403,
            headers=headers,
        )
    return web.Response(status=204, headers=headers)


@routes.post(urls.SCHEDULER)
async def click(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    origin = request.headers.get("Origin")
    headers = cors_headers(runtime.config.cometchat, origin)

    def answer(body: Mapping[str, Any], status: int) -> web.Response:
        return web.json_response(dict(body), status=status, headers=headers)

    if origin is not None and "Access-Control-Allow-Origin" not in headers:
        # Browsers always name their origin; one we don't serve gets nothing (no form posts
        # from other sites). Apps (Android) send no Origin and rely on the token alone.
        return answer({"error": "This site may not send scheduler clicks to this bot."}, 403)
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return answer({"error": "body too large"}, 413)
    try:
        body = cleaned(json.loads(raw))
        if not isinstance(body, dict):
            raise PayloadError("body must be a JSON object")
        pick = read_pick(body)
        checked(pick)  # ids within the store's limits, as for webhooks
    except (ValueError, UnicodeDecodeError, RecursionError) as problem:
        return answer({"error": f"That is not a scheduler click I can read ({problem})."}, 400)
    try:
        await authorize(request, pick, body.get("payload"))
    except Refused as problem:
        log.info("scheduler click refused: %s", problem)
        return answer({"error": str(problem)}, 403)
    try:
        await runtime.accept(pick)  # the durable inbox, as for webhooks: no click is lost
    except Exception as problem:
        if not is_storage_fault(problem):
            raise
        log.warning("storage refused a scheduler click (%s); answering 503", problem)
        return answer({"error": "Busy right now; please pick the time again in a moment."}, 503)
    return answer({"ok": True, "message": "Booking that time; the answer comes in the chat."}, 200)


async def authorize(request: web.Request, pick: SchedulerPick, payload: object) -> None:
    """Refused unless the payload's token is ours, unexpired, for this share and this clicker."""
    services = request.app[RUNTIME].services
    token = payload.get("token") if isinstance(payload, Mapping) else None
    if not isinstance(token, str) or not token:
        raise Refused("This scheduler message is too old to book from. Ask for a fresh /share.")
    try:
        claims = services.links.verify(token, services.clock.now())
    except LinkError:
        raise Refused(
            "This scheduler message has expired or is not valid. Ask for a fresh /share."
        ) from None
    audience = claims.audience.removeprefix(urls.CLICK_AUDIENCE)
    if claims.share_id != pick.share_id or audience == claims.audience:
        raise Refused("This scheduler message does not belong to that share. Ask for a /share.")
    share = await services.store.get_share(pick.share_id)
    if share is None or share.connection_generation != claims.generation:
        raise Refused("That availability share no longer exists. Ask for a fresh /share.")
    if audience.startswith("group:"):
        guid = audience.removeprefix("group:")
        if pick.picker not in await services.store.group_members(guid):
            raise Refused("Only members of the group this was shared with can book from it.")
    elif pick.picker != audience:
        raise Refused("This availability was shared with someone else, so you can't book it.")
