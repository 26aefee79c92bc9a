"""Choosing busy calendars and the receiving one on the connect page, over HTTP: a real Radicale
with two collections, connected through the real CalDAV form, chosen through the real form."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from caldav.davclient import DAVClient

from bot.calendars.tokens import new_key
from bot.config import Config, SecurityConfig
from tests.caldav_servers import DavServer, prepare_calendar, radicale
from tests.fakes import FrozenClock
from tests.site import Site, running_site


def _work_collection(server: DavServer) -> str:
    with DAVClient(server.url, username="alice", password=server.passwords["alice"]) as dav:
        made = dav.principal().make_calendar(name="Work", cal_id="work")  # type: ignore[no-untyped-call]
    return str(made.url)


@pytest.fixture
async def world(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[tuple[Site, DavServer, str]]:
    def configure(config: Config) -> Config:
        return replace(
            config,
            security=SecurityConfig(secret_key=config.security.secret_key, token_keys=(new_key(),)),
        )

    with radicale(tmp_path, {"alice": "app-pass-1"}) as server:
        await asyncio.to_thread(prepare_calendar, server, "alice", "America/New_York")
        work = await asyncio.to_thread(_work_collection, server)
        async with running_site(tmp_path, clock, configure=configure) as site:
            yield site, server, work


def field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match is not None, name
    return match.group(1)


def checked(page: str, kind: str) -> set[str]:
    """The values of the ticked boxes (or chosen radio) named `kind` on the page."""
    return set(re.findall(rf'name="{kind}" value="([^"]+)"[^>]*\bchecked', page))


async def _connected_page(site: Site, server: DavServer) -> str:
    link = site.local(site.runtime.services.urls.connect("alice", site.clock.now()))
    page = await (await site.client.get(link)).text()
    assert 'id="calendars-form"' not in page  # the local calendar is one calendar: no choice
    form = {"t": field(page, "t"), "csrf": field(page, "csrf"), "url": server.url}
    done = await site.client.post(
        "/connect/caldav",
        data={**form, "username": "alice", "password": "app-pass-1"},
        allow_redirects=False,
    )
    assert done.status == 303
    return await (await site.client.get(site.local(done.headers["Location"]))).text()


async def test_a_connected_person_chooses_busy_calendars_and_the_receiving_one(
    world: tuple[Site, DavServer, str],
) -> None:
    site, server, work = world
    page = await _connected_page(site, server)
    assert 'id="calendars-form"' in page and "Work" in page
    # Before any choice: the calendar found at connect time alone, receiving and busy.
    [first] = checked(page, "receives")
    assert checked(page, "busy") == {first}
    [other] = {server.calendar_url("alice"), work} - {first}

    chosen = await site.client.post(
        "/connect/calendars",
        data=[
            ("t", field(page, "t")),
            ("csrf", field(page, "csrf")),
            ("busy", first),
            ("receives", other),
        ],
        allow_redirects=False,
    )
    assert chosen.status == 303
    after = await (await site.client.get(site.local(chosen.headers["Location"]))).text()
    assert "Calendars saved." in after
    # The receiving calendar always counts as busy, ticked or not.
    assert checked(after, "busy") == {first, other} and checked(after, "receives") == {other}
    # What the bot itself now uses, not only what the page shows.
    services = site.runtime.services
    connection = await services.store.get_connection("alice")
    assert connection is not None
    found = await services.calendar.calendars(connection)
    assert {(c.id, c.busy, c.receives) for c in found} == {
        (first, True, False),
        (other, True, True),
    }


async def test_bad_choices_get_a_clear_page_and_change_nothing(
    world: tuple[Site, DavServer, str],
) -> None:
    site, server, work = world
    page = await _connected_page(site, server)
    [first] = checked(page, "receives")
    form = {"t": field(page, "t"), "csrf": field(page, "csrf")}

    unknown = await site.client.post(
        "/connect/calendars", data={**form, "busy": work, "receives": f"{server.url}alice/nope/"}
    )
    assert unknown.status == 400
    assert "There is no calendar" in await unknown.text()
    nothing = await site.client.post("/connect/calendars", data={**form, "busy": work})
    assert nothing.status == 400
    assert "Pick the calendar that receives booked meetings" in await nothing.text()
    forged = await site.client.post(
        "/connect/calendars", data={**form, "csrf": "forged", "receives": work}
    )
    assert forged.status == 403 and "expired" in await forged.text()

    connection = await site.runtime.services.store.get_connection("alice")
    assert connection is not None
    found = await site.runtime.services.calendar.calendars(connection)
    assert [c.id for c in found if c.receives] == [first]
    assert [c.id for c in found if c.busy] == [first]


async def test_the_forms_in_a_browser(
    world: tuple[Site, DavServer, str], browser: Any, tmp_path: Path
) -> None:
    """The connect page as a person sees it (its CSP on): the CalDAV form, then the calendar
    choice after connecting. The screenshot is docs/connect-caldav.png's source."""
    site, server, _ = world
    page = await browser.new_page(viewport={"width": 900, "height": 1100})
    await page.goto(
        site.base + site.local(site.runtime.services.urls.connect("alice", site.clock.now()))
    )
    await page.fill("input[name=url]", server.url)
    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", "app-pass-1")
    await page.screenshot(path=str(tmp_path / "connect-caldav.png"), full_page=True)
    await page.click("#connect-caldav")
    await page.wait_for_selector("#calendars-form")
    boxes = page.locator("#calendars-form input[name=busy]")
    assert await boxes.count() == 2
    await boxes.nth(0).check()
    await boxes.nth(1).check()
    await page.click("#save-calendars")
    await page.wait_for_selector("#message")
    assert "Calendars saved." in await page.inner_text("#message")
    await page.screenshot(path=str(tmp_path / "connect-calendars.png"), full_page=True)
