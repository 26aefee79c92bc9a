"""A running bot (real app, real SQLite, frozen clock, recording transport) for page tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, unused_port

from bot.app import build_app
from bot.config import Config, StorageConfig, WebConfig
from bot.core.messages import IncomingMessage
from bot.core.outbox import Transport
from bot.core.runtime import RUNTIME, Runtime
from storage import Store
from tests.chat import TEST_CONFIG, meet
from tests.fakes import FrozenClock, RecordingTransport


@dataclass
class Site:
    client: TestClient[Any, Any]
    runtime: Runtime
    transport: RecordingTransport
    clock: FrozenClock
    base: str

    async def say(self, message: IncomingMessage) -> None:
        await self.runtime.dispatcher.dispatch(message)
        await self.runtime.services.outbox.flush()

    def local(self, url: str) -> str:
        """A link the bot sent, as a path on this test server."""
        parsed = urlparse(url)
        return f"{parsed.path}?{parsed.query}"


@asynccontextmanager
async def running_site(
    tmp_path: Path,
    clock: FrozenClock,
    *,
    configure: Callable[[Config], Config] | None = None,
    transport_factory: Callable[[Config, Store], Transport] | None = None,
) -> AsyncIterator[Site]:
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    config = replace(
        TEST_CONFIG,
        storage=StorageConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'site.db'}"),
        web=WebConfig(host="127.0.0.1", port=port, public_url=base),
    )
    if configure is not None:
        config = configure(config)
    transport = RecordingTransport()

    def chosen(_app: web.Application, store: Store) -> Transport:
        return transport_factory(config, store) if transport_factory else transport

    app = build_app(config, chosen, clock=clock)
    server = TestServer(app, host="127.0.0.1", port=port)
    async with TestClient(server, cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        runtime = app[RUNTIME]
        local = config.calendar.provider == "local"
        await meet(runtime.services.store, "alice", "America/New_York", connected=local)
        await meet(runtime.services.store, "bob", "Europe/Berlin", connected=local)
        yield Site(client, runtime, transport, clock, base)
