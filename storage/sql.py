"""The Store on SQLAlchemy 2 async: SQLite (aiosqlite, WAL) by default, PostgreSQL (asyncpg)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage import migrate
from storage.records import (
    ACTIVE_BOOKING_STATES,
    Booking,
    Connection,
    LocalEvent,
    NewBooking,
    NewShare,
    OAuthState,
    OutboxItem,
    Share,
    User,
    WorkingHours,
)
from storage.store import SlotTaken
from storage.tables import (
    bookings,
    connection_generations,
    connections,
    local_events,
    oauth_states,
    outbox,
    processed_messages,
    shares,
    users,
)

SQLITE_BUSY_TIMEOUT_MS = 5000


async def open_store(url: str) -> SqlStore:
    """Create the engine, apply migrations, and return a ready store."""
    engine = _create_engine(url)
    await migrate.upgrade(engine)
    return SqlStore(engine)


def _create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's implicit deferred BEGIN can fail with SQLITE_BUSY when a read upgrades to
        # a write; we emit BEGIN ourselves so writers can ask for IMMEDIATE up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            if self._sqlite:
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
            async with conn.begin():
                yield conn

    # Users -------------------------------------------------------------------------------------
    async def get_user(self, uid: str) -> User | None:
        async with self._read() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.uid == uid))).first()
        return _user(row) if row else None

    async def ensure_user(self, uid: str, name: str, default_timezone: str) -> User:
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
        return _user(row)

    async def update_user(
        self,
        uid: str,
        *,
        timezone: str | None = None,
        working_hours: WorkingHours | None = None,
        date_order: str | None = None,
        next_weekday: str | None = None,
    ) -> User:
        values: dict[str, Any] = {}
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
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(connections).where(connections.c.uid == uid))
            ).first()
        return _connection(row) if row else None

    async def set_connection_status(self, uid: str, status: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                connections.update().where(connections.c.uid == uid).values(status=status)
            )

    async def delete_connection(self, uid: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(connections.delete().where(connections.c.uid == uid))
        return result.rowcount > 0

    # Shares ------------------------------------------------------------------------------------
    async def create_share(self, share: NewShare, now: datetime) -> Share:
        share_id = str(uuid.uuid4())
        async with self._write() as conn:
            await conn.execute(
                shares.insert().values(
                    id=share_id,
                    sharer_uid=share.sharer_uid,
                    conversation_type=share.conversation_type,
                    conversation_id=share.conversation_id,
                    receiver_uids=list(share.receiver_uids),
                    window_start=share.window_start,
                    window_end=share.window_end,
                    created_at=now,
                    expires_at=share.expires_at,
                    connection_generation=share.connection_generation,
                )
            )
        created = await self.get_share(share_id)
        assert created is not None
        return created

    async def get_share(self, share_id: str) -> Share | None:
        async with self._read() as conn:
            row = (await conn.execute(sa.select(shares).where(shares.c.id == share_id))).first()
        if row is None:
            return None
        return Share(
            id=row.id,
            sharer_uid=row.sharer_uid,
            conversation_type=row.conversation_type,
            conversation_id=row.conversation_id,
            receiver_uids=tuple(row.receiver_uids),
            window_start=row.window_start,
            window_end=row.window_end,
            created_at=row.created_at,
            expires_at=row.expires_at,
            connection_generation=row.connection_generation,
        )

    # Bookings ----------------------------------------------------------------------------------
    async def hold_booking(self, booking: NewBooking, now: datetime) -> Booking:
        booking_id = str(uuid.uuid4())
        async with self._write() as conn:
            if not self._sqlite:
                # SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a lock
                # per owner because check-then-insert is not safe under READ COMMITTED.
                await conn.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(booking.owner_uid)))
                )
            clash = (
                await conn.execute(
                    sa.select(bookings)
                    .where(
                        bookings.c.owner_uid == booking.owner_uid,
                        bookings.c.status.in_(ACTIVE_BOOKING_STATES),
                        bookings.c.start_utc < booking.end,
                        bookings.c.end_utc > booking.start,
                    )
                    .limit(1)
                )
            ).first()
            if clash is not None:
                raise SlotTaken(_booking(clash))
            await conn.execute(
                bookings.insert().values(
                    id=booking_id,
                    share_id=booking.share_id,
                    owner_uid=booking.owner_uid,
                    booker_uid=booking.booker_uid,
                    start_utc=booking.start,
                    end_utc=booking.end,
                    title=booking.title,
                    status="held",
                    event_id=None,
                    created_at=now,
                    conversation_type=booking.conversation_type,
                    conversation_id=booking.conversation_id,
                )
            )
        held = await self.get_booking(booking_id)
        assert held is not None
        return held

    async def transition_booking(
        self, booking_id: str, from_status: str, to_status: str, event_id: str | None = None
    ) -> bool:
        values: dict[str, Any] = {"status": to_status}
        if event_id is not None:
            values["event_id"] = event_id
        async with self._write() as conn:
            result = await conn.execute(
                bookings.update()
                .where(bookings.c.id == booking_id, bookings.c.status == from_status)
                .values(**values)
            )
        return result.rowcount == 1

    async def confirm_booking(
        self,
        booking_id: str,
        event_id: str,
        messages: Sequence[tuple[str, dict[str, Any]]],
        now: datetime,
    ) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                bookings.update()
                .where(bookings.c.id == booking_id, bookings.c.status == "held")
                .values(status="confirmed", event_id=event_id)
            )
            if result.rowcount != 1:
                return False
            await self._queue(conn, messages, now)
        return True

    async def cancel_booking(
        self, booking_id: str, messages: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                bookings.update()
                .where(bookings.c.id == booking_id, bookings.c.status == "confirmed")
                .values(status="cancelled")
            )
            if result.rowcount != 1:
                return False
            await self._queue(conn, messages, now)
        return True

    async def _queue(
        self, conn: AsyncConnection, messages: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> None:
        for key, payload in messages:
            await conn.execute(
                outbox.insert().values(
                    dedup_key=key,
                    payload=payload,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    async def stale_holds(self, older_than: datetime) -> list[Booking]:
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(bookings)
                .where(bookings.c.status == "held", bookings.c.created_at < older_than)
                .order_by(bookings.c.created_at)
            )
            return [_booking(row) for row in rows]

    async def upcoming_bookings(self, uid: str, now: datetime) -> list[Booking]:
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(bookings)
                .where(
                    sa.or_(bookings.c.owner_uid == uid, bookings.c.booker_uid == uid),
                    bookings.c.status == "confirmed",
                    bookings.c.end_utc > now,
                )
                .order_by(bookings.c.start_utc)
            )
            return [_booking(row) for row in rows]

    async def latest_share(
        self,
        conversation_type: str,
        conversation_id: str,
        now: datetime,
        sharer_uid: str | None = None,
    ) -> Share | None:
        query = (
            sa.select(shares.c.id)
            .where(
                shares.c.conversation_type == conversation_type,
                shares.c.conversation_id == conversation_id,
                shares.c.expires_at > now,
            )
            .order_by(shares.c.created_at.desc())
            .limit(1)
        )
        if sharer_uid is not None:
            query = query.where(shares.c.sharer_uid == sharer_uid)
        async with self._read() as conn:
            share_id = await conn.scalar(query)
        return await self.get_share(share_id) if share_id else None

    async def get_booking(self, booking_id: str) -> Booking | None:
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(bookings).where(bookings.c.id == booking_id))
            ).first()
        return _booking(row) if row else None

    async def active_bookings(
        self, owner_uid: str, start: datetime, end: datetime
    ) -> list[Booking]:
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(bookings)
                .where(
                    bookings.c.owner_uid == owner_uid,
                    bookings.c.status.in_(ACTIVE_BOOKING_STATES),
                    bookings.c.start_utc < end,
                    bookings.c.end_utc > start,
                )
                .order_by(bookings.c.start_utc)
            )
            return [_booking(row) for row in rows]

    # Inbound deduplication ---------------------------------------------------------------------
    async def claim_message(self, message_id: str, now: datetime) -> bool:
        try:
            async with self._write() as conn:
                await conn.execute(
                    processed_messages.insert().values(message_id=message_id, processed_at=now)
                )
        except sa.exc.IntegrityError:
            return False
        return True

    # Outbox ------------------------------------------------------------------------------------
    async def enqueue(self, dedup_key: str, payload: dict[str, Any], now: datetime) -> bool:
        try:
            async with self._write() as conn:
                await conn.execute(
                    outbox.insert().values(
                        dedup_key=dedup_key,
                        payload=payload,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    async def due_messages(self, now: datetime, limit: int) -> list[OutboxItem]:
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(outbox)
                .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
                .order_by(outbox.c.id)
                .limit(limit)
            )
            return [
                OutboxItem(
                    id=row.id,
                    dedup_key=row.dedup_key,
                    payload=row.payload,
                    attempts=row.attempts,
                    next_attempt_at=row.next_attempt_at,
                    status=row.status,
                )
                for row in rows
            ]

    async def mark_delivered(self, item_id: int, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == item_id)
                .values(status="delivered", delivered_at=now, attempts=outbox.c.attempts + 1)
            )

    async def mark_failed(self, item_id: int, next_attempt_at: datetime | None, error: str) -> None:
        values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": error[:2000]}
        if next_attempt_at is None:
            values["status"] = "dead"
        else:
            values["next_attempt_at"] = next_attempt_at
        async with self._write() as conn:
            await conn.execute(outbox.update().where(outbox.c.id == item_id).values(**values))

    async def pending_count(self) -> int:
        async with self._read() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "pending")
            )
        return int(count or 0)

    # Local calendars --------------------------------------------------------------------------
    async def add_local_event(self, event: LocalEvent) -> bool:
        try:
            async with self._write() as conn:
                await conn.execute(
                    local_events.insert().values(
                        owner_uid=event.owner_uid,
                        event_id=event.event_id,
                        title=event.title,
                        start_utc=event.start,
                        end_utc=event.end,
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    async def get_local_event(self, owner_uid: str, event_id: str) -> LocalEvent | None:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(local_events).where(
                        local_events.c.owner_uid == owner_uid, local_events.c.event_id == event_id
                    )
                )
            ).first()
        if row is None:
            return None
        return LocalEvent(row.owner_uid, row.event_id, row.title, row.start_utc, row.end_utc)

    async def delete_local_event(self, owner_uid: str, event_id: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                local_events.delete().where(
                    local_events.c.owner_uid == owner_uid, local_events.c.event_id == event_id
                )
            )
        return result.rowcount > 0

    async def local_busy(
        self, owner_uids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        busy: dict[str, list[tuple[datetime, datetime]]] = {uid: [] for uid in owner_uids}
        if not owner_uids:
            return busy
        async with self._read() as conn:
            rows = await conn.execute(
                sa.select(
                    local_events.c.owner_uid, local_events.c.start_utc, local_events.c.end_utc
                )
                .where(
                    local_events.c.owner_uid.in_(list(owner_uids)),
                    local_events.c.start_utc < end,
                    local_events.c.end_utc > start,
                )
                .order_by(local_events.c.start_utc)
            )
            for row in rows:
                busy[row.owner_uid].append((row.start_utc, row.end_utc))
        return busy

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
        from_status: str,
        to_status: str,
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

    async def close(self) -> None:
        await self._engine.dispose()


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


def _booking(row: Any) -> Booking:
    return Booking(
        id=row.id,
        owner_uid=row.owner_uid,
        booker_uid=row.booker_uid,
        start=row.start_utc,
        end=row.end_utc,
        title=row.title,
        status=row.status,
        share_id=row.share_id,
        event_id=row.event_id,
        created_at=row.created_at,
        conversation_type=row.conversation_type,
        conversation_id=row.conversation_id,
    )
