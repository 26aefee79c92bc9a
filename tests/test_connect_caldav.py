"""Connecting a CalDAV calendar on the connect page: a real Radicale server, the real form."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.calendars.tokens import new_key
from bot.config import Config, SecurityConfig
from tests.caldav_servers import DavServer, prepare_calendar, radicale
from tests.fakes import FrozenClock
from tests.site import Site, running_site


@pytest.fixture
async def world(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[tuple[Site, DavServer]]:
    def configure(config: Config) -> Config:
        return replace(
            config,
            security=SecurityConfig(secret_key=config.security.secret_key, token_keys=(new_key(),)),
        )

    with radicale(tmp_path, {"alice": "app-pass-1"}) as server:
        await asyncio.to_thread(prepare_calendar, server, "alice", "America/New_York")
        async with running_site(tmp_path, clock, configure=configure) as site:
            yield site, server


def field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match is not None, name
    return match.group(1)


async def test_the_connect_form_checks_the_password_then_connects_the_calendar(
    world: tuple[Site, DavServer],
) -> None:
    site, server = world
    link = site.local(site.runtime.services.urls.connect("alice", site.clock.now()))
    page = await (await site.client.get(link)).text()
    assert 'id="caldav-form"' in page
    form = {"t": field(page, "t"), "csrf": field(page, "csrf"), "url": server.url}
    wrong = await site.client.post(
        "/connect/caldav", data={**form, "username": "alice", "password": "nope"}
    )
    assert wrong.status == 400 and "Nothing was saved" in await wrong.text()
    kept = await site.runtime.services.store.get_connection("alice")
    assert kept is not None and kept.provider == "local"  # the old calendar stays connected
    right = await site.client.post(
        "/connect/caldav",
        data={**form, "username": "alice", "password": "app-pass-1"},
        allow_redirects=False,
    )
    assert right.status == 303
    connection = await site.runtime.services.store.get_connection("alice")
    assert connection is not None and connection.provider == "caldav"
    assert connection.token is not None and b"app-pass-1" not in connection.token
    shown = await (await site.client.get(right.headers["Location"].split(site.base)[-1])).text()
    assert "alice" in shown and "Connected." in shown
