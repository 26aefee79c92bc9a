"""Who is booking, as the attacker asks it: a group share's link must not let its holder book as
another member, as the sharer or as someone outside the group; a member proves who they are
with a one-time code the bot sends them in a direct chat. A one-to-one page says whom it books
as."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.core.messages import Conversation, IncomingMessage, Sender
from tests.fakes import FrozenClock
from tests.site import Site, running_site


def said(text: str, sender: str, group: str | None = None, n: list[int] = [0]) -> IncomingMessage:  # noqa: B006
    n[0] += 1
    where = Conversation("group", group) if group else Conversation("user", "calbot")
    return IncomingMessage(
        f"id{n[0]}",
        Sender(sender, sender.capitalize()),
        where,
        text,
        datetime(2026, 11, 24, 15, tzinfo=UTC),
    )


@pytest.fixture
async def site(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Site]:
    async with running_site(tmp_path, clock) as running:
        store = running.runtime.services.store
        for uid in ("alice", "bob", "carol", "mallory"):
            await running.say(said("hi", uid))
        for uid in ("alice", "bob", "carol"):
            await store.add_group_member("team", uid)
        yield running


async def group_page(site: Site) -> tuple[str, str]:
    await site.runtime.services.outbox.flush()
    before = len(site.transport.sent)
    await site.say(said("/share next 3 days", "alice", group="team"))
    await site.runtime.services.outbox.flush()
    card = next(
        m
        for m in site.transport.sent[before:]
        if "bookingUrl" in (m.data or {}).get("customData", {})
    )
    link = site.local(card.data["customData"]["bookingUrl"])
    return link, await (await site.client.get(link)).text()


def fields(page: str) -> dict[str, str]:
    found = dict(re.findall(r'name="(t|csrf)" value="([^"]+)"', page))
    slot = re.search(r'name="start" [^>]*value="([^"]+)"', page)
    assert slot is not None and {"t", "csrf"} <= set(found)
    return {**found, "start": slot.group(1), "d": "30"}


async def bookings(site: Site) -> list[str]:
    store = site.runtime.services.store
    found = await store.active_bookings(
        "alice", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    )
    return [b.booker_uid for b in found]


async def dms_to(site: Site, uid: str) -> list[str]:
    await site.runtime.services.outbox.flush()
    return [m.text for m in site.transport.sent if m.receiver == uid and m.receiver_type == "user"]


async def test_a_typed_name_books_nobody(site: Site) -> None:
    link, page = await group_page(site)
    path = link.split("?")[0]
    for victim in ("carol", "alice", "mallory"):
        form = {**fields(page), "booker": victim, "title": "Carol did nothing"}
        response = await site.client.post(path, data=form)
        assert response.status in (403, 409)
        assert "Traceback" not in await response.text()
    assert await bookings(site) == []


async def test_codes_go_only_to_members_and_prove_who_books(site: Site) -> None:
    link, page = await group_page(site)
    path = link.split("?")[0]
    for outsider in ("mallory", "alice"):  # not in the group; the sharer
        refused = await site.client.post(
            path, data={**fields(page), "booker": outsider, "send_code": "1"}
        )
        assert refused.status == 403 and "Only members" in await refused.text()
        assert not [t for t in await dms_to(site, outsider) if "code" in t]
    sent = await site.client.post(path, data={**fields(page), "booker": "bob", "send_code": "1"})
    assert sent.status == 200 and "I sent a code to bob" in await sent.text()
    [dm] = [t for t in await dms_to(site, "bob") if "Your code" in t]
    code = re.search(r"\b(\d{6})\b", dm)
    assert code is not None
    # Bob's code does not make him Carol, and a wrong code books nothing.
    as_carol = await site.client.post(
        path, data={**fields(page), "booker": "carol", "code": code.group(1)}
    )
    assert as_carol.status == 409 and await bookings(site) == []
    wrong = f"{(int(code.group(1)) + 1) % 1_000_000:06d}"
    assert (
        await site.client.post(path, data={**fields(page), "booker": "bob", "code": wrong})
    ).status == 409
    # A code is bound to the browser that asked for it.
    async with aiohttp.ClientSession(
        base_url=site.base, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as other:
        their_page = await (await other.get(link)).text()
        stolen = await other.post(
            path, data={**fields(their_page), "booker": "bob", "code": code.group(1)}
        )
        assert stolen.status == 409
    assert await bookings(site) == []
    booked = await site.client.post(
        path, data={**fields(page), "booker": "bob", "code": code.group(1)}
    )
    assert booked.status == 200, await booked.text()
    assert await bookings(site) == ["bob"]


async def test_a_code_expires(site: Site) -> None:
    link, page = await group_page(site)
    path = link.split("?")[0]
    await site.client.post(path, data={**fields(page), "booker": "bob", "send_code": "1"})
    [dm] = [t for t in await dms_to(site, "bob") if "Your code" in t]
    code = re.search(r"\b(\d{6})\b", dm)
    assert code is not None
    site.clock.advance(minutes=21)
    page = await (await site.client.get(link)).text()
    late = await site.client.post(
        path, data={**fields(page), "booker": "bob", "code": code.group(1)}
    )
    assert late.status == 409 and await bookings(site) == []


async def test_a_one_to_one_page_says_whom_it_books_as(site: Site) -> None:
    await site.say(said("/share @bob", "alice"))
    await site.runtime.services.outbox.flush()
    card = next(
        m for m in site.transport.sent if "bookingUrl" in (m.data or {}).get("customData", {})
    )
    page = await (await site.client.get(site.local(card.data["customData"]["bookingUrl"]))).text()
    assert "Booking as <strong>Bob</strong>" in page
    assert "not Bob? Ask Alice for your own link" in page
    assert 'name="booker"' not in page
