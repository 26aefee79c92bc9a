"""Lifetimes of what we keep: OAuth attempts, processed ids, delivered and handled messages,
and everything a person asks us to forget."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.sql_base import SqlBase
from storage.tables import (
    connections,
    group_members,
    inbox,
    local_events,
    oauth_states,
    outbox,
    processed_messages,
    send_windows,
    sent_refs,
    shares,
    users,
    votes,
)


class PrivacyQueries(SqlBase):
    async def delete_oauth_state(self, state: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(oauth_states.delete().where(oauth_states.c.state == state))
        return result.rowcount > 0

    async def message_claimed(self, message_id: str) -> bool:
        """Whether `claim_message(message_id)` was ever won (and not yet purged)."""
        query = sa.select(processed_messages.c.message_id).where(
            processed_messages.c.message_id == message_id
        )
        async with self._read() as conn:
            return (await conn.execute(query)).first() is not None

    async def purge_expired(
        self, oauth_before: datetime, records_before: datetime
    ) -> dict[str, int]:
        """Delete OAuth attempts started before `oauth_before`, and processed ids, delivered
        outbox rows and handled inbox rows older than `records_before`. Parked or pending
        messages are never purged: they are owed to someone."""
        statements = {
            "oauth_states": oauth_states.delete().where(oauth_states.c.created_at < oauth_before),
            "processed_messages": processed_messages.delete().where(
                processed_messages.c.processed_at < records_before
            ),
            "outbox": outbox.delete().where(
                outbox.c.status == "delivered", outbox.c.delivered_at < records_before
            ),
            "inbox": inbox.delete().where(
                inbox.c.status == "done", inbox.c.done_at < records_before
            ),
            "sent_refs": sent_refs.delete().where(sent_refs.c.sent_at < records_before),
        }
        counts: dict[str, int] = {}
        async with self._write() as conn:
            for name, statement in statements.items():
                counts[name] = (await conn.execute(statement)).rowcount
        return counts

    async def forget_user(self, uid: str) -> dict[str, int]:
        """Delete `uid`'s connection (tokens included), OAuth attempts, shares, group
        memberships, votes, local calendar and profile. Bookings stay: they hold what the
        calendar events already hold (who, when, title), and the other person needs them."""
        statements = {
            "connections": connections.delete().where(connections.c.uid == uid),
            "oauth_states": oauth_states.delete().where(oauth_states.c.uid == uid),
            "shares": shares.delete().where(shares.c.sharer_uid == uid),
            "group_members": group_members.delete().where(group_members.c.uid == uid),
            "votes": votes.delete().where(votes.c.uid == uid),
            "local_events": local_events.delete().where(local_events.c.owner_uid == uid),
            "users": users.delete().where(users.c.uid == uid),
            "send_windows": send_windows.delete().where(send_windows.c.sender == uid),
        }
        counts: dict[str, int] = {}
        async with self._write() as conn:
            for name, statement in statements.items():
                counts[name] = (await conn.execute(statement)).rowcount
        return counts

    async def rows_about(self, uid: str) -> int:
        """How many rows still name `uid` outside bookings (what /forget-me must bring to 0)."""
        checks = [
            sa.select(sa.func.count()).select_from(connections).where(connections.c.uid == uid),
            sa.select(sa.func.count()).select_from(oauth_states).where(oauth_states.c.uid == uid),
            sa.select(sa.func.count()).select_from(shares).where(shares.c.sharer_uid == uid),
            sa.select(sa.func.count()).select_from(group_members).where(group_members.c.uid == uid),
            sa.select(sa.func.count()).select_from(votes).where(votes.c.uid == uid),
            sa.select(sa.func.count()).select_from(users).where(users.c.uid == uid),
            sa.select(sa.func.count())
            .select_from(send_windows)
            .where(send_windows.c.sender == uid),
        ]
        async with self._read() as conn:
            return sum([int((await conn.execute(check)).scalar_one()) for check in checks])
