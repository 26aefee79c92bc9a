"""Time-parser benchmark: per-expression parse time (p50, p99) and `calbot parse` cold start.

usage: .venv/bin/python -m benchmarks.parse_bench [--rounds 20]
English: the development set if ../shared/eval is present, else a built-in sample.
Other languages: tests/time_expressions_multilingual.jsonl, reported on their own (the few
languages without a word table go through dateparser, which is much slower).
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
MULTILINGUAL = Path(__file__).resolve().parents[1] / "tests" / "time_expressions_multilingual.jsonl"
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


Case = tuple[str, datetime, str, str | None]


def _load(path: Path) -> list[Case]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(r["text"], datetime.fromisoformat(r["now"]), r["tz"], r.get("lang")) for r in rows]


def english() -> list[Case]:
    if DEV_SET.exists():
        return _load(DEV_SET)
    now = datetime.fromisoformat("2026-11-24T10:00:00-05:00")
    return [(text, now, "America/New_York", None) for text in SAMPLE]


def timings(items: list[Case], rounds: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds over every parse of every expression."""
    for text, now, tz, lang in items:  # warm-up: lazy imports and caches are not per-parse
        with contextlib.suppress(TimeParseError):
            parse(text, now, tz, lang=lang)
    spent: list[float] = []
    for _ in range(rounds):
        for text, now, tz, lang in items:
            began = time.perf_counter()
            with contextlib.suppress(TimeParseError):
                parse(text, now, tz, lang=lang)
            spent.append(time.perf_counter() - began)
    spent.sort()
    return statistics.median(spent) * 1000, spent[int(len(spent) * 0.99)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    items = english()
    p50, p99 = timings(items, args.rounds)
    print(f"English: {len(items)} expressions x {args.rounds} rounds")
    print(f"  parse p50: {p50:.3f} ms, p99: {p99:.3f} ms")
    others = _load(MULTILINGUAL)
    tabled = [case for case in others if case[3] != "it"]
    p50, p99 = timings(tabled, args.rounds)
    print(f"es/fr/de/pt/ja (word tables): {len(tabled)} expressions x {args.rounds} rounds")
    print(f"  parse p50: {p50:.3f} ms, p99: {p99:.3f} ms")
    fallback = [case for case in others if case[3] == "it"]
    p50, p99 = timings(fallback, max(1, args.rounds // 4))
    print(f"dateparser fallback (it): {len(fallback)} expressions")
    print(f"  parse p50: {p50:.3f} ms, p99: {p99:.3f} ms")
    calbot = Path(sys.executable).with_name("calbot")
    starts = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run(
            [str(calbot), "parse", "tomorrow 3pm", "--tz", "UTC"], check=True, capture_output=True
        )
        starts.append(time.perf_counter() - began)
    print(f"calbot parse cold start, English (median of 5): {statistics.median(starts):.3f} s")


if __name__ == "__main__":
    main()
