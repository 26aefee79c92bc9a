"""/book with a day or a part of day searches a window; a bare hour after a day word is a time."""

from __future__ import annotations

import pytest

from storage import SqlStore
from tests.chat import Chat, meet


@pytest.fixture
async def shared(store: SqlStore, chat: Chat) -> Chat:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    await chat.say("/share @bob", sender="alice")
    return chat


async def test_a_bare_hour_after_a_day_word_books_that_afternoon_hour(shared: Chat) -> None:
    replies = await shared.say("/book @alice tmrw 10", sender="bob")
    # Bob is in Berlin: "tmrw 10" is 10:00 Berlin = 04:00 New York, outside Alice's hours.
    assert "outside Alice's working hours" in replies[-1]
    replies = await shared.say("/book @alice tmrw 3", sender="bob")
    assert replies[-1].startswith(
        "Booked “Bob / Alice” with Alice: Wed 25 Nov 2026, 15:00–15:30 CET"
    )


async def test_a_part_of_day_searches_the_owners_free_time_inside_it(shared: Chat) -> None:
    replies = await shared.say("book 30 min with @alice friday afternoon", sender="bob")
    # Friday afternoon in Bob's zone is 13-17 CET = 07-11 EST; Alice works from 09:00 EST.
    assert replies[-1].startswith(
        "Booked “Bob / Alice” with Alice: Fri 27 Nov 2026, 15:00–15:30 CET"
    )


async def test_a_window_with_no_free_slot_says_what_was_searched(shared: Chat) -> None:
    replies = await shared.say("/book @alice saturday for 30 min", sender="bob")
    assert replies[-1].startswith("Alice has no free 30-min slot between Sat 28 Nov 2026")
