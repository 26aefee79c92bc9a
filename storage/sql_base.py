"""The shared part of the SQL store: an engine, and read/write transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import row_cache


class SqlBase:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time. Queueing our own writers here is fair and prompt;
        # other processes on the same file are waited for in storage.loop_engine.
        self._writers = asyncio.Lock()
        # PostgreSQL runs a single statement atomically without BEGIN and COMMIT: two round
        # trips (and their CPU) fewer. Its READ COMMITTED reads see a snapshot per statement
        # even inside a transaction, so reads lose nothing by it either.
        self._autocommit = (
            None if self._sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        row_cache.watch(engine.sync_engine)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        # SQLite: one snapshot for every statement of the read.
        context = self._engine.begin() if self._autocommit is None else self._autocommit.connect()
        async with context as conn:
            yield conn

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[AsyncConnection]:
        """One write statement, atomic by itself (several statements need `_write`)."""
        context = self._write() if self._autocommit is None else self._autocommit.connect()
        async with context as conn:
            yield conn

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with AsyncExitStack() as stack:
            if self._sqlite:
                await stack.enter_async_context(self._writers)
            conn = await stack.enter_async_context(self._engine.connect())
            if self._sqlite:
                # BEGIN IMMEDIATE takes SQLite's write lock up front (storage.loop_engine).
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
            async with conn.begin():
                yield conn
