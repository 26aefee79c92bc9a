"""Data has a lifetime: /forget-me deletes a person's connection, tokens, shares and settings
after a confirmation; processed ids and handled messages are purged after the retention, while
messages still owed to someone never are."""

from __future__ import annotations

from datetime import timedelta

from storage import SqlStore
from tests.chat import Chat, meet
from tests.conftest import NOW


async def test_forget_me_asks_first_then_deletes_everything_but_the_bookings(
    chat: Chat, store: SqlStore
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    await store.add_group_member("team", "alice")
    await chat.say("/share @bob", sender="alice")
    [reply] = await chat.say("/forget-me", sender="alice")
    assert "/forget-me yes" in reply
    assert await store.get_connection("alice") is not None  # nothing deleted before the yes
    replies = await chat.say("/forget-me yes", sender="alice")
    assert replies[-1].startswith("Done: I deleted")
    assert await store.rows_about("alice") == 0
    assert await store.get_connection("bob") is not None  # only the asker's data


async def test_forget_me_refuses_anything_but_yes(chat: Chat, store: SqlStore) -> None:
    await meet(store, "alice", "America/New_York")
    [reply] = await chat.say("/forget-me everything now", sender="alice")
    assert "/forget-me yes" in reply
    assert await store.get_connection("alice") is not None


async def test_purge_keeps_what_is_owed_and_drops_what_is_old(store: SqlStore) -> None:
    old = NOW - timedelta(days=40)
    assert await store.claim_message("old-message", old)
    assert await store.claim_message("new-message", NOW)
    await store.enqueue("delivered-long-ago", {"text": "hi"}, old)
    await store.enqueue("owed", {"text": "still owed"}, old)
    [delivered, owed] = await store.claim_due(old, 10, timedelta(minutes=1))
    await store.mark_delivered(delivered.id, old)
    await store.release(owed.id, old)
    counts = await store.purge_expired(NOW - timedelta(minutes=10), NOW - timedelta(days=30))
    assert counts["processed_messages"] == 1 and counts["outbox"] == 1
    assert not await store.claim_message("new-message", NOW)  # a recent id still dedups
    assert await store.claim_message("old-message", NOW)  # the old one is gone
    assert await store.pending_count() == 1  # the message we still owe stays


async def test_the_retention_pass_drops_abandoned_sign_ins(store: SqlStore) -> None:
    from bot.core.retention import purge_once
    from storage.records import OAuthState
    from tests.fakes import FrozenClock

    clock = FrozenClock(NOW)
    state = OAuthState(
        "google." + "x" * 43, "alice", "v" * 43, "b" * 64, "started", None, None, NOW
    )
    await store.create_oauth_state(state)
    assert (await purge_once(store, clock, timedelta(days=30)))["oauth_states"] == 0
    clock.advance(minutes=11)
    assert (await purge_once(store, clock, timedelta(days=30)))["oauth_states"] == 1
    assert await store.get_oauth_state(state.state) is None
