"""Property: the grid sweep that scores /find's candidates agrees with scanning every slot
against every member's busy time and working hours, the definition it replaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.scheduling.availability import merge, utc, working_windows
from bot.scheduling.group_slots import GRID, Member, candidates
from storage import WorkingHours

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"]
BASE = datetime(2026, 3, 27, 22, 17, tzinfo=UTC)  # Europe changes its clocks that weekend

Slot = tuple[datetime, datetime, tuple[str, ...], tuple[str, ...], int]


def scan(
    members: list[Member], start: datetime, end: datetime, length: timedelta, now: datetime
) -> list[Slot]:
    start, end = max(utc(start), utc(now) + timedelta(hours=1)), utc(end)
    step = int(GRID.total_seconds())
    cursor = datetime.fromtimestamp(-(-int(start.timestamp()) // step) * step, UTC)
    days = (start - timedelta(days=1), end + timedelta(days=1))
    hours = {m.uid: merge(working_windows(m.hours, m.zone, *days)) for m in members}
    found = []
    while cursor + length <= end:
        stop = cursor + length
        busy = tuple(
            m.uid
            for m in members
            if m.busy is not None and any(s < stop and e > cursor for s, e in merge(m.busy))
        )
        outside, strain = [], 0
        for m in members:
            if any(s <= cursor and stop <= e for s, e in hours[m.uid]):
                continue
            outside.append(m.uid)
            covered = sum(
                ((min(e, stop) - max(s, cursor)).total_seconds() for s, e in hours[m.uid]
                 if s < stop and e > cursor),
                0.0,
            )  # fmt: skip
            strain = max(strain, int((length.total_seconds() - covered) // 60))
        found.append((cursor, stop, busy, tuple(outside), strain))
        cursor += GRID
    return found


offsets = st.integers(-6 * 60, 4 * 24 * 60)  # minutes from BASE
member = st.tuples(
    st.sampled_from(ZONES),
    st.one_of(
        st.just(WorkingHours()),  # shared hours: the sweep works them out once per zone
        st.tuples(st.integers(0, 1425), st.integers(1, 1440), st.sets(st.integers(1, 7))).map(
            lambda t: WorkingHours(t[0], min(1440, t[0] + t[1]), tuple(sorted(t[2])))
        ),
    ),
    st.one_of(
        st.none(),
        st.lists(st.tuples(offsets, st.integers(-10, 600), st.integers(0, 59)), max_size=8),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(member, min_size=1, max_size=6),
    offsets,
    st.integers(0, 3 * 24 * 60),
    st.sampled_from([5, 25, 30, 45, 60, 95, 480]),
)
def test_the_sweep_scores_every_slot_as_a_full_scan_does(
    people: list[tuple[str, WorkingHours, list[tuple[int, int, int]] | None]],
    begin: int,
    span: int,
    length: int,
) -> None:
    members = []
    for n, (zone, hours, blocks) in enumerate(people):
        busy = None
        if blocks is not None:
            busy = tuple(
                (BASE + timedelta(minutes=at, seconds=sec), BASE + timedelta(minutes=at + size))
                for at, size, sec in blocks
            )
        members.append(Member(f"p{n}", f"P{n}", ZoneInfo(zone), hours, True, busy))
    start = BASE + timedelta(minutes=begin, seconds=13)
    end, now = start + timedelta(minutes=span), BASE
    got = candidates(members, start, end, timedelta(minutes=length), now)
    assert [(c.start, c.end, c.busy, c.outside, c.strain) for c in got] == scan(
        members, start, end, timedelta(minutes=length), now
    )
