"""/reschedule: move a booked meeting to another time; either side may, the rules of /book hold."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.context import Context
from bot.core.routing import Router
from bot.errors import UsageError, UserError
from bot.scheduling import freebusy, reschedule
from bot.scheduling.availability import utc
from bot.scheduling.cards import both_zones
from bot.timeparse import ParsedTime, TimeParseError
from storage.records import Booking, User

router = Router("reschedule")

# A booking code as /bookings shows it: the first hex digits of its id.
CODE = re.compile(r"^[0-9a-f]{4,36}$")


@dataclass(frozen=True, slots=True)
class RescheduleRequest:
    code: str | None
    when: ParsedTime


def parse_reschedule(ctx: Context, args: str) -> RescheduleRequest:
    words = args.split()
    code = None
    if words and CODE.match(words[0].lower()) and not words[0].isdigit():
        code, words = words[0].lower(), words[1:]
    text = " ".join(words).removeprefix("to ").strip()
    if not text:
        raise UsageError("To when? e.g. /reschedule tomorrow 4pm, or /reschedule 3f9a1c fri 10:00.")
    try:
        when = ctx.parse_time(text)
    except TimeParseError as problem:
        raise UsageError(problem.text) from None
    return RescheduleRequest(code, when)


@router.command(
    "/reschedule",
    usage="/reschedule [code] <when> [for <length>]",
    parse=parse_reschedule,
    examples=("/reschedule tomorrow 4pm", "/reschedule 3f9a1c fri 10:00", "/reschedule thu"),
)
async def reschedule_meeting(ctx: Context, request: RescheduleRequest) -> None:
    """Move one of your meetings to another time; the same calendar event moves and both sides
    hear of it."""
    target = await _target(ctx, request.code)
    owner = await ctx.store.get_user(target.owner_uid)
    if owner is None:
        raise UserError("That booking names someone I no longer know; it can't be moved here.")
    start, end = await _slot(ctx, owner, target, request.when)
    moved = await reschedule.move(ctx.services, target, ctx.user, start, end)
    other_uid = moved.booker_uid if ctx.user.uid == moved.owner_uid else moved.owner_uid
    other = await ctx.store.get_user(other_uid)
    group = moved.conversation_type == "group"
    zone = ZoneInfo(other.timezone) if other and not group else ctx.zone
    when = both_zones(moved.start, moved.end, ctx.zone, zone)
    told = "the group" if group or other is None else other.name
    if "(" in when:
        when = when[:-1] + f" for {told})"
    await ctx.reply(f"Moved “{moved.title}” to {when}. I told {told} and sent the new invite.")


async def _target(ctx: Context, code: str | None) -> Booking:
    upcoming = await ctx.store.upcoming_bookings(ctx.user.uid, ctx.clock.now())
    if code:
        upcoming = [b for b in upcoming if b.id.startswith(code)]
        if not upcoming:
            raise UserError(f"No upcoming booking has the code {code}. /bookings lists them.")
    if not upcoming:
        raise UserError("You have no upcoming bookings to move.")
    if len(upcoming) > 1:
        lines = [f"• {b.id[:6]} — “{b.title}”" for b in upcoming]
        raise UserError("Which one? Send /reschedule <code> <when>:\n" + "\n".join(lines))
    return upcoming[0]


async def _slot(
    ctx: Context, owner: User, target: Booking, when: ParsedTime
) -> tuple[datetime, datetime]:
    """As /book: a time is taken as said, a day or part of a day is searched in the owner's
    hours; the meeting keeps its length unless a new one is given."""
    length = when.duration or (target.end - target.start)
    if when.window is None and when.start is not None:
        return when.start, when.end or when.start + length
    if when.window is None:
        raise UsageError("To when? Give a day or a time, e.g. /reschedule tomorrow 4pm.")
    begin, finish = max(utc(when.window[0]), utc(ctx.clock.now())), utc(when.window[1])
    found = await freebusy.first_free(ctx.services, owner, begin, finish, length)
    if found is None:
        minutes = int(length.total_seconds() // 60)
        span = both_zones(begin, finish, ctx.zone, ZoneInfo(owner.timezone))
        searched = f"between {span}" if finish > begin else "then"
        raise UserError(f"{owner.name} has no free {minutes}-min slot {searched}. Try another day.")
    return found
