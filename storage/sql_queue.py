"""Outbox rows written inside another transaction (a booking confirmed, moved or cancelled)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Scheduled
from storage.tables import outbox


def reminder_prefix(booking_id: str) -> str:
    """Every reminder row of a booking starts with this key, whatever its sequence."""
    return f"remind:{booking_id}:"


async def drop_reminders(conn: AsyncConnection, booking_id: str) -> None:
    """Forget the booking's reminders not sent yet (it was moved or cancelled)."""
    await conn.execute(
        outbox.delete().where(
            outbox.c.dedup_key.startswith(reminder_prefix(booking_id), autoescape=True),
            outbox.c.status == "pending",
        )
    )


async def queue(
    conn: AsyncConnection,
    messages: Sequence[tuple[str, dict[str, Any]]],
    scheduled: Sequence[Scheduled],
    now: datetime,
) -> None:
    """Insert outbox rows inside the caller's transaction: now, or at their due time."""
    rows: list[tuple[str, dict[str, Any], datetime, datetime | None]]
    rows = [(key, payload, now, None) for key, payload in messages]
    rows += [(s.dedup_key, s.payload, s.due, s.expires_at) for s in scheduled]
    for key, payload, due, expires in rows:
        await conn.execute(
            outbox.insert().values(
                dedup_key=key,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=due,
                # A scheduled row's give-up clock starts when it is due, not when it was queued.
                created_at=max(now, due),
                expires_at=expires,
            )
        )
