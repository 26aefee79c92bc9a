from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.demo import DEMO_USERS, seed_demo
from storage import SqlStore
from tests.chat import Chat

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


async def test_demo_users_are_connected_with_a_busy_week_and_seeding_is_idempotent(
    store: SqlStore,
) -> None:
    added = await seed_demo(store, NOW)
    assert added > 0
    assert await seed_demo(store, NOW) == 0
    busy = await store.local_busy([uid for uid, _, _ in DEMO_USERS], NOW, NOW + timedelta(days=7))
    for uid, _, zone in DEMO_USERS:
        user = await store.get_user(uid)
        assert user is not None and user.timezone == zone
        assert await store.get_connection(uid) is not None
        assert busy[uid], f"{uid} has no busy time"


async def test_a_demo_user_can_share_right_away(store: SqlStore, chat: Chat) -> None:
    await seed_demo(store, NOW)
    replies = await chat.say("/share @bob", sender="alice")
    assert replies[-1].startswith("Shared your free time with Bob:")
    assert chat.sent[0].data["customData"]["busy"]
