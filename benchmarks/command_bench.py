"""CPU, statements and transactions per command in one process, and memory over many commands.

usage: .venv/bin/python -m benchmarks.command_bench [--postgres URL] [--commands 300]
           [--memory 20000]

Each command takes the production path (durable inbox, dispatcher, handler, outbox delivery)
against the local calendar and a recording transport, one after another, so the figure is our own
CPU with no provider or network waits. A floor (one indexed insert and one select through the raw
async driver on the same database) runs in the same process and run; `ratio` is our CPU per
command over the floor's. `--memory N` sends N commands (/help and /share) after a warm-up
and reports RSS as it goes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import floor
from benchmarks.load_bench import database
from storage import SqlStore, open_store
from tests.chat import Chat, meet
from tests.fakes import FrozenClock
from tests.test_perf_counts import Worker, counting

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday
WARMUP = 20


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def cpu_per_call(call: Callable[[int], Awaitable[object]], count: int) -> float:
    """Milliseconds of this process's CPU per call (the event loop runs nothing else)."""
    for n in range(WARMUP):  # warm caches, pools and statement caches
        await call(n)
    gc.collect()
    began = time.process_time()
    for n in range(WARMUP, WARMUP + count):
        await call(n)
    return (time.process_time() - began) * 1000 / count


async def floor_ms(url: str, count: int) -> float:
    path = floor.sqlite_path(url)
    query, close = await (floor._sqlite(path + ".floor") if path else floor._postgres(url))
    try:
        run = uuid.uuid4().hex

        async def call(n: int) -> object:
            return await query(f"{run}-{n}")

        return await cpu_per_call(call, count)
    finally:
        await close()


async def commands(store: SqlStore, count: int) -> dict[str, tuple[float, int, int]]:
    """/help, /share and /book: (CPU ms, statements, transactions) per command."""
    worker = Worker(Chat(store, FrozenClock(NOW)))
    people = WARMUP + count + 1
    for n in range(people):
        await meet(store, f"o{n}", "America/New_York")
        await meet(store, f"b{n}", "America/New_York")
    figures = {}

    async def help_(n: int) -> object:
        return await worker.say("/help", f"b{n}")

    async def share(n: int) -> object:
        return await worker.say(f"/share @b{n}", f"o{n}")

    async def book(n: int) -> object:
        replies = await worker.say(f"/book @o{n} tomorrow 10am for 30 min", f"b{n}")
        if not replies[-1].startswith("Booked"):
            raise RuntimeError(f"/book answered {replies}")
        return replies

    for name, call in (("/help", help_), ("/share", share), ("/book", book)):
        ms = await cpu_per_call(call, count)
        with counting(store) as counter:
            await call(people - 1)
        figures[name] = (ms, len(counter.statements), counter.transactions)
    return figures


async def memory(store: SqlStore, count: int) -> list[float]:
    """RSS after a warm-up of 2,000 commands, then at every tenth of `count` more; the commands
    alternate /help and /share @bob (a new share row, a free/busy read, a card each time)."""
    worker = Worker(Chat(store, FrozenClock(NOW)))
    await meet(store, "mem", "UTC")
    await meet(store, "bob", "Europe/Berlin")
    script = [("/help", "mem"), ("/share @bob", "mem")]
    for n in range(2000):
        await worker.say(*script[n % 2])
    worker.chat.transport.sent.clear()
    gc.collect()
    samples = [rss_mb()]
    for n in range(1, count + 1):
        await worker.say(*script[n % 2])
        if n % 100 == 0:
            worker.chat.transport.sent.clear()  # the test transport keeps what it sent
        if n % max(count // 10, 1) == 0:
            gc.collect()
            samples.append(rss_mb())
    return samples


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with database(args.postgres, Path(folder)) as url:
            store = await open_store(url)
            try:
                base = await floor_ms(url, args.commands)
                figures = await commands(store, args.commands)
                backend = "PostgreSQL" if args.postgres else "SQLite"
                print(f"{backend}, {args.commands} commands each, in process, local calendar")
                print(f"  floor (insert + select, raw driver): {base:.3f} ms CPU per request")
                for name, (ms, statements, transactions) in figures.items():
                    print(f"  {name:7} {ms:7.2f} ms CPU  ratio {ms / base:6.1f}  "
                          f"{statements} statements  {transactions} transactions")  # fmt: skip
                if args.memory:
                    samples = await memory(store, args.memory)
                    series = " ".join(f"{mb:.1f}" for mb in samples)
                    print(f"  memory over {args.memory} commands (/help and /share alternating) "
                          f"after 2,000 warm-up, RSS MB at each tenth: {series} "
                          f"({samples[-1] - samples[0]:+.1f} MB)")  # fmt: skip
            finally:
                await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL")
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--memory", type=int, default=0, help="/help commands for RSS growth")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
