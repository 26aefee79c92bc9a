"""/share: send your free time, on your behalf, to a person or a group."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.context import Context
from bot.core.mentions import mentioned_uids, strip_mentions
from bot.core.messages import ReceiverType
from bot.core.routing import Router
from bot.errors import UsageError, UserError
from bot.scheduling import freebusy
from bot.scheduling.availability import SlotRules
from bot.scheduling.cards import (
    Availability,
    SchedulerLinks,
    availability_message,
    scheduler_message,
)
from bot.timeparse import TimeParseError
from storage.records import NewShare

router = Router("share")

DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=14)
DAYS = re.compile(r"(\d{1,4})\s*(?:d|days?)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ShareRequest:
    with_uid: str | None
    window: tuple[datetime, datetime] | None  # None: the next 7 days


def parse_share(ctx: Context, args: str) -> ShareRequest:
    uids = mentioned_uids(args)
    if len(uids) > 1:
        raise UsageError("I can share with one person at a time, or with the whole group.")
    rest = strip_mentions(args)
    rest = rest.removeprefix("with ").removeprefix("my availability").strip()
    if not rest:
        return ShareRequest(uids[0] if uids else None, None)
    days = DAYS.fullmatch(rest)
    if days:
        # The usage says [days]: a bare number is that many days from now.
        count = int(days.group(1))
        if not 1 <= count <= MAX_WINDOW.days:
            raise UsageError(
                f"I can share 1 to {MAX_WINDOW.days} days at a time, not {count}. "
                f"Try /share {MAX_WINDOW.days}, or /share next week."
            )
        now = ctx.clock.now()
        return ShareRequest(uids[0] if uids else None, (now, now + timedelta(days=count)))
    try:
        parsed = ctx.parse_time(rest)
    except TimeParseError as problem:
        window_hint = f"{problem.text} (for the window, try 'this week' or 'next 3 days')"
        raise UsageError(window_hint) from None
    if parsed.start is None:
        raise UsageError("Tell me which days to share, e.g. 'this week' or 'next 3 days'.")
    end = parsed.end or parsed.start + timedelta(days=1)
    return ShareRequest(uids[0] if uids else None, (parsed.start, end))


@router.command(
    "/share",
    usage="/share [@person] [days]",
    parse=parse_share,
    examples=("/share @bob", "/share @bob next week", "/share next 3 days  (in a group)"),
)
async def share(ctx: Context, request: ShareRequest) -> None:
    """Share your free time (next 7 days by default) so others can book you."""
    connection = await freebusy.active_connection(ctx.services, ctx.user)
    receiver, receiver_type, audience, reader_uid = await _audience(ctx, request)
    now = ctx.clock.now()
    start, end = request.window or (now, now + DEFAULT_WINDOW)
    start = max(start, now)
    if end - start > MAX_WINDOW:
        raise UserError("I can share at most 14 days at a time. Try 'next week' or 'next 10 days'.")
    if end <= start:
        raise UserError("That window is already over. Try 'this week' or 'next 3 days'.")
    rules = SlotRules()
    free_slots, busy = await freebusy.free_slots(ctx.services, ctx.user, start, end, rules)
    record = await ctx.store.create_share(
        NewShare(
            sharer_uid=ctx.user.uid,
            conversation_type=receiver_type,
            conversation_id=receiver,
            receiver_uids=(reader_uid,) if reader_uid else (),
            window_start=start,
            window_end=end,
            expires_at=end,
            connection_generation=connection.generation,
        ),
        now,
    )
    card = Availability(
        share=record,
        sharer=ctx.user,
        busy=busy,
        slots=free_slots,  # the card lists the first few and counts every day
        slot_minutes=int(rules.length.total_seconds() // 60),
        booking_url=ctx.services.urls.booking_page(record.id, audience, connection.generation, end),
    )
    reader = await ctx.store.get_user(reader_uid) if reader_uid else None
    reader_zone = _zone_of(reader.timezone) if reader else ctx.zone
    await ctx.send(availability_message(card, receiver, receiver_type, reader_zone))
    if ctx.settings.scheduler_message:
        urls, generation = ctx.services.urls, connection.generation
        links = SchedulerLinks(
            action_url=urls.scheduler_click(),
            token=urls.click_token(record.id, audience, generation, record.expires_at),
            ics_url=urls.busy_ics(record.id, generation, record.expires_at),
        )
        await ctx.send(scheduler_message(card, receiver, receiver_type, links))
    who = "the group" if receiver_type == "group" else (reader.name if reader else receiver)
    await ctx.reply(
        f"Shared your free time with {who}: {len(free_slots)} free "
        f"{card.slot_minutes}-min slots between {_day(start, ctx)} and {_day(end, ctx)}."
    )


async def _audience(
    ctx: Context, request: ShareRequest
) -> tuple[str, ReceiverType, str, str | None]:
    """(receiver, receiver type, link audience, uid of the one reader if it is one person)."""
    conversation = ctx.message.conversation
    if request.with_uid is not None:
        if request.with_uid == ctx.user.uid:
            raise UserError("That's you! Mention the person who should book you: /share @bob")
        if request.with_uid == ctx.settings.bot_uid:
            raise UserError("I don't need your free time myself; mention a person: /share @bob")
        known = request.with_uid in ctx.message.mentions or await ctx.store.get_user(
            request.with_uid
        )
        if not known:
            raise UserError(
                f"I don't know @{request.with_uid} yet. Check the name, or ask them to say "
                "hello to me first."
            )
        return request.with_uid, "user", request.with_uid, request.with_uid
    if conversation.kind == "group":
        return conversation.receiver, "group", f"group:{conversation.receiver}", None
    if conversation.receiver != ctx.settings.bot_uid:
        return conversation.receiver, "user", conversation.receiver, conversation.receiver
    raise UsageError("Who should I share with? Mention them, e.g. /share @bob.")


def _zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _day(moment: datetime, ctx: Context) -> str:
    local = moment.astimezone(ctx.zone)
    return f"{local:%a} {local.day} {local:%b}"
