"""GET /busy/{share_id}.ics: a share's busy time for the scheduler bubble's `icsFileUrl`.

The Android v5 kit reads this file before it lets anyone pick a slot (without it the bubble
spins forever) and the web kit fetches it from the browser, so it is public behind a signed,
expiring link and answers CORS for the configured client origins. It holds busy blocks only:
VEVENTs without titles, descriptions or attendees, in the one form the Android parser reads
(DTSTART/DTEND as yyyyMMdd'T'HHmmss'Z'), with X-WR-TIMEZONE naming the sharer's zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web

from bot.calendars.provider import Interval
from bot.core import urls
from bot.core.links import LinkError
from bot.core.runtime import RUNTIME
from bot.errors import UserError
from bot.web import booking_page

routes = web.RouteTableDef()


def stamp(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def busy_calendar(share_id: str, zone: str, busy: Sequence[Interval], now: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calbot//busy time//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-TIMEZONE:{zone}",
    ]
    for number, (start, end) in enumerate(busy):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{share_id}-{number}@calbot",
            f"DTSTAMP:{stamp(now)}",
            f"DTSTART:{stamp(start)}",
            f"DTEND:{stamp(end)}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


@routes.get(urls.BUSY_ICS)
async def busy_file(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    origin = request.headers.get("Origin")
    # A plain GET is a "simple" CORS request: the browser only needs the allow-origin answer.
    cors = (
        {"Access-Control-Allow-Origin": origin}
        if origin and runtime.config.cometchat.allows_origin(origin)
        else {}
    )
    headers = {**cors, "Vary": "Origin", "Cache-Control": "private, max-age=60"}
    share_id = request.match_info["share_id"]
    if (refused := booking_page.throttled(request, share_id)) is not None:
        refused.headers.update(headers)
        return refused
    try:
        claims = services.links.verify(request.query.get("t", ""), services.clock.now())
    except LinkError as problem:
        raise web.HTTPForbidden(text=str(problem), headers=headers) from None
    share = await services.store.get_share(share_id)
    if claims.audience != urls.BUSY_AUDIENCE or claims.share_id != share_id or share is None:
        raise web.HTTPNotFound(text="No such availability share.", headers=headers)
    sharer = await services.store.get_user(share.sharer_uid)
    if sharer is None or share.connection_generation != claims.generation:
        raise web.HTTPNotFound(text="That availability share has ended.", headers=headers)
    try:
        busy = await booking_page.share_busy(request, share, sharer)
    except UserError as problem:
        raise web.HTTPServiceUnavailable(text=problem.text, headers=headers) from None
    body = busy_calendar(share_id, sharer.timezone, busy, services.clock.now())
    return web.Response(
        body=body.encode("utf-8"),
        headers={
            **headers,
            "Content-Type": "text/calendar; charset=utf-8",
            "X-Content-Type-Options": "nosniff",
        },
    )
