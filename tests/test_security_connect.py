"""OA-3 as the attacker: a connect link forwarded, leaked or reopened must not let anyone else
connect (or disconnect) a calendar for someone's chat identity. Links are single use, live at
most 10 minutes, belong to the first browser that opens them; OAuth attempts leave no rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.core.urls import CONNECT_LINK_LIFETIME
from tests.test_connect_google import World, field, finish_sign_in, start_sign_in, world

__all__ = ["world"]


@pytest.fixture
async def mallory(world: World) -> AsyncIterator[aiohttp.ClientSession]:
    """A third browser: its own cookies, the same server."""
    async with aiohttp.ClientSession(
        base_url=world.site.base, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield session


def test_connect_links_live_ten_minutes_at_most() -> None:
    assert timedelta(minutes=10) >= CONNECT_LINK_LIFETIME


async def test_a_used_connect_link_is_dead_for_everyone(
    world: World, mallory: aiohttp.ClientSession
) -> None:
    query, link = await start_sign_in(world)
    done = await finish_sign_in(world, query)
    assert "alice@example.com" in done
    # The attack: a third browser reopens Alice's link after she connected...
    reopened = await mallory.get(link)
    page = await reopened.text()
    assert reopened.status == 410 and "/connect" in page
    assert 'name="csrf"' not in page and "disconnect" not in page.lower().replace("/connect", "")
    # ...and Alice herself can't run it twice either.
    again = await world.site.client.get(link)
    assert again.status == 410 and "already used" in await again.text()
    connection = await world.site.runtime.services.store.get_connection("alice")
    assert connection is not None and connection.account == "alice@example.com"


async def test_a_forwarded_link_works_only_in_the_first_browser(
    world: World, mallory: aiohttp.ClientSession
) -> None:
    [reply] = await world.say("/connect")
    link = world.site.local(reply.rsplit(" ", 1)[1])
    mine = await world.site.client.get(link)
    assert mine.status == 200
    theirs = await mallory.get(link)
    assert theirs.status == 410 and "another browser" in await theirs.text()
    # Posting the form fields of Alice's page from the other browser gets nowhere either.
    page = await mine.text()
    form = {"t": field(page, "t"), "csrf": field(page, "csrf")}
    forged = await mallory.post("/connect/start", data=form, allow_redirects=False)
    assert forged.status in (403, 410)
    assert not [call for call in world.fake.calls if call[1].endswith("/token")]


async def test_an_old_link_is_refused(world: World) -> None:
    [reply] = await world.say("/connect")
    link = world.site.local(reply.rsplit(" ", 1)[1])
    world.site.clock.advance(minutes=11)
    late = await world.site.client.get(link)
    assert late.status == 403 and "expired" in await late.text()


async def test_oauth_attempts_leave_no_rows(world: World) -> None:
    store = world.site.runtime.services.store
    query, _ = await start_sign_in(world)
    await finish_sign_in(world, query)
    assert await store.get_oauth_state(query["state"]) is None  # deleted on use
    cancelled, _ = await start_sign_in(world, another=True)
    await world.site.client.get(f"/oauth/callback?state={cancelled['state']}&error=access_denied")
    assert await store.get_oauth_state(cancelled["state"]) is None  # deleted on failure
    abandoned, _ = await start_sign_in(world, another=True)
    assert await store.get_oauth_state(abandoned["state"]) is not None
    now = world.site.clock.now()
    counts = await store.purge_expired(now - timedelta(minutes=10), now - timedelta(days=30))
    assert counts["oauth_states"] == 0  # still inside its ten minutes
    world.site.clock.advance(minutes=11)
    now = world.site.clock.now()
    counts = await store.purge_expired(now - timedelta(minutes=10), now - timedelta(days=30))
    assert counts["oauth_states"] == 1
    assert await store.get_oauth_state(abandoned["state"]) is None
