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
        # left to SQLite's busy handler they poll with sleeps of up to 100 ms. Other processes
        # on the same file still wait through busy_timeout.
        self._writers = asyncio.Lock()
        row_cache.watch(engine.sync_engine)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with AsyncExitStack() as stack:
            if self._sqlite:
                await stack.enter_async_context(self._writers)
            conn = await stack.enter_async_context(self._engine.connect())
            if self._sqlite:
                # BEGIN IMMEDIATE takes SQLite's write lock up front (see storage.sql).
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
            async with conn.begin():
                yield conn
