"""The cards the bot sends fit CometChat's limits and the UI kits' conventions, by construction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendars.provider import Interval
from bot.scheduling.availability import merge
from bot.scheduling.cards import (
    DATA_LIMIT,
    Availability,
    SchedulerLinks,
    availability_message,
    fit_busy,
    scheduler_message,
)
from storage.records import Share, User, WorkingHours

START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
LONG_TOKEN = "https://bot.example.com/book/" + "s" * 36 + "?t=" + "x" * 220


def share(days: int = 14, end: datetime | None = None) -> Share:
    window_end = end or START + timedelta(days=days)
    return Share(
        id="5f0c" * 9,
        sharer_uid="a" * 100,
        conversation_type="user",
        conversation_id="b" * 100,
        receiver_uids=("b" * 100,),
        window_start=START,
        window_end=window_end,
        created_at=START,
        expires_at=window_end,
        connection_generation=1,
    )


def card(
    busy: list[Interval], name: str = "Alice", hours: WorkingHours | None = None
) -> Availability:
    slot = (START + timedelta(hours=9), START + timedelta(hours=9, minutes=30))
    sharer = User("a" * 100, name, "America/Argentina/ComodRivadavia", hours or WorkingHours())
    return Availability(share(), sharer, busy, [slot] * 20, 30, LONG_TOKEN)


@st.composite
def dense_calendars(draw: st.DrawFn) -> list[Interval]:
    """Up to 14 days with up to 40 busy blocks each, at any minute and second."""
    blocks = []
    for day in range(14):
        for _ in range(draw(st.integers(0, 40))):
            offset = draw(st.integers(0, 24 * 3600 - 60))
            length = draw(st.integers(1, 4 * 3600))
            micro = draw(st.integers(0, 999_999))
            begin = START + timedelta(days=day, seconds=offset, microseconds=micro)
            blocks.append((begin, begin + timedelta(seconds=length)))
    return blocks


@settings(max_examples=60, deadline=None)
@given(busy=dense_calendars(), name=st.text(min_size=1, max_size=300))
def test_the_availability_card_never_exceeds_10_kb(busy: list[Interval], name: str) -> None:
    message = availability_message(card(busy, name), "b" * 100, "user", ZoneInfo("Asia/Kolkata"))
    assert len(json.dumps(message.data)) <= DATA_LIMIT
    shown = [
        (datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"]))
        for b in message.data["customData"]["busy"]
    ]
    # Never shows busy time as free: every real busy block lies inside a block on the card.
    for start, end in merge(busy):
        assert any(s <= start and end <= e for s, e in shown), (start, end)


def test_twelve_blocks_a_day_for_14_days_fits_and_says_it_was_shortened() -> None:
    busy = [
        (
            START + timedelta(days=d, hours=7 + h),
            START + timedelta(days=d, hours=7, minutes=h * 60 + 30),
        )
        for d in range(14)
        for h in range(12)
    ]
    message = availability_message(card(busy), "bob", "user", ZoneInfo("Europe/Berlin"))
    size = len(json.dumps(message.data))
    print(f"availability card, 14 days x 12 blocks: {size} bytes")
    assert size <= DATA_LIMIT
    custom = message.data["customData"]
    assert custom["busyComplete"] is False and "bookingUrl" in custom
    light = availability_message(card(busy[:20]), "bob", "user", ZoneInfo("Europe/Berlin"))
    assert light.data["customData"]["busyComplete"] is True
    assert len(light.data["customData"]["busy"]) == 20


def test_fitting_closes_the_shortest_gaps_first() -> None:
    hour = timedelta(hours=1)
    busy = [
        (START, START + hour),
        (START + 2 * hour, START + 3 * hour),
        (START + 10 * hour, START + 11 * hour),
    ]
    assert fit_busy(busy, 3) == busy
    assert fit_busy(busy, 2) == [(START, START + 3 * hour), (START + 10 * hour, START + 11 * hour)]
    assert fit_busy(busy, 1) == [(START, START + 11 * hour)]
    assert fit_busy(busy, 0) == []


def test_the_scheduler_bubble_follows_the_kits_conventions() -> None:
    links = SchedulerLinks("https://bot.example.com/cometchat/scheduler", "tok", "https://ics")
    midnight = WorkingHours(start_minute=0, end_minute=24 * 60, weekdays=(1, 7))
    bubble = card([], hours=midnight)
    # The window ends exactly at midnight in the sharer's zone: its last day is the day before.
    zone = ZoneInfo("America/Argentina/ComodRivadavia")
    end = datetime(2026, 12, 1, tzinfo=zone)
    bubble = Availability(share(end=end), bubble.sharer, [], [], 30, bubble.booking_url)
    message = scheduler_message(bubble, "bob", "user", links)
    data = message.data["interactiveData"]
    assert data["availability"] == {
        "monday": [{"from": "0000", "to": "2359"}],
        "sunday": [{"from": "0000", "to": "2359"}],
    }
    assert data["dateRangeEnd"] == "2026-11-30"
    assert data["icsFileUrl"] == "https://ics"
    action = data["scheduleElement"]["action"]
    assert action["payload"]["token"] == "tok" and "headers" not in action
    assert message.category == "interactive" and message.data["text"]
    assert len(json.dumps(message.data)) <= DATA_LIMIT
