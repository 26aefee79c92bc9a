"""The durable inbox: accepted inbound events, leased to workers until their work is done."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.records import InboxItem
from storage.sql_base import SqlBase
from storage.tables import UTCDateTime, heartbeat, inbox

# Built once, like the outbox's (storage.sql_messages): cheaper than building per call.
_ACCEPT = inbox.insert()
_DONE = (
    inbox.update()
    .where(inbox.c.id == sa.bindparam("item_id"))
    .values(status="done", done_at=sa.bindparam("at", type_=UTCDateTime))
)
_DUE_IDS = (
    sa.select(inbox.c.id)
    .where(
        inbox.c.status.in_(("pending", "working")),
        inbox.c.next_attempt_at <= sa.bindparam("now", type_=UTCDateTime),
    )
    .order_by(inbox.c.id)
    .limit(sa.bindparam("limit"))
)


def _claim(ids: sa.Select[tuple[int]]) -> sa.UpdateBase:
    return (
        inbox.update()
        .where(inbox.c.id.in_(ids.scalar_subquery()))
        .values(
            status="working",
            next_attempt_at=sa.bindparam("lease_end", type_=UTCDateTime),
            attempts=inbox.c.attempts + 1,
        )
        .returning(inbox.c.id, inbox.c.key, inbox.c.payload, inbox.c.attempts)
    )


_CLAIM_SQLITE = _claim(_DUE_IDS)
_CLAIM_LOCKING = _claim(_DUE_IDS.with_for_update(skip_locked=True))  # others skip, not wait


class InboxQueries(SqlBase):
    async def accept(
        self, key: str, payload: dict[str, Any], now: datetime, lease: timedelta
    ) -> int | None:
        """Store an inbound event once per key, already leased to the caller (who works on it
        right away); its id, or None for a redelivery of a stored one."""
        try:
            async with self._statement() as conn:
                result = await conn.execute(
                    _ACCEPT,
                    {
                        "key": key,
                        "payload": payload,
                        "status": "working",
                        "attempts": 1,
                        "next_attempt_at": now + lease,
                        "created_at": now,
                    },
                )
        except sa.exc.IntegrityError:
            return None
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def claim_inbound(self, now: datetime, limit: int, lease: timedelta) -> list[InboxItem]:
        """Due events (and events whose worker died or hung past its lease), leased to us."""
        claim = _CLAIM_SQLITE if self._sqlite else _CLAIM_LOCKING
        params = {"now": now, "limit": limit, "lease_end": now + lease}
        async with self._statement() as conn:
            rows = sorted(await conn.execute(claim, params), key=lambda row: row.id)
        # RETURNING gives the updated row: attempts already counts this claim.
        return [InboxItem(row.id, row.key, row.payload, row.attempts) for row in rows]

    async def finish_inbound(self, item_id: int, now: datetime) -> None:
        async with self._statement() as conn:
            await conn.execute(_DONE, {"item_id": item_id, "at": now})

    async def release_inbound(
        self, item_id: int, next_attempt_at: datetime, error: str | None = None
    ) -> None:
        """Hand a leased event back, due at `next_attempt_at` (shutdown, or a storage fault)."""
        values: dict[str, Any] = {"status": "pending", "next_attempt_at": next_attempt_at}
        if error is not None:
            values["last_error"] = error[:2000]
        async with self._statement() as conn:
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
