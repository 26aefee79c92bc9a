"""Video links per provider: Meet from Google, Teams from Microsoft 365, Jitsi for the rest; the
link is in the event, the invite card, the .ics and the booking."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import icalendar
import pytest
from caldav.collection import Calendar
from caldav.davclient import DAVClient

from bot.calendars.caldav import CalDavCalendar
from bot.calendars.local import LocalCalendar
from bot.calendars.provider import CalendarProvider
from bot.calendars.registry import Calendars
from bot.config import MeetingsConfig, load_config
from bot.core.dispatcher import Dispatcher
from bot.scheduling.cards import INVITE_TYPE
from storage import Booking, Connection, SqlStore
from tests.caldav_servers import connect_caldav, radicale
from tests.chat import TEST_CONFIG, Chat, meet
from tests.fakes import FrozenClock
from tests.google_site import google_world
from tests.graph_site import graph_world

JITSI = "https://meet.jit.si/CalBot-"


def process(
    store: SqlStore,
    clock: FrozenClock,
    providers: dict[str, CalendarProvider] | None = None,
    video: str = "auto",
) -> Chat:
    config = replace(TEST_CONFIG, meetings=MeetingsConfig(video=video))
    chat = Chat(store, clock, config=config)
    registry = Calendars({"local": LocalCalendar(store), **(providers or {})}, "local")
    chat.services = replace(chat.services, calendar=registry)
    chat.dispatcher = Dispatcher(chat.services)
    return chat


async def book(chat: Chat, owner: str) -> tuple[Booking, Any, Any]:
    """Bob books `owner`; the booking, its invite card and the card's VEVENT."""
    await meet(chat.store, "bob", "Europe/Berlin")
    await chat.say("/share @bob", sender=owner)
    await chat.say("/book tomorrow 3pm about Sync", sender="bob")
    [booking] = await chat.store.upcoming_bookings("bob", chat.clock.now())
    [card] = [m for m in chat.sent if m.type == INVITE_TYPE]
    [event] = icalendar.Calendar.from_ical(card.data["customData"]["ics"]).walk("VEVENT")
    return booking, card, event


def assert_everywhere(link: str, card: Any, event: Any) -> None:
    assert f"Join the video call: {link}" in card.text
    assert card.data["customData"]["joinUrl"] == link
    assert str(event["LOCATION"]) == link and str(event["URL"]) == link


async def test_a_local_calendar_booking_gets_an_unguessable_jitsi_room(
    store: SqlStore, clock: FrozenClock
) -> None:
    chat = process(store, clock)
    await meet(store, "alice", "America/New_York")
    booking, card, event = await book(chat, "alice")
    assert booking.join_url.startswith(JITSI)
    room = booking.join_url.removeprefix(JITSI)
    assert len(room) >= 20  # 128 random bits, not a name anyone could guess
    assert_everywhere(booking.join_url, card, event)


async def test_google_calendars_get_a_meet_link_made_by_google(
    store: SqlStore, clock: FrozenClock
) -> None:
    async with google_world(store) as google:
        await google.connect(store, "alice", "alice@example.com", "America/New_York")
        chat = process(store, clock, {"google": google.provider})
        booking, card, event = await book(chat, "alice")
        [made] = google.fake.accounts["alice@example.com"].events.values()
        assert made["conferenceData"]["createRequest"]["status"]["statusCode"] == "success"
        assert booking.join_url == made["hangoutLink"]
        assert booking.join_url.startswith("https://meet.google.com/")
        assert "location" not in made
        assert_everywhere(booking.join_url, card, event)

        # Moving it keeps the same Meet.
        await chat.say("/reschedule tomorrow 4pm", sender="bob")
        [moved] = google.fake.accounts["alice@example.com"].events.values()
        assert moved["hangoutLink"] == booking.join_url
        assert google.fake.violations == []


async def test_jitsi_everywhere_puts_the_room_in_the_google_event(
    store: SqlStore, clock: FrozenClock
) -> None:
    async with google_world(store) as google:
        await google.connect(store, "alice", "alice@example.com", "America/New_York")
        chat = process(store, clock, {"google": google.provider}, video="jitsi")
        booking, card, event = await book(chat, "alice")
        [made] = google.fake.accounts["alice@example.com"].events.values()
        assert "conferenceData" not in made and "hangoutLink" not in made
        assert booking.join_url.startswith(JITSI) and made["location"] == booking.join_url
        assert_everywhere(booking.join_url, card, event)


async def test_microsoft_365_calendars_get_a_teams_link(
    store: SqlStore, clock: FrozenClock
) -> None:
    async with graph_world(store) as graph:
        await graph.connect(
            store, "alice", "alice@contoso.test", "Eastern Standard Time", "America/New_York"
        )
        chat = process(store, clock, {"microsoft": graph.provider})
        booking, card, event = await book(chat, "alice")
        [made] = graph.fake.accounts["alice@contoso.test"].events.values()
        assert made["isOnlineMeeting"] is True
        assert booking.join_url == made["onlineMeeting"]["joinUrl"]
        assert booking.join_url.startswith("https://teams.microsoft.test/")
        assert_everywhere(booking.join_url, card, event)


async def test_a_personal_microsoft_account_without_teams_books_without_a_link(
    store: SqlStore, clock: FrozenClock
) -> None:
    async with graph_world(store) as graph:
        await graph.connect(
            store, "alice", "alice@outlook.test", "Eastern Standard Time", "America/New_York"
        )
        graph.fake.accounts["alice@outlook.test"].teams = False
        chat = process(store, clock, {"microsoft": graph.provider})
        booking, card, event = await book(chat, "alice")
        assert booking.join_url == "" and "Join" not in card.text and "LOCATION" not in event


async def test_caldav_events_carry_the_jitsi_room_as_location_and_url(
    store: SqlStore, clock: FrozenClock, tmp_path: Path
) -> None:
    async with google_world(store) as google:  # for its token vault
        with radicale(tmp_path, {"carol": "app-pw-carol"}) as dav:
            await connect_caldav(store, google.vault, dav, "carol", "Europe/London")

            async def no_reconnect(owner: Connection) -> None:
                raise AssertionError(f"{owner.uid} was asked to reconnect")

            caldav = CalDavCalendar(store, google.vault, no_reconnect)
            chat = process(store, clock, {"caldav": caldav})
            booking, card, event = await book(chat, "carol")
            assert booking.join_url.startswith(JITSI)
            assert_everywhere(booking.join_url, card, event)

            def stored() -> list[Any]:
                with DAVClient(dav.url, username="carol", password="app-pw-carol") as client:
                    calendar = Calendar(client=client, url=dav.calendar_url("carol"))
                    return [
                        vevent
                        for item in calendar.events()
                        for vevent in icalendar.Calendar.from_ical(item.data).walk("VEVENT")
                    ]

            [saved] = await asyncio.to_thread(stored)
            assert str(saved["LOCATION"]) == booking.join_url
            assert str(saved["URL"]) == booking.join_url


async def test_video_none_gives_no_link(store: SqlStore, clock: FrozenClock) -> None:
    chat = process(store, clock, video="none")
    await meet(store, "alice", "America/New_York")
    booking, card, event = await book(chat, "alice")
    assert booking.join_url == "" and "Join" not in card.text
    assert card.data["customData"]["joinUrl"] is None and "LOCATION" not in event


def test_an_unknown_video_choice_is_a_clear_config_error(tmp_path: Path) -> None:
    path = tmp_path / "calbot.toml"
    path.write_text('[meetings]\nvideo = "zoom"\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"\[meetings\] video .* must be one of auto, jitsi, none"):
        load_config(path, {})
