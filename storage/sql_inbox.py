"""The durable inbox: accepted inbound events, leased to workers until their work is done."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.records import InboxItem
from storage.sql_base import SqlBase
from storage.tables import heartbeat, inbox


class InboxQueries(SqlBase):
    async def accept(
        self, key: str, payload: dict[str, Any], now: datetime, lease: timedelta
    ) -> int | None:
        """Store an inbound event once per key, already leased to the caller (who works on it
        right away); its id, or None for a redelivery of a stored one."""
        try:
            async with self._write() as conn:
                result = await conn.execute(
                    inbox.insert().values(
                        key=key,
                        payload=payload,
                        status="working",
                        attempts=1,
                        next_attempt_at=now + lease,
                        created_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            return None
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def claim_inbound(self, now: datetime, limit: int, lease: timedelta) -> list[InboxItem]:
        """Due events (and events whose worker died or hung past its lease), leased to us."""
        query = (
            sa.select(inbox.c.id, inbox.c.key, inbox.c.payload, inbox.c.attempts)
            .where(inbox.c.status.in_(("pending", "working")), inbox.c.next_attempt_at <= now)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        if not self._sqlite:
            query = query.with_for_update(skip_locked=True)  # other workers skip, not wait
        async with self._write() as conn:
            rows = list(await conn.execute(query))
            if rows:
                await conn.execute(
                    inbox.update()
                    .where(inbox.c.id.in_([row.id for row in rows]))
                    .values(
                        status="working",
                        next_attempt_at=now + lease,
                        attempts=inbox.c.attempts + 1,
                    )
                )
        return [InboxItem(row.id, row.key, row.payload, row.attempts + 1) for row in rows]

    async def finish_inbound(self, item_id: int, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                inbox.update().where(inbox.c.id == item_id).values(status="done", done_at=now)
            )

    async def release_inbound(
        self, item_id: int, next_attempt_at: datetime, error: str | None = None
    ) -> None:
        """Hand a leased event back, due at `next_attempt_at` (shutdown, or a storage fault)."""
        values: dict[str, Any] = {"status": "pending", "next_attempt_at": next_attempt_at}
        if error is not None:
            values["last_error"] = error[:2000]
        async with self._write() as conn:
            await conn.execute(
                inbox.update()
                .where(inbox.c.id == item_id, inbox.c.status == "working")
                .values(**values)
            )

    async def inbox_pending_count(self) -> int:
        async with self._read() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(inbox)
                .where(inbox.c.status.in_(("pending", "working")))
            )
        return int(count or 0)

    async def check_writable(self, now: datetime) -> None:
        """One tiny real write; raises what the database raises when it cannot take writes."""
        async with self._write() as conn:
            await conn.execute(heartbeat.update().values(beat_at=now))  # 0006 inserted the row
