"""The booking page in headless Chromium (Debian's /usr/bin/chromium) driven by Playwright."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from tests.fakes import FrozenClock
from tests.site import Site, running_site
from tests.test_pages import share_link

WED_9_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
async def site(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Site]:
    async with running_site(tmp_path, clock) as running:
        yield running


async def test_bob_picks_a_slot_books_it_and_downloads_the_ics(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    link = site.base + await share_link(site)
    context = await browser.new_context(
        timezone_id="Europe/Berlin",
        accept_downloads=True,
    )
    page = await context.new_page()
    await page.goto(link)
    assert await page.locator("#tz").input_value() == "Europe/Berlin"  # Bob's own zone
    # Wed 09:00 in New York is 15:00 in Berlin; pick it with the keyboard.
    slot = page.locator(f'input[name="start"][value="{WED_9_NY.isoformat()}"]')
    await slot.focus()
    await page.keyboard.press("Space")
    assert await slot.is_checked()
    await page.get_by_label("Title").fill("Roadmap, Q1 ✨")
    await page.screenshot(path=str(tmp_path / "booking-page.png"), full_page=True)
    await page.get_by_role("button", name="Book").click()
    await page.wait_for_selector("#booked")
    assert "Booked: “Roadmap, Q1 ✨”" in await page.inner_text("#booked")
    assert "Wed 25 Nov 2026, 15:00–15:30 CET (09:00–09:30 EST)" in await page.inner_text("main")
    async with page.expect_download() as pending:
        await page.click("#ics")
    download = await pending.value
    saved = Path(await download.path())
    [event] = Calendar.from_ical(await asyncio.to_thread(saved.read_text)).walk("VEVENT")
    assert str(event["summary"]) == "Roadmap, Q1 ✨"
    assert event.decoded("dtstart") == WED_9_NY
    busy = await site.runtime.services.store.local_busy(
        ["alice"], WED_9_NY, WED_9_NY + timedelta(hours=1)
    )
    assert busy["alice"] == [(WED_9_NY, WED_9_NY + timedelta(minutes=30))]
    await context.close()


async def test_the_page_fits_a_phone_and_changing_length_books_nothing(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    link = site.base + await share_link(site)
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="Asia/Tokyo", is_mobile=True
    )
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.goto(link)
    # No zone chosen yet: the page switches to the browser's own zone (a GET, not a booking).
    await page.wait_for_url(re.compile(r"tz=Asia%2FTokyo"))
    assert await page.locator("#tz").input_value() == "Asia/Tokyo"
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    await page.select_option("#d", "60")
    await page.wait_for_url(re.compile(r"d=60"))
    assert await page.locator("#d").input_value() == "60"
    await page.screenshot(path=str(tmp_path / "booking-phone.png"), full_page=True)
    assert await site.runtime.services.store.upcoming_bookings("alice", site.clock.now()) == []
    # The page's own script and style run under its Content-Security-Policy, nothing else.
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == (
        "rgb(247, 248, 251)"
    )
    assert not [line for line in console if "Content Security Policy" in line], console
    await context.close()
