"""`calbot demo` end to end in headless Chromium: share in chat, book from the card, invite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from icalendar import Calendar

from bot.core.runtime import Runtime


async def test_alice_shares_bob_books_and_both_get_the_invite(
    demo: tuple[str, Runtime], browser: Any, tmp_path: Path
) -> None:
    base, runtime = demo
    alice_ctx = await browser.new_context(timezone_id="America/New_York")
    bob_ctx = await browser.new_context(timezone_id="Europe/Berlin", accept_downloads=True)
    alice = await alice_ctx.new_page()
    await alice.goto(f"{base}/?as=alice&with=user:bob")
    await alice.wait_for_selector("nav button[data-key='user:bob'][aria-current='true']")
    await alice.fill("#text", "/share @bob")
    await alice.press("#text", "Enter")

    bob = await bob_ctx.new_page()
    await bob.goto(f"{base}/?as=bob&with=user:alice")
    first_slot = bob.locator(".card.availability a.slot").first
    await first_slot.wait_for(timeout=20000)
    await bob.screenshot(path=str(tmp_path / "demo-card.png"), full_page=True)
    await first_slot.click()
    await bob.wait_for_selector("#confirm")
    assert await bob.locator("input[name=start]:checked").count() == 1  # the slot from the card
    await bob.get_by_label("Title").fill("Coffee chat")
    await bob.get_by_role("button", name="Book").click()
    await bob.wait_for_selector("#booked")

    await alice.locator(".card.invite").wait_for(timeout=20000)  # live, through the hub
    assert "Coffee chat" in await alice.inner_text(".card.invite")
    await bob.goto(f"{base}/?as=bob&with=user:alice")
    invite = bob.locator(".card.invite")
    await invite.wait_for(timeout=20000)
    for name in ("google", "yahoo", "outlook", "office365"):
        assert await invite.locator(f"a.{name}").get_attribute("href")
    # The demo's default video is a Jitsi room, and each side has its own signed Move link.
    assert (await invite.locator("a.join").get_attribute("href") or "").startswith("https://")
    assert "/move/" in (await invite.locator("a.move").get_attribute("href") or "")
    await bob.screenshot(path=str(tmp_path / "demo-invite.png"), full_page=True)
    async with bob.expect_download() as pending:
        await invite.locator("a.ics").click()
    saved = Path(await (await pending.value).path())
    [event] = Calendar.from_ical(await asyncio.to_thread(saved.read_text)).walk("VEVENT")
    assert str(event["summary"]) == "Coffee chat"

    [booked] = await runtime.services.store.upcoming_bookings("alice", datetime.now(UTC))
    busy = await runtime.services.store.local_busy(["alice"], booked.start, booked.end)
    assert busy["alice"] == [(booked.start, booked.end)]  # in Alice's local calendar
    assert event.decoded("dtstart") == booked.start
    await alice_ctx.close()
    await bob_ctx.close()


async def test_a_group_finds_a_time_and_a_member_without_calendar_votes_with_one_tap(
    demo: tuple[str, Runtime], browser: Any
) -> None:
    base, runtime = demo
    store = runtime.services.store
    await store.delete_connection("dave")  # Dave has no calendar: he votes instead
    contexts, pages = [], {}
    for uid in ("alice", "bob", "carol", "dave"):
        context = await browser.new_context()
        contexts.append(context)
        page = await context.new_page()
        await page.goto(f"{base}/?as={uid}&with=group:team")
        await page.wait_for_selector("nav button[data-key='group:team'][aria-current='true']")
        pages[uid] = page
    for uid in ("bob", "carol", "dave"):  # people become known members by speaking
        await pages[uid].fill("#text", "hi")
        await pages[uid].press("#text", "Enter")
    await pages["alice"].locator(".msg .text", has_text="hi").nth(2).wait_for(timeout=20000)
    await pages["alice"].fill("#text", "/find 30m with @bob @carol @dave")
    await pages["alice"].press("#text", "Enter")
    # Nothing is booked until everyone it needs has said yes (Alice, the organizer, asked for
    # a time inside her own free hours, which is her yes): the three others tap option 1.
    for uid in ("dave", "bob", "carol"):
        first_yes = pages[uid].locator(".card.poll button.vote-yes").first
        await first_yes.wait_for(timeout=20000)
        assert await pages["alice"].locator(".card.invite").count() == 0
        await first_yes.click()
    await pages["alice"].locator(".card.invite").wait_for(timeout=20000)
    for uid in ("alice", "bob", "carol", "dave"):  # the meeting belongs to every attendee
        [booked] = await store.upcoming_bookings(uid, datetime.now(UTC))
        assert booked.conversation_type == "group" and booked.conversation_id == "team"
    for context in contexts:
        await context.close()
