"""The one way to read someone's busy time: connection checks, the provider call, and the
translation of calendar failures into what a person can act on (the same words everywhere)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendars.provider import CalendarError, Interval, utc
from bot.core.context import Services
from bot.errors import CalendarUnavailable, NotConnected, ReconnectNeeded, UserError
from bot.scheduling.availability import Person, SlotRules, free_time, merge, slots
from storage.records import Connection, User

log = logging.getLogger(__name__)

GroupBusy = dict[str, tuple[Interval, ...] | None]


def calendar_problem(problem: CalendarError, who: str = "Your") -> UserError:
    """What to tell people when a provider call failed: reconnect, or try again later."""
    if problem.reconnect:
        return ReconnectNeeded(who)
    return CalendarUnavailable()


async def active_connection(services: Services, owner: User, who: str = "Your") -> Connection:
    """`owner`'s connection, or NotConnected / ReconnectNeeded (named after `who`)."""
    connection = await services.store.get_connection(owner.uid)
    if connection is None:
        raise NotConnected(who)
    if connection.status != "active":
        raise ReconnectNeeded(who)
    return connection


async def busy_for(
    services: Services, connection: Connection, start: datetime, end: datetime, who: str = "Your"
) -> list[Interval]:
    """Merged busy intervals of one calendar over [start, end)."""
    try:
        result = (await services.calendar.free_busy([connection], start, end))[connection.uid]
    except CalendarError as problem:
        raise calendar_problem(problem, who) from problem
    if result.error is not None:
        raise CalendarUnavailable(result.error)
    return merge(result.busy)


async def free_slots(
    services: Services,
    owner: User,
    start: datetime,
    end: datetime,
    rules: SlotRules,
    who: str = "Your",
) -> tuple[list[Interval], list[Interval]]:
    """(free slots, busy) of `owner` in [start, end) within their working hours."""
    connection = await active_connection(services, owner, who)
    if end <= start:
        return [], []
    busy = await busy_for(services, connection, start, end, who)
    zone = ZoneInfo(owner.timezone)
    person = Person(owner.uid, zone, owner.working_hours, tuple(busy))
    # The owner's buffers (the larger one on both sides: offered slots must never be refused).
    kept = timedelta(minutes=max(owner.limits.before, owner.limits.after))
    rules = replace(rules, buffer=max(rules.buffer, kept))
    return slots(free_time(person, start, end, rules), rules, services.clock.now(), zone), busy


async def first_free(
    services: Services, owner: User, start: datetime, end: datetime, length: timedelta
) -> Interval | None:
    """The first free slot of `length` in [max(start, now), end), or None."""
    begin = max(utc(start), utc(services.clock.now()))
    rules = SlotRules(length=length, step=timedelta(minutes=15))
    found, _ = await free_slots(services, owner, begin, end, rules, owner.name)
    return found[0] if found else None


async def group_busy(
    services: Services, connections: Mapping[str, Connection], start: datetime, end: datetime
) -> GroupBusy:
    """Everyone's busy time in one call per provider; None where a calendar can't say."""
    if not connections:
        return {}
    try:
        answer = await services.calendar.free_busy(list(connections.values()), start, end)
    except CalendarError as problem:
        log.warning("group free/busy failed: %s", problem)
        return dict.fromkeys(connections)
    return {
        uid: (None if result.error else tuple(result.busy))
        for uid, result in answer.items()
        if uid in connections
    }
