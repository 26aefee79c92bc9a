"""/find and /vote: times that suit a whole group, voted on and booked in the chat."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.context import Context
from bot.core.mentions import mentioned_uids, strip_mentions
from bot.core.messages import MembershipChange, OutgoingMessage
from bot.core.routing import Router
from bot.errors import NotConnected, UsageError, UserError
from bot.scheduling import polls as groups
from bot.scheduling.group_slots import Member, candidates, shortlist
from bot.timeparse import TimeParseError

router = Router("find")

DEFAULT_LENGTH = timedelta(minutes=30)
DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=14)
MAX_MEMBERS = 100
POLL_TYPE = "extension_calendar_poll"


@dataclass(frozen=True, slots=True)
class FindRequest:
    length: timedelta
    required: tuple[str, ...]
    optional: tuple[str, ...]
    window: tuple[datetime, datetime] | None


def parse_find(ctx: Context, args: str) -> FindRequest:
    marker = re.search(r"\b(?:optional|opt)\b", args, re.IGNORECASE)
    head, tail = (args[: marker.start()], args[marker.end() :]) if marker else (args, "")
    required, optional = mentioned_uids(head), mentioned_uids(tail)
    text = re.sub(r"\bwith\b", " ", strip_mentions(f"{head} {tail}"), flags=re.I).strip()
    length, window = DEFAULT_LENGTH, None
    if text:
        try:
            parsed = ctx.parse_time(text)
        except TimeParseError as problem:
            raise UsageError(problem.text) from None
        length = parsed.duration or DEFAULT_LENGTH
        if parsed.start is not None:
            window = (parsed.start, parsed.end or parsed.start + timedelta(days=1))
    if not timedelta(minutes=5) <= length <= timedelta(hours=8):
        raise UsageError("A meeting can be 5 minutes to 8 hours long.")
    return FindRequest(
        length, tuple(required), tuple(u for u in optional if u not in required), window
    )


@router.command(
    "/find",
    usage="/find [length] [with @a @b] [optional @c] [days]",
    parse=parse_find,
    examples=("/find 45m", "/find 1h with @ana @ben this week", "/find 30m optional @kim"),
)
async def find(ctx: Context, request: FindRequest) -> None:
    """Find times that suit everyone in this group, and let the group vote and book."""
    conversation = ctx.message.conversation
    if conversation.kind != "group":
        raise UserError("/find works in a group chat. In a one-to-one chat use /share or /book.")
    guid = conversation.receiver
    required = list(dict.fromkeys([ctx.user.uid, *request.required]))
    if not request.required:
        required += [uid for uid in await ctx.store.group_members(guid) if uid not in required]
    optional = [uid for uid in request.optional if uid not in required]
    everyone = [uid for uid in [*required, *optional] if uid != ctx.settings.bot_uid]
    if len(everyone) < 2:
        raise UsageError(
            "I only know you in this group so far. Mention people: /find 45m with @ana @ben"
        )
    if len(everyone) > MAX_MEMBERS:
        raise UserError(f"I can plan for up to {MAX_MEMBERS} people at a time.")
    now = ctx.clock.now()
    start, end = request.window or (now, now + DEFAULT_WINDOW)
    start = max(start, now)
    if end - start > MAX_WINDOW or end <= start:
        raise UserError("Pick a window of up to 14 days ahead, e.g. 'this week' or 'next week'.")
    connections = await groups.connections_of(ctx.services, everyone)
    if ctx.user.uid not in connections:
        raise NotConnected()  # the meeting goes into the organizer's calendar
    busy = await groups.busy_of(ctx.services, connections, start, end)
    members = []
    for uid in everyone:
        user = await ctx.store.get_user(uid)
        if user is None:
            raise UserError(f"I don't know @{uid} yet; they need to say something in the chat.")
        members.append(
            Member(
                uid,
                user.name,
                ZoneInfo(user.timezone),
                user.working_hours,
                uid in required,
                busy.get(uid),
            )
        )
    picked, fits = shortlist(candidates(members, start, end, request.length, now), members)
    if not picked:
        raise UserError(
            "There is no time in that window; try a longer window or a shorter meeting."
        )
    title = f"{ctx.user.name}'s meeting"
    poll = await ctx.store.create_poll(
        guid,
        ctx.user.uid,
        title,
        [(c.start, c.end) for c in picked],
        {m.uid: m.required for m in members},
        now,
    )
    lines = await groups.tally_lines(ctx.services, poll, busy, ctx.zone)
    intro = (
        f"Best times for {len(members)} people ({int(request.length.total_seconds() // 60)}"
        " min), in your zone:"
        if fits
        else "No time suits every required calendar. Nearest compromises (who can't make it):"
    )
    unknown = [m.name for m in members if m.busy is None]
    outro = (
        "Vote with /vote <option> yes|maybe|no; I book as soon as every required person "
        "is free or has said yes."
    )
    if unknown:
        outro = f"{', '.join(unknown)}: no calendar connected — please vote. " + outro
    text = "\n".join([intro, *lines, outro])
    await ctx.send(
        OutgoingMessage(
            guid,
            "group",
            POLL_TYPE,
            {
                "text": text,
                "customData": {
                    "version": 1,
                    "pollId": poll.id,
                    "lengthMinutes": int(request.length.total_seconds() // 60),
                    "slots": [
                        {"start": s.isoformat(), "end": e.isoformat()} for s, e in poll.slots
                    ],
                    "members": {uid: {"required": needed} for uid, needed in poll.members.items()},
                },
            },
            category="custom",
        )
    )
    note = await groups.settle(ctx.services, poll, busy)
    if note:
        await ctx.reply(note)


@dataclass(frozen=True, slots=True)
class VoteRequest:
    option: int
    answer: str


def parse_vote(ctx: Context, args: str) -> VoteRequest:
    words = args.lower().replace("if need be", "ifneedbe").split()
    if len(words) != 2 or not words[0].isdigit() or words[1] not in groups.ANSWERS:
        raise UsageError("Vote like this: /vote 2 yes (or maybe, or no).")
    return VoteRequest(int(words[0]), groups.ANSWERS[words[1]])


@router.command(
    "/vote",
    usage="/vote <option> yes|maybe|no",
    parse=parse_vote,
    examples=("/vote 1 yes", "/vote 2 maybe", "/vote 3 no"),
)
async def vote(ctx: Context, request: VoteRequest) -> None:
    """Vote on the times /find proposed in this group."""
    conversation = ctx.message.conversation
    polls = (
        await ctx.store.open_polls(conversation.receiver) if conversation.kind == "group" else []
    )
    if not polls:
        raise UserError("There is no open /find poll in this chat to vote on.")
    poll = polls[-1]
    if ctx.user.uid not in poll.members:
        raise UserError("You're not among the people this poll is for.")
    if not 1 <= request.option <= len(poll.slots):
        raise UsageError(f"Pick an option from 1 to {len(poll.slots)}.")
    await ctx.store.cast_vote(poll.id, request.option - 1, ctx.user.uid, request.answer)
    refreshed = await ctx.store.get_poll(poll.id)
    if refreshed is None:
        raise UserError("That poll was just closed.")
    busy = await groups.poll_busy(ctx.services, refreshed)
    note = await groups.settle(ctx.services, refreshed, busy)
    if note:
        await ctx.reply(note)
        return
    lines = await groups.tally_lines(ctx.services, refreshed, busy, ctx.zone)
    await ctx.reply("\n".join([f"Thanks, {ctx.user.name}. Now:", *lines]))


@router.event(MembershipChange)
async def membership(ctx: Context, change: MembershipChange) -> None:
    """People joined or left a group: /find plans with the members it knows."""
    for uid in change.uids:
        if change.joined:
            await ctx.store.add_group_member(change.guid, uid)
        else:
            await groups.member_left(ctx.services, change.guid, uid)
