"""Users, their calendar connections, and OAuth attempts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

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


class PeopleQueries(SqlBase):
    # Users -------------------------------------------------------------------------------------
    async def get_user(self, uid: str) -> User | None:
        cached = row_cache.get("users", uid)
        if not row_cache.missing(cached):
            return cast(User | None, cached)
        read_at = row_cache.generation()
        async with self._read() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.uid == uid))).first()
        user = _user(row) if row else None
        row_cache.put("users", uid, user, read_at)
        return user

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
        cached = row_cache.get("calendar_connections", uid)
        if not row_cache.missing(cached):
            return cast(Connection | None, cached)
        read_at = row_cache.generation()
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(connections).where(connections.c.uid == uid))
            ).first()
        found = _connection(row) if row else None
        row_cache.put("calendar_connections", uid, found, read_at)
        return found

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
