"""/calendars: several calendars per person as busy sources, and the one that receives meetings.
Google through the strict fake (calendarList, one freeBusy for every chosen calendar), CalDAV on
a real Radicale with two collections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from caldav.davclient import DAVClient

from bot.calendars.caldav import CalDavCalendar
from bot.calendars.local import LocalCalendar
from bot.calendars.provider import CalendarProvider
from bot.calendars.registry import Calendars
from bot.core.dispatcher import Dispatcher
from storage import Connection, SqlStore
from tests.caldav_servers import DavServer, connect_caldav, radicale
from tests.chat import Chat, meet
from tests.fakes import FrozenClock
from tests.google_site import GoogleWorld, google_world

ALICE = "alice@example.com"
FAMILY = "family0123@group.calendar.google.com"
HOLIDAYS = "en.usa#holiday@group.v.calendar.google.com"
WED_10_NY = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def no_reconnect(owner: Connection) -> None:
    raise AssertionError(f"{owner.uid} was asked to reconnect")


@pytest.fixture
async def world(
    store: SqlStore, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[tuple[Chat, GoogleWorld, DavServer]]:
    async with google_world(store) as google:
        with radicale(tmp_path, {"carol": "pw-carol"}) as dav:
            await google.connect(store, "alice", ALICE, "America/New_York")
            family = google.fake.add_calendar(ALICE, FAMILY, "Family")
            family.busy.append(("2026-11-25T15:00:00Z", "2026-11-25T16:00:00Z"))
            google.fake.add_calendar(ALICE, HOLIDAYS, "Holidays in United States", "reader")
            await connect_caldav(store, google.vault, dav, "carol", "Europe/London")
            await meet(store, "bob", "Europe/Berlin")
            chat = Chat(store, clock)
            providers: dict[str, CalendarProvider] = {
                "local": LocalCalendar(store),
                "google": google.provider,
                "caldav": CalDavCalendar(store, google.vault, no_reconnect),
            }
            chat.services = replace(chat.services, calendar=Calendars(providers, "local"))
            chat.dispatcher = Dispatcher(chat.services)
            yield chat, google, dav
            assert google.fake.violations == []


async def alice_busy(chat: Chat) -> tuple[tuple[datetime, datetime], ...]:
    alice = await chat.store.get_connection("alice")
    assert alice is not None
    window = (WED_10_NY - timedelta(hours=2), WED_10_NY + timedelta(hours=3))
    return (await chat.services.calendar.free_busy([alice], *window))["alice"].busy


async def test_google_calendars_are_listed_and_chosen_ones_count_in_one_query(
    world: tuple[Chat, GoogleWorld, DavServer],
) -> None:
    chat, google, _ = world
    assert await chat.say("/calendars") == [
        "Your calendars:\n"
        "1. alice@example.com: counts as busy, receives booked meetings\n"
        "2. Family: ignored for busy time\n"
        "3. Holidays in United States: ignored for busy time, read-only\n"
        "Change it with /calendars busy <numbers> receive <number>, "
        "e.g. /calendars busy 1 2 receive 1."
    ]
    assert await alice_busy(chat) == ()  # only the primary calendar counts so far
    [saved] = await chat.say("/calendars busy 1 2")
    assert saved.startswith("Saved. Your calendars now:\n1. alice@example.com: counts as busy")
    assert "2. Family: counts as busy" in saved
    before = len([c for c in google.fake.calls if c[1].endswith("/freeBusy")])
    assert await alice_busy(chat) == ((WED_10_NY, WED_10_NY + timedelta(hours=1)),)
    queries = [q for q in google.fake.calls if q[1].endswith("/freeBusy")][before:]
    assert len(queries) == 1  # both calendars in one freeBusy query


async def test_meetings_land_in_the_receiving_calendar_and_read_only_ones_are_refused(
    world: tuple[Chat, GoogleWorld, DavServer],
) -> None:
    chat, google, _ = world
    assert await chat.say("/calendars receive 3") == [
        "“Holidays in United States” is read-only for me, so meetings can't be put in it. "
        "Pick a calendar you own to receive them."
    ]
    assert await chat.say("/calendars busy 7") == [
        "There is no calendar 7 in the list: pick 1 to 3 (send /calendars to see them)."
    ]
    [replied] = await chat.say("/calendars busy 1 3 yes")
    assert replied.startswith("I couldn't read 'busy 1 3 yes'."), replied
    [saved] = await chat.say("/calendars busy 1 receive 2")
    assert "2. Family: counts as busy, receives booked meetings" in saved
    await chat.say("/share @bob", sender="alice")
    [*_, booked] = await chat.say("/book tomorrow 6pm", sender="bob")  # 12:00 New York
    assert booked.startswith("Booked"), booked
    assert len(google.fake.accounts[FAMILY].events) == 1
    assert google.fake.accounts[ALICE].events == {}
    await chat.say("/cancel", sender="bob")
    assert [e["status"] for e in google.fake.accounts[FAMILY].events.values()] == ["cancelled"]


def _second_collection(dav: DavServer) -> str:
    url = f"{dav.url}carol/work/"
    with DAVClient(dav.url, username="carol", password=dav.passwords["carol"]) as client:
        assert client.mkcalendar(url).status == 201
    return url


async def test_caldav_collections_are_the_calendars(
    world: tuple[Chat, GoogleWorld, DavServer],
) -> None:
    chat, _, dav = world
    await asyncio.to_thread(_second_collection, dav)
    event = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:w1\r\n"
        "DTSTAMP:20261101T000000Z\r\nDTSTART:20261125T150000Z\r\nDTEND:20261125T160000Z\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    await asyncio.to_thread(_put_work, dav, event)
    [listing] = await chat.say("/calendars", sender="carol")
    assert listing.count("\n") >= 2 and "ignored for busy time" in listing, listing
    carol = await chat.store.get_connection("carol")
    assert carol is not None
    window = (WED_10_NY - timedelta(hours=1), WED_10_NY + timedelta(hours=2))
    assert (await chat.services.calendar.free_busy([carol], *window))["carol"].busy == ()
    await chat.say("/calendars busy 1 2", sender="carol")
    carol = await chat.store.get_connection("carol")
    assert carol is not None
    assert (await chat.services.calendar.free_busy([carol], *window))["carol"].busy == (
        (WED_10_NY, WED_10_NY + timedelta(hours=1)),
    )


def _put_work(dav: DavServer, ics: str) -> None:
    with DAVClient(dav.url, username="carol", password=dav.passwords["carol"]) as client:
        answer = client.put(f"{dav.url}carol/work/w1.ics", ics, {"Content-Type": "text/calendar"})
        assert answer.status in (201, 204), answer.status
