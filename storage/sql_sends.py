"""The chat service's per-sender send limit, counted in the database so that every worker
sending for the same person draws on one budget."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite

from storage.sql_base import SqlBase
from storage.tables import send_windows


class SendQueries(SqlBase):
    async def take_send_slot(
        self, sender: str, now: datetime, limit: int, window: timedelta
    ) -> float:
        # Sends are counted per whole second: at most one number per second of the window, so
        # a limit raised to thousands a minute costs no more than 30. A send counts until the
        # end of its second plus the window: up to a second longer than it must, never shorter.
        insert = (sqlite.insert if self._sqlite else postgresql.insert)(send_windows)
        # An upsert that changes nothing still takes the row's lock on PostgreSQL, so two
        # workers counting the same sender run one after the other (SQLite has one writer).
        claim = (
            insert.values(sender=sender, sent={})
            .on_conflict_do_update(
                index_elements=[send_windows.c.sender],
                set_={"sender": insert.excluded.sender},
            )
            .returning(send_windows.c.sent)
        )
        at = now.timestamp()
        second, span = math.floor(at), math.ceil(window.total_seconds())
        async with self._write() as conn:
            stored = (await conn.execute(claim)).scalar_one()
            counts = {int(s): int(n) for s, n in stored.items() if int(s) >= second - span}
            over = sum(counts.values()) - limit + 1
            if over > 0:
                for counted in sorted(counts):  # slots free as the oldest seconds leave
                    over -= counts[counted]
                    if over <= 0:
                        return max(counted + span + 1 - at, 0.001)
            counts[second] = counts.get(second, 0) + 1
            await conn.execute(
                send_windows.update()
                .where(send_windows.c.sender == sender)
                .values(sent={str(s): n for s, n in counts.items()})
            )
        return 0.0
