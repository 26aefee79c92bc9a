"""/calendars: which of your calendars count as busy, and which one receives booked meetings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.routing import Router
from bot.errors import UsageError, UserError
from bot.scheduling import freebusy

router = Router("calendars")

CHOICE = re.compile(r"busy\s+(?P<busy>[\d,\s]+?)(?:\s+receive\s+(?P<receive>\d+))?", re.I)
RECEIVE_ONLY = re.compile(r"receive\s+(?P<receive>\d+)", re.I)


@dataclass(frozen=True, slots=True)
class Choice:
    """Numbers as /calendars listed them (1-based); None keeps what is chosen now."""

    busy: tuple[int, ...] | None = None
    receive: int | None = None


def parse_choice(ctx: Context, args: str) -> Choice:
    text = args.strip()
    if not text:
        return Choice()
    found = CHOICE.fullmatch(text) or RECEIVE_ONLY.fullmatch(text)
    if found is None:
        raise UsageError(
            f"I couldn't read {text!r}. Name calendars by their number in the list, e.g. "
            "/calendars busy 1 3 receive 1."
        )
    parts = found.groupdict()
    busy = parts.get("busy")
    numbers = tuple(int(n) for n in re.split(r"[,\s]+", busy.strip())) if busy else None
    receive = parts.get("receive")
    return Choice(numbers, int(receive) if receive else None)


@router.command(
    "/calendars",
    usage="/calendars [busy <numbers>] [receive <number>]",
    parse=parse_choice,
    examples=("/calendars", "/calendars busy 1 2", "/calendars busy 1 3 receive 3"),
)
async def calendars(ctx: Context, request: Choice) -> None:
    """Lists your calendars; choose which count as busy and which receives booked meetings."""
    connection = await freebusy.active_connection(ctx.services, ctx.user)
    found = await ctx.calendar.calendars(connection)
    if request.busy is not None or request.receive is not None:
        picked = [*(request.busy or ()), *((request.receive,) if request.receive else ())]
        wrong = [n for n in picked if not 1 <= n <= len(found)]
        if wrong:
            raise UserError(
                f"There is no calendar {wrong[0]} in the list: pick 1 to {len(found)} "
                "(send /calendars to see them)."
            )
        busy = (
            [found[n - 1].id for n in request.busy]
            if request.busy is not None
            else [c.id for c in found if c.busy]
        )
        receives = (
            found[request.receive - 1].id
            if request.receive is not None
            else next(c.id for c in found if c.receives)
        )
        found = await ctx.calendar.choose(connection, busy, receives)
        heading = "Saved. Your calendars now:"
    else:
        heading = "Your calendars:"
    lines = [heading]
    for number, calendar in enumerate(found, 1):
        roles = ["counts as busy" if calendar.busy else "ignored for busy time"]
        if calendar.receives:
            roles.append("receives booked meetings")
        elif not calendar.writable:
            roles.append("read-only")
        lines.append(f"{number}. {calendar.name}: {', '.join(roles)}")
    if len(found) > 1:
        lines.append(
            "Change it with /calendars busy <numbers> receive <number>, "
            "e.g. /calendars busy 1 2 receive 1."
        )
    await ctx.reply("\n".join(lines))
