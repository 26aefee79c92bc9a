from __future__ import annotations

from dataclasses import replace
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
    app = build_app(config, lambda app: RecordingTransport())
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "outbox_pending": 0}
