"""/reschedule as conversations: either side moves the same event, rules hold, crashes heal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from bot.calendars.local import LocalCalendar
from bot.scheduling import reschedule
from bot.scheduling.cards import INVITE_TYPE
from storage import SqlStore
from tests.chat import Chat, meet
from tests.fakes import Crash, CrashAfterUpdate, FrozenClock

WED_9_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wed 09:00 New York, 15:00 Berlin


@pytest.fixture
async def booked(store: SqlStore, chat: Chat) -> Chat:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    await chat.say("/share @bob", sender="alice")
    await chat.say("/book tomorrow 3pm for 30 min about Roadmap", sender="bob")
    return chat


async def alice_busy(store: SqlStore) -> list[tuple[datetime, datetime]]:
    busy = await store.local_busy(
        ["alice"], WED_9_NY - timedelta(days=2), WED_9_NY + timedelta(days=10)
    )
    return busy["alice"]


def _event(data: Mapping[str, Any]) -> Any:
    [event] = Calendar.from_ical(data["customData"]["ics"]).walk("VEVENT")
    return event


async def test_the_booker_moves_the_meeting_and_the_same_event_moves(
    booked: Chat, store: SqlStore
) -> None:
    [before] = await store.upcoming_bookings("bob", booked.clock.now())
    start = len(booked.sent)
    replies = await booked.say("/reschedule tomorrow 4pm", sender="bob")
    assert replies[-1] == (
        "Moved “Roadmap” to Wed 25 Nov 2026, 16:00–16:30 CET (10:00–10:30 EST for Alice). "
        "I told Alice and sent the new invite."
    )
    new_start = WED_9_NY + timedelta(hours=1)
    assert await alice_busy(store) == [(new_start, new_start + timedelta(minutes=30))]
    told = [m for m in booked.sent[start:] if m.receiver == "alice"]
    assert [m.text for m in told] == [
        "Bob moved “Roadmap” to Wed 25 Nov 2026, 10:00–10:30 EST (16:00–16:30 CET)."
    ]
    [invite] = [m for m in booked.sent[start:] if m.type == INVITE_TYPE]
    assert invite.receiver == "bob"
    event = _event(invite.data)
    assert str(event["UID"]) == before.id and int(event["SEQUENCE"]) == 1
    [after] = await store.upcoming_bookings("bob", booked.clock.now())
    assert (after.id, after.event_id, after.sequence) == (before.id, before.event_id, 1)


async def test_the_owner_moves_it_and_the_booker_hears_in_their_zone(
    booked: Chat, store: SqlStore
) -> None:
    start = len(booked.sent)
    await booked.say("/reschedule tomorrow 11am", sender="alice")
    [reply] = [m.text for m in booked.sent[start:] if m.receiver == "alice"]
    assert reply == (
        "Moved “Roadmap” to Wed 25 Nov 2026, 11:00–11:30 EST (17:00–17:30 CET for Bob). "
        "I told Bob and sent the new invite."
    )
    to_bob = [m for m in booked.sent[start:] if m.receiver == "bob"]
    assert to_bob[0].text == (
        "Alice moved “Roadmap” to Wed 25 Nov 2026, 17:00–17:30 CET (11:00–11:30 EST)."
    )
    assert [m.type for m in to_bob][1] == INVITE_TYPE
    assert len(await alice_busy(store)) == 1


async def test_a_taken_target_slot_is_refused_and_nothing_moves(
    booked: Chat, store: SqlStore
) -> None:
    await meet(store, "carol", "Europe/Berlin")
    await booked.say("/share @carol", sender="alice")
    await booked.say("/book tomorrow 4pm for 30 min", sender="carol")
    busy_before = await alice_busy(store)
    assert len(busy_before) == 2
    start = len(booked.sent)
    replies = await booked.say("/reschedule tomorrow 4pm", sender="bob")
    assert replies == ["That slot was just taken. Pick another time in Alice's calendar."]
    assert await alice_busy(store) == busy_before
    assert not [m for m in booked.sent[start:] if m.receiver == "alice"]


async def test_moving_outside_working_hours_or_into_the_past_is_refused(booked: Chat) -> None:
    replies = await booked.say("/reschedule tomorrow 11pm", sender="bob")
    assert "outside Alice's working hours" in replies[-1]
    replies = await booked.say("/reschedule yesterday 3pm", sender="bob")
    assert "already passed" in replies[-1]


async def test_a_crash_between_update_and_re_invite_gives_one_event_and_one_re_invite(
    store: SqlStore, clock: FrozenClock
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    calendar = CrashAfterUpdate(LocalCalendar(store))
    crashing = Chat(store, clock, calendar=calendar)
    await crashing.say("/share @bob", sender="alice")
    await crashing.say("/book tomorrow 3pm", sender="bob")
    start = len(crashing.sent)
    with pytest.raises(Crash):
        await crashing.say("/reschedule tomorrow 4pm", sender="bob")
    assert not [m for m in crashing.sent[start:] if m.type == INVITE_TYPE]

    restarted = Chat(store, clock)  # a new process, same database
    assert await reschedule.recover(restarted.services) == 1
    assert await reschedule.recover(restarted.services) == 0
    await restarted.services.outbox.flush()
    invites = [m for m in restarted.sent if m.type == INVITE_TYPE]
    assert len(invites) == 1 and invites[0].receiver == "bob"
    assert int(_event(invites[0].data)["SEQUENCE"]) == 1
    new_start = WED_9_NY + timedelta(hours=1)
    assert await alice_busy(store) == [(new_start, new_start + timedelta(minutes=30))]


async def test_reschedule_without_a_time_or_booking_says_what_to_do(
    store: SqlStore, chat: Chat
) -> None:
    await meet(store, "bob", "Europe/Berlin")
    assert "To when?" in (await chat.say("/reschedule", sender="bob"))[-1]
    assert (await chat.say("/reschedule tomorrow 4pm", sender="bob"))[-1] == (
        "You have no upcoming bookings to move."
    )


async def test_the_re_sent_invite_says_the_meeting_moved_from_when_to_when(
    booked: Chat, store: SqlStore
) -> None:
    start = len(booked.sent)
    await booked.say("/reschedule tomorrow 10am", sender="alice")
    [invite] = [m for m in booked.sent[start:] if m.type == INVITE_TYPE]
    # Bob reads it: his zone first, the old time, then the new one.
    assert invite.data["text"].startswith(
        "Meeting moved: “Roadmap” — Alice with Bob\n"
        "Wed 25 Nov 2026, 15:00–15:30 CET → Wed 25 Nov 2026, 16:00–16:30 CET (10:00–10:30 EST)\n"
    )
    assert invite.data["customData"]["movedFrom"] == {
        "start": "2026-11-25T14:00:00Z",
        "end": "2026-11-25T14:30:00Z",
    }
    [first] = [m for m in booked.sent[:start] if m.type == INVITE_TYPE]
    assert first.data["text"].startswith("Meeting booked: “Roadmap”")


async def test_moving_a_group_meeting_tells_the_group(store: SqlStore, clock: FrozenClock) -> None:
    chat = Chat(store, clock)
    for uid, zone in (("ana", "America/New_York"), ("ben", "Europe/Berlin")):
        await meet(store, uid, zone)
        await chat.say("hi all", sender=uid, group="team")  # speaking makes them known members
    await chat.say("/find 30m auto tomorrow", sender="ana", group="team")
    [booked_invite] = [m for m in chat.sent if m.type == INVITE_TYPE]
    old = datetime.fromisoformat(booked_invite.data["customData"]["event"]["start"])
    assert (
        "/cancel declines it for you" in (await chat.say("/reschedule thu 11am", sender="ben"))[-1]
    )
    start = len(chat.sent)
    await chat.say("/reschedule thu 11am", sender="ana")
    [reply] = [m.text for m in chat.sent[start:] if m.receiver == "ana"]
    assert reply.startswith("Moved “") and reply.endswith(
        "I told the group and sent the new invite."
    )
    to_group = [m for m in chat.sent[start:] if m.receiver == "team"]
    assert [m.receiver_type for m in to_group] == ["group", "group"]
    assert to_group[0].text.startswith("Ana moved “") and to_group[0].text.endswith(
        "to Thu 26 Nov 2026, 11:00–11:30 EST. The updated invite follows."
    )
    invite = to_group[1]
    assert invite.type == INVITE_TYPE and invite.data["text"].startswith("Meeting moved: “")
    assert invite.data["customData"]["moveUrls"] == {}  # a group card holds no one's link
    thu_11 = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    busy = await store.local_busy(["ana"], old - timedelta(days=1), thu_11 + timedelta(days=1))
    assert busy["ana"] == [(thu_11, thu_11 + timedelta(minutes=30))]
