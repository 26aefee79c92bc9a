"""SQLite in the event loop's own thread: SQLAlchemy Core on the standard sqlite3 driver.

A statement on a local SQLite file takes microseconds. Handing each one to aiosqlite's thread
and waking the loop for its answer cost more than the statement itself: about 40 % of a
command's CPU in issue 20's profile. Here the query code's awaits run the statement at once.

The one long wait SQLite can impose is another process (a second worker, `calbot outbox`)
holding the write lock. The driver is told to wait at most a moment for it; a writer that
still finds the file locked sleeps on the event loop and tries again, so other conversations
keep running meanwhile. Readers in WAL mode do not wait for writers.

This is the part of AsyncEngine and AsyncConnection the store uses, with the same names.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import CoreExecuteOptionsParameter
from sqlalchemy.sql.base import Executable

P = ParamSpec("P")
T = TypeVar("T")

# The driver's own wait for a lock, which blocks the loop: kept to a moment.
DRIVER_WAIT_SECONDS = 0.05
# How long a writer keeps trying, on the loop, before the lock counts as a storage fault.
WRITER_PATIENCE_SECONDS = 5.0
IDLE_CONNECTIONS = 8


class LoopConnection:
    """One connection; `begin()` emits SQLite's BEGIN itself (the driver is in autocommit
    mode), DEFERRED for readers and IMMEDIATE for writers, which take the write lock up front
    instead of failing with SQLITE_BUSY when a read turns into a write."""

    def __init__(self, sync: sa.Connection, begin_mode: str = "DEFERRED") -> None:
        self.sync_connection = sync
        self._begin_mode = begin_mode

    async def execute(
        self,
        statement: Executable,
        parameters: Any = None,
        *,
        execution_options: CoreExecuteOptionsParameter | None = None,
    ) -> sa.CursorResult[Any]:
        return self.sync_connection.execute(
            statement, parameters, execution_options=execution_options
        )

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any:
        return self.sync_connection.scalar(statement, parameters)

    async def scalars(self, statement: Executable, parameters: Any = None) -> sa.ScalarResult[Any]:
        return self.sync_connection.scalars(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> sa.CursorResult[Any]:
        return self.sync_connection.exec_driver_sql(statement, parameters)

    async def run_sync(
        self, fn: Callable[Concatenate[sa.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return fn(self.sync_connection, *args, **kwargs)

    async def execution_options(self, *, sqlite_begin: str) -> LoopConnection:
        """The same connection, whose transactions begin in `sqlite_begin` mode."""
        return LoopConnection(self.sync_connection, sqlite_begin)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[LoopConnection]:
        with await self._begin():
            yield self

    async def _begin(self) -> sa.RootTransaction:
        """BEGIN; a write BEGIN that finds the file locked by another process tries again after
        a short sleep on the loop (doubling up to 0.1 s) for up to WRITER_PATIENCE_SECONDS."""
        deadline = time.monotonic() + WRITER_PATIENCE_SECONDS
        pause = 0.005
        statement = f"BEGIN {self._begin_mode}"
        while True:
            transaction = self.sync_connection.begin()
            try:
                # Straight to the driver: through SQLAlchemy's statement machinery a BEGIN cost
                # more than the rest of a one-row transaction.
                self.sync_connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
                return transaction
            except sqlite3.Error as problem:
                transaction.rollback()
                if "locked" not in str(problem) or time.monotonic() > deadline:
                    # Wrapped as SQLAlchemy wraps driver errors, so a locked or read-only
                    # file reads as a storage fault to callers.
                    raise sa.exc.OperationalError(statement, None, problem) from problem
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)


class LoopEngine:
    def __init__(self, sync_engine: sa.Engine) -> None:
        self.sync_engine = sync_engine
        # Connections between transactions, handed out again: checking one out of a pool for
        # every transaction cost a tenth of a short command. This is the only pool (the engine
        # has none): a pool that ran dry would block the loop's thread, which is the thread
        # that would have given a connection back.
        self._idle: list[sa.Connection] = []

    @property
    def url(self) -> sa.URL:
        return self.sync_engine.url

    @property
    def dialect(self) -> sa.Dialect:
        return self.sync_engine.dialect

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[LoopConnection]:
        sync = self._idle.pop() if self._idle else self.sync_engine.connect()
        try:
            yield LoopConnection(sync)
        except BaseException:
            sync.close()  # whatever went wrong may have left it in a state not worth keeping
            raise
        if sync.in_transaction() or sync.invalidated or len(self._idle) >= IDLE_CONNECTIONS:
            sync.close()
        else:
            self._idle.append(sync)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[LoopConnection]:
        async with self.connect() as conn, conn.begin():
            yield conn

    async def dispose(self) -> None:
        while self._idle:
            self._idle.pop().close()
        self.sync_engine.dispose()


def loop_engine(url: str, **options: Any) -> LoopEngine:
    """`sqlite:///…` or `sqlite+aiosqlite:///…` (the name configurations have always used)."""
    sync_url = sa.make_url(url).set(drivername="sqlite+pysqlite")
    connect_args = {"timeout": DRIVER_WAIT_SECONDS, "check_same_thread": False}
    engine = sa.create_engine(
        sync_url, connect_args=connect_args, poolclass=sa.pool.NullPool, **options
    )
    return LoopEngine(engine)
