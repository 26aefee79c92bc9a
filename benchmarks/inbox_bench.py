"""What the durable inbox costs per message: /help with and without it, in one process.

usage: .venv/bin/python -m benchmarks.inbox_bench [--postgres URL] [--commands 500] [--rounds 3]

`inbox`: the production path (the event written to the inbox, run with the inbox's key, marked
done), then the reply delivered through the outbox to a recording transport. `direct`: the path
before the inbox (the dispatcher claims the message id itself), same delivery. One command after
another, so the figures are our own CPU and wall time with no network waits; medians of rounds,
the two paths interleaved so both see the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from benchmarks.load_bench import database
from bot.core.inbox import Inbox
from bot.core.messages import Conversation, IncomingMessage, Sender
from storage import open_store
from tests.chat import Chat, meet
from tests.fakes import FrozenClock

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
WARMUP = 50


def message(n: int, path: str) -> IncomingMessage:
    return IncomingMessage(
        id=f"{path}-{n}",
        sender=Sender("bench", "Bench"),
        conversation=Conversation("user", "calbot"),
        text="/help",
        sent_at=NOW,
    )


async def per_command(
    run: Callable[[int], Awaitable[None]], start: int, count: int
) -> tuple[float, float]:
    """(CPU ms, wall ms) per command."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(start, start + count):
        await run(n)
    return ((time.process_time() - cpu) * 1000 / count,
            (time.perf_counter() - wall) * 1000 / count)  # fmt: skip


async def measure(url: str, count: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    store = await open_store(url)
    try:
        chat = Chat(store, FrozenClock(NOW))
        await meet(store, "bench", "UTC")
        inbox = Inbox(store, partial(chat.dispatcher.dispatch, deduplicated=True), chat.clock)

        async def through_inbox(n: int) -> None:
            item = await inbox.accept(message(n, "inbox"))
            assert item is not None
            await inbox.process(item)
            await chat.services.outbox.flush()

        async def direct(n: int) -> None:
            await chat.dispatcher.dispatch(message(n, "direct"))
            await chat.services.outbox.flush()

        paths = {"inbox": through_inbox, "direct": direct}
        for run in paths.values():
            for n in range(WARMUP):
                await run(-1 - n)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
        for index in range(rounds):
            for name, run in paths.items():
                results[name].append(await per_command(run, index * count, count))
        if len(chat.sent) != (WARMUP + rounds * count) * len(paths):
            raise RuntimeError(f"expected one reply per command, got {len(chat.sent)}")
        return results
    finally:
        await store.close()


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with database(args.postgres, Path(folder)) as url:
            results = await measure(url, args.commands, args.rounds)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{backend}: /help one after another, {args.commands} x {args.rounds} rounds")
    medians = {}
    for name, figures in results.items():
        cpu = statistics.median(f[0] for f in figures)
        wall = statistics.median(f[1] for f in figures)
        medians[name] = (cpu, wall)
        print(f"  {name:6}  {cpu:6.2f} ms CPU  {wall:6.2f} ms wall  {1000 / wall:6.0f} commands/s")
    cpu = medians["inbox"][0] - medians["direct"][0]
    wall = medians["inbox"][1] - medians["direct"][1]
    print(f"  the inbox adds {cpu:+.2f} ms CPU and {wall:+.2f} ms wall per message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL")
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
