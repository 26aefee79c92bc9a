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

    def __len__(self) -> int:
        return len(self._tasks)


@dataclass(frozen=True, slots=True)
class Runtime:
    config: Config
    services: Services
    dispatcher: Dispatcher
    background: Background = field(default_factory=Background)


RUNTIME = web.AppKey("runtime", Runtime)
