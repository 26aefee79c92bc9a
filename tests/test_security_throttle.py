"""A link scanner against the booking page: GETs must not each cost a free/busy call on the
sharer's token (a short cache, refreshed by any booking), and an address or a share viewed too
often gets a friendly 429 page."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.test_connect_google import World, field, finish_sign_in, start_sign_in, world

__all__ = ["world"]


def free_busy_calls(world: World) -> int:
    return sum(1 for _, path in world.fake.calls if path.endswith("/freeBusy"))


async def booking_link(world: World) -> str:
    query, _ = await start_sign_in(world)
    await finish_sign_in(world, query)
    await world.say("hi", sender="bob")
    await world.say("/share @bob")
    card = next(m for m in world.site.transport.sent if m.type == "extension_calendar_availability")
    return world.site.local(card.data["customData"]["bookingUrl"])


async def test_a_scan_of_a_booking_link_costs_one_free_busy_call(world: World) -> None:
    link = await booking_link(world)
    before = free_busy_calls(world)
    for _ in range(100):
        assert (await world.site.client.get(link)).status == 200
    assert free_busy_calls(world) - before == 1
    # A booking refreshes the cache at once: the page never offers the slot just taken.
    page = await (await world.site.client.get(link)).text()
    slot = re.search(r'name="start" [^>]*value="([^"]+)"', page)
    assert slot is not None
    form = {"t": field(page, "t"), "csrf": field(page, "csrf"), "start": slot.group(1), "d": "30"}
    booked = await world.site.client.post(link.split("?")[0], data=form)
    assert booked.status == 200, await booked.text()
    after_booking = free_busy_calls(world)
    again = await (await world.site.client.get(link)).text()
    assert f'value="{slot.group(1)}"' not in again
    assert free_busy_calls(world) == after_booking + 1
    # And the cache is short: 45 s later the calendar is asked again.
    world.site.clock.advance(seconds=46)
    await world.site.client.get(link)
    assert free_busy_calls(world) == after_booking + 2


async def test_too_many_views_get_a_friendly_429(world: World) -> None:
    link = await booking_link(world)
    limit = world.site.runtime.config.web.page_gets_per_minute
    statuses = [(await world.site.client.get(link)).status for _ in range(limit)]
    assert set(statuses) == {200}
    refused = await world.site.client.get(link)
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    text = await refused.text()
    assert "Wait" in text and "Traceback" not in text
    busy_file = await busy_file_url(world, link)
    assert (await world.site.client.get(busy_file)).status == 429  # same address, same limit


async def busy_file_url(world: World, link: str) -> str:
    services = world.site.runtime.services
    share_id = link.split("/book/")[1].split("?")[0]
    connection = await services.store.get_connection("alice")
    assert connection is not None
    until = services.clock.now() + timedelta(days=1)
    return world.site.local(services.urls.busy_ics(share_id, connection.generation, until))
