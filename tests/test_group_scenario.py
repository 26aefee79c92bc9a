"""Issue 17's scenario replayed: four people in New York, Berlin, Tokyo and Los Angeles."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.calendars.local import LocalCalendar
from bot.scheduling.cards import INVITE_TYPE
from bot.scheduling.poll_card import POLL_TYPE
from storage import SqlStore
from tests.chat import Chat, meet
from tests.fakes import FrozenClock

TEAM = [
    ("alice", "America/New_York"),
    ("bob", "Europe/Berlin"),
    ("carol", "Asia/Tokyo"),
    ("dave", "America/Los_Angeles"),
]


@pytest.fixture
async def chat(store: SqlStore, clock: FrozenClock) -> Chat:
    chat = Chat(store, clock, calendar=LocalCalendar(store))
    for uid, zone in TEAM:
        await meet(store, uid, zone)
        await chat.say("hello", sender=uid, group="team")
    return chat


async def test_the_team_across_four_zones_agrees_before_anything_is_booked(chat: Chat) -> None:
    await chat.say("/find 45m with @bob @carol @dave", sender="alice", group="team")
    [card] = [m for m in chat.sent if m.type == POLL_TYPE]
    # No 45 minutes are inside 09-17 in all four zones: say so, and name the compromises.
    assert "No time suits everyone inside their working hours" in card.text
    options = [line for line in card.text.splitlines() if line[:2] in ("1)", "2)", "3)")]
    assert options and all("compromise: " in line for line in options)
    assert all(" for " in line and ("early" in line or "late" in line) for line in options)
    assert all("New York" in o and "Tokyo" in o and "Los Angeles" in o for o in options)
    assert not any(m.type == INVITE_TYPE for m in chat.sent)  # no booking before consent

    slot = card.data["customData"]["slots"][0]
    compromised = set(slot["compromiseFor"])
    assert compromised  # people it is early or late for, by name in the text
    for uid, _ in TEAM[1:]:
        await chat.say("/vote 1 yes", sender=uid, group="team")
    # Everyone else said yes; if it's outside Alice's own hours, only her yes completes it.
    if "alice" in compromised:
        assert not any(m.type == INVITE_TYPE for m in chat.sent)
        await chat.say("/vote 1 yes", sender="alice", group="team")
    assert any(m.type == INVITE_TYPE for m in chat.sent)
    cards = [m for m in chat.sent if m.type == POLL_TYPE]
    assert all(m.edit_of == card.ref for m in cards[1:])  # one card, updated in place
    assert cards[-1].text.startswith("Booked: option 1.")

    start = datetime.fromisoformat(slot["start"].replace("Z", "+00:00"))
    for uid, _ in TEAM:
        [listing] = await chat.say("/bookings", sender=uid)
        assert "Team meeting - Alice, Bob, Carol, Dave" in listing, uid
    upcoming = await chat.store.upcoming_bookings("carol", start)
    assert len(upcoming) == 1

    [to_group, decline] = await chat.say("/cancel", sender="dave")
    assert decline.startswith("You're no longer attending")
    assert to_group.startswith("Dave can't make")
    assert await chat.say("/bookings", sender="dave") == ["You have no upcoming bookings."]

    replies = await chat.say("/cancel", sender="alice")
    assert replies[-1].endswith("I told the group.")
    told = next(m for m in chat.sent if m.text.startswith("Alice cancelled"))
    assert (told.receiver, told.receiver_type) == ("team", "group")
    for uid, _ in TEAM:
        assert await chat.say("/bookings", sender=uid) == ["You have no upcoming bookings."]


async def test_a_fresh_group_gets_usage_with_real_names_or_none(chat: Chat) -> None:
    [answer] = await chat.say("/find 45m", sender="alice", group="empty")
    assert "@ana" not in answer and "Mention who to plan with" in answer
