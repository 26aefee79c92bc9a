"""A FakeGoogle server and a GoogleCalendar provider wired to it, for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestServer

from bot.calendars.google import GoogleCalendar
from bot.calendars.tokens import TokenVault, new_key
from bot.config import GoogleConfig
from storage import Connection, SqlStore
from tests.fake_google import FakeGoogle


@dataclass
class GoogleWorld:
    fake: FakeGoogle
    server: TestServer
    config: GoogleConfig
    vault: TokenVault
    provider: GoogleCalendar
    sleeps: list[float] = field(default_factory=list)
    reconnects: list[str] = field(default_factory=list)

    async def connect(self, store: SqlStore, uid: str, email: str, timezone: str) -> Connection:
        """What a finished OAuth connect leaves behind: a sealed refresh token in the store."""
        self.fake.add_account(email, timezone)
        sealed = self.vault.seal(uid, {"refresh_token": self.fake.issue_refresh_token(email)})
        await store.ensure_user(uid, uid.capitalize(), timezone)
        return await store.save_connection(uid, "google", email, sealed)


def google_config(base: str) -> GoogleConfig:
    return GoogleConfig(
        client_id="cid",
        client_secret="csecret",
        auth_uri=f"{base}/auth",
        token_uri=f"{base}/token",
        revoke_uri=f"{base}/revoke",
        userinfo_uri=f"{base}/v1/userinfo",
        api_base=f"{base}/",
    )


@asynccontextmanager
async def google_world(store: SqlStore, **provider_options: Any) -> AsyncIterator[GoogleWorld]:
    fake = FakeGoogle()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    config = google_config(str(server.make_url("")).rstrip("/"))
    vault = TokenVault([new_key()])
    sleeps: list[float] = []
    reconnects: list[str] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def record_reconnect(owner: Connection) -> None:
        reconnects.append(owner.uid)

    provider = GoogleCalendar(
        config,
        store,
        vault,
        record_reconnect,
        sleep=record_sleep,
        jitter=lambda: 1.0,
        **provider_options,
    )
    try:
        yield GoogleWorld(fake, server, config, vault, provider, sleeps, reconnects)
    finally:
        await server.close()
