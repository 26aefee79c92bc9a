"""Inbound message de-duplication and the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.records import OutboxItem, ParkedMessage
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

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Due rows (and rows whose sender died mid-send) leased to this caller alone."""
        due = sa.and_(
            sa.or_(
                sa.and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now),
                sa.and_(outbox.c.status == "sending", outbox.c.next_attempt_at <= now),
            ),
            # An expired row (a reminder once the meeting began) waits for skip_expired.
            sa.or_(outbox.c.expires_at.is_(None), outbox.c.expires_at > now),
        )
        query = sa.select(outbox).where(due).order_by(outbox.c.id).limit(limit)
        if not self._sqlite:
            query = query.with_for_update(skip_locked=True)  # other workers skip, not wait
        async with self._write() as conn:
            rows = list(await conn.execute(query))
            if rows:
                await conn.execute(
                    outbox.update()
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(status="sending", next_attempt_at=now + lease)
                )
        return [
            OutboxItem(
                id=row.id,
                dedup_key=row.dedup_key,
                payload=row.payload,
                attempts=row.attempts,
                next_attempt_at=now + lease,
                status="sending",
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

    async def mark_failed(
        self,
        item_id: int,
        next_attempt_at: datetime | None,
        error: str,
        *,
        park_if_created_before: datetime | None = None,
    ) -> bool:
        """Count a failed attempt and schedule the next; park the row (never delete it) when
        `next_attempt_at` is None or the message is older than `park_if_created_before`.
        True when the row was parked."""
        retry: sa.ColumnElement[bool] = sa.literal(next_attempt_at is not None)
        if park_if_created_before is not None:
            retry = sa.and_(retry, outbox.c.created_at >= park_if_created_before)
        status = sa.case((retry, "pending"), else_="parked")
        values: dict[str, Any] = {
            "attempts": outbox.c.attempts + 1,
            "last_error": error[:2000],
            "status": status,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        async with self._write() as conn:
            await conn.execute(outbox.update().where(outbox.c.id == item_id).values(**values))
            parked = await conn.scalar(sa.select(outbox.c.status).where(outbox.c.id == item_id))
        return parked == "parked"

    async def parked_messages(self, limit: int = 100) -> list[ParkedMessage]:
        query = (
            sa.select(outbox).where(outbox.c.status == "parked").order_by(outbox.c.id).limit(limit)
        )
        async with self._read() as conn:
            rows = list(await conn.execute(query))
        return [
            ParkedMessage(r.id, r.dedup_key, r.payload, r.attempts, r.created_at, r.last_error)
            for r in rows
        ]

    async def retry_parked(self, item_id: int | None, now: datetime) -> int:
        """Send parked rows again (one, or all when `item_id` is None), as if newly queued so
        give_up_after counts from now; returns how many."""
        where = [outbox.c.status == "parked"]
        if item_id is not None:
            where.append(outbox.c.id == item_id)
        async with self._write() as conn:
            result = await conn.execute(
                outbox.update()
                .where(*where)
                .values(status="pending", attempts=0, next_attempt_at=now, created_at=now)
            )
        return int(result.rowcount or 0)

    async def release(self, item_id: int, next_attempt_at: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == item_id, outbox.c.status == "sending")
                .values(status="pending", next_attempt_at=next_attempt_at)
            )

    async def pending_count(self) -> int:
        # A reminder waiting for its time (expires_at set, never tried) is not owed yet.
        waiting = sa.and_(
            outbox.c.status == "pending", outbox.c.expires_at.is_not(None), outbox.c.attempts == 0
        )
        async with self._read() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.status.in_(("pending", "sending")), sa.not_(waiting))
            )
        return int(count or 0)
