"""Inbound message de-duplication and the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.records import OutboxItem, ParkedMessage
from storage.sql_base import SqlBase
from storage.tables import (
    UTCDateTime,
    outbox,
    processed_messages,
)

# The hot statements are built once: on SQLite, building a statement and its cache key cost
# more CPU than running it. Values travel as bound parameters.
_NOW = sa.bindparam("now", type_=UTCDateTime)
_DUE = sa.and_(
    # Pending rows that are due, and rows whose sender died mid-send (their lease ran out).
    outbox.c.status.in_(("pending", "sending")),
    outbox.c.next_attempt_at <= _NOW,
    # An expired row (a reminder once the meeting began) waits for skip_expired.
    sa.or_(outbox.c.expires_at.is_(None), outbox.c.expires_at > _NOW),
)
_DUE_IDS = sa.select(outbox.c.id).where(_DUE).order_by(outbox.c.id).limit(sa.bindparam("limit"))


def _claim(ids: sa.Select[tuple[int]]) -> sa.UpdateBase:
    """Lease due rows in one statement: the update returns what it leased."""
    return (
        outbox.update()
        .where(outbox.c.id.in_(ids.scalar_subquery()))
        .values(status="sending", next_attempt_at=sa.bindparam("lease_end", type_=UTCDateTime))
        .returning(outbox.c.id, outbox.c.dedup_key, outbox.c.payload, outbox.c.attempts)
    )


_CLAIM_SQLITE = _claim(_DUE_IDS)
# Other workers skip the rows one is leasing instead of waiting for them.
_CLAIM_LOCKING = _claim(_DUE_IDS.with_for_update(skip_locked=True))
_ENQUEUE = outbox.insert()
_DELIVERED = (
    outbox.update()
    .where(outbox.c.id == sa.bindparam("item_id"))
    .values(
        status="delivered",
        delivered_at=sa.bindparam("at", type_=UTCDateTime),
        attempts=outbox.c.attempts + 1,
    )
)


class MessageQueries(SqlBase):
    # Inbound deduplication ---------------------------------------------------------------------
    async def claim_message(self, message_id: str, now: datetime) -> bool:
        try:
            async with self._statement() as conn:
                await conn.execute(
                    processed_messages.insert().values(message_id=message_id, processed_at=now)
                )
        except sa.exc.IntegrityError:
            return False
        return True

    # Outbox ------------------------------------------------------------------------------------
    async def enqueue(self, dedup_key: str, payload: dict[str, Any], now: datetime) -> bool:
        return await self._insert(dedup_key, payload, now, "pending", now) is not None

    async def enqueue_leased(
        self, dedup_key: str, payload: dict[str, Any], now: datetime, lease: timedelta
    ) -> OutboxItem | None:
        item_id = await self._insert(dedup_key, payload, now, "sending", now + lease)
        if item_id is None:
            return None
        return OutboxItem(item_id, dedup_key, payload, 0, now + lease, "sending")

    async def _insert(
        self, key: str, payload: dict[str, Any], now: datetime, status: str, due: datetime
    ) -> int | None:
        """The new row's id, or None when `key` was queued before."""
        row = {"dedup_key": key, "payload": payload, "status": status, "attempts": 0}
        try:
            async with self._statement() as conn:
                result = await conn.execute(
                    _ENQUEUE, {**row, "next_attempt_at": due, "created_at": now}
                )
        except sa.exc.IntegrityError:
            return None
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Due rows (and rows whose sender died mid-send) leased to this caller alone."""
        claim = _CLAIM_SQLITE if self._sqlite else _CLAIM_LOCKING
        params = {"now": now, "limit": limit, "lease_end": now + lease}
        async with self._statement() as conn:
            rows = sorted(await conn.execute(claim, params), key=lambda row: row.id)
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
        async with self._statement() as conn:
            await conn.execute(_DELIVERED, {"item_id": item_id, "at": now})

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
        async with self._statement() as conn:
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
