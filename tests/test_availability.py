"""Properties of the free/busy maths, checked with hypothesis, plus DST day lengths."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendars.provider import Interval
from bot.scheduling.availability import (
    Person,
    SlotRules,
    common_free,
    free_time,
    intersect,
    merge,
    slots,
    subtract,
    working_windows,
)
from storage.records import WorkingHours

START = datetime(2027, 3, 8, 0, 0, tzinfo=UTC)  # a week that crosses New York's spring change
END = START + timedelta(days=14)
ZONES = [
    ZoneInfo(z)
    for z in ("America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney", "UTC")
]


@st.composite
def intervals(draw: st.DrawFn, max_size: int = 30) -> list[Interval]:
    items = []
    for _ in range(draw(st.integers(0, max_size))):
        offset = draw(st.integers(0, 14 * 24 * 60))
        length = draw(st.integers(1, 8 * 60))
        start = START + timedelta(minutes=offset)
        items.append((start, start + timedelta(minutes=length)))
    return items


@st.composite
def hours(draw: st.DrawFn) -> WorkingHours:
    start = draw(st.integers(0, 20)) * 60 + draw(st.sampled_from([0, 30]))
    end = draw(st.integers(start // 60 + 1, 24)) * 60
    days = tuple(sorted(draw(st.sets(st.integers(1, 7), min_size=1))))
    return WorkingHours(start, end, days)


@st.composite
def people(draw: st.DrawFn) -> Person:
    return Person(
        uid=draw(st.text("abc", min_size=1, max_size=3)),
        zone=draw(st.sampled_from(ZONES)),
        hours=draw(hours()),
        busy=tuple(draw(intervals())),
    )


def at_work(person: Person, moment: datetime) -> bool:
    local = moment.astimezone(person.zone)
    minute = local.hour * 60 + local.minute
    hours = person.hours
    return local.isoweekday() in hours.weekdays and hours.start_minute <= minute < hours.end_minute


def covered(moment: datetime, items: list[Interval]) -> bool:
    return any(s <= moment < e for s, e in items)


@given(intervals())
def test_merge_is_sorted_disjoint_and_covers_the_same_time(items: list[Interval]) -> None:
    merged = merge(items)
    for (_, e1), (s2, _) in itertools.pairwise(merged):
        assert e1 < s2
    for start, end in items:
        for moment in (start, end - timedelta(microseconds=1)):
            assert covered(moment, merged)
    for start, _ in merged:
        assert covered(start, items)


@settings(max_examples=60, deadline=None)
@given(people(), st.sampled_from([15, 30, 45, 60]), st.sampled_from([0, 10]))
def test_slots_avoid_busy_time_and_stay_in_working_hours(
    person: Person, minutes: int, buffer: int
) -> None:
    rules = SlotRules(
        length=timedelta(minutes=minutes),
        step=timedelta(minutes=15),
        buffer=timedelta(minutes=buffer),
        notice=timedelta(0),
    )
    found = slots(free_time(person, START, END, rules), rules, START, person.zone)
    padded = [(s - rules.buffer, e + rules.buffer) for s, e in person.busy]
    for start, end in found:
        assert end - start == rules.length
        assert start >= START and end <= END
        assert not any(s < end and start < e for s, e in padded), "slot overlaps busy time"
        # Every moment of the slot is inside working hours on the wall clock of that moment
        # (so DST days and slots across midnight between two working days are judged right).
        moments = [start + timedelta(minutes=5 * k) for k in range(minutes // 5)]
        assert all(at_work(person, moment) for moment in [*moments, end - timedelta(seconds=1)])


@settings(max_examples=60, deadline=None)
@given(st.lists(people(), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_input_order(group: list[Person], rnd: object) -> None:
    rules = SlotRules()
    expected = common_free(group, START, END, rules)
    shuffled = []
    for person in reversed(group):
        busy = list(person.busy)
        rnd.shuffle(busy)  # type: ignore[attr-defined]
        shuffled.append(Person(person.uid, person.zone, person.hours, tuple(busy)))
    assert common_free(shuffled, START, END, rules) == expected


@settings(max_examples=60, deadline=None)
@given(intervals(), intervals())
def test_intersection_is_inside_both_and_symmetric(a: list[Interval], b: list[Interval]) -> None:
    both = intersect(merge(a), merge(b))
    assert both == intersect(merge(b), merge(a))
    for start, end in both:
        assert covered(start, merge(a)) and covered(start, merge(b))
        assert covered(end - timedelta(microseconds=1), merge(a))


@given(intervals(), intervals())
def test_subtract_leaves_nothing_busy(windows: list[Interval], busy: list[Interval]) -> None:
    for start, end in subtract(windows, busy):
        assert not any(s < end and start < e for s, e in merge(busy))


def test_dst_days_have_their_real_length() -> None:
    all_day = WorkingHours(0, 24 * 60, (1, 2, 3, 4, 5, 6, 7))
    ny, berlin = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")

    def one_day(zone: ZoneInfo, day: date) -> timedelta:
        start = datetime.combine(day, time(0), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        [(s, e)] = working_windows(all_day, zone, start, end)
        return e - s

    assert one_day(ny, date(2027, 3, 14)) == timedelta(hours=23)
    assert one_day(ny, date(2027, 11, 7)) == timedelta(hours=25)
    assert one_day(berlin, date(2027, 3, 28)) == timedelta(hours=23)
    assert one_day(berlin, date(2027, 10, 31)) == timedelta(hours=25)
    assert one_day(ny, date(2027, 3, 15)) == timedelta(hours=24)


def test_nine_to_five_keeps_its_wall_clock_across_the_change() -> None:
    ny = ZoneInfo("America/New_York")
    windows = working_windows(
        WorkingHours(9 * 60, 17 * 60, (5, 1)),
        ny,
        datetime(2027, 3, 12, tzinfo=UTC),
        datetime(2027, 3, 16, tzinfo=UTC),
    )
    local = [
        (s.astimezone(ny).strftime("%a %H:%M %Z"), e.astimezone(ny).strftime("%H:%M"))
        for s, e in windows
    ]
    assert local == [("Fri 09:00 EST", "17:00"), ("Mon 09:00 EDT", "17:00")]


def test_slots_start_on_local_step_boundaries_after_notice() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+5:30: UTC-aligned steps would start at :30 local
    person = Person("a", kolkata, WorkingHours(9 * 60, 12 * 60, (1, 2, 3, 4, 5)), ())
    now = datetime(2027, 3, 8, 9, 10, tzinfo=kolkata)
    rules = SlotRules(
        length=timedelta(minutes=60), step=timedelta(minutes=60), notice=timedelta(minutes=30)
    )
    found = slots(free_time(person, now, now + timedelta(hours=4), rules), rules, now, kolkata)
    assert [s.astimezone(kolkata).strftime("%H:%M") for s, _ in found] == ["10:00", "11:00"]
