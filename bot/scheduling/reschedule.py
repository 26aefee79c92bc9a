"""Moving a booked meeting: the same calendar event, a re-sent invite, everyone told once.

1. Check the new slot with the rules of a new booking (length, notice, working hours) and
   re-read the owner's calendar, ignoring the meeting's own current time.
2. Move the booking in the database under the owner's lock (another booking can't take the
   slot meanwhile); this bumps its sequence, the .ics SEQUENCE.
3. Update the calendar event in place (idempotent: same id, same times).
4. Mark the sequence as told and queue the re-invite and the notices in one transaction.
A crash between 2 and 4 leaves `invited_sequence < sequence`; `recover` redoes 3 and 4.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.calendars.provider import CalendarError, EventDraft
from bot.core.context import Services
from bot.core.messages import OutgoingMessage, ReceiverType, text_message
from bot.errors import UserError
from bot.scheduling import booking, freebusy, limits, reminders
from bot.scheduling.availability import utc
from bot.scheduling.cards import both_zones, invite_message, move_urls
from storage.records import Booking, User
from storage.store import SlotTaken

log = logging.getLogger(__name__)


async def move(
    services: Services, target: Booking, by: User, start: datetime, end: datetime
) -> Booking:
    """Move `target` to [start, end) on behalf of `by`, or raise a UserError saying why not."""
    owner, booker = await _people(services, target)
    if target.conversation_type == "group" and by.uid != owner.uid:
        raise UserError(
            f"Only {owner.name}, who organised “{target.title}”, can move it. "
            "/cancel declines it for you."
        )
    if (utc(start), utc(end)) == (utc(target.start), utc(target.end)):
        raise UserError("That is already when the meeting is.")
    receiver_type: ReceiverType = "group" if target.conversation_type == "group" else "user"
    slot = booking.Slot(
        owner, booker, start, end, target.title, None,
        target.conversation_id or booker.uid, receiver_type, moving=target.id,
    )  # fmt: skip
    connection = await booking.check_slot(services, slot, services.clock.now())
    free_from, free_to = limits.padded(owner, start, end)  # the owner's buffers stay free too
    busy = await freebusy.busy_for(services, connection, free_from, free_to, owner.name)
    own = (utc(target.start), utc(target.end))
    others = [(utc(s), utc(e)) for s, e in busy if not (own[0] <= utc(s) and utc(e) <= own[1])]
    if any(s < free_to and free_from < e for s, e in others):
        if not any(s < utc(end) and utc(start) < e for s, e in others):
            raise limits.too_close(owner)
        raise booking.SlotGone(owner)
    try:
        moved = await services.store.move_booking(target.id, target.sequence, start, end)
    except SlotTaken:
        raise booking.SlotGone(owner) from None
    if moved is None:
        raise UserError("That booking changed a moment ago; /bookings shows it as it is now.")
    await _settle(services, moved, owner, booker, by, previous=(target.start, target.end))
    return moved


async def recover(services: Services) -> int:
    """Finish moves a crash interrupted after the database changed; returns how many."""
    settled = 0
    for moved in await services.store.unfinished_moves():
        owner, booker = await _people(services, moved)
        try:
            await _settle(services, moved, owner, booker, None, previous=None)
        except UserError:
            log.warning("finishing the move of booking %s failed; will retry", moved.id)
            continue
        settled += 1
    return settled


async def _settle(
    services: Services,
    moved: Booking,
    owner: User,
    booker: User,
    by: User | None,
    previous: tuple[datetime, datetime] | None,
) -> None:
    connection = await services.store.get_connection(owner.uid)
    if connection is not None and moved.event_id:
        invite = booking.invite_for(services, moved, owner, booker)
        draft = EventDraft(
            event_id=moved.event_id,
            title=moved.title,
            start=moved.start,
            end=moved.end,
            timezone=owner.timezone,
            description=invite.description,
            sequence=moved.sequence,
            join_url=moved.join_url,
        )
        try:
            await services.calendar.update_event(connection, moved.event_id, draft)
        except CalendarError as problem:
            if previous is not None:
                # Nobody was told yet: put the meeting back where everyone believes it is.
                await services.store.revert_move(moved.id, moved.sequence, *previous)
            raise freebusy.calendar_problem(problem, owner.name) from problem
    messages = _notices(services, moved, owner, booker, by, previous)
    told = await services.store.finish_move(
        moved.id,
        moved.sequence,
        [(key, message.to_json()) for key, message in messages],
        await reminders.for_booking(services, moved, owner, booker),
        services.clock.now(),
    )
    if told:
        services.outbox.wake()


def _notices(
    services: Services,
    moved: Booking,
    owner: User,
    booker: User,
    by: User | None,
    previous: tuple[datetime, datetime] | None,
) -> list[tuple[str, OutgoingMessage]]:
    key = f"{moved.id}:{moved.sequence}"
    card = replace(
        booking.invite_card(services, moved, owner, booker),
        moved=True,
        moved_from=previous,
        move_urls=move_urls(services.urls, moved),  # the old links died with the old sequence
    )
    who = by.name if by else "Someone"
    if moved.conversation_type == "group" and moved.conversation_id:
        zone = ZoneInfo(by.timezone if by else owner.timezone)
        when = both_zones(moved.start, moved.end, zone, zone)
        notice = text_message(
            moved.conversation_id,
            "group",
            f"{who} moved “{moved.title}” to {when}. The updated invite follows.",
        )
        return [
            (f"moved:{key}", notice),
            (f"invite:{key}", invite_message(card, moved.conversation_id, "group")),
        ]
    told = [u for u in (owner, booker) if by is None or u.uid != by.uid]
    messages: list[tuple[str, OutgoingMessage]] = []
    for person in told:
        other = booker if person.uid == owner.uid else owner
        when = both_zones(
            moved.start, moved.end, ZoneInfo(person.timezone), ZoneInfo(other.timezone)
        )
        text = (
            f"{who} moved “{moved.title}” to {when}."
            if by
            else f"“{moved.title}” with {other.name} is now {when}."
        )
        messages.append((f"moved:{key}:{person.uid}", text_message(person.uid, "user", text)))
    # The booker's copy of the event comes from the invite: they get the new one, SEQUENCE up.
    messages.append((f"invite:{key}", invite_message(card, booker.uid, "user")))
    return messages


async def _people(services: Services, target: Booking) -> tuple[User, User]:
    owner = await services.store.get_user(target.owner_uid)
    booker = await services.store.get_user(target.booker_uid)
    if owner is None or booker is None:
        raise UserError("That booking names someone I no longer know; it can't be moved here.")
    return owner, booker
