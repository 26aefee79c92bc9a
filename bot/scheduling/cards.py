"""The custom chat messages the bot sends on a user's behalf, each with a readable fallback."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.calendars.provider import Interval, utc
from bot.core.messages import OutgoingMessage, ReceiverType
from bot.core.urls import Urls
from bot.scheduling.availability import merge
from storage.records import Booking, Share, User

AVAILABILITY_TYPE = "extension_calendar_availability"
INVITE_TYPE = "extension_calendar_invite"
DAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FALLBACK_SLOTS = 5
# CometChat refuses a message whose `data` is over 10 KB (REST constraints table).
DATA_LIMIT = 10 * 1024
SAFETY = 256  # room for the JSON encoder's spacing choices in the transport
MAX_BUSY = 60  # about four blocks a working day over the longest (14-day) share
MAX_SLOTS = 20
MAX_NAME = 80
# One busy entry as json.dumps writes it, with the ", " that joins it to the next.
BUSY_ENTRY = len(', {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}')


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


def busy_entry(start: datetime, end: datetime) -> dict[str, str]:
    """A busy block at whole seconds (start rounded down, end up): every entry is one size."""
    floor = start.replace(microsecond=0)
    ceil = end.replace(microsecond=0) + (timedelta(seconds=1) if end.microsecond else timedelta())
    return {"start": iso(floor), "end": iso(ceil)}


def short_name(name: str) -> str:
    """A display name as cards show it: chat names are user-chosen and can be any length."""
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def fit_busy(busy: Sequence[Interval], limit: int) -> list[Interval]:
    """At most `limit` busy blocks, made by closing the shortest gaps between blocks.

    Closing a gap marks a little free time busy, never busy time free, so a reader of the
    card may miss a short slot (the booking page has the full picture) but is never misled."""
    merged = merge(list(busy))
    if len(merged) <= limit:
        return merged
    if limit <= 0:
        return []
    gaps = sorted(range(len(merged) - 1), key=lambda i: utc(merged[i + 1][0]) - utc(merged[i][1]))
    closed = set(gaps[: len(merged) - limit])  # exactly enough gaps to leave `limit` blocks
    fitted = [merged[0]]
    for i, (start, end) in enumerate(merged[1:]):
        if i in closed:
            fitted[-1] = (fitted[-1][0], end)
        else:
            fitted.append((start, end))
    return fitted


def availability_message(
    card: Availability, receiver: str, receiver_type: ReceiverType, reader_zone: ZoneInfo
) -> OutgoingMessage:
    sharer, share = card.sharer, card.share
    hours = sharer.working_hours
    text = availability_text(card, reader_zone)
    busy = fit_busy(card.busy, MAX_BUSY)
    custom: dict[str, Any] = {
        "version": 1,
        "shareId": share.id,
        "sharer": {"uid": sharer.uid, "name": short_name(sharer.name), "timezone": sharer.timezone},
        "window": {"start": iso(share.window_start), "end": iso(share.window_end)},
        "busy": [],
        # False when blocks were joined to fit CometChat's 10 KB limit: see bookingUrl.
        "busyComplete": len(busy) == len(merge(list(card.busy))),
        "workingHours": {
            "timezone": sharer.timezone,
            "days": list(hours.weekdays),
            "start": f"{hours.start_minute // 60:02d}:{hours.start_minute % 60:02d}",
            "end": f"{hours.end_minute // 60:02d}:{hours.end_minute % 60:02d}",
        },
        "slotMinutes": card.slot_minutes,
        "slots": [{"start": iso(s), "end": iso(e)} for s, e in card.slots[:MAX_SLOTS]],
        # Every day of the window with its count of free slots, so a day past the first
        # MAX_SLOTS never looks fully busy; the full list is on the booking page.
        "days": day_counts(card, ZoneInfo(sharer.timezone)),
        "moreOnPage": len(card.slots) > MAX_SLOTS,
        "computedAt": iso(share.created_at),
        "bookingUrl": card.booking_url,
        "expiresAt": iso(share.expires_at),
    }
    data = {"text": text, "customData": custom}
    # What is left of the 10 KB for busy blocks once everything else is in: each block is a
    # fixed-size entry, so the count that fits is known before anything is sent.
    room = DATA_LIMIT - len(json.dumps(data)) - SAFETY
    limit = max(0, min(len(busy), (room + 2) // BUSY_ENTRY))
    fitted = fit_busy(busy, limit)
    custom["busy"] = [busy_entry(s, e) for s, e in fitted]
    custom["busyComplete"] = custom["busyComplete"] and len(fitted) == len(busy)
    return OutgoingMessage(
        receiver=receiver,
        receiver_type=receiver_type,
        category="custom",
        type=AVAILABILITY_TYPE,
        data=data,
        on_behalf_of=sharer.uid,
    )


def day_counts(card: Availability, zone: ZoneInfo) -> list[dict[str, Any]]:
    """[{"date": "YYYY-MM-DD" in the sharer's zone, "free": slots that day}] for every day."""
    counts: dict[str, int] = {}
    day = card.share.window_start.astimezone(zone).date()
    last = (card.share.window_end - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        counts[day.isoformat()] = 0
        day += timedelta(days=1)
    for start, _ in card.slots:
        key = start.astimezone(zone).date().isoformat()
        counts[key] = counts.get(key, 0) + 1
    return [{"date": key, "free": free} for key, free in counts.items()]


def availability_text(card: Availability, zone: ZoneInfo) -> str:
    start = card.share.window_start.astimezone(zone)
    end = card.share.window_end.astimezone(zone)
    name = short_name(card.sharer.name)
    lines = [
        f"{name} shared their free time, {start:%a} {start.day} {start:%b} – "
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


@dataclass(frozen=True, slots=True)
class SchedulerLinks:
    """What the bubble calls: the click route, the click's token, the busy-time .ics."""

    action_url: str
    token: str
    ics_url: str


def hhmm(minute: int) -> str:
    """A working-hours bound as the kits' HHmm; midnight at the end is 2359 (no "2400")."""
    minute = min(minute, 23 * 60 + 59)
    return f"{minute // 60:02d}{minute % 60:02d}"


def scheduler_message(
    card: Availability, receiver: str, receiver_type: ReceiverType, links: SchedulerLinks
) -> OutgoingMessage:
    """CometChat's interactive `scheduler` bubble (UI Kit v4 web, Android v5)."""
    hours = card.sharer.working_hours
    span = {"from": hhmm(hours.start_minute), "to": hhmm(hours.end_minute)}
    window_zone = ZoneInfo(card.sharer.timezone)
    # Both kits read dateRangeEnd as inclusive through 23:59, so send the window's last day,
    # not the day its exclusive end falls on.
    last_moment = card.share.window_end - timedelta(microseconds=1)
    interactive = {
        "title": f"Meet {short_name(card.sharer.name)}",
        "goalCompletionText": "Meeting booked",
        "timezoneCode": card.sharer.timezone,
        "duration": card.slot_minutes,
        "bufferTime": 0,
        "availability": {DAY_KEYS[d - 1]: [span] for d in hours.weekdays},
        "dateRangeStart": f"{card.share.window_start.astimezone(window_zone):%Y-%m-%d}",
        "dateRangeEnd": f"{last_moment.astimezone(window_zone):%Y-%m-%d}",
        # Android v5 reads this before it calls the action (a missing URL hangs the bubble).
        "icsFileUrl": links.ics_url,
        "scheduleElement": {
            "elementType": "button",
            "elementId": "book",
            "buttonText": "Schedule",
            "disableAfterInteracted": True,
            "action": {
                "actionType": "apiAction",
                "url": links.action_url,
                "method": "POST",
                # The kits echo the payload in the click; the token is its only credential
                # (no headers: whatever is here is visible to everyone in the conversation).
                "payload": {"kind": "book", "shareId": card.share.id, "token": links.token},
                "dataKey": "CometChatData",
            },
        },
    }
    # REST v3's documented category enum is only message/custom, but the kits render the
    # bubble only for category "interactive" (a custom "scheduler" would show as unknown), and
    # third-party code sends interactive messages through POST /messages. So this stays
    # "interactive", opt-in ([cometchat] scheduler_message), and always follows the custom
    # availability card: if CometChat refuses it, the reader already has the card, the
    # booking link and the text below, which kits without the bubble show instead.
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
    join_url: str = ""
    # Set on the re-sent invite after a move: where the meeting was (None when not known).
    moved: bool = False
    moved_from: Interval | None = None
    # The signed "Move" page per side of a one-to-one meeting, keyed by uid.
    move_urls: Mapping[str, str] = field(default_factory=dict)
    # Yahoo reads wall-clock time in the reader's calendar: one link per participant's zone.
    yahoo_by_reader: Mapping[str, str] = field(default_factory=dict)


def move_urls(links: Urls, booking: Booking) -> dict[str, str]:
    """Each side's "Move" link for a one-to-one meeting, valid until it starts and only at its
    current sequence. None for a group card: everyone there would hold the organizer's link."""
    if booking.conversation_type == "group":
        return {}
    return {
        uid: links.move(booking.id, uid, booking.sequence, booking.start)
        for uid in (booking.owner_uid, booking.booker_uid)
    }


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
        "joinUrl": card.join_url or None,
        "moveUrls": dict(card.move_urls),
        "yahooByReader": dict(card.yahoo_by_reader),
    }
    reader = ZoneInfo(card.attendee.timezone)  # the invite is the attendee's (or the group's)
    when = both_zones(card.start, card.end, owner_zone, reader)
    if card.moved:
        when = both_zones(card.start, card.end, reader, owner_zone)
        if card.moved_from is not None:
            custom["movedFrom"] = {"start": iso(card.moved_from[0]), "end": iso(card.moved_from[1])}
            when = f"{both_zones(*card.moved_from, reader, reader)} → {when}"
    move_url = card.move_urls.get(card.attendee.uid)
    text = "\n".join(
        [
            f"Meeting {'moved' if card.moved else 'booked'}: “{card.title}” — "
            f"{card.organizer.name} with {card.attendee.name}",
            when,
            *([f"Join the video call: {card.join_url}"] if card.join_url else []),
            *([f"Need another time? Move it: {move_url}"] if move_url else []),
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
