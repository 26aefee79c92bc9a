"""The floor our figures are divided by: a bare aiohttp handler doing one indexed insert and one
select on the same database, with the raw async driver (aiosqlite or asyncpg). Whatever the
machine's load, calbot's CPU per command over this one's per request is comparable between runs.

usage: .venv/bin/python -m benchmarks.floor --url URL --port N   (serves until killed)
       drive it with `load(...)` below; load_bench runs both in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

TABLE = "floor_notes"
Query = Callable[[str], Awaitable[int]]


async def _sqlite(path: str) -> tuple[Query, Callable[[], Awaitable[None]]]:
    import aiosqlite

    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, at REAL)")
    lock = asyncio.Lock()  # one writer, as the store queues its own

    async def query(key: str) -> int:
        async with lock:
            await db.execute(f"INSERT INTO {TABLE} (key, at) VALUES (?, ?)", (key, time.time()))
        async with db.execute(f"SELECT count(*) FROM {TABLE} WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    return query, db.close


async def _postgres(url: str) -> tuple[Query, Callable[[], Awaitable[None]]]:
    import asyncpg  # type: ignore[import-untyped]

    pool = await asyncpg.create_pool(url.replace("+asyncpg", ""), min_size=2, max_size=10)
    await pool.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, at FLOAT8)")

    async def query(key: str) -> int:
        async with pool.acquire() as conn:
            await conn.execute(f"INSERT INTO {TABLE} (key, at) VALUES ($1, $2)", key, time.time())
            return int(await conn.fetchval(f"SELECT count(*) FROM {TABLE} WHERE key = $1", key))

    return query, pool.close


def sqlite_path(url: str) -> str | None:
    """The file of a sqlite SQLAlchemy URL, None for any other database."""
    return url.split(":///", 1)[1] if url.startswith("sqlite") else None


async def serve(url: str, port: int) -> None:
    path = sqlite_path(url)
    query, close = await (_sqlite(path + ".floor") if path else _postgres(url))

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"count": await query(str(body["id"]))})

    app = web.Application()
    app.router.add_post("/floor", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await close()


async def load(base: str, requests: int, concurrency: int) -> float:
    """POST `requests` bodies with `concurrency` clients; returns the wall seconds."""
    ids = itertools.count()
    async with aiohttp.ClientSession() as http:

        async def client() -> None:
            while (n := next(ids)) < requests:
                async with http.post(f"{base}/floor", json={"id": f"r{n}-{time.time()}"}) as r:
                    if r.status != 200:
                        raise RuntimeError(f"floor answered {r.status}")
                    await r.read()

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return time.perf_counter() - began


def main(argv: Any = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.url, args.port))


if __name__ == "__main__":
    main()
