"""Issue 19 acceptance: the first hour of two new users in `calbot demo`, one of them on a
phone-sized screen, in headless Chromium. Share, a refused /book (where does the answer go?),
pick from the card, zone switch, book, reload, a slot taken meanwhile, Yahoo links per
reader, /cancel; and ?as=eve."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.core.runtime import Runtime

PHONE = {"width": 390, "height": 844}
WAIT = 20000  # ms; a ceiling for slow shared machines, never an assertion about speed


async def in_view(page: Any, selector: str) -> bool:
    """Whether the element is inside the visible part of the window (not scrolled away)."""
    box = await page.locator(selector).last.bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 1


async def newest_in_view(page: Any) -> bool:
    """The message list is scrolled to its end and the end of the newest message is on
    screen (a card can be taller than a phone's screen)."""
    at_end = await page.evaluate(
        "(() => { const m = document.getElementById('messages');"
        " return m.scrollTop + m.clientHeight >= m.scrollHeight - 2; })()"
    )
    box = await page.locator("#messages .msg").last.bounding_box()
    size = page.viewport_size
    return bool(at_end and box) and 0 <= box["y"] + box["height"] <= size["height"]


async def say(page: Any, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def test_the_first_hour(demo: tuple[str, Runtime], browser: Any) -> None:
    base, runtime = demo
    alice_ctx = await browser.new_context(timezone_id="America/New_York")
    bob_ctx = await browser.new_context(timezone_id="Europe/Berlin", viewport=PHONE)
    alice = await alice_ctx.new_page()
    await alice.goto(f"{base}/?as=alice&with=user:bob")
    await alice.wait_for_selector("nav button[data-key='user:bob'][aria-current='true']")
    await say(alice, "/share @bob 3")

    # Bob, on a phone: opens at the newest message with the composer on screen.
    bob = await bob_ctx.new_page()
    await bob.goto(f"{base}/?as=bob&with=user:alice")
    await bob.locator(".card.availability a.slot").first.wait_for(timeout=WAIT)
    assert await in_view(bob, "#composer button")
    assert await newest_in_view(bob)
    counts = await bob.inner_text(".card.availability .counts")
    assert counts.count("free") >= 3  # every day of the 3 shared, with its count
    assert "the page is always current" in await bob.inner_text(".card.availability .computed")

    # A /book typed in the chat with Alice is answered in Bob's Calendar Bot chat: the badge
    # and the pointer say so where Bob is looking.
    await say(bob, "/book 31 feb 3pm")
    await bob.locator("#pointer:not([hidden])").wait_for(timeout=WAIT)
    assert "answered you in its own chat" in await bob.inner_text("#pointer")
    badge = bob.locator("nav button[data-key='user:calbot'] .badge")
    assert await badge.inner_text() == "1"
    assert "Calendar Bot chat" in await bob.inner_text("#hint")
    await bob.click("#pointer button")
    await bob.locator(".msg .text", has_text="31").last.wait_for(timeout=WAIT)
    assert await badge.count() == 0
    assert await newest_in_view(bob)
    assert await in_view(bob, "#composer button")

    # Pick from the card, switch zone: the slot stays chosen; book; reload shows the same.
    await bob.click("nav button[data-key='user:alice']")
    first = bob.locator(".card.availability a.slot").first
    chosen = parse_qs(urlparse(await first.get_attribute("href")).query)["slot"][0]
    await first.click()
    await bob.wait_for_selector("input[name=start]:checked")
    await bob.select_option("#tz", "Asia/Tokyo")
    await bob.wait_for_url(re.compile(r"tz=Asia%2FTokyo"))
    checked = bob.locator("input[name=start]:checked")
    assert datetime.fromisoformat(await checked.get_attribute("value")) == datetime.fromisoformat(
        chosen
    )
    await bob.get_by_role("button", name="Book").click()
    await bob.wait_for_selector("#booked")
    assert "Bob / Alice" in await bob.inner_text("#booked")
    assert "booked=" in bob.url
    await bob.reload()
    await bob.wait_for_selector("#booked")  # the confirmation again, never "just taken"

    # Alice opens the same card slot on her own page link: booked meanwhile, so the page
    # says so and offers the nearest free times.
    link = await alice.locator(".card.availability a.slot").first.get_attribute("href")
    owner_view = await alice_ctx.new_page()
    await owner_view.goto(base + link if link.startswith("/") else link)
    await owner_view.wait_for_selector("#taken")
    assert "just booked" in await owner_view.inner_text("#taken")
    assert await owner_view.locator("#taken li").count() >= 1

    # The invite card: each reader's Yahoo link is in their own zone's wall-clock time.
    [booked] = await runtime.services.store.upcoming_bookings("alice", datetime.now(UTC))
    await bob.goto(f"{base}/?as=bob&with=user:alice")
    await alice.locator(".card.invite").wait_for(timeout=WAIT)
    await bob.locator(".card.invite").wait_for(timeout=WAIT)
    for page, zone in ((alice, "America/New_York"), (bob, "Europe/Berlin")):
        href = await page.locator(".card.invite a.yahoo").get_attribute("href")
        query = parse_qs(urlparse(href).query)
        local = booked.start.astimezone(__import__("zoneinfo").ZoneInfo(zone))
        assert query["ST"] == [local.strftime("%Y%m%dT%H%M%S")], zone
        assert query["DESC"][0].endswith(f"Times in {zone}.")

    # /cancel from the phone: the answer is in view.
    await bob.click("nav button[data-key='user:calbot']")
    await say(bob, "/cancel")
    await bob.locator(".msg .text", has_text="Cancelled").wait_for(timeout=WAIT)
    assert await newest_in_view(bob)
    assert await runtime.services.store.upcoming_bookings("alice", datetime.now(UTC)) == []
    await alice_ctx.close()
    await bob_ctx.close()


async def test_an_unknown_demo_user_is_told_who_can_be_chosen(
    demo: tuple[str, Runtime], browser: Any
) -> None:
    base, _ = demo
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{base}/?as=eve")
    await page.wait_for_selector("#chooser")
    text = await page.inner_text("#chooser")
    assert "There is no demo user “eve”" in text
    for name in ("Alice", "Bob", "Carol", "Dave"):
        assert name in text
    await page.click("#chooser a >> nth=1")
    await page.wait_for_selector("nav button[aria-current='true']")
    assert page.url.endswith("?as=bob")
    favicon = await page.request.get(f"{base}/favicon.ico")
    assert favicon.status == 200
    await context.close()
