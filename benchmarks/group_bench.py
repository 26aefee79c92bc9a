"""/find for a 50-member group over 7 days: time per /find and provider calls per /find.

usage: .venv/bin/python -m benchmarks.group_bench [--members 50] [--rounds 5]
Runs the real dispatcher, SQLite store and providers: the local provider, and the Google
provider talking HTTP to the fake Google server from the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestServer

from bot.calendars.google import GoogleCalendar
from bot.calendars.local import LocalCalendar
from bot.calendars.tokens import TokenVault, new_key
from bot.demo import seed_demo
from storage import LocalEvent, open_store
from tests.chat import Chat
from tests.fake_google import FakeGoogle
from tests.fakes import CountingCalendar, FrozenClock
from tests.google_site import google_config

ZONES = ["America/New_York", "Europe/London", "Europe/Berlin"]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def run(members: int, rounds: int, provider: str) -> tuple[list[float], list[int], int]:
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
            calendar = CountingCalendar(inner)
        else:
            calendar = CountingCalendar(LocalCalendar(store))
        chat = Chat(store, FrozenClock(NOW), calendar=calendar)
        for index in range(members):
            await store.add_group_member("big", f"m{index:02d}")
        timings, calls, http = [], [], 0
        for _ in range(rounds):
            calendar.free_busy_calls.clear()
            before = len(fake.calls)
            began = time.perf_counter()
            await chat.say("/find 45m", sender="m00", group="big")
            timings.append(time.perf_counter() - began)
            calls.append(len(calendar.free_busy_calls))
            http = sum(1 for _, path in fake.calls[before:] if path.endswith("freeBusy"))
            # Close the poll so the next round starts fresh.
            for poll in await store.open_polls("big"):
                await store.transition_poll(poll.id, "open", "closed")
        if server is not None:
            await server.close()
        await store.close()
        return timings, calls, http


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for provider in ("local", "google"):
        timings, calls, http = asyncio.run(run(args.members, args.rounds, provider))
        extra = f", freeBusy HTTP requests per /find: {http}" if provider == "google" else ""
        print(
            f"{provider}: /find for {args.members} members over 7 days: median "
            f"{statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms; "
            f"provider free/busy calls per /find: {calls[-1]}{extra}"
        )


if __name__ == "__main__":
    main()
