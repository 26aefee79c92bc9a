"""An owner's own limits on being booked: meetings per day and buffers before/after each one.

Set in chat with /hours ("/hours 9-17 max 4 meetings a day buffer 10m before 5m after") and
kept by every booking and move: the cap counts the owner's confirmed meetings on the slot's
local day; the buffers widen the slot when the owner's calendar is checked, so a meeting never
starts right after (or ends right before) another one.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.context import Services
from bot.errors import UserError
from bot.scheduling.availability import utc
from storage.records import Limits, User

MAX_DAILY = 50
MAX_BUFFER = 240  # minutes: more than four hours is not a buffer but a different schedule
_MIN = r"(\d{1,3})\s*(?:m|min|mins|minutes?)?"
_CLAUSES: list[tuple[str, re.Pattern[str]]] = [
    ("no_max", re.compile(r"\bno\s+(?:max(?:imum)?|limit|cap)\b")),
    ("max", re.compile(
        r"\b(?:max(?:imum)?|at\s+most|up\s+to)\s+(\d{1,3})(?:\s+meetings?)?"
        r"(?:\s*(?:a|per|/)\s*day)?"
    )),
    ("no_buffer", re.compile(r"\bno\s+buffers?\b")),
    ("buffer_both_sides", re.compile(
        rf"\bbuffers?\s+{_MIN}\s+before(?:\s*(?:,|and)?\s*{_MIN}\s+after)?"
    )),
    ("buffer_after", re.compile(rf"\bbuffers?\s+{_MIN}\s+after")),
    ("buffer", re.compile(rf"\bbuffers?\s+{_MIN}\b")),
]  # fmt: skip


def parse(text: str, current: Limits) -> tuple[Limits | None, str]:
    """Take the limit clauses out of an /hours argument: (new limits or None, the rest)."""
    rest = text.lower()
    limits = current
    changed = False
    for name, pattern in _CLAUSES:
        match = pattern.search(rest)
        if match is None:
            continue
        changed = True
        rest = (rest[: match.start()] + " " + rest[match.end() :]).strip()
        numbers = [int(n) if n is not None else None for n in match.groups()]
        if name == "no_max":
            limits = replace(limits, daily=None)
        elif name == "max":
            daily = numbers[0] or 0
            if not 1 <= daily <= MAX_DAILY:
                raise UserError(f"A daily maximum is 1 to {MAX_DAILY} meetings (or 'no max').")
            limits = replace(limits, daily=daily)
        elif name == "no_buffer":
            limits = replace(limits, before=0, after=0)
        elif name == "buffer_both_sides":
            limits = replace(limits, before=_buffer(numbers[0]), after=_buffer(numbers[1] or 0))
        elif name == "buffer_after":
            limits = replace(limits, after=_buffer(numbers[0]))
        else:
            limits = replace(limits, before=_buffer(numbers[0]), after=_buffer(numbers[0]))
    return (limits if changed else None), " ".join(rest.split())


def _buffer(minutes: int | None) -> int:
    if minutes is None or not 0 <= minutes <= MAX_BUFFER:
        raise UserError(f"A buffer is 0 to {MAX_BUFFER} minutes, e.g. buffer 10m before 5m after.")
    return minutes


def describe(limits: Limits) -> str:
    """'at most 4 meetings a day, 10 min free before and 5 after each', or ''."""
    parts = []
    if limits.daily is not None:
        parts.append(f"at most {limits.daily} meeting{'s' if limits.daily != 1 else ''} a day")
    if limits.before or limits.after:
        parts.append(f"{limits.before} min free before and {limits.after} after each meeting")
    return ", ".join(parts)


def too_close(owner: User) -> UserError:
    """The slot is free but inside the owner's buffer around another meeting."""
    return UserError(
        f"That is too close to another of {owner.name}'s meetings: they keep "
        f"{owner.limits.before} min free before and {owner.limits.after} after each one. "
        "Pick a time a little earlier or later."
    )


def padded(owner: User, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The span of the owner's calendar a meeting at [start, end) needs free."""
    return (
        utc(start) - timedelta(minutes=owner.limits.before),
        utc(end) + timedelta(minutes=owner.limits.after),
    )


async def check(
    services: Services, owner: User, start: datetime, end: datetime, moving: str = ""
) -> None:
    """Refuse a meeting inside the buffers of the owner's other booked meetings, or on a day
    that already has the owner's maximum (a move within that day still fits). The new
    meeting's own buffers are checked against the whole calendar with `padded`."""
    rules = owner.limits
    if rules.daily is None and not (rules.before or rules.after):
        return
    mine = [
        b
        for b in await services.store.upcoming_bookings(owner.uid, services.clock.now())
        if b.owner_uid == owner.uid and b.id != moving
    ]
    for other in mine:
        free_from, free_to = padded(owner, other.start, other.end)
        if free_from < utc(end) and utc(start) < free_to:
            raise too_close(owner)
    cap = rules.daily
    if cap is None:
        return
    zone = ZoneInfo(owner.timezone)
    day = utc(start).astimezone(zone).date()
    if sum(1 for b in mine if utc(b.start).astimezone(zone).date() == day) >= cap:
        raise UserError(
            f"{owner.name} takes at most {cap} meeting{'s' if cap != 1 else ''} a day and "
            f"{day:%a %d %b} is full. Pick another day."
        )
