"""/settings language: a person's time expressions are read in their language."""

from __future__ import annotations

from storage import SqlStore
from tests.chat import Chat, meet


async def test_a_chosen_language_reads_times_written_in_it(store: SqlStore, chat: Chat) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    await chat.say("/share @bob", sender="alice")
    # Told to read English only, Spanish words are not understood...
    replies = await chat.say("/settings language en", sender="bob")
    assert "Language of times: en" in replies[-1]
    refused = await chat.say("/book @alice mañana a las 15", sender="bob")
    assert not refused[-1].startswith("Booked")
    # ...and with Spanish chosen they are.
    await chat.say("/settings language es", sender="bob")
    replies = await chat.say("/book @alice mañana a las 15", sender="bob")
    assert replies[-1].startswith(
        "Booked “Bob / Alice” with Alice: Wed 25 Nov 2026, 15:00–15:30 CET"
    )
    replies = await chat.say("/settings language auto", sender="bob")
    assert "detected in each message" in replies[-1]


async def test_a_language_that_is_no_language_code_is_refused(chat: Chat) -> None:
    replies = await chat.say("/settings language klingon-please", sender="bob")
    assert replies[-1].startswith("language can be auto, or a language code like en")
    assert "Usage: /settings" in replies[-1]
