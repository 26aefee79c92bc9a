"""Issue 19, chat side: what a new user types in the first hour is understood or clearly
answered (days for /share, both settings at once, a booking question), a busy time gets its
true reason with the nearest free times, and every path names a meeting the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.messages import SchedulerPick
from bot.scheduling.cards import INVITE_TYPE
from storage import SqlStore
from storage.records import LocalEvent
from tests.chat import Chat, meet

WED_10_NY = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wed 10:00 New York = 16:00 Berlin


@pytest.fixture
async def people(store: SqlStore, chat: Chat) -> Chat:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    return chat


@pytest.mark.parametrize("days", [1, 3, 14])
async def test_share_takes_a_number_of_days(people: Chat, days: int) -> None:
    replies = await people.say(f"/share @bob {days}", sender="alice")
    assert replies[-1].startswith("Shared your free time with Bob:")
    share = people.sent[0].data["customData"]
    start = datetime.fromisoformat(share["window"]["start"])
    end = datetime.fromisoformat(share["window"]["end"])
    assert end - start == timedelta(days=days)


@pytest.mark.parametrize("text", ["/share 30", "/share @bob 30 days", "/share 0"])
async def test_share_with_too_many_days_is_answered_clearly(people: Chat, text: str) -> None:
    [reply] = await people.say(text, sender="alice")
    assert reply.startswith("I can share 1 to 14 days at a time")
    assert "/share 14" in reply


async def test_settings_accepts_both_settings_in_one_message(people: Chat) -> None:
    [reply] = await people.say("/settings dates dmy next first-after", sender="alice")
    assert "12/03 is 12 March" in reply and "first Friday after today" in reply
    [reply] = await people.say("/settings dates mdy next next-week", sender="alice")
    assert "12/03 is 3 December" in reply and "Friday of next week" in reply
    [reply] = await people.say("/settings dates", sender="alice")
    assert reply.startswith("dates can be mdy or dmy")


async def test_a_question_with_a_mention_books(people: Chat) -> None:
    await people.say("/share @bob", sender="alice")
    replies = await people.say("can we do thursday at 4 with @alice?", sender="bob")
    assert replies[-1].startswith("Booked “Bob / Alice” with Alice: Thu 26 Nov 2026, 16:00")


async def test_a_busy_time_gets_the_true_reason_and_the_nearest_free_times_in_both_zones(
    people: Chat, store: SqlStore
) -> None:
    await store.add_local_event(
        LocalEvent("alice", "dentist", "Dentist", WED_10_NY - timedelta(minutes=30), WED_10_NY
                   + timedelta(minutes=30))
    )  # fmt: skip
    await people.say("/share @bob", sender="alice")
    [reply] = await people.say("/book tomorrow 4pm", sender="bob")
    assert "just taken" not in reply
    lines = reply.splitlines()
    assert lines[0] == (
        "Alice is busy then: their calendar has an event Wed 25 Nov 2026, 15:30–16:30 CET "
        "(09:30–10:30 EST)."
    )
    assert "Dentist" not in reply  # the reason, not the owner's private event title
    assert lines[1] == "The nearest free times:"
    options = [line for line in lines if line.startswith("• ")]
    assert len(options) == 3
    assert all("CET (" in line and "EST)" in line for line in options)
    assert "• Wed 25 Nov 2026, 16:30–17:00 CET (10:30–11:00 EST)" in options
    retry = await people.say("/book tomorrow 4:30pm", sender="bob")
    assert retry[-1].startswith("Booked “Bob / Alice” with Alice: Wed 25 Nov 2026, 16:30")


async def test_one_title_rule_for_book_and_a_scheduler_pick(people: Chat) -> None:
    await people.say("/share @bob", sender="alice")
    replies = await people.say("/book tomorrow 4pm", sender="bob")
    assert replies[-1].startswith("Booked “Bob / Alice”")
    share_id = people.sent[0].data["customData"]["shareId"]
    pick = SchedulerPick("interaction:1:bob:x", share_id, "bob", WED_10_NY + timedelta(hours=2), 30)
    await people.dispatcher.dispatch(pick)
    await people.services.outbox.flush()
    invites = [m for m in people.sent if m.type == INVITE_TYPE]
    # A pick carries only the picker's uid, so the name there is as the store last heard it.
    titles = [m.data["customData"]["event"]["title"].lower() for m in invites]
    assert titles == ["bob / alice"] * 2


async def test_the_card_counts_every_day_and_says_when_it_was_computed(people: Chat) -> None:
    replies = await people.say("/share @bob 14", sender="alice")
    total = int(replies[-1].split(": ", 1)[1].split(" free")[0])
    card = people.sent[0].data["customData"]
    assert total > len(card["slots"]) == 20 and card["moreOnPage"] is True
    assert len(card["days"]) in (14, 15)  # every day the window touches, in Alice's zone
    assert sum(d["free"] for d in card["days"]) == total
    weekdays = [d for d in card["days"] if datetime.fromisoformat(d["date"]).isoweekday() <= 5]
    assert all(d["free"] > 0 for d in weekdays[1:])  # days past the first 20 slots too
    assert card["computedAt"] == "2026-11-24T15:00:00Z"
