"""Chat reminders: outbox rows due before the meeting, sent once, moved and dropped with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.scheduling import reminders
from storage import SqlStore
from tests.chat import Chat, meet
from tests.fakes import FrozenClock

# Bob (Berlin) books Alice (New York) for Wed 15:00 Berlin = 14:00 UTC = 09:00 New York.
START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
TEN_BEFORE = START - timedelta(minutes=10)


@pytest.fixture
async def booked(store: SqlStore, chat: Chat) -> Chat:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    await chat.say("/share @bob", sender="alice")
    await chat.say("/book tomorrow 3pm for 30 min about Roadmap", sender="bob")
    return chat


def reminded(chat: Chat) -> list[tuple[str, str]]:
    return [(m.receiver, m.text) for m in chat.sent if m.text.startswith("Reminder:")]


async def join(chat: Chat, uid: str = "bob") -> str:
    """What every reminder of the booking ends with: its (Jitsi, by default) video link."""
    [booking] = await chat.store.upcoming_bookings(uid, chat.clock.now())
    assert booking.join_url.startswith("https://meet.jit.si/CalBot-")
    return f" Join: {booking.join_url}"


async def tick(chat: Chat, at: datetime) -> None:
    chat.clock.set(at)
    await reminders.skip_late(chat.services)
    await chat.services.outbox.flush()


async def test_each_person_is_reminded_once_at_the_due_time_in_their_zone(booked: Chat) -> None:
    await tick(booked, TEN_BEFORE - timedelta(seconds=1))
    assert reminded(booked) == []
    await tick(booked, TEN_BEFORE)
    link = await join(booked)
    assert sorted(reminded(booked)) == [
        ("alice", "Reminder: “Roadmap” with Bob starts in 10 minutes (09:00 New York)." + link),
        ("bob", "Reminder: “Roadmap” with Alice starts in 10 minutes (15:00 Berlin)." + link),
    ]
    await tick(booked, TEN_BEFORE + timedelta(minutes=5))
    assert len(reminded(booked)) == 2


async def test_a_restart_in_between_still_sends_each_once(
    booked: Chat, store: SqlStore, clock: FrozenClock
) -> None:
    restarted = Chat(store, clock)  # a new process (new outbox) on the same database
    await tick(restarted, TEN_BEFORE)
    await tick(booked, TEN_BEFORE + timedelta(minutes=1))
    assert sorted(r for r, _ in reminded(restarted)) == ["alice", "bob"]
    assert reminded(booked) == []


async def test_two_workers_on_one_store_send_one_each(
    booked: Chat, store: SqlStore, clock: FrozenClock
) -> None:
    other = Chat(store, clock)
    clock.set(TEN_BEFORE)
    await asyncio.gather(booked.services.outbox.flush(), other.services.outbox.flush())
    both = reminded(booked) + reminded(other)
    assert sorted(r for r, _ in both) == ["alice", "bob"]


async def test_cancelling_in_between_drops_the_reminders(booked: Chat) -> None:
    await booked.say("/cancel", sender="bob")
    await tick(booked, TEN_BEFORE)
    assert reminded(booked) == []


async def test_moving_the_meeting_moves_its_reminders(booked: Chat) -> None:
    await booked.say("/reschedule tomorrow 4pm", sender="bob")
    await tick(booked, TEN_BEFORE)
    assert reminded(booked) == []
    await tick(booked, TEN_BEFORE + timedelta(hours=1))
    link = await join(booked)  # the same room after the move
    assert sorted(reminded(booked)) == [
        ("alice", "Reminder: “Roadmap” with Bob starts in 10 minutes (10:00 New York)." + link),
        ("bob", "Reminder: “Roadmap” with Alice starts in 10 minutes (16:00 Berlin)." + link),
    ]


async def test_late_reminders_are_skipped_and_counted(booked: Chat) -> None:
    # The bot was down from before the reminder until after the meeting began.
    await tick(booked, START + timedelta(minutes=1))
    assert reminded(booked) == []
    assert booked.services.metrics.value("calbot_reminders_skipped_total") == 2
    await tick(booked, START + timedelta(minutes=2))
    assert booked.services.metrics.value("calbot_reminders_skipped_total") == 2


async def test_a_late_but_still_useful_reminder_is_sent(booked: Chat) -> None:
    # Down over the due time but back before the start: a reminder is still worth having.
    await tick(booked, START - timedelta(minutes=3))
    assert len(reminded(booked)) == 2


async def test_settings_choose_the_leads_and_off_stops_them(store: SqlStore, chat: Chat) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    [reply] = await chat.say("/settings reminders 10m, 1d", sender="bob")
    assert "Reminders: 1 day and 10 minutes before each meeting" in reply
    await chat.say("/settings reminders off", sender="alice")
    await chat.say("/share @bob", sender="alice")
    # Booked two days ahead, so the one-day reminder is still in the future.
    await chat.say("/book thursday 3pm about Plan", sender="bob")
    start = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    await tick(chat, start - timedelta(days=1))
    link = await join(chat)
    assert reminded(chat) == [
        ("bob", "Reminder: “Plan” with Alice starts in 1 day (15:00 Berlin)." + link)
    ]
    await tick(chat, start - timedelta(minutes=10))
    assert [r for r, _ in reminded(chat)] == ["bob", "bob"]
    assert "Reminders: off" in (await chat.say("/settings", sender="alice"))[-1]


async def test_unreadable_reminder_settings_say_how_to_write_them(
    store: SqlStore, chat: Chat
) -> None:
    await meet(store, "bob", "Europe/Berlin")
    [reply] = await chat.say("/settings reminders soon", sender="bob")
    assert "couldn't read 'soon' as a reminder time" in reply and "10m" in reply
    [reply] = await chat.say("/settings reminders 30d", sender="bob")
    assert "1 minute to 7 days" in reply
    user = await store.get_user("bob")
    assert user is not None and user.reminders == (10,)
