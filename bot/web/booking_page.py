"""The booking page (GET shows, only POST books) and the .ics endpoint."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.core import urls
from bot.core.context import Services
from bot.core.links import LinkClaims, LinkError
from bot.core.messages import text_message
from bot.core.runtime import RUNTIME
from bot.core.throttle import RateLimit
from bot.errors import UserError
from bot.scheduling import booking, freebusy
from bot.scheduling.availability import Person, SlotRules, free_time, slots, utc
from bot.scheduling.busy_cache import BusyCache
from bot.scheduling.cards import both_zones
from bot.scheduling.invites import ics, links
from bot.web import slot_grid
from bot.web.group_codes import bucket, group_code, group_code_ok, member_of
from bot.web.render import PageProblem, render_page
from bot.web.routes import read_form
from storage.records import Share, User

routes = web.RouteTableDef()
# Booking attempts per client address a minute ([web] booking_posts_per_minute).
POST_LIMIT = web.AppKey("booking_post_limit", RateLimit)
# Page and busy-file views a minute, per client address and per share ([web] *_gets_per_minute).
GET_LIMIT = web.AppKey("page_get_limit", RateLimit)
SHARE_GET_LIMIT = web.AppKey("share_get_limit", RateLimit)
BUSY_CACHE = web.AppKey("busy_cache", BusyCache)
FAVICON = Path(__file__).parent / "static" / "favicon.ico"
DURATIONS = (15, 30, 45, 60)


@dataclass(frozen=True, slots=True)
class Opened:
    share: Share
    claims: LinkClaims
    owner: User
    token: str


async def _open(services: Services, share_id: str, token: str) -> Opened:
    try:
        claims = services.links.verify(token, services.clock.now())
    except LinkError as problem:
        raise PageProblem(403, str(problem)) from None
    if claims.share_id != share_id or claims.audience == "ics":
        raise PageProblem(403, "This link is not valid. Ask for a fresh one with /share.")
    share = await services.store.get_share(share_id)
    owner = await services.store.get_user(share.sharer_uid) if share else None
    connection = await services.store.get_connection(share.sharer_uid) if share else None
    if share is None or owner is None:
        raise PageProblem(404, "This share no longer exists. Ask for a fresh one with /share.")
    if connection is None or connection.generation != claims.generation:
        raise PageProblem(
            410,
            f"{owner.name} has disconnected that calendar, so this link no "
            "longer works. Ask them for a fresh /share.",
        )
    return Opened(share, claims, owner, token)


def _csrf(services: Services, nonce: str, share_id: str) -> str:
    return services.links.tag("csrf", f"{nonce}:{share_id}")


async def share_busy(request: web.Request, share: Share, owner: User) -> list[Any]:
    """The share's busy time over its whole window, through the app's short cache."""
    services = request.app[RUNTIME].services
    connection = await freebusy.active_connection(services, owner, owner.name)
    return await request.app[BUSY_CACHE].busy(
        services, connection, utc(share.window_start), utc(share.window_end), owner.name
    )


def throttled(request: web.Request, share_id: str) -> web.Response | None:
    """A friendly 429 page when this address or this share is viewed too often, else None."""
    wait = max(
        request.app[GET_LIMIT].wait_for(request.remote or "unknown"),
        request.app[SHARE_GET_LIMIT].wait_for(share_id),
    )
    if wait <= 0:
        return None
    return _too_often(
        request, wait, "This page was opened very often just now. Wait {} s and reload it."
    )


def _too_often(request: web.Request, wait: float, message: str) -> web.Response:
    """A 429 page whose `message` has a {} for the whole seconds to wait."""
    seconds = max(1, round(wait))
    response = render_page(request, "problem.html", status=429, message=message.format(seconds))
    response.headers["Retry-After"] = str(seconds)
    return response


async def _week(request: web.Request, opened: Opened, zone: ZoneInfo, minutes: int) -> list[Any]:
    services = request.app[RUNTIME].services
    share, owner = opened.share, opened.owner
    now = services.clock.now()
    start, end = max(utc(share.window_start), utc(now)), utc(share.window_end)
    rules = SlotRules(length=timedelta(minutes=minutes), step=timedelta(minutes=30))
    free: list[Any] = []
    busy: list[Any] = []
    if end > start:
        busy = [(s, e) for s, e in await share_busy(request, share, owner) if e > start and s < end]
        person = Person(owner.uid, ZoneInfo(owner.timezone), owner.working_hours, tuple(busy))
        free = slots(free_time(person, start, end, rules), rules, now, ZoneInfo(owner.timezone))
    days: dict[str, list[dict[str, Any]]] = {}
    day = start.astimezone(zone).date()
    while day <= (end - timedelta(microseconds=1)).astimezone(zone).date():
        days[slot_grid.day_label(day)] = []
        day += timedelta(days=1)
    items = [(s, e, False) for s, e in free] + [(s, e, True) for s, e in busy]
    for index, (s, e, is_busy) in enumerate(sorted(items)):
        local, local_end = s.astimezone(zone), e.astimezone(zone)
        label = f"{local:%H:%M}–{local_end:%H:%M}" if is_busy else f"{local:%H:%M}"
        days.setdefault(slot_grid.day_label(local), []).append(
            {"busy": is_busy, "label": label, "value": s.isoformat(), "id": index}
        )
    return slot_grid.grid(days)


async def _page(
    request: web.Request,
    opened: Opened,
    error: str | None = None,
    status: int = 200,
    *,
    booker: str = "",
    code_sent: bool = False,
) -> web.Response:
    services = request.app[RUNTIME].services
    source = request.query if request.method == "GET" else await read_form(request)
    audience_user = await services.store.get_user(opened.claims.audience)
    fallback = audience_user.timezone if audience_user else opened.owner.timezone
    zone = slot_grid.reader_zone(str(source.get("tz") or ""), fallback)
    chosen = str(source.get("d", ""))
    minutes = int(chosen) if chosen in {str(d) for d in DURATIONS} else 30
    days = await _week(request, opened, zone, minutes)
    selected = slot_grid.selected(source.get("slot"), days)
    # A card's slot that is no longer free (booked since the card was sent): say so and
    # offer the nearest free times instead of a page with nothing selected.
    asked = source.get("slot") if request.method == "GET" else None
    nearest = slot_grid.nearest(asked, days) if asked and selected is None else None
    nonce = slot_grid.page_nonce(request)
    window = (
        f"{opened.share.window_start.astimezone(zone):%a %d %b} and "
        f"{opened.share.window_end.astimezone(zone):%a %d %b}"
    )
    response = render_page(
        request,
        "book.html",
        status=status,
        owner=opened.owner,
        share_id=opened.share.id,
        token=opened.token,
        csrf=_csrf(services, nonce, opened.share.id),
        days=days,
        zone=zone.key,
        zones=slot_grid.zone_choices(zone, opened.owner.timezone),
        duration=minutes,
        durations=DURATIONS,
        window=window,
        error=error,
        ask_booker=opened.claims.audience.startswith("group:"),
        booking_as=audience_user if not opened.claims.audience.startswith("group:") else None,
        booker=booker,
        code_sent=code_sent,
        selected=selected,
        nearest=nearest,
        default_title=booking.default_title(opened.owner, audience_user)
        if audience_user and not opened.claims.audience.startswith("group:")
        else f"(your name) / {opened.owner.name}",
    )
    slot_grid.set_csrf_cookie(response, services, nonce)
    return response


@routes.get(urls.BOOKING_PAGE)
async def show(request: web.Request) -> web.Response:
    services = request.app[RUNTIME].services
    if (refused := throttled(request, request.match_info["share_id"])) is not None:
        return refused
    opened = await _open(services, request.match_info["share_id"], request.query.get("t", ""))
    if "booked" in request.query:
        return await _confirmation(request, opened, request.query["booked"])
    return await _page(request, opened)


@routes.post(urls.BOOKING_PAGE)
async def book(request: web.Request) -> web.Response:
    services = request.app[RUNTIME].services
    wait = request.app[POST_LIMIT].wait_for(request.remote or "unknown")
    if wait > 0:
        return _too_often(
            request, wait, "Too many booking attempts from your network. Try again in {} s."
        )
    form = await read_form(request)
    opened = await _open(services, request.match_info["share_id"], str(form.get("t", "")))
    nonce = slot_grid.checked_nonce(request, form, lambda n: _csrf(services, n, opened.share.id))
    if form.get("send_code"):
        return await _send_code(request, opened, nonce, str(form.get("booker", "")))
    try:
        slot = await _slot(services, opened, form, nonce)
        booked = await booking.book(services, slot)
    except UserError as problem:
        return await _page(request, opened, error=problem.text, status=409)
    reader = slot_grid.reader_zone(str(form.get("tz") or ""), slot.booker.timezone)
    # POST-redirect-GET: reloading the confirmation shows it again instead of re-submitting
    # the form (which would call your own booking "just taken").
    query = {"t": opened.token, "booked": booked.id, "tz": reader.key}
    raise web.HTTPSeeOther(request.url.with_query(query).relative())


async def _confirmation(request: web.Request, opened: Opened, booking_id: str) -> web.Response:
    services = request.app[RUNTIME].services
    found = await services.store.get_booking(booking_id)
    booker = await services.store.get_user(found.booker_uid) if found else None
    if found is None or booker is None or found.share_id != opened.share.id:
        raise PageProblem(404, "No booking with that code was made from this link.")
    if found.status == "cancelled":
        raise PageProblem(410, f"“{found.title}” was cancelled. Pick a new time on the link.")
    reader = slot_grid.reader_zone(request.query.get("tz"), booker.timezone)
    invite = booking.invite_for(services, found, opened.owner, booker)
    return render_page(
        request,
        "done.html",
        title=found.title,
        owner=opened.owner,
        when=both_zones(found.start, found.end, reader, ZoneInfo(opened.owner.timezone)),
        links=links(invite, reader.key),
        ics_url=booking.ics_url(services, found),
    )


@routes.get("/favicon.ico")
async def favicon(_request: web.Request) -> web.FileResponse:
    # Browsers ask for it on every page; a 404 each time is noise in logs and dev tools.
    return web.FileResponse(
        FAVICON, headers={"Content-Type": "image/x-icon", "Cache-Control": "max-age=86400"}
    )


async def _slot(services: Services, opened: Opened, form: Any, nonce: str) -> booking.Slot:
    start = slot_grid.instant(form.get("start", ""))
    try:
        minutes = int(str(form.get("d", "30")))
    except ValueError:
        minutes = 0
    if start is None or minutes not in DURATIONS:
        raise UserError("Pick one of the free times first.")
    end = start + timedelta(minutes=minutes)
    audience = opened.claims.audience
    booker_uid = audience
    if audience.startswith("group:"):
        booker_uid = await member_of(services, opened, str(form.get("booker", "")))
        if not group_code_ok(services, nonce, opened, booker_uid, str(form.get("code", ""))):
            raise UserError(
                "That code is not right (or is older than 10 minutes). Press \u201cSend me a "
                "code\u201d and type the code the bot sends you in chat."
            )
    booker = await services.store.get_user(booker_uid) if booker_uid else None
    if booker is None:
        raise UserError("I don't know that chat user id; use the id you chat with.")
    title = booking.clean_title(
        str(form.get("title", "")), booking.default_title(opened.owner, booker)
    )
    return booking.Slot.for_share(opened.share, opened.owner, booker, start, end, title)


@routes.get(urls.ICS)
async def ics_file(request: web.Request) -> web.Response:
    services = request.app[RUNTIME].services
    booking_id = request.match_info["booking_id"]
    try:
        claims = services.links.verify(request.query.get("t", ""), services.clock.now())
    except LinkError as problem:
        raise web.HTTPForbidden(text=str(problem)) from None
    found = await services.store.get_booking(booking_id)
    if claims.audience != "ics" or claims.share_id != booking_id or found is None:
        raise web.HTTPNotFound(text="No such invite.")
    owner = await services.store.get_user(found.owner_uid)
    booker = await services.store.get_user(found.booker_uid)
    if owner is None or booker is None:
        raise web.HTTPNotFound(text="No such invite.")
    invite = booking.invite_for(
        services, found, owner, booker, cancelled=found.status == "cancelled"
    )
    return web.Response(
        body=ics(invite).encode("utf-8"),
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": 'attachment; filename="invite.ics"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _send_code(request: web.Request, opened: Opened, nonce: str, typed: str) -> web.Response:
    services = request.app[RUNTIME].services
    try:
        uid = await member_of(services, opened, typed)
    except UserError as problem:
        return await _page(request, opened, error=problem.text, status=403, booker=typed)
    code = group_code(services, nonce, opened, uid, bucket(services))
    await services.outbox.post(
        f"group-code:{opened.share.id}:{uid}:{secrets.token_hex(8)}",
        text_message(
            uid,
            "user",
            f"Your code to book time with {opened.owner.name}: {code}. Type it on the booking "
            "page within 10 minutes. If you did not ask for it, ignore this message.",
        ),
    )
    return await _page(request, opened, booker=uid, code_sent=True)
