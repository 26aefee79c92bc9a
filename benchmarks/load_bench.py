"""Many concurrent conversations through the webhook of real `calbot serve` worker processes.

usage: .venv/bin/python -m benchmarks.load_bench [--workers 1] [--postgres URL]
           [--conversations 100] [--google-latency 0.08] [--cometchat-latency 0.05]

Each conversation is an owner and a booker: the owner sends `/share @booker`, the booker
`/book @owner tomorrow 10am`, then `/help`; each step waits for the bot's answer, as people do.
CometChat and Google are the fake servers from the test suite, with a fixed latency added to
every answer. Reported: commands per second (wall clock, first request to last answer), the
bot's own time per message (from each worker's /metrics histogram calbot_message_own_seconds,
which leaves out time spent waiting on the calendar provider), peak memory per worker, and
provider HTTP calls per command. Without --postgres it runs on SQLite (use one worker there).

In the same run a floor (benchmarks.floor: a bare aiohttp handler doing one indexed insert and one
select on the same database) takes as many requests at the same concurrency; the worker CPU per
command is also reported as a ratio to the floor's CPU per request, which stays comparable on a
shared, noisy machine where absolute figures do not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import unused_port

from benchmarks import floor
from storage import open_store
from tests.fake_cometchat import Received
from tests.workers import (
    Providers,
    Worker,
    auth_header,
    fake_providers,
    google_section,
    webhook_message,
    workers,
)

ZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "Asia/Tokyo")
ANSWER_TIMEOUT = 120.0
WARMUP = 10  # conversations per worker before measuring


@dataclass
class Inboxes:
    """What the fake CometChat delivered, one queue per receiving uid."""

    queues: dict[str, asyncio.Queue[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(asyncio.Queue)
    )

    def __call__(self, received: Received) -> None:
        self.queues[str(received.body["receiver"])].put_nowait(received.body)

    async def expect(self, uid: str, *wanted: Callable[[dict[str, Any]], bool]) -> None:
        """Wait until `uid` received one message matching each of `wanted`, in any order."""
        missing = list(wanted)
        async with asyncio.timeout(ANSWER_TIMEOUT):
            while missing:
                body = await self.queues[uid].get()
                match = next((w for w in missing if w(body)), None)
                if match is not None:
                    missing.remove(match)
                elif body["category"] == "message":  # an answer, but not the one we wanted
                    raise RuntimeError(f"{uid} got: {body['data'].get('text', '')[:200]}")


def is_text(prefix: str) -> Callable[[dict[str, Any]], bool]:
    return lambda b: b["category"] == "message" and b["data"].get("text", "").startswith(prefix)


def is_invite(body: dict[str, Any]) -> bool:
    return bool(body["type"] == "extension_calendar_invite")


@dataclass
class Driver:
    http: aiohttp.ClientSession
    pool: list[Worker]
    inboxes: Inboxes
    sent: int = 0

    async def say(self, sender: str, text: str) -> None:
        worker = self.pool[self.sent % len(self.pool)]
        self.sent += 1
        body = webhook_message(uuid.uuid4().hex, sender, text)
        async with self.http.post(f"{worker.url}/cometchat/webhook", json=body) as response:
            if response.status != 200:
                raise RuntimeError(f"webhook answered {response.status}")

    async def conversation(self, index: int) -> None:
        owner, booker = f"o{index:04d}", f"b{index:04d}"
        await self.say(owner, f"/share @{booker}")
        await self.inboxes.expect(owner, is_text("Shared your free time"))
        await self.say(booker, f"/book @{owner} tomorrow 10am for 30 min")
        await self.inboxes.expect(booker, is_text("Booked"), is_invite)
        await self.say(booker, "/help")
        await self.inboxes.expect(booker, is_text(""))


@asynccontextmanager
async def database(postgres: str | None, folder: Path) -> AsyncIterator[str]:
    if postgres is None:
        yield f"sqlite+aiosqlite:///{folder / 'load.db'}"
        return
    from tests.conftest import _admin

    name = f"calbot_bench_{uuid.uuid4().hex[:8]}"
    await _admin(postgres, f'CREATE DATABASE "{name}"')
    try:
        yield postgres.rsplit("/", 1)[0] + "/" + name
    finally:
        await _admin(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed(url: str, providers: Providers, conversations: int) -> None:
    store = await open_store(url)  # also applies the migrations before the workers start
    for index in range(conversations):
        zone = ZONES[index % len(ZONES)]
        owner, booker = f"o{index:04d}", f"b{index:04d}"
        providers.cometchat.add_users(owner, booker)  # the fake refuses uids it doesn't know
        await providers.meet(store, owner, zone, f"{owner}@bench{index}.test")
        await providers.meet(store, booker, zone)
    await store.close()


def histogram(text: str, name: str) -> list[tuple[float, float]]:
    """Cumulative (upper bound, count) pairs of an unlabelled histogram in Prometheus text."""
    pairs = []
    for line in text.splitlines():
        if line.startswith(f'{name}_bucket{{le="'):
            bound = line.split('"')[1]
            pairs.append(
                (float("inf") if bound == "+Inf" else float(bound), float(line.split()[1]))
            )
    return pairs


async def scrape(http: aiohttp.ClientSession, pool: list[Worker]) -> list[str]:
    texts = []
    for worker in pool:
        async with http.get(f"{worker.url}/metrics") as response:
            texts.append(await response.text())
    return texts


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def gauge(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return float("nan")


def quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """Like PromQL histogram_quantile: linear inside the bucket that holds the q-th value."""
    total = buckets[-1][1]
    rank, lower, below = q * total, 0.0, 0.0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = bound, cumulative
    return lower


async def run(args: argparse.Namespace) -> dict[str, float]:
    async with fake_providers() as providers:
        providers.google.latency = args.google_latency
        providers.cometchat.latency = args.cometchat_latency
        extra = "send_per_minute = 1000000\n" + google_section(providers.google_base)
        with tempfile.TemporaryDirectory() as folder:
            async with database(args.postgres, Path(folder)) as url:
                await seed(url, providers, WARMUP * args.workers + args.conversations)
                async with (
                    workers(args.workers, url, providers.cometchat_base, Path(folder), extra,
                            providers.worker_env, "WARNING") as pool,
                    aiohttp.ClientSession(headers=auth_header()) as http,
                ):  # fmt: skip
                    figures = await measure(args, providers, pool, http)
                # At least 2,000 requests: /proc counts CPU in 10 ms ticks.
                floor_requests = max(2000, int(figures["commands"]))
                figures.update(await measure_floor(url, floor_requests, args))
                figures["cpu_ratio_to_floor"] = (
                    figures["worker_cpu_ms_per_command"] / figures["floor_cpu_ms_per_request"]
                )
                return figures


async def measure_floor(url: str, requests: int, args: argparse.Namespace) -> dict[str, float]:
    """The floor's CPU per request, over as many requests at the same concurrency."""
    port = unused_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.floor", "--url", url, "--port", str(port)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    await floor.load(base, 1, 1)
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
        concurrency = args.conversations * args.workers
        await floor.load(base, 200, concurrency)  # warm-up
        before = cpu_seconds(process.pid)
        wall = await floor.load(base, requests, concurrency)
        cpu = cpu_seconds(process.pid) - before
    finally:
        process.terminate()
        await process.wait()
    return {
        "floor_cpu_ms_per_request": cpu * 1000 / requests,
        "floor_per_second": requests / wall,
    }


async def measure(
    args: argparse.Namespace, providers: Providers, pool: list[Worker], http: aiohttp.ClientSession
) -> dict[str, float]:
    google, cometchat = providers.google, providers.cometchat
    inboxes = Inboxes()
    cometchat.listeners.append(inboxes)
    # Warm-up (imports, templates, connection pools) is not what we measure.
    warm = Driver(http, pool, inboxes)
    extra_owners = range(args.conversations, args.conversations + WARMUP * args.workers)
    await asyncio.gather(*(warm.conversation(i) for i in extra_owners))
    before = await scrape(http, pool)
    google_before, cometchat_before = len(google.calls), len(cometchat.received)
    driver = Driver(http, pool, inboxes)
    cpu_before = sum(cpu_seconds(w.process.pid) for w in pool)
    began = time.perf_counter()
    await asyncio.gather(*(driver.conversation(i) for i in range(args.conversations)))
    wall = time.perf_counter() - began
    cpu = sum(cpu_seconds(w.process.pid) for w in pool) - cpu_before
    after = await scrape(http, pool)
    merged: dict[float, float] = defaultdict(float)
    for text in after:
        for bound, count in histogram(text, "calbot_message_own_seconds"):
            merged[bound] += count
    for text in before:
        for bound, count in histogram(text, "calbot_message_own_seconds"):
            merged[bound] -= count
    buckets = sorted(merged.items())
    commands = driver.sent
    calls = google.calls[google_before:]
    api_calls = [c for c in calls if c[1] != "/token"]
    return {
        "commands": commands,
        "seconds": wall,
        "per_second": commands / wall,
        "worker_cpu_ms_per_command": cpu * 1000 / commands,
        "own_p50_ms": quantile(buckets, 0.50) * 1000,
        "own_p99_ms": quantile(buckets, 0.99) * 1000,
        "peak_rss_mb": max(gauge(t, "process_peak_resident_memory_bytes") for t in after) / 2**20,
        "google_calls_per_command": len(api_calls) / commands,
        "token_refreshes": sum(1 for c in calls if c[1] == "/token"),
        "cometchat_sends_per_command": (len(cometchat.received) - cometchat_before) / commands,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--postgres", default=None, help="PostgreSQL server URL (a database is created)"
    )
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--google-latency", type=float, default=0.08)
    parser.add_argument("--cometchat-latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    results = [asyncio.run(run(args)) for _ in range(args.rounds)]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{args.workers} worker(s), {backend}, {args.conversations} concurrent conversations, "
        f"fake Google +{args.google_latency * 1000:.0f} ms, "
        f"fake CometChat +{args.cometchat_latency * 1000:.0f} ms per call"
    )
    for key in results[0]:
        values = [r[key] for r in results]
        print(
            f"  {key:28} {statistics.median(values):10.2f}"
            + (f"  (rounds: {', '.join(f'{v:.2f}' for v in values)})" if len(values) > 1 else "")
        )


if __name__ == "__main__":
    main()
