"""Acceptance for issue 21: Alice on Google, Bob on Microsoft 365 and Carol on CalDAV (a real
Radicale) in one process with one registry share, book and /find. One crash per provider
between "event created" and "confirmed"; after recovery each event is in its owner's own
calendar exactly once, and a group /find asks each provider once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from caldav.collection import Calendar
from caldav.davclient import DAVClient

from bot.calendars.caldav import CalDavCalendar
from bot.calendars.graph_values import windows_to_iana
from bot.calendars.local import LocalCalendar
from bot.calendars.registry import Calendars
from bot.core.dispatcher import Dispatcher
from bot.scheduling import booking
from bot.scheduling.cards import INVITE_TYPE
from storage import Connection, SqlStore
from tests.caldav_servers import DavServer, connect_caldav, radicale
from tests.chat import Chat
from tests.fakes import CountingCalendar, Crash, CrashAfterCreate, FrozenClock
from tests.google_site import GoogleWorld, google_world
from tests.graph_site import GraphWorld, graph_world

ALICE, BOB = "alice@example.com", "bob@contoso.test"


@dataclass
class World:
    store: SqlStore
    clock: FrozenClock
    google: GoogleWorld
    graph: GraphWorld
    dav: DavServer
    counters: dict[str, CountingCalendar]
    crashers: dict[str, CrashAfterCreate]

    def process(self) -> Chat:
        """A (re)started process: fresh services and outbox, the same database and calendars."""
        chat = Chat(self.store, self.clock)
        registry = Calendars(dict(self.crashers), "local")
        chat.services = replace(chat.services, calendar=registry)
        chat.dispatcher = Dispatcher(chat.services)
        return chat

    def google_events(self) -> list[tuple[datetime, datetime]]:
        return sorted(
            (_instant(e["start"]["dateTime"]), _instant(e["end"]["dateTime"]))
            for e in self.google.fake.accounts[ALICE].events.values()
            if e.get("status") != "cancelled"
        )

    def graph_events(self) -> list[tuple[datetime, datetime]]:
        found = []
        for event in self.graph.fake.accounts[BOB].events.values():
            zone = event["start"]["timeZone"]
            found.append(
                (_wall(event["start"]["dateTime"], zone), _wall(event["end"]["dateTime"], zone))
            )
        return sorted(found)

    async def dav_events(self) -> list[tuple[datetime, datetime]]:
        def read() -> list[tuple[datetime, datetime]]:
            with DAVClient(
                self.dav.url, username="carol", password=self.dav.passwords["carol"]
            ) as c:
                calendar = Calendar(client=c, url=self.dav.calendar_url("carol"))
                spans = []
                for item in calendar.events():
                    for vevent in icalendar.Calendar.from_ical(item.data).walk("VEVENT"):
                        start: datetime = vevent.decoded("DTSTART")
                        end: datetime = vevent.decoded("DTEND")
                        spans.append((start.astimezone(UTC), end.astimezone(UTC)))
                return sorted(spans)

        return await asyncio.to_thread(read)


async def no_reconnect(owner: Connection) -> None:
    raise AssertionError(f"{owner.uid} was asked to reconnect")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _wall(text: str, zone: str) -> datetime:
    name = zone if zone == "UTC" else (windows_to_iana(zone) or zone)
    return datetime.fromisoformat(text[:19]).replace(tzinfo=ZoneInfo(name)).astimezone(UTC)


@pytest.fixture
async def world(store: SqlStore, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[World]:
    async with google_world(store) as google, graph_world(store) as graph:
        with radicale(tmp_path, {"carol": "app-pw-carol"}) as dav:
            await google.connect(store, "alice", ALICE, "America/New_York")
            await graph.connect(store, "bob", BOB, "W. Europe Standard Time", "Europe/Berlin")
            await connect_caldav(store, google.vault, dav, "carol", "Europe/London")
            for uid, zone in (
                ("alice", "America/New_York"),
                ("bob", "Europe/Berlin"),
                ("carol", "Europe/London"),
            ):
                await store.update_user(uid, timezone=zone)
            caldav = CalDavCalendar(store, google.vault, no_reconnect)
            counters = {
                "google": CountingCalendar(google.provider),
                "microsoft": CountingCalendar(graph.provider),
                "caldav": CountingCalendar(caldav),
            }
            # Every registry needs its default; nobody here is connected to the local one.
            crashers = {name: CrashAfterCreate(c) for name, c in counters.items()}
            crashers["local"] = CrashAfterCreate(LocalCalendar(store))
            yield World(store, clock, google, graph, dav, counters, crashers)
            assert google.fake.violations == []
            assert google.reconnects == [] and graph.reconnects == []


async def _crash_and_recover(world: World, chat: Chat, sender: str, text: str) -> Chat:
    """`text` crashes the process after the event is made; a restarted process finishes it."""
    with pytest.raises(Crash):
        await chat.say(text, sender=sender)
    assert not [m for m in chat.sent if m.type == INVITE_TYPE and m.receiver == sender]
    world.clock.advance(minutes=3)
    restarted = world.process()
    assert await booking.recover(restarted.services) == 1
    assert await booking.recover(restarted.services) == 0
    await restarted.services.outbox.flush()
    [invite] = [m for m in restarted.sent if m.type == INVITE_TYPE]
    assert invite.receiver == sender
    return restarted


async def test_google_microsoft_and_caldav_users_share_book_and_find_together(
    world: World,
) -> None:
    chat = world.process()
    half = timedelta(minutes=30)

    # Alice (Google) shares with Bob, who books; the process dies right after Google's insert.
    await chat.say("/share @bob", sender="alice")
    chat = await _crash_and_recover(world, chat, "bob", "/book tomorrow 3pm")
    wed_9_ny = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert world.google_events() == [(wed_9_ny, wed_9_ny + half)]
    assert world.crashers["google"].crashed

    # Bob (Microsoft) shares with Carol, who books; the crash follows Graph's POST.
    await chat.say("/share @carol", sender="bob")
    chat = await _crash_and_recover(world, chat, "carol", "/book tomorrow 2pm")
    wed_14_london = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert world.graph_events() == [(wed_14_london, wed_14_london + half)]

    # Carol (CalDAV) shares with Alice, who books; the crash follows the PUT to Radicale.
    await chat.say("/share @alice", sender="carol")
    chat = await _crash_and_recover(world, chat, "alice", "/book tomorrow 11am")
    wed_16_london = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert await world.dav_events() == [(wed_16_london, wed_16_london + half)]

    # Each booked meeting shows as busy through the registry, for its owner only.
    registry = chat.services.calendar
    owners = [await world.store.get_connection(uid) for uid in ("alice", "bob", "carol")]
    assert all(owners)
    busy = await registry.free_busy(
        [o for o in owners if o], wed_9_ny - timedelta(hours=1), wed_16_london + timedelta(hours=2)
    )
    assert busy["alice"].busy == ((wed_9_ny, wed_9_ny + half),)
    assert busy["bob"].busy == ((wed_14_london, wed_14_london + half),)
    assert busy["carol"].busy == ((wed_16_london, wed_16_london + half),)

    # A group /find across the three asks each provider once.
    for uid in ("alice", "bob", "carol"):
        await chat.say("hi all", sender=uid, group="team")
    before = {name: len(c.free_busy_calls) for name, c in world.counters.items()}
    await chat.say("/find 30m", sender="alice", group="team")
    asked = {name: c.free_busy_calls[before[name] :] for name, c in world.counters.items()}
    assert asked == {"google": [1], "microsoft": [1], "caldav": [1]}
    poll = next(m for m in reversed(chat.sent) if m.type == "extension_calendar_poll")
    slots = poll.data["customData"]["slots"]
    assert slots
    for slot in slots:
        start = datetime.fromisoformat(slot["start"]).astimezone(UTC)
        end = datetime.fromisoformat(slot["end"]).astimezone(UTC)
        for taken in ((wed_9_ny, wed_9_ny + half), (wed_14_london, wed_14_london + half)):
            assert end <= taken[0] or taken[1] <= start, (slot, taken)

    # Everyone votes yes: the meeting lands in the organizer's (Google) calendar once more.
    for uid in ("bob", "carol"):
        await chat.say("/vote 1 yes", sender=uid, group="team")
    events = world.google_events()
    assert len(events) == 2
    for uid in ("alice", "bob", "carol"):
        [listing] = await chat.say("/bookings", sender=uid)
        assert "Team meeting" in listing, (uid, listing)
