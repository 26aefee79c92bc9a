"""What the fake servers do to misbehave like a real service over a real network."""

from __future__ import annotations

import asyncio

from aiohttp import web


async def stall_or_drop(request: web.Request, delay: float, drop: bool) -> None:
    """Wait `delay` seconds, then, if `drop`, hang up without an answer."""
    if delay:
        await asyncio.sleep(delay)
    if drop and request.transport is not None:
        request.transport.abort()
        raise asyncio.CancelledError  # the handler ends with the connection
