"""User and connection rows remembered for the length of one command.

A command reads the same people several times (the dispatcher, the handler, the calendar, the
booking); inside one command those reads can share a row. Across commands nothing is kept: another
worker may have changed the row since. Any write to those tables (ours, through this engine)
forgets every remembered row, and a scope closed when its command ends stops answering, so a task
the command started and left running reads the database again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.sql.dml import UpdateBase

CACHED_TABLES = frozenset({"users", "calendar_connections"})
_MISSING = object()


class _Scope:
    __slots__ = ("generation", "open", "rows")

    def __init__(self) -> None:
        self.open = True
        self.generation = 0  # bumped by every forget, so a read that raced a write is not kept
        self.rows: dict[tuple[str, str], Any] = {}


_SCOPE: ContextVar[_Scope | None] = ContextVar("calbot_row_cache", default=None)


@contextmanager
def command_scope() -> Iterator[None]:
    """Rows read inside this block (this task and tasks it starts) may be shared."""
    scope = _Scope()
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        scope.open = False
        scope.rows.clear()
        _SCOPE.reset(token)


def get(table: str, key: str) -> Any:
    """The remembered record, None for a remembered absence, or a value `missing` is true for."""
    scope = _SCOPE.get()
    if scope is None or not scope.open:
        return _MISSING
    return scope.rows.get((table, key), _MISSING)


def generation() -> int:
    """Take this before reading the database; hand it to `put` with what was read."""
    scope = _SCOPE.get()
    return scope.generation if scope is not None else 0


def put(table: str, key: str, record: Any, read_at: int) -> None:
    scope = _SCOPE.get()
    if scope is not None and scope.open and scope.generation == read_at:
        scope.rows[(table, key)] = record


def missing(value: Any) -> bool:
    return value is _MISSING


def forget() -> None:
    scope = _SCOPE.get()
    if scope is not None:
        scope.generation += 1
        scope.rows.clear()


def watch(engine: sa.Engine) -> None:
    """Forget on every statement that may change a cached table (raw SQL counts as one)."""

    @event.listens_for(engine, "before_execute")
    def on_execute(_conn: Any, clause: Any, *_args: Any) -> None:
        if isinstance(clause, UpdateBase):
            if getattr(clause.table, "name", None) in CACHED_TABLES:
                forget()
        elif isinstance(clause, str):
            if not clause.startswith("BEGIN"):  # opening a transaction changes nothing
                forget()
        elif not isinstance(clause, sa.Select):
            forget()  # text or DDL: we cannot tell what it touches
