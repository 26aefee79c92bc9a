"""The embedded default calendar provider: calendars kept in our own database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.calendars.choice import checked
from bot.calendars.provider import (
    BusyResult,
    CalendarError,
    CalendarInfo,
    Capabilities,
    CreatedEvent,
    EventDraft,
)
from storage.records import Connection, LocalEvent
from storage.store import Store

LOCAL_ID = "local"  # there is one local calendar per person


class LocalCalendar:
    name = "local"
    capabilities = Capabilities("calendar on this server", "none")

    def __init__(self, store: Store) -> None:
        self._store = store

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        busy = await self._store.local_busy([owner.uid for owner in owners], start, end)
        return {uid: BusyResult(tuple(intervals)) for uid, intervals in busy.items()}

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        if draft.end <= draft.start:
            raise CalendarError("an event must end after it starts")
        created = await self._store.add_local_event(
            LocalEvent(owner.uid, draft.event_id, draft.title, draft.start, draft.end)
        )
        # The local calendar keeps times only; the link lives on the booking and its invite.
        return CreatedEvent(
            draft.event_id, url=None, already_existed=not created, join_url=draft.join_url or None
        )

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        if draft.end <= draft.start:
            raise CalendarError("an event must end after it starts")
        moved = await self._store.update_local_event(
            LocalEvent(owner.uid, event_id, draft.title, draft.start, draft.end)
        )
        if not moved:
            raise CalendarError("that event is no longer in the calendar")
        return CreatedEvent(event_id, url=None, already_existed=True)

    async def delete_event(self, owner: Connection, event_id: str) -> bool:
        return await self._store.delete_local_event(owner.uid, event_id)

    async def calendar_timezone(self, owner: Connection) -> str | None:
        user = await self._store.get_user(owner.uid)
        return user.timezone if user else None

    async def revoke(self, owner: Connection) -> None:
        return None  # nothing was granted: the calendar lives in our own database

    async def calendars(self, owner: Connection) -> list[CalendarInfo]:
        return [CalendarInfo(LOCAL_ID, self.capabilities.label, busy=True, receives=True)]

    async def choose(
        self, owner: Connection, busy: Sequence[str], receives: str
    ) -> list[CalendarInfo]:
        checked([(LOCAL_ID, self.capabilities.label, True)], busy, receives)
        return await self.calendars(owner)
