"""Fakes at the edges only: the chat transport and the clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NoReturn

from bot.calendars.provider import (
    BusyResult,
    CalendarError,
    CalendarInfo,
    CalendarProvider,
    Capabilities,
    CreatedEvent,
    EventDraft,
)
from bot.core.messages import OutgoingMessage
from bot.core.outbox import DeliveryError
from storage.records import Connection


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)

    def set(self, now: datetime) -> None:
        self._now = now


class RecordingTransport:
    """Records every delivered message; `failures` scripts DeliveryErrors for the next sends."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.failures: list[DeliveryError] = []
        self.attempts = 0

    async def close(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


class UnreachableCalendar:
    """A provider whose service is down (or, with reconnect=True, whose access was revoked)."""

    name = "local"
    capabilities = Capabilities("calendar on this server", "none")

    def __init__(self, *, reconnect: bool = False) -> None:
        self.reconnect = reconnect

    async def free_busy(self, owners: object, start: object, end: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def create_event(self, owner: object, draft: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def update_event(self, owner: object, event_id: object, draft: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def delete_event(self, owner: object, event_id: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def calendar_timezone(self, owner: object) -> None:
        return None

    async def calendars(self, owner: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def choose(self, owner: object, busy: object, receives: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def revoke(self, owner: object) -> None:
        return None


class Crash(BaseException):
    """Stands in for the process dying: nothing in the bot catches a BaseException."""


class PassThrough:
    """Wraps a provider and forwards every call; the wrappers below change one of them."""

    def __init__(self, inner: CalendarProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        return await self.inner.free_busy(owners, start, end)

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        return await self.inner.create_event(owner, draft)

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        return await self.inner.update_event(owner, event_id, draft)

    async def delete_event(self, owner: Connection, event_id: str) -> bool:
        return await self.inner.delete_event(owner, event_id)

    async def calendar_timezone(self, owner: Connection) -> str | None:
        return await self.inner.calendar_timezone(owner)

    async def revoke(self, owner: Connection) -> None:
        await self.inner.revoke(owner)

    async def calendars(self, owner: Connection) -> list[CalendarInfo]:
        return await self.inner.calendars(owner)

    async def choose(
        self, owner: Connection, busy: Sequence[str], receives: str
    ) -> list[CalendarInfo]:
        return await self.inner.choose(owner, busy, receives)


class CrashAfterCreate(PassThrough):
    """Wraps a provider: the first create_event succeeds, then the process 'dies'."""

    def __init__(self, inner: CalendarProvider) -> None:
        super().__init__(inner)
        self.crashed = False

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        created = await self.inner.create_event(owner, draft)
        if not self.crashed:
            self.crashed = True
            raise Crash()
        return created


class CrashAfterUpdate(PassThrough):
    """Wraps a provider: the first update_event succeeds, then the process 'dies'."""

    def __init__(self, inner: CalendarProvider) -> None:
        super().__init__(inner)
        self.crashed = False
        self.updates = 0

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        updated = await self.inner.update_event(owner, event_id, draft)
        self.updates += 1
        if not self.crashed:
            self.crashed = True
            raise Crash()
        return updated


class CountingCalendar(PassThrough):
    """Wraps a provider and counts free/busy calls (to prove group lookups are batched)."""

    def __init__(self, inner: CalendarProvider) -> None:
        super().__init__(inner)
        self.free_busy_calls: list[int] = []

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        self.free_busy_calls.append(len(owners))
        return await self.inner.free_busy(owners, start, end)
