"""Moving a booking (reschedule) and the messages that wait for a time (chat reminders)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.records import ACTIVE_BOOKING_STATES, Booking, LocalEvent, Scheduled
from storage.sql_base import SqlBase
from storage.sql_bookings import _booking
from storage.sql_queue import drop_reminders, queue
from storage.store import SlotTaken
from storage.tables import bookings, local_events, outbox


class MoveQueries(SqlBase):
    async def move_booking(
        self, booking_id: str, expected_sequence: int, start: datetime, end: datetime
    ) -> Booking | None:
        async with self._write() as conn:
            row = (
                await conn.execute(sa.select(bookings).where(bookings.c.id == booking_id))
            ).first()
            if row is None or row.status != "confirmed" or row.sequence != expected_sequence:
                return None
            if not self._sqlite:
                # The same per-owner lock as hold_booking: a move and a booking never both win.
                await conn.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(row.owner_uid)))
                )
            clash = (
                await conn.execute(
                    sa.select(bookings)
                    .where(
                        bookings.c.owner_uid == row.owner_uid,
                        bookings.c.id != booking_id,
                        bookings.c.status.in_(ACTIVE_BOOKING_STATES),
                        bookings.c.start_utc < end,
                        bookings.c.end_utc > start,
                    )
                    .limit(1)
                )
            ).first()
            if clash is not None:
                raise SlotTaken(_booking(clash))
            await conn.execute(
                bookings.update()
                .where(bookings.c.id == booking_id, bookings.c.sequence == expected_sequence)
                .values(start_utc=start, end_utc=end, sequence=expected_sequence + 1)
            )
        return await self._get(booking_id)

    async def finish_move(
        self,
        booking_id: str,
        sequence: int,
        messages: Sequence[tuple[str, dict[str, Any]]],
        scheduled: Sequence[Scheduled],
        now: datetime,
    ) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                bookings.update()
                .where(
                    bookings.c.id == booking_id,
                    bookings.c.sequence == sequence,
                    bookings.c.invited_sequence < sequence,
                )
                .values(invited_sequence=sequence)
            )
            if result.rowcount != 1:
                return False
            await drop_reminders(conn, booking_id)
            await queue(conn, messages, scheduled, now)
        return True

    async def revert_move(
        self, booking_id: str, sequence: int, start: datetime, end: datetime
    ) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                bookings.update()
                .where(
                    bookings.c.id == booking_id,
                    bookings.c.sequence == sequence,
                    bookings.c.invited_sequence < sequence,
                )
                .values(start_utc=start, end_utc=end, invited_sequence=sequence)
            )
        return result.rowcount == 1

    async def unfinished_moves(self) -> list[Booking]:
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(bookings).where(
                    bookings.c.status == "confirmed",
                    bookings.c.invited_sequence < bookings.c.sequence,
                )
            )
            return [_booking(row) for row in rows]

    async def skip_expired(self, now: datetime) -> int:
        async with self._write() as conn:
            result = await conn.execute(
                outbox.update()
                .where(outbox.c.status == "pending", outbox.c.expires_at <= now)
                .values(status="skipped", last_error="expired before it could be sent")
            )
        return int(result.rowcount or 0)

    async def update_local_event(self, event: LocalEvent) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                local_events.update()
                .where(
                    local_events.c.owner_uid == event.owner_uid,
                    local_events.c.event_id == event.event_id,
                )
                .values(title=event.title, start_utc=event.start, end_utc=event.end)
            )
        return result.rowcount == 1

    async def _get(self, booking_id: str) -> Booking | None:
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(bookings).where(bookings.c.id == booking_id))
            ).first()
        return _booking(row) if row else None
