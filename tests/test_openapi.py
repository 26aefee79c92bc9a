"""Schemathesis against bot/openapi.json: generated requests to a live bot never get a 5xx,
and every status, content type and JSON body is one the description promises."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import unused_port
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

import bot.web
from bot.app import build_app
from bot.config import CometChatConfig, StorageConfig, WebConfig
from bot.core.runtime import RUNTIME
from tests.chat import TEST_CONFIG, meet
from tests.fakes import RecordingTransport

SPEC = Path(bot.web.__file__).parent / "openapi.json"
schema = schemathesis.openapi.from_path(SPEC)
WEBHOOK_AUTH = "Basic " + base64.b64encode(b"hook-user:hook-pass").decode()


@pytest.fixture(scope="module")
def live_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on a real socket, in its own thread (schemathesis calls synchronously)."""
    port = unused_port()
    folder = tmp_path_factory.mktemp("openapi")
    config = replace(
        TEST_CONFIG,
        storage=StorageConfig(url=f"sqlite+aiosqlite:///{folder / 'api.db'}"),
        web=WebConfig(host="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}"),
        cometchat=CometChatConfig(webhook_username="hook-user", webhook_password="hook-pass"),
    )
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_app(config, lambda app, store: RecordingTransport()))

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        store = runner.app[RUNTIME].services.store
        await meet(store, "alice", "America/New_York")
        await meet(store, "bob", "Europe/Berlin")

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        yield f"http://127.0.0.1:{port}"
        failed = runner.app[RUNTIME].background.failed
        assert failed == 0, f"{failed} background tasks failed"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_every_endpoint_keeps_its_promises(case: schemathesis.Case[Any], live_bot: str) -> None:
    headers = {"Authorization": WEBHOOK_AUTH} if case.path == "/cometchat/webhook" else None
    case.call_and_validate(
        base_url=live_bot,
        headers=headers,
        allow_redirects=False,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
