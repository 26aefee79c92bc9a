"""The "Move" page: either side of a booking moves it from a signed link (Playwright and HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from bot.core.messages import OutgoingMessage
from bot.scheduling.cards import INVITE_TYPE
from storage.records import Booking
from tests.fakes import FrozenClock
from tests.site import Site, running_site
from tests.test_pages import csrf_of, message, share_link

WED_9_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wed 09:00 New York, 15:00 Berlin
WED_10_NY = WED_9_NY + timedelta(hours=1)


@pytest.fixture
async def site(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Site]:
    async with running_site(tmp_path, clock) as running:
        await share_link(running)
        await running.say(
            message("/book tomorrow 3pm for 30 min about Roadmap", "bob", msg_id="m2")
        )
        yield running


async def booked(site: Site) -> Booking:
    [found] = await site.runtime.services.store.upcoming_bookings("bob", site.clock.now())
    return found


async def move_link(site: Site, uid: str) -> str:
    found = await booked(site)
    return site.local(site.runtime.services.urls.move(found.id, uid, found.sequence, found.start))


async def alice_busy(site: Site) -> list[tuple[datetime, datetime]]:
    store = site.runtime.services.store
    busy = await store.local_busy(
        ["alice"], WED_9_NY - timedelta(days=1), WED_9_NY + timedelta(days=9)
    )
    return busy["alice"]


def invites(sent: list[OutgoingMessage]) -> list[OutgoingMessage]:
    return [m for m in sent if m.type == INVITE_TYPE]


async def test_bob_moves_the_meeting_in_the_browser_and_the_re_invite_goes_out(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    before = len(site.transport.sent)
    context = await browser.new_context(timezone_id="Europe/Berlin")
    page = await context.new_page()
    await page.goto(site.base + await move_link(site, "bob") + "&tz=Europe/Berlin")
    assert "Wed 25 Nov 2026, 15:00–15:30 CET (09:00–09:30 EST)" in await page.inner_text("#current")
    # The meeting's own time is not offered; the hour after it is (16:00 Berlin).
    assert await page.locator(f'input[name="start"][value="{WED_9_NY.isoformat()}"]').count() == 0
    slot = page.locator(f'input[name="start"][value="{WED_10_NY.isoformat()}"]')
    await slot.focus()
    await page.keyboard.press("Space")
    assert await slot.is_checked()
    await page.screenshot(path=str(tmp_path / "move-page.png"), full_page=True)
    await page.get_by_role("button", name="Move").click()
    await page.wait_for_selector("#moved")
    assert "Wed 25 Nov 2026, 16:00–16:30 CET (10:00–10:30 EST)" in await page.inner_text("main")
    await context.close()
    await site.runtime.services.outbox.flush()
    # The same event moved, and nothing else is in Alice's calendar.
    assert await alice_busy(site) == [(WED_10_NY, WED_10_NY + timedelta(minutes=30))]
    sent = site.transport.sent[before:]
    assert [m.text for m in sent if m.receiver == "alice"] == [
        "Bob moved “Roadmap” to Wed 25 Nov 2026, 10:00–10:30 EST (16:00–16:30 CET)."
    ]
    [invite] = invites(sent)
    assert invite.receiver == "bob"
    assert invite.data["text"].startswith(
        "Meeting moved: “Roadmap” — Alice with Bob\n"
        "Wed 25 Nov 2026, 15:00–15:30 CET → Wed 25 Nov 2026, 16:00–16:30 CET (10:00–10:30 EST)"
    )
    event: Any
    [event] = Calendar.from_ical(invite.data["customData"]["ics"]).walk("VEVENT")
    found = await booked(site)
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (found.id, 1)
    assert event.decoded("dtstart") == WED_10_NY


async def test_the_re_invite_carries_fresh_move_links_and_the_old_one_is_refused(
    site: Site,
) -> None:
    old = await move_link(site, "alice")
    page = await (await site.client.get(old)).text()
    response = await site.client.post(
        old.split("?")[0],
        data={"t": old.split("t=", 1)[1], "csrf": csrf_of(page), "start": WED_10_NY.isoformat()},
    )
    assert response.status == 200 and "Moved: “Roadmap”" in await response.text()
    await site.runtime.services.outbox.flush()
    [invite] = invites(site.transport.sent)[-1:]
    links = invite.data["customData"]["moveUrls"]
    assert set(links) == {"alice", "bob"}
    assert f"Move it: {links['bob']}" in invite.data["text"]  # the reader's own link
    stale = await site.client.get(old)
    assert stale.status == 410
    assert "was moved after this link was sent" in await stale.text()
    fresh = await site.client.get(site.local(links["bob"]))
    assert fresh.status == 200 and "Move “Roadmap”" in await fresh.text()


async def test_a_taken_or_bad_time_is_refused_on_the_page_and_nothing_moves(site: Site) -> None:
    link = await move_link(site, "bob")
    page = await (await site.client.get(link)).text()
    form = {"t": link.split("t=", 1)[1], "csrf": csrf_of(page)}
    outside = WED_9_NY - timedelta(hours=5)  # 04:00 in New York
    refused = await site.client.post(
        link.split("?")[0], data={**form, "start": outside.isoformat()}
    )
    assert refused.status == 409
    assert 'id="error"' in await refused.text()
    empty = await site.client.post(link.split("?")[0], data={**form, "start": "whenever"})
    assert empty.status == 409 and "Pick one of the free times first." in await empty.text()
    forged = await site.client.post(link.split("?")[0], data={**form, "csrf": "0" * 64})
    assert forged.status == 403
    assert await alice_busy(site) == [(WED_9_NY, WED_9_NY + timedelta(minutes=30))]
    assert (await booked(site)).sequence == 0


async def test_only_the_two_sides_hold_move_links(site: Site) -> None:
    found = await booked(site)
    urls = site.runtime.services.urls
    carol = urls.move(found.id, "carol", found.sequence, found.start)
    assert (await site.client.get(site.local(carol))).status == 403
    share = await share_link(site)  # a booking-page token is no move link
    token = share.split("t=", 1)[1]
    assert (await site.client.get(f"/move/{found.id}?t={token}")).status == 403
    assert (await site.client.get(f"/move/{found.id}?t=damaged")).status == 403
    site.clock.set(WED_9_NY + timedelta(minutes=1))
    begun = await site.client.get(
        site.local(urls.move(found.id, "bob", 0, WED_9_NY + timedelta(days=1)))
    )
    assert begun.status == 410 and "already begun" in await begun.text()
