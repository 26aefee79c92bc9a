from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port

from bot.core.runtime import RUNTIME, Runtime
from bot.serve import build_demo_app, demo_config
from storage import SqlStore, open_store
from tests.chat import Chat
from tests.fakes import FrozenClock

POSTGRES_ENV = "CALBOT_TEST_POSTGRES_URL"
# Tue 24 Nov 2026, 10:00 in New York: the reference moment of the parsing conventions.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV)


@pytest.fixture(scope="session")
def postgres_database(postgres_url: str | None) -> Iterator[str | None]:
    """A fresh database for this test session on the server named by CALBOT_TEST_POSTGRES_URL."""
    if not postgres_url:
        yield None
        return
    name = f"calbot_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{name}"'))
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, statement: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(sa.text(statement))
    await engine.dispose()


async def _fresh_store(url: str) -> SqlStore:
    store = await open_store(url)
    if not url.startswith("sqlite"):
        import sqlalchemy as sa

        from storage.tables import metadata

        async with store._engine.begin() as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY"))
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None
) -> AsyncIterator[SqlStore]:
    """The contract suite runs once per backend; PostgreSQL only when its URL is given."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'calbot.db'}"
    elif postgres_database is None:
        pytest.skip(
            f"PostgreSQL contract run needs {POSTGRES_ENV} (e.g. "
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    else:
        url = postgres_database
    store = await _fresh_store(url)
    yield store
    await store.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'calbot.db'}")
    yield store
    await store.close()


@pytest.fixture
async def chat(store: SqlStore, clock: FrozenClock) -> Chat:
    return Chat(store, clock)


SECRET_MARKERS = (
    re.compile(r"[?&](?:t|code|state)=(?!\[redacted\])[^&\s\"']{6,}"),  # capability tokens, OAuth
    re.compile(r"\bya29\.\w"),  # Google access tokens
    re.compile(r"\b1//rt-"),  # Google refresh tokens (the fake's format)
    re.compile(r"\b(?:Bearer|Basic) (?!\[redacted\])[A-Za-z0-9+/=._-]{8,}"),
    re.compile(r"test-secret-key-that-is-long-enough|hook-pass|csecret"),
    re.compile(r"\b(?:google|microsoft)\.[A-Za-z0-9_-]{40,}"),  # OAuth states as we mint them
    re.compile(r"gAAAAA[A-Za-z0-9_-]{20,}"),  # Fernet-sealed tokens
    re.compile(r"functools\.partial\(.*, \("),  # a driver call printed with its parameters
)


def leaked_secrets(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    """What the production formatter would print that matches a secret marker: messages,
    tracebacks and stack info alike (a plain-text traceback is rendered only when formatted)."""
    from bot.core.logs import RedactingFormatter

    formatter = RedactingFormatter("%(name)s: %(message)s")
    leaks = []
    for record in records:
        printed = formatter.format(record)
        leaks += [(record.name, printed[:200]) for m in SECRET_MARKERS if m.search(printed)]
    return leaks


@pytest.fixture(autouse=True)
def no_secrets_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The whole suite runs with DEBUG logging, SQL drivers' statement logs included, on
    SQLite and (with CALBOT_TEST_POSTGRES_URL) PostgreSQL; no record may carry a secret (PR-4)."""
    from bot.core.logs import SQL_LOGGERS, install_redaction

    install_redaction()
    caplog.set_level(logging.DEBUG)
    for name in SQL_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    # A test that runs the CLI in process reconfigures logging (basicConfig(force=True) with a
    # handler on the captured stderr); give the next test the root logger it had.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    # At teardown caplog.records holds only teardown records; check every phase.
    records = [r for phase in ("setup", "call", "teardown") for r in caplog.get_records(phase)]
    leaks = leaked_secrets(records)
    assert not leaks, f"secrets in logs: {leaks}"


CHROMIUM = Path("/usr/bin/chromium")
# The machine's network is closed: without these Chromium keeps trying to reach Google.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not await asyncio.to_thread(CHROMIUM.exists):
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[str, Runtime]]:
    """`calbot demo` served on a free local port: its address and its runtime."""
    port = unused_port()
    app = build_demo_app(demo_config("127.0.0.1", port, tmp_path / "data"))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", app[RUNTIME]
    finally:
        await runner.cleanup()
