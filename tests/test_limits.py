"""An owner's daily maximum and buffers, set with /hours and kept by bookings and moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling import freebusy
from bot.scheduling.availability import SlotRules
from storage import SqlStore
from tests.chat import Chat, meet


@pytest.fixture
async def people(store: SqlStore, chat: Chat) -> Chat:
    await meet(store, "alice", "America/New_York")
    for uid in ("bob", "carol", "dave"):
        await meet(store, uid, "America/New_York")
        await chat.say(f"/share @{uid}", sender="alice")
    return chat


async def test_a_daily_maximum_refuses_a_full_day_and_lets_a_move_within_it(
    people: Chat,
) -> None:
    [reply] = await people.say("/hours 9-17 max 2 meetings a day", sender="alice")
    assert reply == (
        "Done: your working hours are 09:00–17:00 on Mon, Tue, Wed, Thu, Fri "
        "(America/New_York); at most 2 meetings a day."
    )
    await people.say("/book tomorrow 10am", sender="bob")
    await people.say("/book tomorrow 11am", sender="carol")
    replies = await people.say("/book tomorrow 2pm", sender="dave")
    assert replies[-1] == (
        "Alice takes at most 2 meetings a day and Wed 25 Nov is full. Pick another day."
    )
    assert "Meeting booked" in (await people.say("/book thursday 2pm", sender="dave"))[0]
    # Bob's meeting moves within the full day: it is still one of the two.
    assert (await people.say("/reschedule tomorrow 3pm", sender="bob"))[-1].startswith("Moved")


async def test_buffers_keep_time_free_around_meetings(people: Chat) -> None:
    [reply] = await people.say("/hours buffer 15m before 10m after", sender="alice")
    assert reply.endswith("; 15 min free before and 10 after each meeting.")
    await people.say("/book tomorrow 10am", sender="bob")
    too_close = (
        "That is too close to another of Alice's meetings: they keep 15 min free before and "
        "10 after each one. Pick a time a little earlier or later."
    )
    assert await people.say("/book tomorrow 10:30am", sender="carol") == [too_close]
    # Between two meetings the longer buffer counts: 10 after Bob's, 15 before the next.
    assert await people.say("/book tomorrow 10:40am", sender="carol") == [too_close]
    assert "Meeting booked" in (await people.say("/book tomorrow 10:45am", sender="carol"))[0]
    # 9:20-9:50 leaves 10 minutes before Bob's 10:00, and Alice keeps 15 before a meeting.
    assert await people.say("/book tomorrow 9:20am", sender="dave") == [too_close]
    assert "Meeting booked" in (await people.say("/book tomorrow 9:15am", sender="dave"))[0]
    # Moves keep them too (Carol's own meeting is no clash with itself).
    assert await people.say("/reschedule tomorrow 10:35am", sender="carol") == [too_close]
    moved = await people.say("/reschedule tomorrow 10:50am", sender="carol")
    assert moved[-1].startswith("Moved")


async def test_no_max_and_no_buffer_undo_them_and_bad_values_say_why(people: Chat) -> None:
    await people.say("/hours max 1 a day buffer 5m", sender="alice")
    [reply] = await people.say("/hours no max no buffer", sender="alice")
    assert reply == (
        "Done: your working hours are 09:00–17:00 on Mon, Tue, Wed, Thu, Fri (America/New_York)."
    )
    assert "1 to 50 meetings" in (await people.say("/hours max 0 a day", sender="alice"))[0]
    assert "0 to 240 minutes" in (await people.say("/hours buffer 300m", sender="alice"))[0]


async def test_offered_slots_leave_the_buffers_free(people: Chat, store: SqlStore) -> None:
    await people.say("/hours buffer 30m", sender="alice")
    await people.say("/book tomorrow 10am", sender="bob")  # 15:00-15:30 UTC
    alice = await store.get_user("alice")
    assert alice is not None
    day = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 09:00 New York
    rules = SlotRules(length=timedelta(minutes=30), step=timedelta(minutes=15))
    free, _ = await freebusy.free_slots(
        people.services, alice, day, day + timedelta(hours=4), rules
    )
    starts = [f"{s.astimezone(ZoneInfo('America/New_York')):%H:%M}" for s, _ in free]
    assert starts == ["09:00", "11:00", "11:15", "11:30", "11:45", "12:00", "12:15", "12:30"]
