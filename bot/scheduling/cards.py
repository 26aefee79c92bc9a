"""The custom chat messages the bot sends on a user's behalf, each with a readable fallback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.calendars.provider import Interval
from bot.core.messages import OutgoingMessage, ReceiverType
from storage.records import Share, User

AVAILABILITY_TYPE = "extension_calendar_availability"
INVITE_TYPE = "extension_calendar_invite"
DAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FALLBACK_SLOTS = 5


@dataclass(frozen=True, slots=True)
class Availability:
    share: Share
    sharer: User
    busy: Sequence[Interval]
    slots: Sequence[Interval]
    slot_minutes: int
    booking_url: str


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def slot_label(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return (
        f"{local_start:%a} {local_start.day} {local_start:%b} {local_start:%H:%M}–{local_end:%H:%M}"
    )


def availability_message(
    card: Availability, receiver: str, receiver_type: ReceiverType, reader_zone: ZoneInfo
) -> OutgoingMessage:
    sharer, share = card.sharer, card.share
    hours = sharer.working_hours
    custom: dict[str, Any] = {
        "version": 1,
        "shareId": share.id,
        "sharer": {"uid": sharer.uid, "name": sharer.name, "timezone": sharer.timezone},
        "window": {"start": iso(share.window_start), "end": iso(share.window_end)},
        "busy": [{"start": iso(s), "end": iso(e)} for s, e in card.busy],
        "workingHours": {
            "timezone": sharer.timezone,
            "days": list(hours.weekdays),
            "start": f"{hours.start_minute // 60:02d}:{hours.start_minute % 60:02d}",
            "end": f"{hours.end_minute // 60:02d}:{hours.end_minute % 60:02d}",
        },
        "slotMinutes": card.slot_minutes,
        "slots": [{"start": iso(s), "end": iso(e)} for s, e in card.slots],
        "bookingUrl": card.booking_url,
        "expiresAt": iso(share.expires_at),
    }
    return OutgoingMessage(
        receiver=receiver,
        receiver_type=receiver_type,
        category="custom",
        type=AVAILABILITY_TYPE,
        data={"text": availability_text(card, reader_zone), "customData": custom},
        on_behalf_of=sharer.uid,
    )


def availability_text(card: Availability, zone: ZoneInfo) -> str:
    start = card.share.window_start.astimezone(zone)
    end = card.share.window_end.astimezone(zone)
    lines = [
        f"{card.sharer.name} shared their free time, {start:%a} {start.day} {start:%b} – "
        f"{end:%a} {end.day} {end:%b}."
    ]
    if card.slots:
        zone_name = card.slots[0][0].astimezone(zone).tzname()
        lines.append(f"Next free {card.slot_minutes}-min slots (your time, {zone_name}):")
        lines += [f"• {slot_label(s, e, zone)}" for s, e in card.slots[:FALLBACK_SLOTS]]
    else:
        lines.append("No free slots in their working hours in that window.")
    lines.append(f"Pick a time: {card.booking_url} (or reply /book <time>)")
    return "\n".join(lines)


def scheduler_message(
    card: Availability, receiver: str, receiver_type: ReceiverType, action_url: str
) -> OutgoingMessage:
    """CometChat's interactive `scheduler` bubble (UI Kit v4), for clients without our template."""
    hours = card.sharer.working_hours
    span = {
        "from": f"{hours.start_minute // 60:02d}{hours.start_minute % 60:02d}",
        "to": f"{hours.end_minute // 60:02d}{hours.end_minute % 60:02d}",
    }
    window_zone = ZoneInfo(card.sharer.timezone)
    interactive = {
        "title": f"Meet {card.sharer.name}",
        "goalCompletionText": "Meeting booked",
        "timezoneCode": card.sharer.timezone,
        "duration": card.slot_minutes,
        "bufferTime": 0,
        "availability": {DAY_KEYS[d - 1]: [span] for d in hours.weekdays},
        "dateRangeStart": f"{card.share.window_start.astimezone(window_zone):%Y-%m-%d}",
        "dateRangeEnd": f"{card.share.window_end.astimezone(window_zone):%Y-%m-%d}",
        "scheduleElement": {
            "elementType": "button",
            "elementId": "book",
            "buttonText": "Schedule",
            "disableAfterInteracted": True,
            "action": {
                "actionType": "apiAction",
                "url": action_url,
                "method": "POST",
                "payload": {"kind": "book", "shareId": card.share.id},
                "dataKey": "CometChatData",
            },
        },
    }
    return OutgoingMessage(
        receiver=receiver,
        receiver_type=receiver_type,
        category="interactive",
        type="scheduler",
        data={
            "text": availability_text(card, window_zone),
            "interactiveData": interactive,
            "interactionGoal": {"type": "anyAction", "elementIds": []},
            "allowSenderInteraction": False,
        },
        on_behalf_of=card.sharer.uid,
    )


@dataclass(frozen=True, slots=True)
class InviteCard:
    booking_id: str
    title: str
    start: datetime
    end: datetime
    organizer: User
    attendee: User
    links: dict[str, str]
    ics_url: str
    ics: str


def invite_message(card: InviteCard, receiver: str, receiver_type: ReceiverType) -> OutgoingMessage:
    owner_zone = ZoneInfo(card.organizer.timezone)
    custom = {
        "version": 1,
        "bookingId": card.booking_id,
        "event": {
            "title": card.title,
            "start": iso(card.start),
            "end": iso(card.end),
            "timezone": card.organizer.timezone,
            "organizer": {"uid": card.organizer.uid, "name": card.organizer.name},
            "attendee": {"uid": card.attendee.uid, "name": card.attendee.name},
        },
        "links": card.links,
        "icsUrl": card.ics_url,
        "ics": card.ics,
    }
    text = "\n".join(
        [
            f"Meeting booked: “{card.title}” — {card.organizer.name} with {card.attendee.name}",
            both_zones(card.start, card.end, owner_zone, ZoneInfo(card.attendee.timezone)),
            f"Add to Google Calendar: {card.links['google']}",
            f"Apple Calendar / .ics: {card.ics_url}",
        ]
    )
    return OutgoingMessage(
        receiver=receiver,
        receiver_type=receiver_type,
        category="custom",
        type=INVITE_TYPE,
        data={"text": text, "customData": custom},
        on_behalf_of=card.organizer.uid,
    )


def both_zones(start: datetime, end: datetime, first: ZoneInfo, second: ZoneInfo) -> str:
    """'Wed 25 Nov 2026, 15:00–15:30 EST (21:00–21:30 CET)': the echo both people can trust."""
    a_start, a_end = start.astimezone(first), end.astimezone(first)
    text = f"{a_start:%a} {a_start.day} {a_start:%b %Y}, {a_start:%H:%M}–{a_end:%H:%M} {a_start:%Z}"
    if second.key != first.key:
        b_start, b_end = start.astimezone(second), end.astimezone(second)
        day = (
            "" if b_start.date() == a_start.date() else f"{b_start:%a} {b_start.day} {b_start:%b}, "
        )
        text += f" ({day}{b_start:%H:%M}–{b_end:%H:%M} {b_start:%Z})"
    return text
