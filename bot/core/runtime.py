"""The running bot as web routes and transports see it, under one typed application key."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.config import Config
from bot.core.context import Services
from bot.core.dispatcher import Dispatcher
from bot.core.inbox import Inbox
from bot.core.messages import Event

log = logging.getLogger(__name__)


class Background:
    """Owns fire-and-forget work (webhook processing) so it is not garbage-collected mid-way,
    its failures are logged, and shutdown can wait for it."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failed = 0  # each one is a bug: the work catches what it expects

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.failed += 1
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, seconds: float = 10.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=seconds)

    async def cancel(self) -> None:
        """Shutdown, after drain(): whatever still runs is cancelled (inbox work hands its
        event back for the next worker)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)

    def __len__(self) -> int:
        return len(self._tasks)


@dataclass(frozen=True, slots=True)
class Runtime:
    config: Config
    services: Services
    dispatcher: Dispatcher
    inbox: Inbox
    background: Background = field(default_factory=Background)

    async def accept(self, event: Event) -> bool:
        """Write an inbound event down and start its work; True when it was new. Transports call
        this before answering; it raises when storage fails, and the transport must then refuse
        (503) so the sender retries."""
        item = await self.inbox.accept(event)
        if item is None:
            return False
        # Through `background` so tests (and shutdown) can wait for it like any accepted work.
        self.background.spawn(self.inbox.process(item), f"inbox-{item.id}")
        return True


RUNTIME = web.AppKey("runtime", Runtime)
