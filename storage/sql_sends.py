"""What every worker must agree on about sending: the chat service's per-sender limit (one
budget, whichever worker sends) and the chat service's ids of live cards (whichever worker
edits one)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.sql_base import SqlBase
from storage.tables import send_windows, sent_refs

_SENT_ID = sa.select(sent_refs.c.message_id).where(sent_refs.c.ref == sa.bindparam("ref"))


def _claim_window(dialect_insert: Callable[[sa.Table], Any]) -> Any:
    """The sender's row, created empty if need be, with its counts. An upsert that changes
    nothing still takes the row's lock on PostgreSQL, so two workers counting the same sender
    run one after the other (SQLite has one writer anyway)."""
    insert = dialect_insert(send_windows)
    return (
        insert.values(sender=sa.bindparam("who"), sent={})
        .on_conflict_do_update(
            index_elements=[send_windows.c.sender], set_={"sender": insert.excluded.sender}
        )
        .returning(send_windows.c.sent)
    )


# Built once: every send runs them (see storage.sql_messages on why that matters).
_CLAIM_WINDOW = {
    "sqlite": _claim_window(sqlite.insert),
    "postgresql": _claim_window(postgresql.insert),
}
_SAVE_WINDOW = (
    send_windows.update()
    .where(send_windows.c.sender == sa.bindparam("who"))
    .values(sent=sa.bindparam("counts", type_=sa.JSON))
)


class SendQueries(SqlBase):
    async def take_send_slot(
        self, sender: str, now: datetime, limit: int, window: timedelta
    ) -> float:
        # Sends are counted per whole second: at most one number per second of the window, so
        # a limit raised to thousands a minute costs no more than 30. A send counts until the
        # end of its second plus the window: up to a second longer than it must, never shorter.
        claim = _CLAIM_WINDOW["sqlite" if self._sqlite else "postgresql"]
        at = now.timestamp()
        second, span = math.floor(at), math.ceil(window.total_seconds())
        async with self._write() as conn:
            stored = (await conn.execute(claim, {"who": sender})).scalar_one()
            counts = {int(s): int(n) for s, n in stored.items() if int(s) >= second - span}
            over = sum(counts.values()) - limit + 1
            if over > 0:
                for counted in sorted(counts):  # slots free as the oldest seconds leave
                    over -= counts[counted]
                    if over <= 0:
                        return max(counted + span + 1 - at, 0.001)
            counts[second] = counts.get(second, 0) + 1
            kept = {str(s): n for s, n in counts.items()}
            await conn.execute(_SAVE_WINDOW, {"who": sender, "counts": kept})
        return 0.0

    async def remember_sent(self, ref: str, message_id: str, now: datetime) -> None:
        insert = (sqlite.insert if self._sqlite else postgresql.insert)(sent_refs)
        async with self._statement() as conn:
            await conn.execute(
                insert.values(ref=ref, message_id=message_id, sent_at=now).on_conflict_do_update(
                    index_elements=[sent_refs.c.ref],
                    set_={"message_id": insert.excluded.message_id, "sent_at": now},
                )
            )

    async def sent_message(self, ref: str) -> str | None:
        async with self._read() as conn:
            found = await conn.scalar(_SENT_ID, {"ref": ref})
        return str(found) if found is not None else None
