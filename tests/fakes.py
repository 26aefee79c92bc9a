"""Fakes at the edges only: the chat transport and the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NoReturn

from bot.calendar import CalendarError
from bot.messages import OutgoingMessage
from bot.outbox import DeliveryError


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

    async def send(self, message: OutgoingMessage) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


class UnreachableCalendar:
    """A provider whose service is down (or, with reconnect=True, whose access was revoked)."""

    name = "local"

    def __init__(self, *, reconnect: bool = False) -> None:
        self.reconnect = reconnect

    async def free_busy(self, owners: object, start: object, end: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def create_event(self, owner: object, draft: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def delete_event(self, owner: object, event_id: object) -> NoReturn:
        raise CalendarError("503 from provider", reconnect=self.reconnect)

    async def calendar_timezone(self, owner: object) -> None:
        return None
