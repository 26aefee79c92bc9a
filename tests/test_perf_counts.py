"""What a command costs the database, counted (counts are stable; timings are not): a change that
adds a statement or a transaction to /help, /share or /book fails here, with the statements."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import storage.sql
from bot.core.inbox import Inbox
from bot.core.messages import Conversation, IncomingMessage, Sender
from storage import SqlStore, open_store, row_cache
from tests.chat import BOT_UID, Chat, meet
from tests.conftest import _admin, _fresh_store
from tests.fakes import FrozenClock

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday


@dataclass
class Counter:
    """Statements sent to the driver and transactions begun, through SQLAlchemy's events."""

    statements: list[str] = field(default_factory=list)
    transactions: int = 0

    def summary(self) -> str:
        return "\n".join(" ".join(s.split())[:100] for s in self.statements)


@contextmanager
def counting(store: SqlStore) -> Iterator[Counter]:
    engine = store._engine.sync_engine
    counter = Counter()

    def on_statement(*args: Any) -> None:
        statement = args[2]
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN is ours (storage.sql); PG's isn't
            counter.statements.append(statement)

    def on_begin(_conn: Any) -> None:
        counter.transactions += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "begin", on_begin)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "begin", on_begin)


class Worker:
    """The production path of one command: accepted into the inbox, run, marked done, and its
    replies delivered by the outbox."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.inbox = Inbox(chat.store, self._run, chat.clock)
        self._ids = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:8]  # several workers on one store never share an id

    async def _run(self, event: Any) -> None:
        await self.chat.dispatcher.dispatch(event, deduplicated=True)

    async def say(self, text: str, sender: str) -> list[str]:
        before = len(self.chat.sent)
        message = IncomingMessage(
            id=f"{self._prefix}-{next(self._ids)}",
            sender=Sender(sender, sender.capitalize()),
            conversation=Conversation("user", BOT_UID),
            text=text,
            sent_at=self.chat.clock.now(),
        )
        item = await self.inbox.accept(message)
        assert item is not None
        await self.inbox.process(item)
        # A pass of the relay loop: a reply this process queued is sent from memory, and the
        # table is read after a wake() (rows a booking queued); its read once a second for
        # retries is no command's (the infinite period leaves it out).
        await self.chat.services.outbox.relay_pass(poll_seconds=float("inf"))
        return [m.text for m in self.chat.sent[before:]]


@pytest.fixture
async def worker(store: SqlStore) -> Worker:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    return Worker(Chat(store, FrozenClock(NOW)))


# (statements, transactions) per command, inbox and outbox included. Lower them when you cut
# work; raise them only for work the command must now do (and say why in the commit).
EXPECTED = {
    "/help": (5, 5),
    "/share @bob": (11, 11),
    "/book @alice tomorrow 4pm for 30 min": (21, 15),
}


async def test_statements_per_command_stay_where_they_are(worker: Worker, store: SqlStore) -> None:
    seen = {}
    await worker.say("/share @bob", "alice")  # /book needs a share; counted on a second run
    for text, sender in [
        ("/help", "bob"),
        ("/share @bob", "alice"),
        ("/book @alice tomorrow 4pm for 30 min", "bob"),
    ]:
        with counting(store) as counter:
            replies = await worker.say(text, sender)
        assert replies and "went wrong" not in replies[-1], (text, replies)
        seen[text] = (len(counter.statements), counter.transactions)
        assert seen[text] == EXPECTED[text], f"{text}:\n{counter.summary()}"
    assert replies[-1].startswith("Booked"), replies


async def test_a_repeated_command_costs_the_same(worker: Worker, store: SqlStore) -> None:
    await worker.say("/help", "bob")  # the relay's first pass also reads what a past run left
    counts = []
    for _ in range(3):
        with counting(store) as counter:
            await worker.say("/help", "bob")
        counts.append((len(counter.statements), counter.transactions))
    assert counts == [EXPECTED["/help"]] * 3


async def test_rows_are_shared_inside_one_command_only(worker: Worker, store: SqlStore) -> None:
    """Another worker's change to a person shows in the next command; our own write shows at
    once inside the command that made it."""
    await worker.say("/help", "bob")
    other = await open_store(store._engine.url.render_as_string(hide_password=False))
    try:
        await other.update_user("bob", timezone="Asia/Tokyo")  # another process
    finally:
        await other.close()
    with row_cache.command_scope():
        before = await store.get_user("bob")
        assert before is not None and before.timezone == "Asia/Tokyo"
        with counting(store) as counter:
            assert await store.get_user("bob") == before
        assert counter.statements == []
        await store.update_user("bob", timezone="Europe/Paris")
        after = await store.get_user("bob")
        assert after is not None and after.timezone == "Europe/Paris"
        await store.delete_connection("bob")
        assert await store.get_connection("bob") is None
    with counting(store) as counter:
        await store.get_user("bob")
    assert len(counter.statements) == 1  # outside a command nothing is remembered


async def test_sqlite_runs_wal_with_normal_sync(store: SqlStore) -> None:
    async with store._engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 1  # NORMAL


async def test_postgres_idle_connection_killed_under_the_pool_is_replaced(
    postgres_database: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No pre-ping on busy connections; an idle one is pinged, and a dead one replaced."""
    if postgres_database is None:
        pytest.skip("needs PostgreSQL: set CALBOT_TEST_POSTGRES_URL")
    store = await _fresh_store(postgres_database)
    try:
        dialect = store._engine.sync_engine.dialect
        pings: list[bool] = []
        real_ping = dialect.do_ping

        def ping(dbapi_connection: Any) -> bool:
            pings.append(False)  # until it answers
            pings[-1] = real_ping(dbapi_connection)
            return pings[-1]

        monkeypatch.setattr(dialect, "do_ping", ping)
        await store.ensure_user("alice", "Alice", "UTC")
        await store.get_user("alice")
        assert pings == []  # a connection in use is not pinged before every transaction
        async with store._engine.connect() as conn:
            pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar()
        await _admin(postgres_database, f"SELECT pg_terminate_backend({int(pid or 0)})")
        monkeypatch.setattr(storage.sql, "PING_IDLE_SECONDS", 0.0)
        user = await store.get_user("alice")
        assert user is not None and user.name == "Alice"
        assert pings[:1] == [False]  # the dead one was found and replaced, not handed to us
    finally:
        await store.close()
