"""Inbound message de-duplication and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.records import (
    OutboxItem,
)
from storage.sql_base import SqlBase
from storage.tables import (
    outbox,
    processed_messages,
)


class MessageQueries(SqlBase):
    # Inbound deduplication ---------------------------------------------------------------------
    async def claim_message(self, message_id: str, now: datetime) -> bool:
        try:
            async with self._write() as conn:
                await conn.execute(
                    processed_messages.insert().values(message_id=message_id, processed_at=now)
                )
        except sa.exc.IntegrityError:
            return False
        return True

    # Outbox ------------------------------------------------------------------------------------
    async def enqueue(self, dedup_key: str, payload: dict[str, Any], now: datetime) -> bool:
        try:
            async with self._write() as conn:
                await conn.execute(
                    outbox.insert().values(
                        dedup_key=dedup_key,
                        payload=payload,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    async def due_messages(self, now: datetime, limit: int) -> list[OutboxItem]:
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(outbox)
                .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
                .order_by(outbox.c.id)
                .limit(limit)
            )
            return [
                OutboxItem(
                    id=row.id,
                    dedup_key=row.dedup_key,
                    payload=row.payload,
                    attempts=row.attempts,
                    next_attempt_at=row.next_attempt_at,
                    status=row.status,
                )
                for row in rows
            ]

    async def mark_delivered(self, item_id: int, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == item_id)
                .values(status="delivered", delivered_at=now, attempts=outbox.c.attempts + 1)
            )

    async def mark_failed(self, item_id: int, next_attempt_at: datetime | None, error: str) -> None:
        values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": error[:2000]}
        if next_attempt_at is None:
            values["status"] = "dead"
        else:
            values["next_attempt_at"] = next_attempt_at
        async with self._write() as conn:
            await conn.execute(outbox.update().where(outbox.c.id == item_id).values(**values))

    async def pending_count(self) -> int:
        async with self._read() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "pending")
            )
        return int(count or 0)
