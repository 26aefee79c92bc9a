"""Time-parser benchmark: per-expression parse time (median, p99) and `calbot parse` cold start.

usage: .venv/bin/python -m benchmarks.parse_bench [--rounds 20]
Expressions: the development set if ../shared/eval is present, else a built-in sample.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.timeparse import TimeParseError, parse

DEV_SET = (
    Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "time_expressions_dev.jsonl"
)
SAMPLE = [
    "tomorrow 3pm for 30 min",
    "next tue 14:00-15:30",
    "fri afternoon",
    "Dec 3 at 10am PST",
    "in 2 hours",
    "can we do thursday at 4 with @bob?",
    "/share next week",
    "asdfgh",
]


def cases() -> list[tuple[str, datetime, str]]:
    if DEV_SET.exists():
        rows = [json.loads(line) for line in DEV_SET.read_text().splitlines() if line.strip()]
        return [(r["text"], datetime.fromisoformat(r["now"]), r["tz"]) for r in rows]
    now = datetime.fromisoformat("2026-11-24T10:00:00-05:00")
    return [(text, now, "America/New_York") for text in SAMPLE]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    items = cases()
    timings: list[float] = []
    for _ in range(args.rounds):
        for text, now, tz in items:
            began = time.perf_counter()
            with contextlib.suppress(TimeParseError):
                parse(text, now, tz)
            timings.append(time.perf_counter() - began)
    timings.sort()
    median = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99)] * 1000
    calbot = Path(sys.executable).with_name("calbot")
    starts = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run(
            [str(calbot), "parse", "tomorrow 3pm", "--tz", "UTC"], check=True, capture_output=True
        )
        starts.append(time.perf_counter() - began)
    print(f"expressions: {len(items)} x {args.rounds} rounds")
    print(f"parse median: {median:.3f} ms, p99: {p99:.3f} ms")
    print(f"calbot parse cold start (median of 5): {statistics.median(starts):.3f} s")


if __name__ == "__main__":
    main()
