"""The "Move" page of one booking: a signed link for either side shows the owner's free times
(GET never moves anything) and a POST moves the meeting through bot.scheduling.reschedule,
with exactly the rules of /reschedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.core import urls
from bot.core.context import Services
from bot.core.links import LinkError, mover_of
from bot.core.runtime import RUNTIME
from bot.errors import UserError
from bot.scheduling import freebusy, reschedule
from bot.scheduling.availability import Person, SlotRules, free_time, slots, utc
from bot.scheduling.cards import both_zones
from bot.web import slot_grid
from bot.web.booking_page import POST_LIMIT
from bot.web.render import PageProblem, render_page
from bot.web.routes import read_form
from storage.records import Booking, User

routes = web.RouteTableDef()
# How far ahead the page offers times: the longest window a share can have.
HORIZON = timedelta(days=14)
ASK_AGAIN = "Send /bookings in the chat and /reschedule from there, or use the newest invite."


@dataclass(frozen=True, slots=True)
class Opened:
    booking: Booking
    owner: User
    other: User  # the side that is not moving it
    mover: User
    token: str


async def _open(services: Services, booking_id: str, token: str) -> Opened:
    try:
        claims = services.links.verify(token, services.clock.now())
    except LinkError as problem:
        if problem.expired:
            raise PageProblem(410, f"This meeting has already begun. {ASK_AGAIN}") from None
        raise PageProblem(403, f"This link is not valid. {ASK_AGAIN}") from None
    uid = mover_of(claims, booking_id)
    found = await services.store.get_booking(booking_id)
    if uid is None or found is None:
        raise PageProblem(403, f"This link is not valid. {ASK_AGAIN}")
    owner = await services.store.get_user(found.owner_uid)
    booker = await services.store.get_user(found.booker_uid)
    mover = await services.store.get_user(uid)
    if owner is None or booker is None or mover is None or uid not in (owner.uid, booker.uid):
        raise PageProblem(403, f"This link is not valid. {ASK_AGAIN}")
    if found.status != "confirmed":
        raise PageProblem(410, f"“{found.title}” was cancelled, so there is nothing to move.")
    if claims.generation != found.sequence:
        raise PageProblem(
            410, f"“{found.title}” was moved after this link was sent. The newest invite has "
            "a link for its current time.",
        )  # fmt: skip
    if utc(found.start) <= utc(services.clock.now()):
        raise PageProblem(410, f"“{found.title}” has already begun. {ASK_AGAIN}")
    other = booker if uid == owner.uid else owner
    return Opened(found, owner, other, mover, token)


def _csrf(services: Services, nonce: str, booking_id: str) -> str:
    return services.links.tag("csrf-move", f"{nonce}:{booking_id}")


async def _days(services: Services, opened: Opened, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The owner's free times for a meeting of this length, day by day in the reader's zone;
    the meeting's own time counts as free (it is the one moving)."""
    owner, target = opened.owner, opened.booking
    now = services.clock.now()
    start, end = utc(now), utc(now) + HORIZON
    connection = await freebusy.active_connection(services, owner, owner.name)
    own = (utc(target.start), utc(target.end))
    busy = [
        (s, e)
        for s, e in await freebusy.busy_for(services, connection, start, end, owner.name)
        if not (own[0] <= utc(s) and utc(e) <= own[1])
    ]
    length = utc(target.end) - utc(target.start)
    buffer = timedelta(minutes=max(owner.limits.before, owner.limits.after))
    rules = SlotRules(length=length, step=timedelta(minutes=30), buffer=buffer)
    person = Person(owner.uid, ZoneInfo(owner.timezone), owner.working_hours, tuple(busy))
    free = slots(free_time(person, start, end, rules), rules, now, ZoneInfo(owner.timezone))
    days: dict[str, list[dict[str, Any]]] = {}
    for index, (s, e) in enumerate(free):
        if (s, e) == own:
            continue  # "already when the meeting is": not a choice
        local, local_end = s.astimezone(zone), e.astimezone(zone)
        days.setdefault(slot_grid.day_label(local), []).append(
            {"label": f"{local:%H:%M}–{local_end:%H:%M}", "value": s.isoformat(), "id": index}
        )
    return slot_grid.grid(days)


async def _page(
    request: web.Request, opened: Opened, error: str | None = None, status: int = 200
) -> web.Response:
    services = request.app[RUNTIME].services
    source = request.query if request.method == "GET" else await read_form(request)
    zone = slot_grid.reader_zone(str(source.get("tz") or ""), opened.mover.timezone)
    nonce = slot_grid.page_nonce(request)
    target = opened.booking
    response = render_page(
        request,
        "move.html",
        status=status,
        title=target.title,
        other=opened.other,
        booking_id=target.id,
        token=opened.token,
        csrf=_csrf(services, nonce, target.id),
        now=both_zones(target.start, target.end, zone, ZoneInfo(opened.other.timezone)),
        days=await _days(services, opened, zone),
        zone=zone.key,
        zones=slot_grid.zone_choices(zone, opened.mover.timezone),
        error=error,
    )
    slot_grid.set_csrf_cookie(response, services, nonce)
    return response


@routes.get(urls.MOVE_PAGE)
async def show(request: web.Request) -> web.Response:
    services = request.app[RUNTIME].services
    booking_id = request.match_info["booking_id"]
    if "moved" in request.query:
        return await _moved(request, booking_id)
    opened = await _open(services, booking_id, request.query.get("t", ""))
    return await _page(request, opened)


@routes.post(urls.MOVE_PAGE)
async def move(request: web.Request) -> web.Response:
    services = request.app[RUNTIME].services
    wait = request.app[POST_LIMIT].wait_for(request.remote or "unknown")
    if wait > 0:
        raise PageProblem(429, f"Too many attempts from your network. Try again in {wait:.0f} s.")
    form = await read_form(request)
    opened = await _open(services, request.match_info["booking_id"], str(form.get("t", "")))
    slot_grid.checked_nonce(request, form, lambda n: _csrf(services, n, opened.booking.id))
    start = slot_grid.instant(form.get("start", ""))
    target = opened.booking
    try:
        if start is None:
            raise UserError("Pick one of the free times first.")
        end = start + (utc(target.end) - utc(target.start))
        moved = await reschedule.move(services, target, opened.mover, start, end)
    except UserError as problem:
        return await _page(request, opened, error=problem.text, status=problem.status)
    # POST-redirect-GET with a link for the new time (the old one died with the old sequence).
    fresh = services.urls.move(moved.id, opened.mover.uid, moved.sequence, moved.start)
    query = {"t": fresh.split("t=", 1)[1], "moved": "1", "tz": str(form.get("tz") or "")}
    raise web.HTTPSeeOther(request.url.with_query(query).relative())


async def _moved(request: web.Request, booking_id: str) -> web.Response:
    """The confirmation after a move; reloading it shows it again and moves nothing."""
    services = request.app[RUNTIME].services
    opened = await _open(services, booking_id, request.query.get("t", ""))
    zone = slot_grid.reader_zone(request.query.get("tz"), opened.mover.timezone)
    target = opened.booking
    return render_page(
        request,
        "move.html",
        moved=True,
        title=target.title,
        other=opened.other,
        booking_id=target.id,
        token=opened.token,
        now=both_zones(target.start, target.end, zone, ZoneInfo(opened.other.timezone)),
    )
