"""Personal settings: time zone, working hours, how ambiguous dates are read, reminders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.context import Context
from bot.core.routing import Router
from bot.errors import UsageError
from bot.scheduling import limits, reminders
from bot.timeparse.zones import resolve_zone_name
from storage.records import Limits, User, WorkingHours

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
    limits: Limits | None = None  # a daily maximum or buffers said with the hours


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
    new_limits, args = limits.parse(args, ctx.user.limits)
    if not args:
        return HoursRequest(None, new_limits)
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
    return HoursRequest(WorkingHours(start, end, _weekdays(days_text)), new_limits)


@router.command(
    "/hours",
    usage="/hours [start-end] [days] [max N meetings a day] [buffer 10m before 5m after]",
    parse=parse_hours,
    examples=(
        "/hours 9-17",
        "/hours 8:30am-4pm mon-thu",
        "/hours 10-18 mon,wed,fri",
        "/hours 9-17 max 4 meetings a day",
        "/hours buffer 10m before 5m after",
        "/hours no max no buffer",
    ),
)
async def set_hours(ctx: Context, request: HoursRequest) -> None:
    """Show or set when people can book you (in your own time zone), how many meetings a day
    at most and the free minutes you keep before and after each."""
    user = ctx.user
    if request.hours is None and request.limits is None:
        await ctx.reply(f"Your working hours are {_describe_all(user)}.")
        return
    user = await ctx.store.update_user(user.uid, working_hours=request.hours, limits=request.limits)
    await ctx.reply(f"Done: your working hours are {_describe_all(user)}.")


def _describe_all(user: User) -> str:
    text = f"{describe_hours(user.working_hours)} ({user.timezone})"
    rules = limits.describe(user.limits)
    return f"{text}; {rules}" if rules else text


SETTING_CHOICES = {
    "dates": {"mdy": "MDY", "dmy": "DMY"},
    "next": {"next-week": "next_week", "first-after": "first_after"},
}


OTHER_SETTINGS = ("reminders", "language")
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$")


def _language(word: str) -> str:
    """'auto' (detect each message, English first) -> "", else a BCP 47 tag like es or pt-br."""
    if word == "auto":
        return ""
    if not LANGUAGE_TAG.match(word):
        raise UsageError(
            "language can be auto, or a language code like en, es, fr, de, pt, ja or pt-br: "
            "e.g. /settings language es"
        )
    return word


def parse_settings(ctx: Context, args: str) -> SettingsRequest:
    # The usage shows the settings in one line, so several may come in one message, any order.
    words = args.lower().split()
    changes: dict[str, str] = {}
    while words:
        key = words.pop(0).strip(",")
        if key == "language":
            changes[key] = _language(words.pop(0).strip(",") if words else "")
            continue
        if key == "reminders":
            # "10m,1d", "10m, 1d" or "off": every following word that is not the next setting.
            taken: list[str] = []
            while words and words[0].strip(",") not in (*SETTING_CHOICES, *OTHER_SETTINGS):
                taken.append(words.pop(0))
            leads = reminders.parse_leads(" ".join(taken))
            changes[key] = ",".join(str(m) for m in leads)
            continue
        if key not in SETTING_CHOICES:
            raise UsageError(
                "I know four settings: 'dates' (mdy or dmy), 'next' (next-week or "
                "first-after), 'reminders' (e.g. 10m,1d or off) and 'language' (auto, en, es, "
                "fr, de, pt, ja, ...), e.g. /settings reminders 10m,1d"
            )
        words = [w.strip(",") for w in words]
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
    usage="/settings [dates mdy|dmy] [next next-week|first-after] [reminders 10m,1d|off] "
    "[language auto|es|...]",
    parse=parse_settings,
    examples=(
        "/settings",
        "/settings dates dmy",
        "/settings next first-after",
        "/settings reminders 10m,1d",
        "/settings reminders off",
        "/settings language es",
    ),
)
async def settings(ctx: Context, request: SettingsRequest) -> None:
    """Show your settings; choose how 12/03 and "next friday" are read and when I remind you."""
    user = ctx.user
    for key, value in request.changes:
        if key == "dates":
            user = await ctx.store.update_user(user.uid, date_order=value)
        elif key == "language":
            user = await ctx.store.update_user(user.uid, language=value)
        elif key == "reminders":
            leads = tuple(int(m) for m in value.split(",") if m)
            user = await ctx.store.update_user(user.uid, reminders=leads)
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
            f"Reminders: {reminders.describe(user.reminders)} "
            "(/settings reminders 10m,1d|off; applies to meetings booked from now on)",
            f"Language of times: {user.language or 'detected in each message, English first'} "
            "(/settings language auto|en|es|fr|de|pt|ja|...)",
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
