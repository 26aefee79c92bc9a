"""Availability maths benchmark: common free slots of 50 people x 7 days x 300 busy intervals.

usage: .venv/bin/python -m benchmarks.availability_bench [--people 50] [--busy 300] [--rounds 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.scheduling.availability import Person, SlotRules, common_free, free_time, intersect, slots
from storage.records import WorkingHours

ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata"]


def build(people: int, busy: int, start: datetime, seed: int = 7) -> list[Person]:
    rng = random.Random(seed)
    group = []
    for index in range(people):
        intervals = []
        for _ in range(busy):
            begin = start + timedelta(minutes=rng.randrange(0, 7 * 24 * 60, 15))
            intervals.append((begin, begin + timedelta(minutes=rng.choice([15, 30, 45, 60]))))
        group.append(
            Person(
                f"p{index}",
                ZoneInfo(ZONES[index % len(ZONES)]),
                WorkingHours(7 * 60, 20 * 60, (1, 2, 3, 4, 5)),
                tuple(intervals),
            )
        )
    return group


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--busy", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    start = datetime(2026, 11, 23, tzinfo=UTC)
    end = start + timedelta(days=7)
    group = build(args.people, args.busy, start)
    rules = SlotRules(notice=timedelta(0))
    timings = []
    found = []
    for _ in range(args.rounds):
        began = time.perf_counter()
        found = slots(common_free(group, start, end, rules), rules, start, group[0].zone)
        timings.append(time.perf_counter() - began)
    # Worst case: no early exit, every person's free time computed and intersected.
    worst = []
    for _ in range(args.rounds):
        began = time.perf_counter()
        frees = [free_time(person, start, end, rules) for person in group]
        common = frees[0]
        for free in frees[1:]:
            common = intersect(common, free)
        worst.append(time.perf_counter() - began)
    print(f"{args.people} people x 7 days x {args.busy} busy intervals each, {args.rounds} rounds")
    print(
        f"common free slots: median {statistics.median(timings) * 1000:.2f} ms, "
        f"max {max(timings) * 1000:.2f} ms, {len(found)} slots"
    )
    print(
        f"worst case (all {args.people} free times computed and intersected): median "
        f"{statistics.median(worst) * 1000:.2f} ms, max {max(worst) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
