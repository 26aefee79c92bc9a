"""SQLite runs in the event loop's thread: a file locked by another process (a second worker,
`calbot outbox`) is waited out on the loop, never in the driver, and a lock that outlasts our
patience is a storage fault (503 and retry), not a hang."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import SqlStore, is_storage_fault, loop_engine, open_store


@pytest.fixture
async def file_store(tmp_path: Path) -> SqlStore:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'calbot.db'}")
    await store.ensure_user("alice", "Alice", "UTC")
    return store


async def test_a_writer_waits_for_another_process_without_stopping_the_loop(
    file_store: SqlStore, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "calbot.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())
    write = asyncio.create_task(file_store.update_user("alice", timezone="Europe/Berlin"))
    await asyncio.sleep(0.4)
    assert not write.done(), "the write must wait for the lock"
    assert ticks >= 10, f"the loop ran {ticks} ticks in 0.4 s: it was blocked"
    # Reads are not held up by the writer in WAL mode.
    assert (await file_store.get_user("alice")) is not None
    other.execute("COMMIT")
    await asyncio.wait_for(write, 2)
    running.cancel()
    other.close()
    user = await file_store.get_user("alice")
    assert user is not None and user.timezone == "Europe/Berlin"
    await file_store.close()


async def test_a_lock_held_past_our_patience_is_a_storage_fault(
    file_store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loop_engine, "WRITER_PATIENCE_SECONDS", 0.3)
    other = sqlite3.connect(tmp_path / "calbot.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Exception) as refused:
            await file_store.update_user("alice", timezone="Europe/Berlin")
        assert is_storage_fault(refused.value), repr(refused.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Once the lock is gone the same store writes again, no restart needed.
    await file_store.update_user("alice", timezone="Europe/Berlin")
    user = await file_store.get_user("alice")
    assert user is not None and user.timezone == "Europe/Berlin"
    await file_store.close()


async def test_many_transactions_open_at_once_never_wait_for_a_pool(tmp_path: Path) -> None:
    """A connection pool that ran dry would block the loop's thread, the very thread that
    would give a connection back: the engine opens what it needs and keeps a few idle."""
    engine = loop_engine.loop_engine(f"sqlite:///{tmp_path / 'many.db'}")

    async def hold(n: int) -> int:
        async with engine.connect() as conn, conn.begin():
            await asyncio.sleep(0.05)  # every one of them open at the same time
            return int(await conn.scalar(sa.select(sa.literal(n))))

    try:
        results = await asyncio.wait_for(asyncio.gather(*(hold(n) for n in range(40))), 10)
    finally:
        await engine.dispose()
    assert results == list(range(40))
