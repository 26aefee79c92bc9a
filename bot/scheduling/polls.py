"""Group polls from /find: where each option stands, the consent rule that books, and leavers.

An option is booked only with consent: every required member has said yes (or if need be).
The organizer proposed the options, so she counts as a yes for those inside her working hours
where her calendar is free; outside her hours only her own yes counts. With `/find ... auto`, a
required member who has not answered counts as a yes when their calendar is free and the
option is inside their working hours. A compromise (outside someone's hours) is never booked
without the yes of each person it is a compromise for. Any required "no" blocks an option.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.context import Services
from bot.errors import UserError
from bot.scheduling import booking, freebusy
from bot.scheduling.availability import utc
from bot.scheduling.group_slots import stretch
from storage.records import Booking, Connection, Poll, User, WorkingHours

log = logging.getLogger(__name__)

ANSWERS = {"yes": "yes", "y": "yes", "maybe": "maybe", "ifneedbe": "maybe", "if-need-be": "maybe",
           "no": "no", "n": "no"}  # fmt: skip


Busy = dict[str, tuple[tuple[datetime, datetime], ...] | None]


@dataclass(frozen=True, slots=True)
class Person:
    uid: str
    name: str
    zone: ZoneInfo
    hours: WorkingHours


@dataclass(frozen=True, slots=True)
class SlotState:
    """One option of a poll as it stands: every member is in exactly one of the first five."""

    index: int
    start: datetime
    end: datetime
    yes: tuple[str, ...]  # voted yes or if need be
    no: tuple[str, ...]  # voted no
    free: tuple[str, ...]  # silent; calendar free (inside or outside hours, see `outside`)
    busy: tuple[str, ...]  # silent; calendar busy
    unknown: tuple[str, ...]  # silent; no calendar to ask
    # uid -> (their local clock, how far outside their hours): it is a compromise for them
    outside: dict[str, tuple[str, str]] = field(default_factory=dict)

    def missing(self, poll: Poll) -> list[str]:
        """Required members whose consent this option still lacks (the consent rule)."""
        lacking = []
        for uid, needed in poll.members.items():
            if not needed or uid in self.yes:
                continue
            silent_ok = uid in self.free and uid not in self.outside
            if uid == poll.organizer_uid and silent_ok:
                continue  # she proposed it, and it is inside her hours
            if poll.auto and silent_ok:
                continue
            lacking.append(uid)
        return lacking

    def blocked(self, poll: Poll) -> bool:
        return any(poll.members.get(uid) for uid in self.no)


@dataclass(frozen=True, slots=True)
class Settled:
    """A poll booked: the option and the booking."""

    state: SlotState
    booking: Booking


async def connections_of(services: Services, uids: list[str]) -> dict[str, Connection]:
    """The active connections of `uids`, in their order (one read for the whole group)."""
    found = await services.store.get_connections(uids)
    return {uid: c for uid, c in found.items() if c.status == "active"}


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


async def people(services: Services, uids: list[str]) -> dict[str, Person]:
    known = await services.store.get_users(uids)
    found = {}
    for uid in uids:
        user = known.get(uid)
        if user is not None:
            found[uid] = Person(uid, user.name, ZoneInfo(user.timezone), user.working_hours)
        else:  # someone we no longer know: shown by uid, held to default hours
            found[uid] = Person(uid, uid, ZoneInfo("UTC"), WorkingHours())
    return found


def states(poll: Poll, busy: Busy, who: dict[str, Person]) -> list[SlotState]:
    result = []
    for index, (s, e) in enumerate(poll.slots):
        sorts: dict[str, list[str]] = {"yes": [], "no": [], "free": [], "busy": [], "unknown": []}
        outside: dict[str, tuple[str, str]] = {}
        # People who share a zone and working hours share how a slot falls outside them.
        stretched: dict[tuple[WorkingHours, ZoneInfo], tuple[str, str] | None] = {}
        begins, ends = utc(s), utc(e)
        for uid in poll.members:
            person = who[uid]
            kind = (person.hours, person.zone)
            if kind not in stretched:
                stretched[kind] = stretch(person.hours, person.zone, s, e)
            if (how := stretched[kind]) is not None:
                outside[uid] = how
            vote = poll.votes.get((index, uid))
            calendar = busy.get(uid)
            if vote in ("yes", "maybe"):
                sorts["yes"].append(uid)
            elif vote == "no":
                sorts["no"].append(uid)
            elif calendar is None:
                sorts["unknown"].append(uid)
            elif any(utc(b) < ends and begins < utc(f) for b, f in calendar):
                sorts["busy"].append(uid)
            else:
                sorts["free"].append(uid)
        result.append(
            SlotState(
                index,
                s,
                e,
                tuple(sorts["yes"]),
                tuple(sorts["no"]),
                tuple(sorts["free"]),
                tuple(sorts["busy"]),
                tuple(sorts["unknown"]),
                outside,
            )
        )
    return result


def outcome(poll: Poll, found: list[SlotState]) -> tuple[str, SlotState | None]:
    """A coarse summary of where the poll stands ("lead:2"), and the leading option. The group
    hears a short message only when this changes, however many votes arrive."""
    open_ = [s for s in found if not s.blocked(poll)]
    if not open_:
        return "blocked", None
    lead = min(open_, key=lambda s: (len(s.missing(poll)), -len(s.yes), s.start))
    return f"lead:{lead.index}", lead


async def settle(services: Services, poll: Poll, found: list[SlotState]) -> Settled | str | None:
    """Book the first option the consent rule allows (`found`: the poll's states). Returns the
    booking, a sentence saying why the agreed option could not be booked, or None when no
    option has consent yet."""
    for state in found:
        if state.blocked(poll) or state.missing(poll):
            continue
        if not await services.store.transition_poll(poll.id, "open", "booking"):
            return None  # another vote is booking it right now
        organizer = await services.store.get_user(poll.organizer_uid)
        if organizer is None:
            await services.store.transition_poll(poll.id, "booking", "open")
            return "I can't book this poll: I no longer know who organised it."
        outside_ok = organizer.uid in state.outside and organizer.uid in state.yes
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
                    owner_consented_outside_hours=outside_ok,
                ),
            )
        except UserError as problem:
            await services.store.transition_poll(poll.id, "booking", "open")
            n = state.index + 1
            return f"Everyone agreed on option {n}, but I couldn't book it: {problem.text}"
        await services.store.transition_poll(poll.id, "booking", "booked", booked.id)
        await services.store.add_attendees(
            booked.id, [uid for uid in poll.members if uid not in state.no]
        )
        return Settled(state, booked)
    return None


async def _emails(services: Services, uids: list[str], organizer: User) -> tuple[str, ...]:
    connections = await services.store.get_connections(uids)
    emails = []
    for uid in uids:
        connection = connections.get(uid)
        email = services.calendar.account_email(connection) if connection else None
        if uid != organizer.uid and email:
            emails.append(email)
    return tuple(emails)
