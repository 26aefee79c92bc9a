"""HTTP routes that belong to the bot itself (health now; pages and webhooks join later)."""

from __future__ import annotations

from aiohttp import web

from bot.runtime import RUNTIME

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    pending = await runtime.services.store.pending_count()
    return web.json_response({"status": "ok", "outbox_pending": pending})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    gauges = {
        "calbot_outbox_pending": float(await runtime.services.store.pending_count()),
        "calbot_background_tasks": float(len(runtime.background)),
    }
    return web.Response(
        text=runtime.services.metrics.render(gauges),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )
