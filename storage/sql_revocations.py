"""Revocations a provider did not confirm: kept sealed and retried, so a disconnect or
/forget-me never leaves a live grant behind just because the provider was down once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.records import Connection
from storage.sql_base import SqlBase
from storage.tables import revocations


class RevocationQueries(SqlBase):
    async def queue_revocation(self, connection: Connection, now: datetime) -> None:
        if connection.token is None:
            return  # nothing was granted, nothing to give back
        async with self._write() as conn:
            await conn.execute(
                revocations.insert().values(
                    uid=connection.uid,
                    provider=connection.provider,
                    account=connection.account,
                    token=connection.token,
                    generation=connection.generation,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    async def due_revocations(
        self, now: datetime, limit: int = 50
    ) -> list[tuple[int, int, Connection]]:
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    sa.select(revocations)
                    .where(revocations.c.next_attempt_at <= now)
                    .order_by(revocations.c.next_attempt_at)
                    .limit(limit)
                )
            ).all()
        return [
            (
                row.id,
                row.attempts,
                Connection(
                    uid=row.uid,
                    provider=row.provider,
                    account=row.account,
                    token=row.token,
                    status="needs_reconnect",  # a retired grant, never used for anything else
                    generation=row.generation,
                    connected_at=row.created_at,
                ),
            )
            for row in rows
        ]

    async def finish_revocation(self, revocation_id: int) -> None:
        async with self._write() as conn:
            await conn.execute(revocations.delete().where(revocations.c.id == revocation_id))

    async def retry_revocation(self, revocation_id: int, next_attempt_at: datetime) -> None:
        """Count a failed attempt and set the next."""
        async with self._write() as conn:
            await conn.execute(
                revocations.update()
                .where(revocations.c.id == revocation_id)
                .values(attempts=revocations.c.attempts + 1, next_attempt_at=next_attempt_at)
            )
