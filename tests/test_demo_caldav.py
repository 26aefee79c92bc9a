"""`calbot demo --calendar caldav`: Radicale runs beside the demo as a child process, every demo
user is connected to their own calendar on it, and a booking made in chat lands there."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port
from caldav.davclient import DAVClient

from bot import cli, serve
from bot.core.messages import Conversation, IncomingMessage, Sender
from bot.core.runtime import RUNTIME, Runtime
from bot.serve import DemoCalDav, build_demo_app, demo_caldav, demo_config


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[Runtime, DemoCalDav]]:
    port = unused_port()
    data = tmp_path / "data"
    with demo_caldav(data) as server:
        app = build_demo_app(demo_config("127.0.0.1", port, data, sealed=True), server)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield app[RUNTIME], server
        finally:
            await runner.cleanup()


async def _say(runtime: Runtime, sender: str, text: str) -> None:
    await runtime.dispatcher.dispatch(
        IncomingMessage(
            id=f"dav-{uuid.uuid4().hex[:12]}",
            sender=Sender(sender, sender.capitalize()),
            conversation=Conversation("user", "calbot"),
            text=text,
            sent_at=datetime.now(UTC),
        )
    )
    await runtime.services.outbox.flush()


def _events_in_radicale(server: DemoCalDav, uid: str) -> list[str]:
    """What a calendar app signed in as `uid` sees: the iCalendar text of every event."""
    with DAVClient(server.url, username=uid, password=server.passwords[uid]) as dav:
        [calendar] = dav.principal().calendars()  # type: ignore[no-untyped-call]
        return [str(event.data) for event in calendar.events()]


async def test_a_booking_made_in_the_demo_lands_in_radicale(
    demo: tuple[Runtime, DemoCalDav],
) -> None:
    runtime, server = demo
    store = runtime.services.store
    for uid in server.passwords:
        connection = await store.get_connection(uid)
        assert connection is not None and connection.provider == "caldav", uid
    assert await asyncio.to_thread(_events_in_radicale, server, "alice") == []

    await _say(runtime, "alice", "/share @bob")
    # The demo runs on the real clock: a weekday two or more days ahead, 16:00 in Berlin (Bob)
    # is 10:00 in New York, inside Alice's working hours.
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    await _say(runtime, "bob", f"/book @alice {day.isoformat()} 16:00")
    [booking] = await store.upcoming_bookings("alice", datetime.now(UTC))
    assert booking.status == "confirmed"
    seen = await asyncio.to_thread(_events_in_radicale, server, "alice")
    assert len(seen) == 1
    assert "BEGIN:VEVENT" in seen[0] and "Bob" in seen[0]


def test_the_cli_prints_the_server_and_each_users_password(tmp_path: Path) -> None:
    port = unused_port()
    args = ["demo", "--calendar", "caldav", "--port", str(port), "--data", str(tmp_path / "data")]
    process = subprocess.Popen(  # the real command line
        [sys.executable, "-m", "bot.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
    finally:
        process.terminate()
        process.wait(timeout=30)
    [url] = re.findall(r"CalDAV server: (http://127\.0\.0\.1:\d+/)", "".join(lines))
    passwords = dict(re.findall(r"user (\w+)  password (\S+)", "".join(lines)))
    assert set(passwords) == {"alice", "bob", "carol", "dave"}
    saved = (tmp_path / "data" / "caldav" / "alice.password").read_text()
    assert passwords["alice"] == saved and url


def test_without_radicale_the_demo_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(serve, "find_spec", lambda name: None)
    port = unused_port()
    code = cli.main(["demo", "--calendar", "caldav", "--port", str(port), "--data", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "--calendar caldav runs Radicale, which is not installed: pip install radicale"
    )
