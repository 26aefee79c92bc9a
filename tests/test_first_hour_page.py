"""Issue 19, booking page: PRG after booking, a taken slot explained with the nearest free
times, the chosen slot kept across zone and length, a favicon, one title rule."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.messages import Conversation, IncomingMessage, Sender
from tests.fakes import FrozenClock
from tests.site import Site, running_site

WED_9_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
async def site(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Site]:
    async with running_site(tmp_path, clock) as running:
        yield running


async def share_link(site: Site) -> str:
    await site.say(
        IncomingMessage("m1", Sender("alice", "Alice"), Conversation("user", "calbot"),
                        "/share @bob", datetime(2026, 11, 24, 15, tzinfo=UTC))
    )  # fmt: skip
    return site.local(site.transport.sent[0].data["customData"]["bookingUrl"])


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match is not None
    return match.group(1)


async def book(site: Site, link: str, start: datetime) -> tuple[int, str, str]:
    page = await (await site.client.get(link + "&tz=Europe/Berlin")).text()
    form = {"t": link.split("t=", 1)[1], "csrf": csrf_of(page), "start": start.isoformat(),
            "d": "30", "tz": "Europe/Berlin"}  # fmt: skip
    answer = await site.client.post(link.split("?")[0], data=form, allow_redirects=False)
    return answer.status, answer.headers.get("Location", ""), await answer.text()


async def test_a_booking_redirects_to_a_confirmation_that_survives_reloads(site: Site) -> None:
    link = await share_link(site)
    status, location, _ = await book(site, link, WED_9_NY)
    assert status == 303 and "booked=" in location and "tz=Europe/Berlin" in location
    for _ in range(2):  # a reload is a GET of the confirmation, never a second booking
        again = await site.client.get(location)
        text = await again.text()
        assert again.status == 200
        assert "Booked: “Bob / Alice”" in text and "15:00–15:30 CET" in text
        assert "just taken" not in text
    upcoming = await site.runtime.services.store.upcoming_bookings("alice", site.clock.now())
    assert len(upcoming) == 1
    other = location.replace("booked=", "booked=x")
    assert (await site.client.get(other)).status == 404


async def test_a_card_slot_booked_meanwhile_opens_with_the_nearest_free_times(
    site: Site,
) -> None:
    link = await share_link(site)
    await book(site, link, WED_9_NY)
    page = await site.client.get(link, params={"tz": "Europe/Berlin", "slot": WED_9_NY.isoformat()})
    text = await page.text()
    assert "That time was just booked or is no longer free – here are the nearest" in text
    nearest = re.findall(r'<li><label for="s\d+">([^<]+)</label></li>', text)
    assert nearest == [
        "Wed 25 Nov, 15:30",
        "Wed 25 Nov, 16:00",
        "Wed 25 Nov, 16:30",
    ]  # 14:30 is 08:30 for Alice
    assert " checked" not in text


async def test_zone_and_length_changes_keep_the_chosen_slot(site: Site) -> None:
    link = await share_link(site)
    slot = (WED_9_NY + timedelta(hours=1)).isoformat()
    for tz, length in (("Asia/Tokyo", "30"), ("America/New_York", "60")):
        page = await site.client.get(link, params={"tz": tz, "d": length, "slot": slot})
        text = await page.text()
        assert re.search(rf'value="{re.escape(slot)}" required checked', text), tz
        assert f'name="slot" value="{slot}"' in text  # carried by the next zone change too
        assert "just booked" not in text


async def test_the_page_script_never_reloads_a_refused_post_without_its_token(
    site: Site,
) -> None:
    link = await share_link(site)
    await book(site, link, WED_9_NY)
    status, _, text = await book(site, link, WED_9_NY)
    assert status == 409 and "That slot was just taken." in text
    assert 'params.has("t") && !params.has("tz")' in text


async def test_favicon_is_served(site: Site) -> None:
    answer = await site.client.get("/favicon.ico")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "image/x-icon"
    assert (await answer.read())[:4] == b"\x00\x00\x01\x00"
