"""Personal settings: time zone, working hours, and how ambiguous dates are read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.context import Context
from bot.core.routing import Router
from bot.errors import UsageError
from bot.timeparse.zones import resolve_zone_name
from storage.records import User, WorkingHours

router = Router("settings")

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?"
HOURS = re.compile(rf"^{CLOCK}\s*(?:-|–|to)\s*{CLOCK}(?:\s+(.*))?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TimezoneRequest:
    zone: str | None


@dataclass(frozen=True, slots=True)
class HoursRequest:
    hours: WorkingHours | None


@dataclass(frozen=True, slots=True)
class SettingsRequest:
    changes: tuple[tuple[str, str], ...]  # (setting, stored value); empty: just show them


def parse_timezone(ctx: Context, args: str) -> TimezoneRequest:
    if not args:
        return TimezoneRequest(None)
    zone = resolve_zone_name(args)
    if zone is None:
        raise UsageError(
            f"I don't know the time zone {args[:40]!r}. Use an IANA name such as Europe/Berlin "
            "or America/New_York, or a city such as London or Tokyo."
        )
    return TimezoneRequest(zone)


@router.command(
    "/timezone",
    usage="/timezone [zone or city]",
    parse=parse_timezone,
    examples=("/timezone Europe/Berlin", "/timezone new york", "/timezone"),
)
async def set_timezone(ctx: Context, request: TimezoneRequest) -> None:
    """Show or set your time zone; every time I show you is in it."""
    if request.zone is None:
        await ctx.reply(f"Your time zone is {_describe_zone(ctx.user.timezone, ctx.clock.now())}.")
        return
    await ctx.store.update_user(ctx.user.uid, timezone=request.zone)
    await ctx.reply(f"Done: your time zone is now {_describe_zone(request.zone, ctx.clock.now())}.")


def parse_hours(ctx: Context, args: str) -> HoursRequest:
    if not args:
        return HoursRequest(None)
    match = HOURS.match(args.strip())
    if match is None:
        raise UsageError(f"I couldn't read {args!r} as working hours, e.g. 9-17 or 8:30am-5pm.")
    start = _minute_of_day(match.group(1), match.group(2), match.group(3))
    end = _minute_of_day(match.group(4), match.group(5), match.group(6), is_end=True)
    if start is None or end is None:
        raise UsageError(f"{args!r} has a time that doesn't exist on a clock.")
    days_text = match.group(7) or "mon-fri"
    if end <= start:
        raise UsageError(
            "Working hours must end after they start (overnight shifts aren't supported)."
        )
    return HoursRequest(WorkingHours(start, end, _weekdays(days_text)))


@router.command(
    "/hours",
    usage="/hours [start-end] [days]",
    parse=parse_hours,
    examples=("/hours 9-17", "/hours 8:30am-4pm mon-thu", "/hours 10-18 mon,wed,fri"),
)
async def set_hours(ctx: Context, request: HoursRequest) -> None:
    """Show or set the working hours people can book you in (in your own time zone)."""
    if request.hours is None:
        await ctx.reply(
            f"Your working hours are {describe_hours(ctx.user.working_hours)} "
            f"({ctx.user.timezone})."
        )
        return
    await ctx.store.update_user(ctx.user.uid, working_hours=request.hours)
    await ctx.reply(
        f"Done: your working hours are {describe_hours(request.hours)} ({ctx.user.timezone})."
    )


SETTING_CHOICES = {
    "dates": {"mdy": "MDY", "dmy": "DMY"},
    "next": {"next-week": "next_week", "first-after": "first_after"},
}


def parse_settings(ctx: Context, args: str) -> SettingsRequest:
    # The usage shows both settings in one line, so both may come in one message, in any order.
    words = args.lower().replace(",", " ").split()
    changes: dict[str, str] = {}
    while words:
        key = words.pop(0)
        if key not in SETTING_CHOICES:
            raise UsageError(
                "I know two settings: 'dates' (mdy or dmy) and 'next' (next-week or "
                "first-after), e.g. /settings dates dmy next first-after"
            )
        choices = SETTING_CHOICES[key]
        if not words:
            raise UsageError(f"{key} can be {' or '.join(choices)}: e.g. /settings {key} "
                             f"{next(iter(choices))}")  # fmt: skip
        value = words.pop(0)
        if value not in choices:
            raise UsageError(f"{key} can be {' or '.join(choices)}, not {value!r}.")
        changes[key] = choices[value]
    return SettingsRequest(tuple(changes.items()))


@router.command(
    "/settings",
    usage="/settings [dates mdy|dmy] [next next-week|first-after]",
    parse=parse_settings,
    examples=("/settings", "/settings dates dmy", "/settings next first-after"),
)
async def settings(ctx: Context, request: SettingsRequest) -> None:
    """Show your settings, or choose how 12/03 and "next friday" are read."""
    user = ctx.user
    for key, value in request.changes:
        if key == "dates":
            user = await ctx.store.update_user(user.uid, date_order=value)
        else:
            user = await ctx.store.update_user(user.uid, next_weekday=value)
    await ctx.reply(describe_settings(user, ctx.clock.now()))


def describe_settings(user: User, now: datetime) -> str:
    dates = (
        "12/03 is 3 December (month first)"
        if user.date_order == "MDY"
        else ("12/03 is 12 March (day first)")
    )
    nxt = (
        '"next friday" is Friday of next week'
        if user.next_weekday == "next_week"
        else '"next friday" is the first Friday after today'
    )
    return "\n".join(
        [
            f"Time zone: {_describe_zone(user.timezone, now)} (change with /timezone)",
            f"Working hours: {describe_hours(user.working_hours)} (change with /hours)",
            f"Dates: {dates} (/settings dates mdy|dmy)",
            f"Weekdays: {nxt} (/settings next next-week|first-after)",
        ]
    )


def describe_hours(hours: WorkingHours) -> str:
    days = ", ".join(DAY_NAMES[d - 1].capitalize() for d in hours.weekdays)
    return f"{_clock(hours.start_minute)}–{_clock(hours.end_minute)} on {days}"


def _describe_zone(name: str, now: datetime) -> str:
    local = now.astimezone(ZoneInfo(name))
    offset = local.strftime("%z")
    return f"{name} (it is {local:%H:%M} there, UTC{offset[:3]}:{offset[3:]})"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute_of_day(
    hour_text: str, minute_text: str | None, meridiem: str | None, is_end: bool = False
) -> int | None:
    hour, minute = int(hour_text), int(minute_text or 0)
    if minute >= 60:
        return None
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
    elif hour > 24 or (hour == 24 and (minute or not is_end)):
        return None
    return hour * 60 + minute


def _weekdays(text: str) -> tuple[int, ...]:
    cleaned = text.lower().replace(" ", "")
    if cleaned in {"weekdays", "workdays"}:
        return (1, 2, 3, 4, 5)
    if cleaned in {"everyday", "daily", "all", "mon-sun"}:
        return (1, 2, 3, 4, 5, 6, 7)
    days: set[int] = set()
    for part in cleaned.split(","):
        first, _, last = part.partition("-")
        start, end = _day(first), _day(last or first)
        if start is None or end is None:
            raise UsageError(
                f"I couldn't read the days {text!r}; write them like mon-fri or mon,wed,fri."
            )
        if end < start:
            raise UsageError(f"{part!r} runs backwards; write the earlier day first (mon-fri).")
        days.update(range(start, end + 1))
    return tuple(sorted(days))


def _day(text: str) -> int | None:
    for index, name in enumerate(DAY_NAMES, start=1):
        if text[:3] == name and len(text) >= 3:
            return index
    return None
