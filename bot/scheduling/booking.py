"""Booking a slot in someone's calendar without double booking, duplicate events or lost invites.

1. Hold the slot in the database (the store serialises holds per owner: BEGIN IMMEDIATE on
   SQLite, an advisory lock on PostgreSQL), so two bookers can never both win.
2. Re-check the owner's calendar at that moment; the share's snapshot is stale by definition.
3. Create the event with an id derived from the booking id, so a retry finds the same event.
4. Mark the booking confirmed and queue the invite in the same transaction (outbox).
A crash between 1 and 4 leaves a `held` row; `recover` finishes it on the next start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendars.provider import CalendarError, EventDraft
from bot.core.context import Services
from bot.core.inbox import CURRENT_EVENT
from bot.core.messages import ReceiverType, text_message
from bot.core.text import clean_line
from bot.errors import UserError
from bot.scheduling import alternatives, freebusy, limits, reminders, video
from bot.scheduling.availability import merge, utc, working_windows
from bot.scheduling.cards import InviteCard, both_zones, invite_message, move_urls
from bot.scheduling.invites import Invite, ics, links, yahoo_link
from storage.records import Booking, Connection, NewBooking, Share, User
from storage.store import BookerQuota, HeldBefore, QuotaReached, SlotTaken

log = logging.getLogger(__name__)

MIN_LENGTH = timedelta(minutes=5)
MAX_LENGTH = timedelta(hours=8)
STALE_HOLD = timedelta(minutes=2)
# A booker can fill someone's calendar only so fast (spam, or a script gone wrong).
BOOKINGS_PER_DAY = 5
MAX_TITLE = 200


def clean_title(text: str, fallback: str) -> str:
    """A meeting title as shown to other people: one line of visible text, at most 200 chars."""
    return clean_line(text, fallback, MAX_TITLE)


def owner_event_title(template: str, title: str, owner: User, booker: User) -> str:
    """What the owner's calendar calls the event: the booker's (cleaned) title, or the
    operator's template so free text typed by others never reaches it ([calendar] event_title).
    The template was checked when the config was read; names are cleaned where they arrive."""
    if not template:
        return title
    return clean_title(template.format(booker=booker.name, owner=owner.name, title=title), title)


def default_title(owner: User, booker: User) -> str:
    """The one rule for an untitled one-to-one meeting, whichever path booked it (/book, the
    page, a scheduler pick): both names, booker first, so it reads right in both calendars."""
    return f"{booker.name} / {owner.name}"


class SlotGone(UserError):
    def __init__(self, owner: User) -> None:
        super().__init__(f"That slot was just taken. Pick another time in {owner.name}'s calendar.")


@dataclass(frozen=True, slots=True)
class Slot:
    owner: User
    booker: User
    start: datetime
    end: datetime
    title: str
    share: Share | None
    receiver: str  # where the invite goes: the booker (one-to-one) or the group
    receiver_type: ReceiverType
    attendee_emails: tuple[str, ...] = ()  # invited by the calendar provider (group meetings)
    # The owner herself said yes to this time outside her working hours (a /find compromise
    # she voted for). Only polls set it; /book and shares always keep to working hours.
    owner_consented_outside_hours: bool = False
    moving: str = ""  # the booking being moved here (it does not count against the day's cap)

    @classmethod
    def for_share(
        cls, share: Share, owner: User, booker: User, start: datetime, end: datetime, title: str
    ) -> Slot:
        """A booking through a share: the invite goes where the share was posted (the group),
        or privately to the booker for a one-to-one share."""
        if share.conversation_type == "group":
            return cls(owner, booker, start, end, title, share, share.conversation_id, "group")
        return cls(owner, booker, start, end, title, share, booker.uid, "user")


async def book(services: Services, slot: Slot) -> Booking:
    """Book `slot` or raise a UserError saying why not."""
    now = services.clock.now()
    connection = await _checked(services, slot, now)
    event = CURRENT_EVENT.get()
    try:
        held = await services.store.hold_booking(
            NewBooking(
                slot.owner.uid,
                slot.booker.uid,
                slot.start,
                slot.end,
                clean_title(slot.title, default_title(slot.owner, slot.booker)),
                slot.share.id if slot.share else None,
                slot.receiver_type,
                slot.receiver,
                video.room_for(services, connection),
            ),
            now,
            # The quota protects an owner from other people's bookings, not from her own.
            None
            if slot.owner.uid == slot.booker.uid
            else BookerQuota(now - timedelta(days=1), BOOKINGS_PER_DAY),
            # One booking per owner per inbound event (a /vote may book for one organizer).
            None if event is None else f"{event}|{slot.owner.uid}",
        )
    except HeldBefore as before:
        return await _resume(services, before.conflict, connection, slot)
    except SlotTaken:
        raise SlotGone(slot.owner) from None
    except QuotaReached:
        raise UserError(
            f"You have booked {BOOKINGS_PER_DAY} meetings with {slot.owner.name} in the last "
            "24 hours, which is the most I allow. Cancel one with /cancel, or ask "
            f"{slot.owner.name} to add more time themselves."
        ) from None
    # The owner's buffers widen the span that must be free.
    free_from, free_to = limits.padded(slot.owner, slot.start, slot.end)
    try:
        busy = await freebusy.busy_for(services, connection, free_from, free_to, slot.owner.name)
    except UserError:
        await services.store.transition_booking(held.id, "held", "failed")
        raise
    if any(utc(s) < free_to and free_from < utc(e) for s, e in busy):
        await services.store.transition_booking(held.id, "held", "rejected")
        if not any(utc(s) < utc(slot.end) and utc(slot.start) < utc(e) for s, e in busy):
            raise limits.too_close(slot.owner)
        raise await alternatives.busy_refusal(
            services, slot.owner, slot.booker, slot.start, slot.end, busy, slot.share
        )
    return await finish(services, held, connection, slot.attendee_emails)


async def _resume(
    services: Services, earlier: Booking, connection: Connection, slot: Slot
) -> Booking:
    """The same event ran before and stopped (crash, lost lease): finish its hold rather than
    refuse the slot as taken by itself. As in `recover`, the calendar is not checked again: the
    earlier run may already have created the event, which would read as busy."""
    if earlier.status == "confirmed":
        return earlier  # booked; only the reply may be missing, and it is keyed by the event
    if earlier.status != "held":
        raise SlotGone(slot.owner)  # the earlier run was refused; so is this one
    log.info("resuming booking %s held by an earlier run of the same event", earlier.id)
    return await finish(services, earlier, connection, slot.attendee_emails)


async def finish(
    services: Services, held: Booking, connection: Connection, attendees: tuple[str, ...] = ()
) -> Booking:
    """Steps 3 and 4; safe to repeat (idempotent event id, compare-and-swap confirm)."""
    owner = await services.store.get_user(held.owner_uid)
    booker = await services.store.get_user(held.booker_uid)
    if owner is None or booker is None:
        raise RuntimeError(f"booking {held.id} names an unknown user")
    draft = EventDraft(
        event_id=event_id(held),
        title=owner_event_title(services.settings.event_title, held.title, owner, booker),
        start=held.start,
        end=held.end,
        timezone=owner.timezone,
        description=f"Booked by {booker.name} in chat.",
        conference=not held.join_url and video.native(services, connection),
        join_url=held.join_url,
        attendee_emails=await _invitees(services, held, connection, booker, attendees),
    )
    try:
        created = await services.calendar.create_event(connection, draft)
    except CalendarError as problem:
        await services.store.transition_booking(held.id, "held", "failed")
        raise freebusy.calendar_problem(problem, owner.name) from problem
    if created.join_url and created.join_url != held.join_url:
        held = replace(held, join_url=created.join_url)  # Meet or Teams made it
    receiver_type: ReceiverType = "group" if held.conversation_type == "group" else "user"
    card = invite_card(services, held, owner, booker)
    message = invite_message(card, held.conversation_id or booker.uid, receiver_type)
    await services.store.confirm_booking(
        held.id,
        created.event_id,
        [(f"invite:{held.id}", message.to_json())],
        services.clock.now(),
        await reminders.for_booking(services, held, owner, booker),
        join_url=held.join_url,
    )
    services.outbox.wake()
    confirmed = await services.store.get_booking(held.id)
    if confirmed is None:
        raise RuntimeError(f"booking {held.id} vanished right after it was confirmed")
    return confirmed


async def _invitees(
    services: Services,
    held: Booking,
    connection: Connection,
    booker: User,
    attendees: tuple[str, ...],
) -> tuple[str, ...]:
    """Who the owner's calendar invites itself, so the meeting shows natively in their
    calendars: a group's connected members, or a one-to-one booker whose connected account is
    an e-mail address. Providers that cannot invite get none (the .ics and links remain)."""
    if connection.provider not in services.calendar.names():
        return ()  # create_event will say the provider is gone; nobody to invite meanwhile
    if not services.calendar.capabilities_of(connection.provider).invites_attendees:
        return ()
    if attendees or held.conversation_type == "group":
        return attendees
    booker_connection = await services.store.get_connection(booker.uid)
    if booker_connection is None or booker_connection.status != "active":
        return ()
    email = services.calendar.account_email(booker_connection)
    return (email,) if email else ()


def event_id(booking: Booking) -> str:
    # Google accepts base32hex ids of 5-1024 characters; a UUID's hex digits fit.
    return booking.id.replace("-", "")


def invite_card(services: Services, booking: Booking, owner: User, booker: User) -> InviteCard:
    if booking.conversation_type == "group" and booker.uid == owner.uid:
        # A group meeting booked by its organizer: the attendee is the group itself.
        booker = User(uid=booking.conversation_id, name="the group", timezone=owner.timezone)
    invite = invite_for(services, booking, owner, booker)
    return InviteCard(
        booking_id=booking.id,
        title=booking.title,
        start=booking.start,
        end=booking.end,
        organizer=owner,
        attendee=booker,
        links=links(invite, booker.timezone),
        ics_url=ics_url(services, booking),
        ics=ics(invite),
        join_url=booking.join_url,
        move_urls=move_urls(services.urls, booking),
        yahoo_by_reader={
            person.uid: yahoo_link(invite, person.timezone) for person in (owner, booker)
        },
    )


def invite_for(
    services: Services, booking: Booking, owner: User, booker: User, *, cancelled: bool = False
) -> Invite:
    if booking.conversation_type == "group":
        # The title of a group meeting names the group and its people.
        description = f"{booking.title}. Organised by {owner.name}, agreed in the group chat."
    else:
        description = f"{owner.name} and {booker.name}, booked in chat."
    return Invite(
        uid=booking.id,
        title=booking.title,
        start=booking.start,
        end=booking.end,
        timezone=owner.timezone,
        description=description,
        created=booking.created_at,
        sequence=booking.sequence + (1 if cancelled else 0),
        cancelled=cancelled,
        location=booking.join_url,
        url=booking.join_url,
    )


def ics_url(services: Services, booking: Booking) -> str:
    return services.urls.ics(booking.id, booking.end)


async def recover(services: Services) -> int:
    """Finish holds a crash left behind; returns how many were settled."""
    now = services.clock.now()
    settled = 0
    for held in await services.store.stale_holds(now - STALE_HOLD):
        connection = await services.store.get_connection(held.owner_uid)
        if connection is None or held.start <= now:
            await services.store.transition_booking(held.id, "held", "expired")
            await services.outbox.post(
                f"expired:{held.id}",
                text_message(
                    held.booker_uid,
                    "user",
                    f"Sorry, your booking “{held.title}” could not be completed. "
                    "Please pick a time again.",
                ),
            )
        else:
            try:
                await finish(services, held, connection)
            except UserError:
                log.warning("recovering booking %s failed; will retry", held.id)
                continue
        settled += 1
    return settled


async def cancel(services: Services, booking: Booking, by: User) -> None:
    owner = await services.store.get_user(booking.owner_uid)
    booker = await services.store.get_user(booking.booker_uid)
    if owner is None or booker is None:
        raise UserError("That booking names someone I no longer know; it can't be cancelled here.")
    connection = await services.store.get_connection(owner.uid)
    if connection is not None and booking.event_id:
        try:
            await services.calendar.delete_event(connection, booking.event_id)
        except CalendarError as problem:
            raise freebusy.calendar_problem(problem, owner.name) from problem
    if booking.conversation_type == "group" and booking.conversation_id:
        # A group meeting belongs to everyone in it: the whole group hears of the cancel.
        when = both_zones(booking.start, booking.end, ZoneInfo("UTC"), ZoneInfo(by.timezone))
        notice = text_message(
            booking.conversation_id,
            "group",
            f"{by.name} cancelled “{booking.title}” ({when}). It is off everyone's calendar; "
            f"updated .ics: {ics_url(services, booking)}",
        )
    else:
        other = booker if by.uid == owner.uid else owner
        when = both_zones(
            booking.start, booking.end, ZoneInfo(other.timezone), ZoneInfo(by.timezone)
        )
        notice = text_message(
            other.uid,
            "user",
            f"{by.name} cancelled “{booking.title}” ({when}). "
            f"Updated .ics: {ics_url(services, booking)}",
        )
    if not await services.store.cancel_booking(
        booking.id, [(f"cancel:{booking.id}", notice.to_json())], services.clock.now()
    ):
        raise UserError("That booking was already cancelled.")
    services.outbox.wake()


async def check_slot(services: Services, slot: Slot, now: datetime) -> Connection:
    """The rules every booking and every move keeps; the owner's active connection."""
    return await _checked(services, slot, now)


async def _checked(services: Services, slot: Slot, now: datetime) -> Connection:
    length = utc(slot.end) - utc(slot.start)
    if length < MIN_LENGTH or length > MAX_LENGTH:
        raise UserError("A meeting can be 5 minutes to 8 hours long.")
    if utc(slot.start) < utc(now):
        raise UserError("That time has already passed. Pick a time in the future.")
    if slot.owner.uid == slot.booker.uid and slot.receiver_type != "group":
        raise UserError("You can't book a meeting with yourself; /share sends your free time.")
    connection = await freebusy.active_connection(services, slot.owner, slot.owner.name)
    if slot.share is not None:
        if slot.share.connection_generation != connection.generation:
            raise UserError(
                f"That share is no longer valid. Ask {slot.owner.name} for a fresh /share."
            )
        if utc(slot.start) < utc(slot.share.window_start) or utc(slot.end) > utc(
            slot.share.window_end
        ):
            raise UserError(f"That time is outside the days {slot.owner.name} shared.")
    windows = working_windows(
        slot.owner.working_hours, ZoneInfo(slot.owner.timezone), slot.start, slot.end
    )
    own_choice = slot.owner_consented_outside_hours and slot.owner.uid == slot.booker.uid
    if not own_choice and merge(windows) != [(utc(slot.start), utc(slot.end))]:
        raise UserError(
            f"That's outside {slot.owner.name}'s working hours. Pick a time on a "
            "working day between their hours (see the shared card)."
        )
    await limits.check(services, slot.owner, slot.start, slot.end, slot.moving)
    return connection
