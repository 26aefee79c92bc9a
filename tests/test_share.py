"""/connect and /share as conversations."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest

from bot.config import CometChatConfig
from bot.scheduling.cards import AVAILABILITY_TYPE
from storage import LocalEvent, SqlStore
from tests.chat import TEST_CONFIG, Chat, meet
from tests.fakes import FrozenClock, UnreachableCalendar

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 10:00 in New York, 16:00 in Berlin


@pytest.fixture
async def team(store: SqlStore) -> SqlStore:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    # Alice is busy Wednesday 10:00-12:00 New York time (15:00-17:00 UTC).
    await store.add_local_event(
        LocalEvent(
            "alice",
            "dentist",
            "Secret dentist visit",
            datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
            datetime(2026, 11, 25, 17, 0, tzinfo=UTC),
        )
    )
    return store


async def test_share_needs_a_connected_calendar(chat: Chat) -> None:
    assert await chat.say("/share @bob") == [
        "Your calendar isn't connected yet. Send /connect to link it."
    ]


async def test_connect_then_share_with_a_person(chat: Chat, team: SqlStore) -> None:
    await team.ensure_user("carol", "Carol", "Asia/Tokyo")
    assert (await chat.say("/connect", sender="carol"))[0].startswith("Done: your calendar")
    assert (await chat.say("/connect", sender="carol")) == [
        "Your calendar is already connected. /share sends your free time."
    ]
    replies = await chat.say("/share @bob", sender="carol")
    card = chat.sent[-2]
    assert (card.category, card.type, card.on_behalf_of) == ("custom", AVAILABILITY_TYPE, "carol")
    assert (card.receiver, card.receiver_type) == ("bob", "user")
    assert replies[-1].startswith("Shared your free time with Bob: ")


async def test_availability_card_carries_busy_times_slots_and_a_signed_link(
    chat: Chat, team: SqlStore
) -> None:
    await chat.say("/share @bob")
    card = chat.sent[0]
    custom = card.data["customData"]
    assert custom["version"] == 1
    assert custom["sharer"] == {"uid": "alice", "name": "Alice", "timezone": "America/New_York"}
    assert custom["window"] == {"start": "2026-11-24T15:00:00Z", "end": "2026-12-01T15:00:00Z"}
    assert custom["busy"] == [{"start": "2026-11-25T15:00:00Z", "end": "2026-11-25T17:00:00Z"}]
    assert custom["workingHours"] == {
        "timezone": "America/New_York",
        "days": [1, 2, 3, 4, 5],
        "start": "09:00",
        "end": "17:00",
    }
    starts = [datetime.fromisoformat(s["start"]) for s in custom["slots"]]
    assert starts[0] == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 11:00 NY: an hour's notice
    for slot in custom["slots"]:
        start = datetime.fromisoformat(slot["start"])
        assert (
            not datetime(2026, 11, 25, 15, tzinfo=UTC)
            <= start
            < datetime(2026, 11, 25, 17, tzinfo=UTC)
        )
        local = start.astimezone(ZoneInfo("America/New_York"))
        assert 9 <= local.hour < 17 and local.isoweekday() <= 5
    url = urlparse(custom["bookingUrl"])
    assert url.netloc == "bot.test" and url.path == f"/book/{custom['shareId']}"
    claims = chat.services.links.verify(parse_qs(url.query)["t"][0], NOW)
    assert (claims.share_id, claims.audience) == (custom["shareId"], "bob")
    share = await team.get_share(custom["shareId"])
    assert share is not None and share.receiver_uids == ("bob",)


async def test_fallback_text_lists_slots_in_the_readers_zone(chat: Chat, team: SqlStore) -> None:
    await chat.say("/share @bob")
    text = chat.sent[0].text
    assert text.startswith("Alice shared their free time, Tue 24 Nov – Tue 1 Dec.")
    assert "Next free 30-min slots (your time, CET):" in text
    assert "• Tue 24 Nov 17:00–17:30" in text  # 11:00 in New York is 17:00 in Berlin
    assert "Pick a time: https://bot.test/book/" in text


async def test_only_start_and_end_of_busy_time_leave_the_bot(chat: Chat, team: SqlStore) -> None:
    await chat.say("/share @bob")
    payload = json.dumps([m.to_json() for m in chat.sent])
    assert "dentist" not in payload.lower()
    assert all(set(b) == {"start", "end"} for b in chat.sent[0].data["customData"]["busy"])


async def test_share_inside_a_one_to_one_chat_goes_to_the_other_person(
    chat: Chat, team: SqlStore
) -> None:
    await chat.say("/share", to="bob")
    card, confirmation = chat.sent
    assert (card.receiver, card.receiver_type) == ("bob", "user")
    assert (confirmation.receiver, confirmation.text.startswith("Shared")) == ("alice", True)


async def test_share_in_a_group_goes_to_the_group(chat: Chat, team: SqlStore) -> None:
    await chat.say("/share next 3 days", group="team")
    card, confirmation = chat.sent
    assert (card.receiver, card.receiver_type, card.on_behalf_of) == ("team", "group", "alice")
    assert card.data["customData"]["window"]["end"] == "2026-11-27T05:00:00Z"  # Fri 00:00 NY
    assert confirmation.text.startswith("Shared your free time with the group")
    share = await team.get_share(card.data["customData"]["shareId"])
    assert share is not None and share.receiver_uids == ()


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        (
            "/share @ghost",
            "I don't know @ghost yet. Check the name, or ask them to say hello to me first.",
        ),
        ("/share @alice", "That's you! Mention the person who should book you: /share @bob"),
        (
            "/share",
            "Who should I share with? Mention them, e.g. /share @bob."
            "\nUsage: /share [@person] [days]",
        ),
        (
            "/share @bob next month",
            "I can share at most 14 days at a time. Try 'next week' or 'next 10 days'.",
        ),
        (
            "/share @bob @carol",
            "I can share with one person at a time, or with the whole group.\n"
            "Usage: /share [@person] [days]",
        ),
    ],
)
async def test_share_mistakes_get_actionable_replies(
    chat: Chat, team: SqlStore, text: str, reply: str
) -> None:
    assert await chat.say(text) == [reply]


async def test_share_window_text_is_checked(chat: Chat, team: SqlStore) -> None:
    [reply] = await chat.say("/share @bob whenever")
    assert reply.startswith("I couldn't find a day or time in that.")
    assert reply.endswith("Usage: /share [@person] [days]")


async def test_window_this_week_is_clipped_to_now(chat: Chat, team: SqlStore) -> None:
    await chat.say("/share @bob this week")
    window = chat.sent[0].data["customData"]["window"]
    assert window == {"start": "2026-11-24T15:00:00Z", "end": "2026-11-30T05:00:00Z"}


async def test_unreachable_calendar_is_explained(team: SqlStore, clock: FrozenClock) -> None:
    chat = Chat(team, clock, calendar=UnreachableCalendar())
    assert await chat.say("/share @bob") == [
        "I couldn't reach the calendar right now. Please try again in a minute."
    ]
    revoked = Chat(team, clock, calendar=UnreachableCalendar(reconnect=True))
    assert await revoked.say("/share @bob") == [
        "I lost access to your calendar. Send /connect to link it again."
    ]


async def test_disconnect_kills_old_links(chat: Chat, team: SqlStore) -> None:
    await chat.say("/share @bob")
    before = await team.get_connection("alice")
    assert await chat.say("/disconnect") == [
        "Disconnected. Booking links you shared no longer work; /connect to link again."
    ]
    assert await chat.say("/disconnect") == ["You have no calendar connected. /connect links one."]
    await chat.say("/connect")
    after = await team.get_connection("alice")
    assert before is not None and after is not None and after.generation > before.generation


async def test_scheduler_message_is_sent_when_configured(
    team: SqlStore, clock: FrozenClock
) -> None:
    config = replace(TEST_CONFIG, cometchat=CometChatConfig(scheduler_message=True))
    chat = Chat(team, clock, config=config)
    await chat.say("/share @bob")
    [scheduler] = [m for m in chat.sent if m.category == "interactive"]
    assert (scheduler.category, scheduler.type, scheduler.on_behalf_of) == (
        "interactive",
        "scheduler",
        "alice",
    )
    data = scheduler.data["interactiveData"]
    assert data["timezoneCode"] == "America/New_York"
    assert data["availability"]["monday"] == [{"from": "0900", "to": "1700"}]
    assert "saturday" not in data["availability"]
    assert data["scheduleElement"]["action"]["url"] == "https://bot.test/cometchat/scheduler"
    assert (data["dateRangeStart"], data["dateRangeEnd"]) == ("2026-11-24", "2026-12-01")
    assert timedelta(minutes=data["duration"]) == timedelta(minutes=30)
