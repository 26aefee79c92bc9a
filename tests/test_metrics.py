"""Own-work time: what a message costs us, with calendar-provider waits taken out."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from bot.calendars.local import LocalCalendar
from bot.calendars.provider import BusyResult
from bot.core.metrics import MeteredCalendar, Metrics
from storage import SqlStore
from storage.records import Connection
from tests.chat import Chat, meet
from tests.fakes import CountingCalendar, FrozenClock

PROVIDER_DELAY = 1.0  # far above our own work (milliseconds), so a busy machine cannot blur it


class SlowCalendar(CountingCalendar):
    """A provider that answers correctly after a fixed network-like delay."""

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        await asyncio.sleep(PROVIDER_DELAY)
        return await super().free_busy(owners, start, end)


async def test_own_time_excludes_time_spent_waiting_on_the_calendar(
    store: SqlStore, clock: FrozenClock
) -> None:
    provider_metrics = Metrics()
    metered = MeteredCalendar(SlowCalendar(LocalCalendar(store)), provider_metrics)
    chat = Chat(store, clock, calendar=metered)
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")

    replies = await chat.say("/share @bob")

    assert any("Shared" in reply for reply in replies)
    calls, waited = provider_metrics.histogram("calbot_calendar_seconds", op="free_busy")
    count, own = chat.services.metrics.histogram("calbot_message_own_seconds")
    assert calls == 1 and waited >= PROVIDER_DELAY
    assert count == 1
    assert own < PROVIDER_DELAY  # the wait is not ours; the rest takes milliseconds
