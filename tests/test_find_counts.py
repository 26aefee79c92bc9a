"""What /find and /vote cost the database, counted (counts are stable; timings are not): one
read for the whole group's users, one for their connections and one for their events, so a
group of 30 costs the statements a group of 3 does (issue 20: it was two reads per member)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.calendars.local import LocalCalendar
from bot.scheduling.poll_card import POLL_TYPE
from storage import LocalEvent, SqlStore
from tests.chat import Chat, meet
from tests.fakes import FrozenClock
from tests.test_perf_counts import counting

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday
ZONES = ["America/New_York", "Europe/London", "Europe/Berlin"]
TABLE = re.compile(r"^(?:(SELECT|DELETE) .*?\bFROM|(INSERT) INTO|(UPDATE)) (\w+)")
# The tables /find works on itself (the inbox's and outbox's rows are counted elsewhere).
OWN = {"users", "calendar_connections", "local_events", "polls", "votes"}

FIND = {
    ("SELECT", "users"): 2,  # the sender (the dispatcher), then everyone else at once
    ("SELECT", "calendar_connections"): 1,
    ("SELECT", "local_events"): 1,  # the local calendar's busy time for the whole group
    ("SELECT", "polls"): 2,  # is this /find's poll there already (a re-run)? the one written
    ("INSERT", "polls"): 1,
    ("UPDATE", "polls"): 1,  # the outcome the card shows, so no note repeats it
}


def by_table(statements: list[str]) -> Counter[tuple[str, str]]:
    found = (TABLE.match(" ".join(s.split())) for s in statements)
    return Counter((m[1] or m[2] or m[3], m[4]) for m in found if m and m[4] in OWN)


async def group(store: SqlStore, guid: str, size: int) -> list[str]:
    uids = [f"{guid}{n:02d}" for n in range(size)]
    for n, uid in enumerate(uids):
        await meet(store, uid, ZONES[n % len(ZONES)])
        await store.add_group_member(guid, uid)
        for hour in (1, 26, 50):
            start = NOW + timedelta(hours=hour + n % 5)
            await store.add_local_event(LocalEvent(uid, f"e{hour}", "Busy", start, start))
    return uids


async def test_find_and_vote_cost_the_same_for_3_people_as_for_30(store: SqlStore) -> None:
    chat = Chat(store, FrozenClock(NOW), calendar=LocalCalendar(store))
    seen = {}
    for guid, size in [("small", 3), ("big", 30)]:
        uids = await group(store, guid, size)
        with counting(store) as found:
            await chat.say("/find 45m", sender=uids[0], group=guid)
        assert chat.sent[-1].type == POLL_TYPE, chat.replies[-1]
        assert by_table(found.statements) == FIND, f"{guid}:\n{found.summary()}"
        with counting(store) as voted:
            await chat.say("/vote 1 yes", sender=uids[1], group=guid)
        assert "went wrong" not in chat.replies[-1]
        seen[guid] = [(len(c.statements), c.transactions) for c in (found, voted)]
    assert seen["small"] == seen["big"]
