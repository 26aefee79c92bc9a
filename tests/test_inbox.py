"""The durable inbox in one process: hostile bytes get 4xx, a storage fault gets 503 (and the
error page), and an event re-run after a crash is answered once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import socketio
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import unused_port
from sqlalchemy import event

from bot.core.inbox import LEASE
from bot.core.runtime import RUNTIME
from bot.serve import build_demo_app, demo_config
from bot.transports.hub import NOT_ACCEPTED
from storage.tables import inbox
from tests.test_cometchat import AUTH, World, current, message
from tests.test_cometchat import world as world  # the fixture


async def test_hostile_bodies_are_refused_with_4xx(world: World) -> None:
    assert await world.post(None, raw=b"[" * 60000) == 400
    assert await world.post(current(message("/help", message_id="x" * 101))) == 400
    assert await world.post(current(message("/help", sender="a" * 101))) == 400
    assert await world.post(current(message("/he\x00lp", message_id="nul"))) == 200
    assert [r.body["data"]["text"][:21] for r in world.fake.received] == ["Here is what I can do"]


async def test_storage_fault_answers_503_and_everything_accepted_is_answered_after(
    world: World,
) -> None:
    engine: Any = world.site.runtime.services.store._engine  # type: ignore[attr-defined]

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    assert await world.post(current(message("/help", message_id="before"))) == 200
    event.listen(engine.sync_engine, "connect", read_only)
    await engine.dispose()  # every new connection is read-only: a full or read-only disk
    try:
        refused = await world.site.client.post(  # not world.post: it flushes the outbox
            "/cometchat/webhook",
            json=current(message("/help", message_id="during")),
            headers={"Authorization": AUTH},
        )
        assert refused.status == 503
        assert refused.headers["Retry-After"]
        health = await world.site.client.get("/healthz")
        assert health.status == 503
        assert (await health.json())["storage"] == "read-only"
    finally:
        event.remove(engine.sync_engine, "connect", read_only)
        await engine.dispose()
    # CometChat retries the one we refused; storage is back without a restart.
    assert await world.post(current(message("/help", message_id="during"))) == 200
    assert (await world.site.client.get("/healthz")).status == 200
    assert len(world.fake.received) == 2


async def test_an_event_whose_worker_died_is_run_again_and_answered_once(world: World) -> None:
    runtime = world.site.runtime
    assert await world.post(current(message("/help", message_id="m1"))) == 200
    # The worker died after queuing the reply but before marking the event done.
    async with runtime.services.store._engine.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(sa.update(inbox).values(status="working"))
    world.site.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await runtime.inbox.relay_once() == 1
    await runtime.inbox.drain()
    await runtime.services.outbox.flush()
    assert len(world.fake.received) == 1, "the re-run's reply is the one already queued"
    assert await runtime.services.store.inbox_pending_count() == 0


@contextlib.contextmanager
def read_only(engine: Any) -> Iterator[None]:
    """Every new connection refuses writes, as on a full or read-only disk."""

    def refuse_writes(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    event.listen(engine.sync_engine, "connect", refuse_writes)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "connect", refuse_writes)


async def test_the_demo_hub_answers_only_what_the_inbox_took(tmp_path: Path) -> None:
    port = unused_port()
    app = build_demo_app(demo_config("127.0.0.1", port, tmp_path / "data"))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    bob = socketio.AsyncClient()
    replies: asyncio.Queue[str] = asyncio.Queue()

    async def seen(message: dict[str, Any]) -> None:
        if message["sender"] == "calbot":
            await replies.put(message["data"]["text"])

    bob.on("message", seen)
    try:
        runtime = app[RUNTIME]
        engine: Any = runtime.services.store._engine  # type: ignore[attr-defined]
        await bob.connect(f"http://127.0.0.1:{port}", auth={"uid": "bob"}, transports=["websocket"])
        for _ in range(200):  # until the bot's own hub socket is connected
            if not len(runtime.background):
                break
            await asyncio.sleep(0.05)

        async def say(text: str) -> dict[str, Any]:
            sent = {"receiver": "calbot", "receiverType": "user", "text": text}
            answer: dict[str, Any] = await bob.call("send", sent, timeout=15)
            return answer

        assert "ok" in await say("/help")
        assert (await asyncio.wait_for(replies.get(), 15)).startswith("Here is what I can do")
        with read_only(engine):
            await engine.dispose()
            assert await say("/help") == {"error": NOT_ACCEPTED}
        await engine.dispose()
        assert "ok" in await say("/help")  # sent again, taken now
        assert (await asyncio.wait_for(replies.get(), 15)).startswith("Here is what I can do")
        async with engine.connect() as conn:
            taken = await conn.scalar(sa.select(sa.func.count()).select_from(inbox))
        assert taken == 2, "the refused message was never written down, the others were"
        assert replies.empty()
    finally:
        await bob.disconnect()
        await runner.cleanup()
