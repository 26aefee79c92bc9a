from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.config import StorageConfig
from tests.chat import TEST_CONFIG
from tests.fakes import RecordingTransport


async def test_healthz_reports_ok(tmp_path: Path) -> None:
    config = replace(
        TEST_CONFIG, storage=StorageConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    )
    app = build_app(config, lambda app, store: RecordingTransport())
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "outbox_pending": 0}


async def test_metrics_count_messages_commands_and_calendar_calls(tmp_path: Path) -> None:
    from bot.core.messages import Conversation, IncomingMessage, Sender
    from bot.core.runtime import RUNTIME
    from tests.chat import meet

    config = replace(
        TEST_CONFIG, storage=StorageConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    )
    app = build_app(config, lambda app, store: RecordingTransport())
    async with TestClient(TestServer(app)) as client:
        runtime = app[RUNTIME]
        await meet(runtime.services.store, "alice", "America/New_York")
        await meet(runtime.services.store, "bob", "Europe/Berlin")
        for n, text in enumerate(["/help", "/share @bob", "/nonsense", "/help"]):
            await runtime.dispatcher.dispatch(
                IncomingMessage(
                    f"m{n}",
                    Sender("alice", "Alice"),
                    Conversation("user", "calbot"),
                    text,
                    datetime.now(UTC),
                )
            )
        await runtime.dispatcher.dispatch(
            IncomingMessage(
                "m0",
                Sender("alice", "Alice"),
                Conversation("user", "calbot"),
                "/help",
                datetime.now(UTC),
            )
        )
        await runtime.services.outbox.flush()
        body = await (await client.get("/metrics")).text()
    assert 'calbot_messages_total{outcome="handled"} 3' in body
    assert 'calbot_messages_total{outcome="duplicate"} 1' in body
    assert 'calbot_command_seconds_count{command="/help"} 2' in body
    assert 'calbot_calendar_calls_total{op="free_busy",provider="local"} 1' in body
    assert "calbot_outbox_sent_total 5" in body  # /share sends a card and a confirmation
    assert "# TYPE calbot_command_seconds histogram" in body
    assert "calbot_message_own_seconds_count 5" in body
    peak = next(line for line in body.splitlines() if line.startswith("process_peak_resident"))
    assert 10e6 < float(peak.split()[1]) < 10e9  # a Python process: megabytes, not bytes or TB
