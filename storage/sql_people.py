"""Users, their calendar connections, and OAuth attempts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from storage import row_cache
from storage.records import (
    Connection,
    ConnectionStatus,
    Limits,
    OAuthState,
    OAuthStatus,
    User,
    WorkingHours,
)
from storage.sql_base import SqlBase
from storage.tables import (
    connection_generations,
    connections,
    oauth_states,
    users,
)

Row = TypeVar("Row")


def _by_uid(table: sa.Table) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """One row by uid, and many: built once (building a statement per read cost more CPU
    than running it on SQLite)."""
    one = table.select().where(table.c.uid == sa.bindparam("uid"))
    many = table.select().where(table.c.uid.in_(sa.bindparam("uids", expanding=True)))
    return one, many


_READS = {users.name: _by_uid(users), connections.name: _by_uid(connections)}


class PeopleQueries(SqlBase):
    # Users -------------------------------------------------------------------------------------
    async def get_user(self, uid: str) -> User | None:
        return (await self._rows(users, [uid], _user)).get(uid)

    async def get_users(self, uids: Sequence[str]) -> dict[str, User]:
        return await self._rows(users, uids, _user)

    async def ensure_user(self, uid: str, name: str, default_timezone: str) -> User:
        # Every message calls this; the common case (known user, same name) needs no write.
        known = await self.get_user(uid)
        if known is not None and (not name or known.name == name):
            return known
        async with self._write() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.uid == uid))).first()
            if row is None:
                hours = WorkingHours()
                await conn.execute(
                    users.insert().values(
                        uid=uid,
                        name=name,
                        timezone=default_timezone,
                        work_start_minute=hours.start_minute,
                        work_end_minute=hours.end_minute,
                        work_weekdays="".join(str(d) for d in hours.weekdays),
                        date_order="MDY",
                        next_weekday="next_week",
                        created_at=datetime.now(UTC),
                    )
                )
            elif name and row.name != name:
                await conn.execute(users.update().where(users.c.uid == uid).values(name=name))
            row = (await conn.execute(sa.select(users).where(users.c.uid == uid))).one()
        user = _user(row)
        row_cache.put("users", uid, user, row_cache.generation())  # read after our write
        return user

    async def update_user(
        self,
        uid: str,
        *,
        timezone: str | None = None,
        working_hours: WorkingHours | None = None,
        date_order: str | None = None,
        next_weekday: str | None = None,
        reminders: tuple[int, ...] | None = None,
        limits: Limits | None = None,
        language: str | None = None,
    ) -> User:
        values: dict[str, Any] = {}
        if language is not None:
            values["language"] = language
        if reminders is not None:
            values["reminders"] = ",".join(str(m) for m in reminders)
        if limits is not None:
            values["daily_limit"] = limits.daily
            values["buffer_before"] = limits.before
            values["buffer_after"] = limits.after
        if timezone is not None:
            values["timezone"] = timezone
        if working_hours is not None:
            values["work_start_minute"] = working_hours.start_minute
            values["work_end_minute"] = working_hours.end_minute
            values["work_weekdays"] = "".join(str(d) for d in working_hours.weekdays)
        if date_order is not None:
            values["date_order"] = date_order
        if next_weekday is not None:
            values["next_weekday"] = next_weekday
        async with self._write() as conn:
            if values:
                await conn.execute(users.update().where(users.c.uid == uid).values(**values))
            row = (await conn.execute(sa.select(users).where(users.c.uid == uid))).first()
        if row is None:
            raise KeyError(f"no user {uid!r}")
        return _user(row)

    # Connections -------------------------------------------------------------------------------
    async def save_connection(
        self, uid: str, provider: str, account: str, token: bytes | None
    ) -> Connection:
        async with self._write() as conn:
            gen_row = (
                await conn.execute(
                    sa.select(connection_generations.c.generation).where(
                        connection_generations.c.uid == uid
                    )
                )
            ).first()
            generation = (gen_row.generation if gen_row else 0) + 1
            if gen_row:
                await conn.execute(
                    connection_generations.update()
                    .where(connection_generations.c.uid == uid)
                    .values(generation=generation)
                )
            else:
                await conn.execute(
                    connection_generations.insert().values(uid=uid, generation=generation)
                )
            await conn.execute(connections.delete().where(connections.c.uid == uid))
            await conn.execute(
                connections.insert().values(
                    uid=uid,
                    provider=provider,
                    account=account,
                    token=token,
                    status="active",
                    generation=generation,
                    connected_at=datetime.now(UTC),
                )
            )
            row = (await conn.execute(sa.select(connections).where(connections.c.uid == uid))).one()
        return _connection(row)

    async def get_connection(self, uid: str) -> Connection | None:
        return (await self._rows(connections, [uid], _connection)).get(uid)

    async def get_connections(self, uids: Sequence[str]) -> dict[str, Connection]:
        return await self._rows(connections, uids, _connection)

    async def swap_connection_token(self, uid: str, expected: bytes, token: bytes) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                connections.update()
                .where(connections.c.uid == uid, connections.c.token == expected)
                .values(token=token)
            )
        return bool(result.rowcount == 1)

    async def update_connection_token(
        self, uid: str, update: Callable[[bytes], Awaitable[bytes | None]]
    ) -> bool:
        if self._sqlite:
            # One worker per SQLite file: the caller's own lock serializes; holding SQLite's
            # write lock across a network call would stall every other writer.
            while True:
                found = await self.get_connection(uid)
                if found is None or found.token is None:
                    return False
                token = await update(found.token)
                if token is None or await self.swap_connection_token(uid, found.token, token):
                    return True  # else someone (a /calendars choice) changed it: again
        async with self._engine.connect() as conn, conn.begin():
            locked = sa.select(connections.c.token).where(connections.c.uid == uid)
            current = (await conn.execute(locked.with_for_update())).scalar()
            if current is None:
                return False
            token = await update(current)
            if token is not None:
                await conn.execute(
                    connections.update().where(connections.c.uid == uid).values(token=token)
                )
        return True

    async def set_connection_status(self, uid: str, status: ConnectionStatus) -> None:
        async with self._write() as conn:
            await conn.execute(
                connections.update().where(connections.c.uid == uid).values(status=status)
            )

    async def delete_connection(self, uid: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(connections.delete().where(connections.c.uid == uid))
        return result.rowcount > 0

    # OAuth attempts -----------------------------------------------------------------------------
    async def create_oauth_state(self, state: OAuthState) -> None:
        async with self._write() as conn:
            await conn.execute(
                oauth_states.insert().values(
                    state=state.state,
                    uid=state.uid,
                    verifier=state.verifier,
                    browser_hash=state.browser_hash,
                    status=state.status,
                    account=state.account,
                    sealed=state.sealed,
                    created_at=state.created_at,
                )
            )

    async def get_oauth_state(self, state: str) -> OAuthState | None:
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(oauth_states).where(oauth_states.c.state == state))
            ).first()
        if row is None:
            return None
        return OAuthState(
            row.state,
            row.uid,
            row.verifier,
            row.browser_hash,
            row.status,
            row.account,
            row.sealed,
            row.created_at,
        )

    async def advance_oauth_state(
        self,
        state: str,
        from_status: OAuthStatus,
        to_status: OAuthStatus,
        *,
        account: str | None = None,
        sealed: bytes | None = None,
    ) -> bool:
        values: dict[str, Any] = {"status": to_status}
        if account is not None:
            values["account"] = account
        if sealed is not None:
            values["sealed"] = sealed
        async with self._write() as conn:
            result = await conn.execute(
                oauth_states.update()
                .where(oauth_states.c.state == state, oauth_states.c.status == from_status)
                .values(**values)
            )
        return result.rowcount == 1

    # Rows by uid, shared inside one command ----------------------------------------------------
    async def _rows(
        self, table: sa.Table, uids: Sequence[str], record: Callable[[Any], Row]
    ) -> dict[str, Row]:
        """Records by uid, in the order asked, those missing left out: rows this command
        already read are shared (absences too), the rest come in one query."""
        found: dict[str, Row] = {}
        wanted = []
        for uid in dict.fromkeys(uids):
            cached = row_cache.get(table.name, uid)
            if row_cache.missing(cached):
                wanted.append(uid)
            elif cached is not None:
                found[uid] = cached
        if wanted:
            read_at = row_cache.generation()
            # One person (every command's sender) keeps the plain equality: no IN list to expand.
            one, many = _READS[table.name]
            query, params = (
                (one, {"uid": wanted[0]}) if len(wanted) == 1 else (many, {"uids": wanted})
            )
            async with self._read() as conn:
                read = {row.uid: record(row) for row in await conn.execute(query, params)}
            for uid in wanted:
                row_cache.put(table.name, uid, read.get(uid), read_at)
            found.update(read)
        return {uid: found[uid] for uid in uids if uid in found}


def _user(row: Any) -> User:
    return User(
        uid=row.uid,
        name=row.name,
        timezone=row.timezone,
        working_hours=WorkingHours(
            start_minute=row.work_start_minute,
            end_minute=row.work_end_minute,
            weekdays=tuple(int(d) for d in row.work_weekdays),
        ),
        date_order=row.date_order,
        next_weekday=row.next_weekday,
        reminders=tuple(int(m) for m in row.reminders.split(",") if m),
        limits=Limits(row.daily_limit, row.buffer_before, row.buffer_after),
        language=row.language,
    )


def _connection(row: Any) -> Connection:
    return Connection(
        uid=row.uid,
        provider=row.provider,
        account=row.account,
        token=row.token,
        status=row.status,
        generation=row.generation,
        connected_at=row.connected_at,
    )
