"""Group members, /find polls and their votes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Poll, PollStatus
from storage.sql_base import SqlBase
from storage.tables import booking_attendees, group_members, polls, votes

_MEMBER = sa.select(sa.literal(1)).where(
    group_members.c.guid == sa.bindparam("guid"), group_members.c.uid == sa.bindparam("uid")
)


class GroupQueries(SqlBase):
    async def add_group_member(self, guid: str, uid: str) -> None:
        # Every group message names its sender, who is nearly always known already: a read
        # first spares the write transaction (SQLite's write lock, a commit) in that case.
        async with self._read() as conn:
            if await conn.scalar(_MEMBER, {"guid": guid, "uid": uid}):
                return
        async with self._write() as conn:
            # Again under the write lock: another message may have added them meanwhile.
            if not await conn.scalar(_MEMBER, {"guid": guid, "uid": uid}):
                await conn.execute(group_members.insert().values(guid=guid, uid=uid))

    async def remove_group_member(self, guid: str, uid: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                group_members.delete().where(
                    group_members.c.guid == guid, group_members.c.uid == uid
                )
            )
        return result.rowcount > 0

    async def group_members(self, guid: str) -> list[str]:
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(group_members.c.uid)
                .where(group_members.c.guid == guid)
                .order_by(group_members.c.uid)
            )
            return [row.uid for row in rows]

    async def create_poll(
        self,
        guid: str,
        organizer_uid: str,
        title: str,
        slots: Sequence[tuple[datetime, datetime]],
        members: dict[str, bool],
        now: datetime,
        auto: bool = False,
        poll_id: str | None = None,
    ) -> Poll:
        poll_id = poll_id or str(uuid.uuid4())
        # One transaction for the check, the insert and the read back (a /find was three).
        async with self._write() as conn:
            existing = await _read_poll(conn, poll_id)
            if existing is not None:
                return existing  # the same /find re-run after a crash: one poll, not two
            await conn.execute(
                polls.insert().values(
                    id=poll_id,
                    guid=guid,
                    organizer_uid=organizer_uid,
                    title=title,
                    slots=[[s.isoformat(), e.isoformat()] for s, e in slots],
                    members=members,
                    status="open",
                    booking_id=None,
                    created_at=now,
                    auto=auto,
                    outcome="",
                )
            )
            row = (await conn.execute(sa.select(polls).where(polls.c.id == poll_id))).one()
        return _poll(row, {})  # inserted by this very transaction: no vote can exist yet

    async def get_poll(self, poll_id: str) -> Poll | None:
        async with self._read() as conn:
            return await _read_poll(conn, poll_id)

    async def open_polls(self, guid: str) -> list[Poll]:
        async with self._read() as conn:
            ids = list(
                await conn.scalars(
                    sa.select(polls.c.id)
                    .where(polls.c.guid == guid, polls.c.status == "open")
                    .order_by(polls.c.created_at)
                )
            )
        found = [await self.get_poll(poll_id) for poll_id in ids]
        return [poll for poll in found if poll is not None]

    async def cast_vote(self, poll_id: str, slot: int, uid: str, answer: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                votes.delete().where(
                    votes.c.poll_id == poll_id, votes.c.slot == slot, votes.c.uid == uid
                )
            )
            await conn.execute(
                votes.insert().values(poll_id=poll_id, slot=slot, uid=uid, answer=answer)
            )

    async def set_poll_members(self, poll_id: str, members: dict[str, bool]) -> None:
        async with self._write() as conn:
            await conn.execute(polls.update().where(polls.c.id == poll_id).values(members=members))

    async def set_poll_outcome(self, poll_id: str, outcome: str) -> bool:
        """Record `outcome`; False when it was already the recorded one (nothing to announce)."""
        async with self._write() as conn:
            result = await conn.execute(
                polls.update()
                .where(polls.c.id == poll_id, polls.c.outcome != outcome)
                .values(outcome=outcome[:200])
            )
        return result.rowcount == 1

    async def add_attendees(self, booking_id: str, uids: Sequence[str]) -> None:
        async with self._write() as conn:
            for uid in dict.fromkeys(uids):
                await conn.execute(
                    booking_attendees.insert().values(
                        booking_id=booking_id, uid=uid, status="attending"
                    )
                )

    async def attendees(self, booking_id: str) -> dict[str, str]:
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(booking_attendees.c.uid, booking_attendees.c.status).where(
                    booking_attendees.c.booking_id == booking_id
                )
            )
            return {row.uid: row.status for row in rows}

    async def decline_attendance(self, booking_id: str, uid: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                booking_attendees.update()
                .where(
                    booking_attendees.c.booking_id == booking_id,
                    booking_attendees.c.uid == uid,
                    booking_attendees.c.status == "attending",
                )
                .values(status="declined")
            )
        return result.rowcount == 1

    async def transition_poll(
        self,
        poll_id: str,
        from_status: PollStatus,
        to_status: PollStatus,
        booking_id: str | None = None,
    ) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                polls.update()
                .where(polls.c.id == poll_id, polls.c.status == from_status)
                .values(status=to_status, booking_id=booking_id)
            )
        return result.rowcount == 1


async def _read_poll(conn: AsyncConnection, poll_id: str) -> Poll | None:
    row = (await conn.execute(sa.select(polls).where(polls.c.id == poll_id))).first()
    if row is None:
        return None
    cast = await conn.execute(sa.select(votes).where(votes.c.poll_id == poll_id))
    return _poll(row, {(v.slot, v.uid): v.answer for v in cast})


def _poll(row: Any, cast: dict[tuple[int, str], str]) -> Poll:
    slots = tuple((datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in row.slots)
    return Poll(
        id=row.id,
        guid=row.guid,
        organizer_uid=row.organizer_uid,
        title=row.title,
        slots=slots,
        members=dict(row.members),
        votes=cast,
        status=row.status,
        booking_id=row.booking_id,
        created_at=row.created_at,
        auto=bool(row.auto),
        outcome=row.outcome or "",
    )
