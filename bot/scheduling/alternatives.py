"""Why a requested time cannot be booked, and the nearest times that can.

"That slot was just taken" is only true when another booking won the race; when the owner's
own calendar has an event there, saying so (and offering the nearest free times, in both
people's zones) lets the booker retry at once instead of guessing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendars.provider import Interval
from bot.core.context import Services
from bot.errors import UserError
from bot.scheduling import freebusy
from bot.scheduling.availability import SlotRules, utc
from bot.scheduling.cards import both_zones
from storage.records import Share, User

# How far either side of the asked time to look for alternatives, and how many to offer.
SEARCH = timedelta(days=2)
OFFERED = 3


async def nearest_free(
    services: Services,
    owner: User,
    start: datetime,
    end: datetime,
    share: Share | None,
    count: int = OFFERED,
) -> list[Interval]:
    """Up to `count` free slots of the same length closest to `start`, in time order."""
    begin, finish = utc(start) - SEARCH, utc(end) + SEARCH
    if share is not None:
        begin, finish = max(begin, utc(share.window_start)), min(finish, utc(share.window_end))
    rules = SlotRules(length=utc(end) - utc(start), step=timedelta(minutes=30))
    free, _ = await freebusy.free_slots(services, owner, begin, finish, rules, owner.name)
    closest = sorted(free, key=lambda slot: abs(slot[0] - utc(start)))[:count]
    return sorted(closest)


class SlotBusy(UserError):
    """The owner's calendar is busy at the asked time (not a booking race)."""


async def busy_refusal(
    services: Services,
    owner: User,
    booker: User,
    start: datetime,
    end: datetime,
    busy: list[Interval],
    share: Share | None,
) -> SlotBusy:
    booker_zone, owner_zone = ZoneInfo(booker.timezone), ZoneInfo(owner.timezone)
    clash = next(b for b in busy if utc(b[0]) < utc(end) and utc(start) < utc(b[1]))
    lines = [
        f"{owner.name} is busy then: their calendar has an event "
        f"{both_zones(clash[0], clash[1], booker_zone, owner_zone)}."
    ]
    options = await nearest_free(services, owner, start, end, share)
    if options:
        lines.append("The nearest free times:")
        lines += [f"• {both_zones(s, e, booker_zone, owner_zone)}" for s, e in options]
        lines.append("Book one with /book and its time, or pick on the booking page.")
    else:
        lines.append(f"{owner.name} has no free time within two days of it; try another day.")
    return SlotBusy("\n".join(lines))
