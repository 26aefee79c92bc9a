"""Reminders in the chat: outbox rows due before the meeting and void once it began.

No sleeping tasks: each reminder is a row whose first attempt is its due time, so it survives
restarts and goes out once however many workers share the store. A move or cancel replaces or
drops the unsent rows in the same transaction; rows that come due only after the meeting
started (the bot was down) are skipped by `skip_late` and counted.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.core.context import Services
from bot.core.messages import ReceiverType, text_message
from bot.errors import UserError
from storage.records import Booking, Scheduled, User

DEFAULT_MINUTES = (10,)
# A week ahead is the furthest a chat reminder is still a reminder.
MAX_MINUTES = 7 * 24 * 60
# Each lead is one message per person; a handful is plenty and bounds the outbox rows.
MAX_LEADS = 5


LEAD = re.compile(r"^(\d{1,4})\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$")
UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}


def parse_leads(text: str) -> tuple[int, ...]:
    """'10m,1d' -> (1440, 10), earliest reminder first; 'off' -> () ; UserError when unreadable."""
    cleaned = text.strip().lower()
    if cleaned in {"off", "none", "no"}:
        return ()
    minutes: set[int] = set()
    for part in filter(None, (p.strip() for p in cleaned.replace(" ", ",").split(","))):
        match = LEAD.match(part)
        if match is None:
            raise UserError(
                f"I couldn't read {part[:20]!r} as a reminder time. Write them like "
                "10m, 2h or 1d, separated by commas (e.g. /settings reminders 10m,1d), "
                "or /settings reminders off."
            )
        value = int(match.group(1)) * UNIT_MINUTES[match.group(2)[0]]
        if not 0 < value <= MAX_MINUTES:
            raise UserError(
                f"{part!r} is out of range: reminders go from 1 minute to 7 days before."
            )
        minutes.add(value)
    if not minutes:
        raise UserError("Which reminders? e.g. /settings reminders 10m,1d (or off).")
    if len(minutes) > MAX_LEADS:
        raise UserError(f"At most {MAX_LEADS} reminders per meeting, please.")
    return tuple(sorted(minutes, reverse=True))


def describe(leads: tuple[int, ...]) -> str:
    """'1 day and 10 minutes before each meeting', or 'off'."""
    if not leads:
        return "off"
    names = [lead(m) for m in leads]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{joined} before each meeting"


def lead(minutes: int) -> str:
    """'10 minutes', '1 hour', '1 day 2 hours' as people say it."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    return " ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in parts if n) or "0 minutes"


async def for_booking(
    services: Services, meeting: Booking, owner: User, booker: User
) -> list[Scheduled]:
    """The reminder rows of `meeting` at its current sequence, per person and their settings."""
    now = services.clock.now()
    rows: list[Scheduled] = []
    targets: list[tuple[str, ReceiverType, User]]
    if meeting.conversation_type == "group" and meeting.conversation_id:
        # The group hears at the organizer's leads; each attendee at their own.
        people = [owner] + [
            u
            for uid, status in (await services.store.attendees(meeting.id)).items()
            if status == "attending" and uid != owner.uid
            if (u := await services.store.get_user(uid)) is not None
        ]
        targets = [(meeting.conversation_id, "group", owner)]
        targets += [(p.uid, "user", p) for p in people]
    else:
        targets = [(person.uid, "user", person) for person in (owner, booker)]
    for receiver, kind, person in targets:
        with_whom = ""
        if kind == "user" and meeting.conversation_type != "group":
            with_whom = f" with {(booker if person.uid == owner.uid else owner).name}"
        for minutes in person.reminders:
            due = meeting.start - timedelta(minutes=minutes)
            if due <= now:
                continue  # already inside that lead: a reminder now would just echo the booking
            starts = meeting.start.astimezone(ZoneInfo(person.timezone))
            place = person.timezone.split("/")[-1].replace("_", " ")
            text = (
                f"Reminder: “{meeting.title}”{with_whom} starts in {lead(minutes)} "
                f"({starts:%H:%M} {place})."
            )
            if meeting.join_url:
                text += f" Join: {meeting.join_url}"
            rows.append(
                Scheduled(
                    f"remind:{meeting.id}:{meeting.sequence}:{kind}:{receiver}:{minutes}",
                    text_message(receiver, kind, text).to_json(),
                    due,
                    meeting.start,
                )
            )
    return rows


async def skip_late(services: Services) -> int:
    """Drop reminders that only came due after their meeting began; counted in metrics."""
    skipped = await services.store.skip_expired(services.clock.now())
    if skipped:
        services.metrics.inc("calbot_reminders_skipped_total", float(skipped))
    return skipped
