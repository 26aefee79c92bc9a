"""/find for a 50-member group over 7 days: time, statements and provider calls per /find.

usage: .venv/bin/python -m benchmarks.group_bench [--members 50] [--rounds 5]
Runs the real dispatcher, SQLite store and providers: the local provider, and the Google
provider talking HTTP to the fake Google server from the test suite. "Own time" leaves out the
provider's free/busy call (issue 20's target excludes calendar latency); for the local
provider that call is the store's read of everyone's events. Own CPU (process time, every
thread) is the steadier figure on a shared machine: waiting for a core is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestServer

from bot.calendars.google import GoogleCalendar
from bot.calendars.local import LocalCalendar
from bot.calendars.provider import BusyResult, CalendarProvider
from bot.calendars.tokens import TokenVault, new_key
from bot.demo import seed_demo
from storage import Connection, LocalEvent, open_store
from tests.chat import Chat
from tests.fake_google import FakeGoogle
from tests.fakes import CountingCalendar, FrozenClock
from tests.google_site import google_config
from tests.test_perf_counts import counting

ZONES = ["America/New_York", "Europe/London", "Europe/Berlin"]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class TimedCalendar(CountingCalendar):
    """Counts free/busy calls and the seconds (wall and CPU) spent in them."""

    def __init__(self, inner: CalendarProvider) -> None:
        super().__init__(inner)
        self.seconds = 0.0
        self.cpu = 0.0

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        began, cpu = time.perf_counter(), time.process_time()
        try:
            return await super().free_busy(owners, start, end)
        finally:
            self.seconds += time.perf_counter() - began
            self.cpu += time.process_time() - cpu


@dataclass
class Figures:
    timings: list[float] = field(default_factory=list)  # seconds per /find, end to end
    own: list[float] = field(default_factory=list)  # the same without the free/busy call
    cpu: list[float] = field(default_factory=list)  # CPU seconds without the free/busy call
    calls: list[int] = field(default_factory=list)  # provider free/busy calls per /find
    http: int = 0  # Google freeBusy requests in the last /find
    statements: int = 0  # in the last /find, outbox delivery included
    transactions: int = 0


async def run(members: int, rounds: int, provider: str) -> Figures:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await seed_demo(store, NOW)  # realistic extra rows
        fake, server = FakeGoogle(), None
        vault = TokenVault([new_key()])
        rng = random.Random(3)
        for index in range(members):
            uid = f"m{index:02d}"
            zone = ZONES[index % len(ZONES)]
            await store.ensure_user(uid, uid.upper(), zone)
            await store.update_user(uid, timezone=zone)
            if provider == "local":
                await store.save_connection(uid, "local", uid, None)
                for n in range(20):
                    start = NOW + timedelta(minutes=30 * rng.randrange(0, 7 * 48))
                    await store.add_local_event(
                        LocalEvent(uid, f"e{n}", "Busy", start, start + timedelta(minutes=30))
                    )
            else:
                account = fake.add_account(f"{uid}@example.com", zone)
                for _ in range(20):
                    start = NOW + timedelta(minutes=30 * rng.randrange(0, 7 * 48))
                    account.busy.append(
                        (start.isoformat(), (start + timedelta(minutes=30)).isoformat())
                    )
                sealed = vault.seal(uid, {"refresh_token": fake.issue_refresh_token(account.email)})
                # tests.chat routes every connection named "local" to the injected provider,
                # here the Google client, so the Google path is really measured.
                await store.save_connection(uid, "local", account.email, sealed)
        if provider == "google":
            server = TestServer(fake.app(), host="127.0.0.1")
            await server.start_server()

            async def nothing(_owner: object) -> None:
                return None

            inner = GoogleCalendar(
                google_config(str(server.make_url("")).rstrip("/")), store, vault, nothing
            )
            calendar = TimedCalendar(inner)
        else:
            calendar = TimedCalendar(LocalCalendar(store))
        chat = Chat(store, FrozenClock(NOW), calendar=calendar)
        for index in range(members):
            await store.add_group_member("big", f"m{index:02d}")
        figures = Figures()
        for _ in range(rounds):
            calendar.free_busy_calls.clear()
            calendar.seconds = calendar.cpu = 0.0
            before = len(fake.calls)
            with counting(store) as counter:
                began, cpu = time.perf_counter(), time.process_time()
                await chat.say("/find 45m", sender="m00", group="big")
                took, used = time.perf_counter() - began, time.process_time() - cpu
            figures.timings.append(took)
            figures.own.append(took - calendar.seconds)
            figures.cpu.append(used - calendar.cpu)
            figures.calls.append(len(calendar.free_busy_calls))
            figures.http = sum(1 for _, path in fake.calls[before:] if path.endswith("freeBusy"))
            figures.statements, figures.transactions = len(counter.statements), counter.transactions
            # Close the poll so the next round starts fresh.
            for poll in await store.open_polls("big"):
                await store.transition_poll(poll.id, "open", "closed")
        if server is not None:
            await server.close()
        await store.close()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for provider in ("local", "google"):
        got = asyncio.run(run(args.members, args.rounds, provider))
        extra = f", freeBusy HTTP requests per /find: {got.http}" if provider == "google" else ""
        print(
            f"{provider}: /find for {args.members} members over 7 days: median "
            f"{statistics.median(got.timings) * 1000:.0f} ms, max {max(got.timings) * 1000:.0f} ms"
            f"; own time (free/busy call excluded) median {statistics.median(got.own) * 1000:.1f}"
            f" ms, own CPU {statistics.median(got.cpu) * 1000:.1f} ms; "
            f"{got.statements} statements in {got.transactions} transactions; "
            f"provider free/busy calls per /find: {got.calls[-1]}{extra}"
        )


if __name__ == "__main__":
    main()
