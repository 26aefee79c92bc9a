"""Start real `calbot serve` worker processes (for scale-out tests and the load benchmark)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer, unused_port

from bot.calendars.tokens import TokenVault, new_key
from storage import SqlStore, WorkingHours
from tests.fake_cometchat import FakeCometChat
from tests.fake_google import FakeGoogle

HOOK_USER, HOOK_PASS = "hook-user", "hook-pass"
ANYTIME = WorkingHours(0, 24 * 60, (1, 2, 3, 4, 5, 6, 7))  # no working-hours refusals in load
SECRET = re.compile("scale-out-secret-key-that-is-long-enough-0123")


@dataclass
class Worker:
    url: str
    process: asyncio.subprocess.Process
    log: Path


def worker_config(port: int, storage_url: str, cometchat_base: str, extra: str = "") -> str:
    return f"""
[web]
host = "127.0.0.1"
port = {port}
public_url = "http://127.0.0.1:{port}"
[storage]
url = "{storage_url}"
[security]
secret_key = "{SECRET.pattern}"
[cometchat]
app_id = "app1"
region = "eu"
api_key = "rest-key"
bot_uid = "calbot"
api_base = "{cometchat_base}"
webhook_username = "{HOOK_USER}"
webhook_password = "{HOOK_PASS}"
{extra}
"""


@asynccontextmanager
async def workers(
    count: int,
    storage_url: str,
    cometchat_base: str,
    folder: Path,
    extra: str = "",
    extra_env: dict[str, str] | None = None,
    log_level: str = "DEBUG",
) -> AsyncIterator[list[Worker]]:
    """`count` workers; on the way out they get SIGTERM and, at DEBUG, their logs are checked
    for secrets like the suite's own (the workers handle tokens the test process never sees)."""
    started: list[Worker] = []
    env = {**os.environ, "CALBOT_LOG_LEVEL": log_level, **(extra_env or {})}
    try:
        for _ in range(count):
            port, name = unused_port(), f"worker-{uuid.uuid4().hex[:8]}"
            config = folder / f"{name}.toml"
            config.write_text(worker_config(port, storage_url, cometchat_base, extra))
            log = folder / f"{name}.log"
            with log.open("wb") as sink:  # a file, not a pipe nobody drains
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.cli", "serve", "--config", str(config),
                    env=env, stdout=sink, stderr=sink,
                )  # fmt: skip
            started.append(Worker(f"http://127.0.0.1:{port}", process, log))
        async with aiohttp.ClientSession() as session:
            for worker in started:
                await _wait_healthy(session, worker)
        yield started
    finally:
        for worker in started:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in started:
            try:
                await asyncio.wait_for(worker.process.wait(), 20)
            except TimeoutError:
                worker.process.kill()
    for worker in started:
        _check_no_secrets(worker.log)


def _check_no_secrets(log: Path) -> None:
    from tests.conftest import SECRET_MARKERS

    text = log.read_text(errors="replace")
    leaks = [m.group(0) for marker in (*SECRET_MARKERS, SECRET) for m in marker.finditer(text)]
    assert not leaks, f"secrets in {log.name}: {leaks[:5]}"


async def _wait_healthy(session: aiohttp.ClientSession, worker: Worker) -> None:
    for _ in range(300):
        if worker.process.returncode is not None:
            raise RuntimeError(f"worker exited: {worker.log.read_text()[-2000:]}")
        try:
            async with session.get(f"{worker.url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"worker at {worker.url} never became healthy")


@dataclass
class Providers:
    """Fake Google and CometChat servers, and what workers need to use them."""

    google: FakeGoogle
    cometchat: FakeCometChat
    google_base: str
    cometchat_base: str
    token_key: str  # encrypts stored Google tokens; the workers get it in their environment

    @property
    def worker_env(self) -> dict[str, str]:
        return {"CALBOT_SECURITY_TOKEN_KEYS": self.token_key}

    async def meet(self, store: SqlStore, uid: str, zone: str, email: str | None = None) -> None:
        """A user in `zone` available around the clock; with `email`, a connected Google
        calendar (what a finished OAuth connect leaves behind)."""
        await store.ensure_user(uid, uid.title(), zone)
        await store.update_user(uid, timezone=zone, working_hours=ANYTIME)
        if email is not None:
            account = self.google.add_account(email, zone)
            grant = {"refresh_token": self.google.issue_refresh_token(email)}
            sealed = TokenVault([self.token_key]).seal(uid, grant)
            await store.save_connection(uid, "google", account.email, sealed)


@asynccontextmanager
async def fake_providers() -> AsyncIterator[Providers]:
    # The workers here run with send_per_minute raised far past CometChat's default: the
    # fake models an app whose limit CometChat raised to match.
    google, cometchat = FakeGoogle(), FakeCometChat(per_minute=1_000_000)
    servers = [TestServer(google.app(), host="127.0.0.1"),
               TestServer(cometchat.app(), host="127.0.0.1")]  # fmt: skip
    for server in servers:
        await server.start_server()
    try:
        yield Providers(
            google,
            cometchat,
            str(servers[0].make_url("")).rstrip("/"),
            str(servers[1].make_url("/v3")),
            new_key(),
        )
    finally:
        for server in servers:
            await server.close()


def google_section(google_base: str) -> str:
    """Config lines that make a worker use the Google provider against a FakeGoogle server."""
    return f"""
[calendar]
provider = "google"
[google]
client_id = "cid"
client_secret = "csecret"
token_uri = "{google_base}/token"
revoke_uri = "{google_base}/revoke"
userinfo_uri = "{google_base}/v1/userinfo"
api_base = "{google_base}/"
"""


def webhook_message(
    message_id: str, sender: str, text: str, group: str | None = None
) -> dict[str, Any]:
    """A CometChat `message_sent` webhook body: `sender` writes `text` to the bot or a group."""
    receiver, kind = (group, "group") if group else ("calbot", "user")
    entities = {"sender": {"entity": {"uid": sender, "name": sender.title()}}}
    return {"trigger": "message_sent", "data": {"message": {
        "id": message_id, "sender": sender, "receiver": receiver, "receiverType": kind,
        "category": "message", "type": "text", "sentAt": int(time.time()),
        "data": {"text": text, "entities": entities}}}}  # fmt: skip


def auth_header() -> dict[str, str]:
    import base64

    token = base64.b64encode(f"{HOOK_USER}:{HOOK_PASS}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
