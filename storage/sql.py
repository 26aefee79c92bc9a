"""The Store on SQLAlchemy 2: SQLite (WAL, the sqlite3 driver in the loop's thread) by default,
PostgreSQL (asyncpg).

One class assembled from focused query mixins; each mixin owns a few tables.
"""

from __future__ import annotations

import time
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import migrate
from storage.loop_engine import DRIVER_WAIT_SECONDS, loop_engine
from storage.sql_bookings import BookingQueries
from storage.sql_groups import GroupQueries
from storage.sql_inbox import InboxQueries
from storage.sql_messages import MessageQueries
from storage.sql_moves import MoveQueries
from storage.sql_people import PeopleQueries
from storage.sql_privacy import PrivacyQueries
from storage.sql_revocations import RevocationQueries
from storage.sql_sends import SendQueries

# A pooled PostgreSQL connection idle longer than this is pinged before use (a restart or an idle
# timeout may have closed it); busy connections skip the round trip pool_pre_ping would add to
# every transaction. One that dies unseen fails its statement, which the inbox runs again.
PING_IDLE_SECONDS = 10.0


async def open_store(url: str) -> SqlStore:
    """Create the engine, apply migrations, and return a ready store."""
    engine = _create_engine(url)
    await migrate.upgrade(engine)
    return SqlStore(engine)


def _create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # The store's query code is written against AsyncEngine; LoopEngine is the part of it
        # the store uses (storage.loop_engine), so it stands in under that type.
        engine = cast(
            AsyncEngine,
            loop_engine(
                url,
                # Bound values (OAuth states, verifiers, sealed tokens) stay out of
                # SQLAlchemy's logs and out of its exceptions' text, which reach our tracebacks.
                hide_parameters=True,
                # Every transaction is opened and ended by storage.sql_base, so the pool's
                # rollback-on-return would be a wasted statement.
                pool_reset_on_return=None,
            ),
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=10, hide_parameters=True)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as problem:
            raise DisconnectionError(str(problem)) from problem
        if not alive:
            # The pool drops this connection and checks out another (a fresh one if need be).
            raise DisconnectionError("connection closed while idle")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's implicit deferred BEGIN can fail with SQLITE_BUSY when a read upgrades to
        # a write; storage.loop_engine emits BEGIN itself, IMMEDIATE for writers.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL stays consistent after a crash; only a power cut can take the
        # last commits back, and it saves an fsync per transaction.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(DRIVER_WAIT_SECONDS * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class SqlStore(
    PeopleQueries,
    BookingQueries,
    MoveQueries,
    MessageQueries,
    GroupQueries,
    InboxQueries,
    PrivacyQueries,
    RevocationQueries,
    SendQueries,
):
    async def close(self) -> None:
        await self._engine.dispose()
