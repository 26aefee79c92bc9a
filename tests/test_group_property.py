"""Property: any option /find offers, once everyone says yes to it, books."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.calendars.local import LocalCalendar
from bot.scheduling.cards import INVITE_TYPE
from bot.scheduling.poll_card import POLL_TYPE
from storage import LocalEvent, WorkingHours, open_store
from tests.chat import Chat, meet
from tests.fakes import FrozenClock

ZONES = ["America/Los_Angeles", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata"]
NOW = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)  # the week the US moves its clocks

person = st.tuples(
    st.sampled_from(ZONES),
    st.integers(6, 11),  # working day starts at this hour
    st.lists(st.tuples(st.integers(0, 7 * 48), st.integers(1, 8)), max_size=6),  # busy blocks
)


async def scenario(
    group: list[tuple[str, int, list[tuple[int, int]]]], length: int, pick: int
) -> None:
    store = await open_store("sqlite+aiosqlite://")
    try:
        chat = Chat(store, FrozenClock(NOW), calendar=LocalCalendar(store))
        uids = [f"p{n}" for n in range(len(group))]
        for uid, (zone, start_hour, blocks) in zip(uids, group, strict=True):
            await meet(store, uid, zone)
            hours = WorkingHours(start_hour * 60, start_hour * 60 + 480)
            await store.update_user(uid, working_hours=hours)
            for n, (offset, halves) in enumerate(blocks):
                begin = NOW + timedelta(minutes=30 * offset)
                end = begin + timedelta(minutes=30 * halves)
                await store.add_local_event(LocalEvent(uid, f"b{n}", "Busy", begin, end))
        mentions = " ".join(f"@{uid}" for uid in uids[1:])
        replies = await chat.say(f"/find {length}m with {mentions}", sender=uids[0], group="g")
        cards = [m for m in chat.sent if m.type == POLL_TYPE]
        if not cards:
            assert replies and "no time" in replies[0].lower(), replies
            return
        option = pick % len(cards[0].data["customData"]["slots"]) + 1
        for uid in uids:
            await chat.say(f"/vote {option} yes", sender=uid, group="g")
        assert any(m.type == INVITE_TYPE for m in chat.sent), chat.replies[-3:]
    finally:
        await store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(person, min_size=2, max_size=4), st.sampled_from([30, 45, 60, 120]), st.integers(0, 2)
)
def test_every_offered_option_books_once_everyone_says_yes(
    group: list[tuple[str, int, list[tuple[int, int]]]], length: int, pick: int
) -> None:
    asyncio.run(scenario(group, length, pick))
