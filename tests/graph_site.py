"""A FakeGraph server and a MicrosoftCalendar provider wired to it, for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import icalendar
import recurring_ical_events
from aiohttp.test_utils import TestServer

from bot.calendars.microsoft import MicrosoftCalendar
from bot.calendars.tokens import TokenVault, new_key
from bot.config import MicrosoftConfig
from storage import Connection, SqlStore
from tests.fake_graph import Account, FakeGraph


@dataclass
class GraphWorld:
    fake: FakeGraph
    server: TestServer
    config: MicrosoftConfig
    vault: TokenVault
    tokens: SqlStore  # the real store: its swap_connection_token keeps rotated tokens
    provider: MicrosoftCalendar
    sleeps: list[float] = field(default_factory=list)
    reconnects: list[str] = field(default_factory=list)

    async def connect(
        self, store: SqlStore, uid: str, email: str, windows_zone: str, timezone: str
    ) -> Connection:
        """What a finished OAuth connect leaves behind: a sealed refresh token in the store."""
        self.fake.add_account(email, windows_zone)
        sealed = self.vault.seal(uid, {"refresh_token": self.fake.issue_refresh_token(email)})
        await store.ensure_user(uid, uid.capitalize(), timezone)
        return await store.save_connection(uid, "microsoft", email, sealed)

    async def provider_reconnect(self, owner: Connection) -> None:
        self.reconnects.append(owner.uid)

    def refresh_token(self, sealed: bytes | None, uid: str) -> str:
        assert sealed is not None
        return str(self.vault.open(uid, sealed)["refresh_token"])


def graph_config(base: str) -> MicrosoftConfig:
    return MicrosoftConfig(
        client_id="ms-cid",
        client_secret="ms-secret",
        tenant="common",
        auth_uri=base + "/{tenant}/oauth2/v2.0/authorize",
        token_uri=base + "/{tenant}/oauth2/v2.0/token",
        api_base=f"{base}/v1.0",
    )


@asynccontextmanager
async def graph_world(store: SqlStore, **provider_options: Any) -> AsyncIterator[GraphWorld]:
    fake = FakeGraph()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    config = graph_config(str(server.make_url("")).rstrip("/"))
    vault = TokenVault([new_key()])
    tokens = store
    sleeps: list[float] = []
    reconnects: list[str] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def record_reconnect(owner: Connection) -> None:
        reconnects.append(owner.uid)

    provider = MicrosoftCalendar(
        config,
        tokens,
        vault,
        record_reconnect,
        sleep=record_sleep,
        jitter=lambda: 1.0,
        **provider_options,
    )
    try:
        yield GraphWorld(fake, server, config, vault, tokens, provider, sleeps, reconnects)
    finally:
        await server.close()


def add_to_graph(account: Account, ics: str) -> None:
    """What Exchange does with an event saved by another app: calendarView shows each instance
    (recurrences expanded server-side), TRANSP:TRANSPARENT as showAs free, STATUS:CANCELLED as
    isCancelled, dates as all-day."""
    calendar = icalendar.Calendar.from_ical(ics)
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))
    for event in recurring_ical_events.of(calendar).between(*window):
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        show_as = "free" if str(event.get("TRANSP", "")) == "TRANSPARENT" else "busy"
        cancelled = str(event.get("STATUS", "")) == "CANCELLED"
        if isinstance(start, datetime):
            account.add(start, end, showAs=show_as, isCancelled=cancelled)
        else:
            assert isinstance(start, date)
            days = (end - start).days
            account.add_all_day(start, days, showAs=show_as, isCancelled=cancelled)
