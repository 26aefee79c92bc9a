"""Group polls from /find: tallies, the booking rule, and members who leave.

A slot is booked as soon as every required member is free in their calendar or has voted
yes / if need be, and no required member has said no. The earliest such slot wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.context import Services
from bot.core.messages import text_message
from bot.errors import UserError
from bot.scheduling import booking, freebusy
from bot.scheduling.availability import utc
from bot.scheduling.cards import slot_label
from storage.records import Connection, Poll, User

log = logging.getLogger(__name__)

ANSWERS = {"yes": "yes", "y": "yes", "maybe": "maybe", "ifneedbe": "maybe", "if-need-be": "maybe",
           "no": "no", "n": "no"}  # fmt: skip


Busy = dict[str, tuple[tuple[datetime, datetime], ...] | None]


@dataclass(frozen=True, slots=True)
class SlotState:
    index: int
    start: datetime
    end: datetime
    free: tuple[str, ...]  # calendar free, or voted yes / if need be
    unknown: tuple[str, ...]  # no calendar and no vote yet
    against: tuple[str, ...]  # busy without a yes, or voted no

    def bookable(self, required: set[str]) -> bool:
        return not any(uid in required for uid in (*self.unknown, *self.against))


async def connections_of(services: Services, uids: list[str]) -> dict[str, Connection]:
    found: dict[str, Connection] = {}
    for uid in uids:
        connection = await services.store.get_connection(uid)
        if connection is not None and connection.status == "active":
            found[uid] = connection
    return found


async def busy_of(
    services: Services, connections: dict[str, Connection], start: datetime, end: datetime
) -> Busy:
    """One batched free/busy call per provider; None where the calendar can't say."""
    return await freebusy.group_busy(services, connections, start, end)


async def poll_busy(services: Services, poll: Poll) -> Busy:
    """Everyone's busy time over the poll's slots, in one batched provider call."""
    connections = await connections_of(services, list(poll.members))
    start, end = min(s for s, _ in poll.slots), max(e for _, e in poll.slots)
    return await busy_of(services, connections, start, end)


def states(poll: Poll, busy: Busy) -> list[SlotState]:
    members = list(poll.members)
    result = []
    for index, (s, e) in enumerate(poll.slots):
        free, unknown, against = [], [], []
        for uid in members:
            vote = poll.votes.get((index, uid))
            calendar = busy.get(uid)
            conflict = calendar is not None and any(
                utc(b) < utc(e) and utc(s) < utc(f) for b, f in calendar
            )
            if vote == "no":
                against.append(uid)
            elif vote in ("yes", "maybe") or (calendar is not None and not conflict):
                free.append(uid)
            elif calendar is None:
                unknown.append(uid)
            else:
                against.append(uid)
        result.append(SlotState(index, s, e, tuple(free), tuple(unknown), tuple(against)))
    return result


async def names(services: Services, uids: tuple[str, ...] | list[str]) -> list[str]:
    found = []
    for uid in uids:
        user = await services.store.get_user(uid)
        found.append(user.name if user else uid)
    return found


async def tally_lines(services: Services, poll: Poll, busy: Busy, zone: ZoneInfo) -> list[str]:
    lines = []
    for state in states(poll, busy):
        parts = [f"{len(state.free)}/{len(poll.members)} free"]
        if state.unknown:
            parts.append(", ".join(await names(services, state.unknown)) + " unknown")
        if state.against:
            parts.append(", ".join(await names(services, state.against)) + " can't")
        lines.append(
            f"{state.index + 1}) {slot_label(state.start, state.end, zone)} "
            f"{state.start.astimezone(zone):%Z} — {' · '.join(parts)}"
        )
    return lines


async def settle(services: Services, poll: Poll, busy: Busy) -> str | None:
    """Book the first slot the rule allows; returns what to tell the group, or None."""
    required = {uid for uid, needed in poll.members.items() if needed}
    for state in states(poll, busy):
        if not state.bookable(required):
            continue
        if not await services.store.transition_poll(poll.id, "open", "booking"):
            return None  # another vote is booking it right now
        organizer = await services.store.get_user(poll.organizer_uid)
        if organizer is None:
            await services.store.transition_poll(poll.id, "booking", "open")
            return "I can't book this poll: I no longer know who organised it."
        try:
            booked = await booking.book(
                services,
                booking.Slot(
                    organizer,
                    organizer,
                    state.start,
                    state.end,
                    poll.title,
                    None,
                    poll.guid,
                    "group",
                    await _emails(services, list(poll.members), organizer),
                ),
            )
        except UserError as problem:
            await services.store.transition_poll(poll.id, "booking", "open")
            return f"I couldn't book option {state.index + 1}: {problem.text}"
        await services.store.transition_poll(poll.id, "booking", "booked", booked.id)
        who = ", ".join(await names(services, state.free))
        return (
            f"Booked option {state.index + 1} for the group in {organizer.name}'s calendar: "
            f"{slot_label(booked.start, booked.end, ZoneInfo(organizer.timezone))} "
            f"{booked.start.astimezone(ZoneInfo(organizer.timezone)):%Z}. Free: {who}. "
            "The invite follows."
        )
    return None


async def _emails(services: Services, uids: list[str], organizer: User) -> tuple[str, ...]:
    emails = []
    for uid in uids:
        connection = await services.store.get_connection(uid)
        email = services.calendar.account_email(connection) if connection else None
        if uid != organizer.uid and email:
            emails.append(email)
    return tuple(emails)


async def member_left(services: Services, guid: str, uid: str) -> None:
    """A member left (or was removed from) the group: forget them, and re-check open polls."""
    await services.store.remove_group_member(guid, uid)
    for poll in await services.store.open_polls(guid):
        if uid not in poll.members or uid == poll.organizer_uid:
            continue
        members = {m: needed for m, needed in poll.members.items() if m != uid}
        await services.store.set_poll_members(poll.id, members)
        refreshed = await services.store.get_poll(poll.id)
        if refreshed is None:
            continue
        [who] = await names(services, [uid])
        note = await settle(services, refreshed, await poll_busy(services, refreshed))
        text = f"{who} left the group; the poll now counts {len(members)} people."
        await services.outbox.post(
            f"left:{poll.id}:{uid}", text_message(guid, "group", f"{text} {note}" if note else text)
        )
