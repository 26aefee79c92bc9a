"""Demo users for `calbot demo`: local calendars with a believable, repeatable busy week."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.timeparse import wall_clock
from storage.records import LocalEvent
from storage.store import Store

DEMO_USERS = (
    ("alice", "Alice", "America/New_York"),
    ("bob", "Bob", "Europe/Berlin"),
    ("carol", "Carol", "Asia/Tokyo"),
    ("dave", "Dave", "America/Los_Angeles"),
)
DEMO_GROUP = ("team", "Team", ("alice", "bob", "carol", "dave"))
SEEDED_DAYS = 14


async def seed_demo(store: Store, now: datetime) -> int:
    """Create the demo users (connected) and their busy time; returns events added. Idempotent."""
    added = 0
    for uid, name, zone_name in DEMO_USERS:
        user = await store.get_user(uid)
        if user is None:
            await store.ensure_user(uid, name, zone_name)
            await store.update_user(uid, timezone=zone_name)
        if await store.get_connection(uid) is None:
            await store.save_connection(uid, "local", uid, None)
        zone = ZoneInfo(zone_name)
        today = now.astimezone(zone).date()
        for offset in range(SEEDED_DAYS):
            for event in _busy_day(uid, today + timedelta(days=offset), zone):
                added += await store.add_local_event(event)
    return added


def _busy_day(uid: str, day: date, zone: ZoneInfo) -> list[LocalEvent]:
    if day.isoweekday() > 5:
        return []
    rng = random.Random(f"{uid}:{day.isoformat()}")  # the same week every time the demo starts
    events = []
    for index, hour in enumerate(sorted(rng.sample(range(9, 17), k=rng.randint(1, 3)))):
        minutes = rng.choice([30, 60, 90])
        start = wall_clock(day, time(hour, rng.choice([0, 30])), zone)
        events.append(
            LocalEvent(
                uid,
                f"seed-{day.isoformat()}-{index}",
                "Busy",
                start,
                start + timedelta(minutes=minutes),
            )
        )
    return events
