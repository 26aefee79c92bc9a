"""The running bot as web routes and transports see it, under one typed application key."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.config import Config
from bot.context import Services
from bot.dispatcher import Dispatcher


@dataclass(frozen=True, slots=True)
class Runtime:
    config: Config
    services: Services
    dispatcher: Dispatcher


RUNTIME = web.AppKey("runtime", Runtime)
