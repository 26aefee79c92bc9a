"""The chat service's per-sender send limit, counted in the database so that every worker
sending for the same person draws on one budget."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite

from storage.sql_base import SqlBase
from storage.tables import send_windows


class SendQueries(SqlBase):
    async def take_send_slot(
        self, sender: str, now: datetime, limit: int, window: timedelta
    ) -> float:
        insert = (sqlite.insert if self._sqlite else postgresql.insert)(send_windows)
        # An upsert that changes nothing still takes the row's lock on PostgreSQL, so two
        # workers counting the same sender run one after the other (SQLite has one writer).
        claim = (
            insert.values(sender=sender, sent=[])
            .on_conflict_do_update(
                index_elements=[send_windows.c.sender],
                set_={"sender": insert.excluded.sender},
            )
            .returning(send_windows.c.sent)
        )
        at = now.timestamp()
        since = at - window.total_seconds()
        async with self._write() as conn:
            sent = sorted(t for t in (await conn.execute(claim)).scalar_one() if t > since)
            if len(sent) >= limit:
                # The oldest send in the window leaves it first; one slot frees then.
                return max(float(sent[-limit]) - since, 0.001)
            sent.append(at)
            await conn.execute(
                send_windows.update()
                .where(send_windows.c.sender == sender)
                .values(sent=sent[-limit:])
            )
        return 0.0
