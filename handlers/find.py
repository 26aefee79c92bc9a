"""/find and /vote: times that suit a whole group, voted on and booked in the chat."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.context import Context, Services
from bot.core.mentions import mentioned_uids, strip_mentions
from bot.core.messages import MembershipChange, OutgoingMessage, text_message
from bot.core.routing import Router
from bot.errors import NotConnected, UsageError, UserError
from bot.scheduling import polls as groups
from bot.scheduling.group_slots import Member, candidates, shortlist
from bot.scheduling.poll_card import local_times, poll_card
from bot.timeparse import TimeParseError
from storage.records import Poll

log = logging.getLogger(__name__)
router = Router("find")

DEFAULT_LENGTH = timedelta(minutes=30)
DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=14)
MAX_MEMBERS = 100
MAX_TITLE = 60
TITLE = re.compile(r"\"([^\"]{1,60})\"")


@dataclass(frozen=True, slots=True)
class FindRequest:
    length: timedelta
    required: tuple[str, ...]
    optional: tuple[str, ...]
    window: tuple[datetime, datetime] | None
    auto: bool = False  # silent members who are free may count as a yes
    title: str | None = None


def parse_find(ctx: Context, args: str) -> FindRequest:
    title = None
    if match := TITLE.search(args):
        title = " ".join(match.group(1).split()) or None
        args = args[: match.start()] + args[match.end() :]
    auto = re.search(r"\bauto\b", args, re.IGNORECASE) is not None
    args = re.sub(r"\bauto\b", " ", args, flags=re.IGNORECASE)
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
        length,
        tuple(required),
        tuple(u for u in optional if u not in required),
        window,
        auto,
        title,
    )


@router.command(
    "/find",
    usage='/find [length] [with @a @b] [optional @c] [days] ["title"] [auto]',
    parse=parse_find,
    examples=("/find 45m", "/find 1h with @bob @carol this week", "/find 30m optional @dave auto"),
)
async def find(ctx: Context, request: FindRequest) -> None:
    """Find times that suit everyone in this group, and let the group vote and book."""
    conversation = ctx.message.conversation
    if conversation.kind != "group":
        raise UserError("/find works in a group chat. In a one-to-one chat use /share or /book.")
    guid = conversation.receiver
    known = await _members(ctx, guid)
    required = list(dict.fromkeys([ctx.user.uid, *request.required]))
    if not request.required:
        required += [uid for uid in known if uid not in required]
    optional = [uid for uid in request.optional if uid not in required]
    everyone = [uid for uid in [*required, *optional] if uid != ctx.settings.bot_uid]
    if len(everyone) < 2:
        raise UsageError(await _who_to_mention(ctx, known))
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
    users = await ctx.store.get_users(everyone)
    members = []
    for uid in everyone:
        user = users.get(uid)
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
    found = candidates(members, start, end, request.length, now)
    picked, _ = shortlist(found, members, organizer=ctx.user.uid)
    if not picked:
        raise UserError(
            "There is no time in that window your calendar is free for; try a longer window "
            "or a shorter meeting."
        )
    poll = await ctx.store.create_poll(
        guid,
        ctx.user.uid,
        _title(request.title or f"{guid.replace('-', ' ').title()} meeting", members),
        [(c.start, c.end) for c in picked],
        {m.uid: m.required for m in members},
        now,
        auto=request.auto,
        # Derived from the /find message, so a re-run after a crash finds this poll again.
        poll_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"calbot-poll:{guid}:{ctx.message.id}")),
    )
    # Everyone was just read from the store; a 50-person /find should not read them again.
    who = {m.uid: groups.Person(m.uid, m.name, m.zone, m.hours) for m in members}
    found_states = groups.states(poll, busy, who)
    await ctx.store.set_poll_outcome(poll.id, groups.outcome(poll, found_states)[0])
    await ctx.send(poll_card(poll, found_states, who))
    for message in await progress(ctx.services, poll.id, busy, who, opened=(poll, found_states)):
        await ctx.send(message)


def _title(base: str, members: list[Member]) -> str:
    """'Team meeting - Alice, Bob, Carol, Dave': the group and the people, as the invite says."""
    names = ", ".join(m.name for m in members[:8]) + (" and others" if len(members) > 8 else "")
    return f"{base[:MAX_TITLE]} - {names}"


async def _who_to_mention(ctx: Context, known: list[str]) -> str:
    """Usage help naming people who are really here, never made-up names."""
    others = [uid for uid in known if uid != ctx.user.uid][:2]
    if others:
        return f"Mention who to plan with, e.g. /find 45m with {' '.join('@' + u for u in others)}"
    return (
        "I don't know anyone else in this group yet (people appear once they join or say "
        "something). Mention who to plan with: /find 45m with @name @name"
    )


async def progress(
    services: Services,
    poll_id: str,
    busy: groups.Busy,
    who: dict[str, groups.Person] | None = None,
    *,
    opened: tuple[Poll, list[groups.SlotState]] | None = None,
) -> list[OutgoingMessage]:
    """After the poll changed: book if consent is complete, update the card in place, and at
    most one short message when the outcome changed (booked, a new leading option, blocked).
    `opened`: the poll /find just created and the states its new card shows (their outcome
    recorded), so nothing is read again and nothing said unless an option books at once."""
    poll = opened[0] if opened else await services.store.get_poll(poll_id)
    if poll is None:
        return []
    if who is None:
        who = await groups.people(services, list(poll.members))
    found = opened[1] if opened else groups.states(poll, busy, who)
    settled = await groups.settle(services, poll, found)
    if settled is None and opened is not None:
        return []
    refreshed = poll
    if settled is not None:  # booking moved the poll on: show its new status
        refreshed = await services.store.get_poll(poll_id) or poll
        found = groups.states(refreshed, busy, who)
    if isinstance(settled, groups.Settled):
        n = settled.state.index + 1
        when = local_times(settled.booking.start, list(who.values()))
        card = poll_card(refreshed, found, who, status=f"Booked: option {n}.", edit=True)
        note = (
            f"Booked option {n} for everyone: {when}. It's in {who[poll.organizer_uid].name}'s "
            "calendar and in each attendee's /bookings; the invite follows."
        )
        await services.store.set_poll_outcome(poll.id, "booked")
        return [card, text_message(poll.guid, "group", note)]
    messages = [] if opened is not None else [poll_card(refreshed, found, who, edit=True)]
    if isinstance(settled, str):
        key, note = f"failed:{settled}", settled
    else:
        key, lead = groups.outcome(refreshed, found)
        if lead is None:
            note = "Every option has a no from someone required. Try /find again for new times."
        else:
            waiting = ", ".join(who[uid].name for uid in lead.missing(refreshed))
            note = f"Option {lead.index + 1} leads; waiting for {waiting}."
    if await services.store.set_poll_outcome(poll.id, key):
        messages.append(text_message(poll.guid, "group", note))
    return messages


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
    """Vote on the times /find proposed in this group (tapping the card does the same)."""
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
    for message in await progress(
        ctx.services, poll.id, await groups.poll_busy(ctx.services, poll)
    ):
        await ctx.send(message)


async def member_left(services: Services, guid: str, uid: str) -> None:
    """A member left (or was removed from) the group: forget them, and re-check open polls."""
    await services.store.remove_group_member(guid, uid)
    for poll in await services.store.open_polls(guid):
        if uid not in poll.members or uid == poll.organizer_uid:
            continue
        members = {m: needed for m, needed in poll.members.items() if m != uid}
        await services.store.set_poll_members(poll.id, members)
        [who] = [p.name for p in (await groups.people(services, [uid])).values()]
        await services.outbox.post(
            f"left:{poll.id}:{uid}",
            text_message(
                guid, "group", f"{who} left the group; the poll now counts {len(members)} people."
            ),
        )
        busy = await groups.poll_busy(services, poll)
        for n, message in enumerate(await progress(services, poll.id, busy)):
            await services.outbox.post(f"left:{poll.id}:{uid}:{n}", message)


async def _members(ctx: Context, guid: str) -> list[str]:
    """The group's members: the chat service's list (cached) joined with those we have seen."""
    roster = ctx.services.roster
    if roster is not None:
        try:
            listed = await roster.group_members(guid)
        except Exception:
            # The store's own view (who spoke, membership webhooks) still works without it.
            log.warning("could not list the members of group %s", guid, exc_info=True)
            listed = []
        for uid, name in listed:
            if uid != ctx.settings.bot_uid:
                await ctx.store.ensure_user(uid, name, ctx.settings.default_timezone)
                await ctx.store.add_group_member(guid, uid)
    return [uid for uid in await ctx.store.group_members(guid) if uid != ctx.settings.bot_uid]


@router.event(MembershipChange)
async def membership(ctx: Context, change: MembershipChange) -> None:
    """People joined or left a group: /find plans with the members it knows."""
    for uid in change.uids:
        if change.joined:
            await ctx.store.add_group_member(change.guid, uid)
        else:
            await member_left(ctx.services, change.guid, uid)
