"""HTTP routes that belong to the bot itself: health, metrics and the API description."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.core import urls
from bot.core.runtime import RUNTIME
from storage import is_storage_fault

routes = web.RouteTableDef()


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The POSTed form, or a 400 for a body that is no form (multipart without a boundary,
    bytes that are not the declared charset) instead of an unhandled error."""
    try:
        return await request.post()
    except (ValueError, UnicodeDecodeError, LookupError):
        raise web.HTTPBadRequest(
            text="This form could not be read. Reload the page and try again."
        ) from None


@routes.get(urls.HEALTH)
async def healthz(request: web.Request) -> web.Response:
    """200 "ok" or "degraded" (sending paused: the chat service refuses our key); 503 when
    storage cannot take a write (down, full, read-only), so a balancer stops sending us work."""
    runtime = request.app[RUNTIME]
    services = runtime.services
    try:
        await services.store.check_writable(services.clock.now())
        pending = await services.store.pending_count()
    except Exception as problem:
        if not is_storage_fault(problem):
            raise
        state = "read-only" if "readonly" in str(problem).replace("-", "").lower() else "down"
        return web.json_response(
            {"status": "down", "storage": state, "error": type(problem).__name__},
            status=503,
            headers={"Retry-After": "10"},
        )
    paused = services.outbox.paused
    body: dict[str, Any] = {"status": "ok", "outbox_pending": pending}
    if paused is not None:
        body.update(status="degraded", sending="paused", reason=paused.reason)
    return web.json_response(body)


@routes.get(urls.OPENAPI)
async def openapi(_request: web.Request) -> web.Response:
    """The OpenAPI description of these endpoints (what the schemathesis suite checks)."""
    text = (Path(__file__).parent / "openapi.json").read_text(encoding="utf-8")
    return web.Response(text=text, content_type="application/json")


@routes.get(urls.METRICS)
async def metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    gauges = {
        "calbot_outbox_pending": float(await runtime.services.store.pending_count()),
        "calbot_background_tasks": float(len(runtime.background)),
        "calbot_background_failed": float(runtime.background.failed),
        "calbot_outbox_paused": float(runtime.services.outbox.paused is not None),
        "calbot_inbox_pending": float(await runtime.services.store.inbox_pending_count()),
        **_memory(),
    }
    return web.Response(
        text=runtime.services.metrics.render(gauges),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def _memory() -> dict[str, float]:
    """Resident memory now (Linux /proc) and at its peak (getrusage), in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gauges = {
        "process_peak_resident_memory_bytes": float(
            peak * (1 if sys.platform == "darwin" else 1024)
        )
    }
    statm = Path("/proc/self/statm")
    if statm.exists():
        pages = int(statm.read_text().split()[1])
        gauges["process_resident_memory_bytes"] = float(pages * os.sysconf("SC_PAGE_SIZE"))
    return gauges
