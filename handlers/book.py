"""/book (and "book 30 min with @alice friday afternoon"), /bookings and /cancel."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.context import Context
from bot.core.mentions import mentioned_uids, strip_mentions
from bot.core.messages import SchedulerPick, text_message
from bot.core.routing import Router
from bot.errors import UsageError, UserError
from bot.scheduling import booking, freebusy
from bot.scheduling.availability import utc
from bot.scheduling.cards import both_zones
from bot.timeparse import ParsedTime, TimeParseError
from storage.records import Booking, Share, User

router = Router("book")

DEFAULT_LENGTH = timedelta(minutes=30)
SEARCH_DAYS = timedelta(days=7)
TITLE = re.compile(r"\"([^\"]{1,200})\"|\b(?:about|re:|titled|called)\s+(.{1,200})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BookRequest:
    owner_uid: str | None
    when: ParsedTime
    title: str | None


def parse_book(ctx: Context, args: str) -> BookRequest:
    title = None
    if match := TITLE.search(args):
        title = " ".join((match.group(1) or match.group(2)).split()).strip(" .")
        args = args[: match.start()] + args[match.end() :]
    uids = mentioned_uids(args)
    if len(uids) > 1:
        raise UsageError(
            "I book one person's calendar at a time; mention just one (for a group, use /find)."
        )
    text = strip_mentions(args)
    if not text:
        raise UsageError("When? Tell me a time, e.g. /book tomorrow 3pm for 30 min.")
    try:
        when = ctx.parse_time(text)
    except TimeParseError as problem:
        raise UsageError(problem.text) from None
    return BookRequest(uids[0] if uids else None, when, title or None)


def parse_book_sentence(ctx: Context, text: str) -> BookRequest:
    return parse_book(ctx, re.sub(r"^\s*(?:please\s+)?book\b", "", text, flags=re.IGNORECASE))


# "can we do thursday at 4 with @alice?": a question is a request to book, too.
ASKING = re.compile(
    r"^\s*(?:hey\s+)?(?:can|could|shall)\s+we\s+(?:do|meet|have|book|try)\b\s*(?:on\s+)?",
    re.IGNORECASE,
)


def parse_book_question(ctx: Context, text: str) -> BookRequest:
    rest = ASKING.sub("", text).strip().rstrip("?!. ")
    rest = re.sub(r"\bwith\s+(?=@)", "", rest, flags=re.IGNORECASE)
    return parse_book(ctx, rest)


@router.phrase(ASKING.pattern + r".*@\w", command="/book", parse=parse_book_question)
@router.phrase(r"\bbook\b.*@\w", command="/book", parse=parse_book_sentence)
@router.command(
    "/book",
    usage="/book [@person] <when> [for <length>] [about <title>]",
    parse=parse_book,
    examples=(
        "/book tomorrow 3pm for 30 min",
        "/book @alice fri 14:00-15:00 about roadmap",
        "/book 45 min  (the first free slot)",
        "book 30 min with @alice friday afternoon",
    ),
)
async def book(ctx: Context, request: BookRequest) -> None:
    """Book a meeting in someone's calendar (who shared with you, or @person)."""
    owner, share = await _owner_and_share(ctx, request)
    start, end = await _slot(ctx, owner, share, request.when)
    title = booking.clean_title(request.title or "", booking.default_title(owner, ctx.user))
    await booking.book(
        ctx.services, booking.Slot.for_share(share, owner, ctx.user, start, end, title)
    )
    when = both_zones(start, end, ctx.zone, ZoneInfo(owner.timezone))
    if "(" in when:
        when = when[:-1] + f" for {owner.name})"
    await ctx.reply(f"Booked “{title}” with {owner.name}: {when}. The invite is on its way.")


async def _owner_and_share(ctx: Context, request: BookRequest) -> tuple[User, Share]:
    conversation = ctx.message.conversation
    now = ctx.clock.now()
    if request.owner_uid is not None:
        owner = await ctx.store.get_user(request.owner_uid)
        if owner is None:
            raise UserError(f"I don't know @{request.owner_uid} yet. Check the name.")
        kind, target = _share_place(ctx)
        share = await ctx.store.latest_share(kind, target, now, sharer_uid=owner.uid)
        if share is None:
            # A calendar is only bookable by the people its owner shared it with.
            raise UserError(
                f"{owner.name} hasn't shared their free time with you"
                f"{' in this group' if kind == 'group' else ''} yet. Ask them to "
                f"send /share @{ctx.user.uid}."
            )
        return owner, share
    kind, target = _share_place(ctx)
    sharer = (
        conversation.receiver
        if kind == "user" and conversation.receiver != (ctx.settings.bot_uid)
        else None
    )
    share = await ctx.store.latest_share(kind, target, now, sharer_uid=sharer)
    if share is None or share.sharer_uid == ctx.user.uid:
        raise UsageError(
            "Whose calendar? Mention them (/book @alice tomorrow 3pm), or book "
            "after they /share with you."
        )
    owner = await ctx.store.get_user(share.sharer_uid)
    if owner is None:
        raise UserError("That share's owner is no longer known here; ask for a fresh /share.")
    return owner, share


def _share_place(ctx: Context) -> tuple[str, str]:
    """Where a share meant for this sender was posted: the group, or to the sender."""
    conversation = ctx.message.conversation
    if conversation.kind == "group":
        return "group", conversation.receiver
    return "user", ctx.user.uid


async def _slot(
    ctx: Context, owner: User, share: Share, when: ParsedTime
) -> tuple[datetime, datetime]:
    length = when.duration or DEFAULT_LENGTH
    window = when.window
    if window is None and when.start is not None:
        return when.start, when.end or when.start + length
    now = ctx.clock.now()
    if window is None:  # a length only: the first free slot in the share
        start, end = share.window_start, share.window_end
    else:
        # A whole day or a part of day ("friday afternoon", in the booker's zone) is a window
        # to search inside the owner's working hours, not an instant to insist on.
        start, end = window
    begin, finish = (
        max(utc(start), utc(now), utc(share.window_start)),
        min(utc(end), utc(share.window_end)),
    )
    found = await freebusy.first_free(ctx.services, owner, begin, finish, length)
    if found is None:
        minutes = int(length.total_seconds() // 60)
        searched = (
            f"between {both_zones(begin, finish, ctx.zone, ZoneInfo(owner.timezone))}"
            if finish > begin
            else "in the days they shared"
        )
        raise UserError(
            f"{owner.name} has no free {minutes}-min slot {searched}. "
            "Try another day, or a shorter meeting."
        )
    return found


@dataclass(frozen=True, slots=True)
class CancelRequest:
    code: str | None


def parse_cancel(ctx: Context, args: str) -> CancelRequest:
    return CancelRequest(args.split()[0].lower() if args.strip() else None)


@router.command("/bookings", usage="/bookings", parse=parse_cancel)
async def bookings(ctx: Context, request: CancelRequest) -> None:
    """List your upcoming meetings (booked by you or with you)."""
    upcoming = await ctx.store.upcoming_bookings(ctx.user.uid, ctx.clock.now())
    if not upcoming:
        await ctx.reply("You have no upcoming bookings.")
        return
    await ctx.reply(
        "\n".join(["Your upcoming bookings:"] + [await _line(ctx, b) for b in upcoming])
    )


@router.command(
    "/cancel", usage="/cancel [code]", parse=parse_cancel, examples=("/cancel", "/cancel 3f9a1c")
)
async def cancel(ctx: Context, request: CancelRequest) -> None:
    """Cancel a booking; the event is removed and the other person is told."""
    upcoming = await ctx.store.upcoming_bookings(ctx.user.uid, ctx.clock.now())
    if request.code:
        upcoming = [b for b in upcoming if b.id.startswith(request.code)]
        if not upcoming:
            raise UserError(
                f"No upcoming booking has the code {request.code}. /bookings lists them."
            )
    if not upcoming:
        raise UserError("You have no upcoming bookings to cancel.")
    if len(upcoming) > 1:
        lines = [await _line(ctx, b) for b in upcoming]
        raise UserError("Which one? Send /cancel <code>:\n" + "\n".join(lines))
    [target] = upcoming
    if target.owner_uid != ctx.user.uid and ctx.user.uid in await ctx.store.attendees(target.id):
        # Someone invited to a group meeting declines for themselves, not for everyone.
        await ctx.store.decline_attendance(target.id, ctx.user.uid)
        await ctx.send(
            text_message(
                target.conversation_id,
                "group",
                f"{ctx.user.name} can't make “{target.title}” and has declined; "
                "the meeting stays on for everyone else.",
            )
        )
        await ctx.reply(f"You're no longer attending “{target.title}”. I told the group.")
        return
    await booking.cancel(ctx.services, target, ctx.user)
    told = "the group" if target.conversation_type == "group" else "the other person"
    await ctx.reply(f"Cancelled “{target.title}”. I told {told}.")


async def _line(ctx: Context, item: Booking) -> str:
    if item.conversation_type == "group" and item.owner_uid == item.booker_uid:
        # A group meeting's title already names the group and its people.
        when = both_zones(item.start, item.end, ctx.zone, ctx.zone)
        return f"• {item.id[:6]} — “{item.title}”, {when}"
    other_uid = item.booker_uid if item.owner_uid == ctx.user.uid else item.owner_uid
    other = await ctx.store.get_user(other_uid)
    zone_other = ZoneInfo(other.timezone) if other else ctx.zone
    when = both_zones(item.start, item.end, ctx.zone, zone_other)
    return f"• {item.id[:6]} — “{item.title}” with {other.name if other else other_uid}, {when}"


@router.event(SchedulerPick)
async def picked(ctx: Context, pick: SchedulerPick) -> None:
    """A slot picked in a share's scheduler bubble: book it and tell the picker."""
    share = await ctx.store.get_share(pick.share_id)
    owner = await ctx.store.get_user(share.sharer_uid) if share else None
    if share is None or owner is None:
        raise UserError("That availability share no longer exists; ask for a fresh /share.")
    start, end = pick.start, pick.start + timedelta(minutes=pick.minutes)
    title = booking.default_title(owner, ctx.user)
    booked = await booking.book(
        ctx.services, booking.Slot.for_share(share, owner, ctx.user, start, end, title)
    )
    when = both_zones(booked.start, booked.end, ctx.zone, ZoneInfo(owner.timezone))
    await ctx.reply(f"Booked with {owner.name}: {when}. The invite is on its way.")
