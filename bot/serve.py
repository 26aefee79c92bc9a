"""Process entry points for `calbot demo` and `calbot serve`."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from aiohttp import web

from bot.app import build_app
from bot.cometchat import CometChatClient
from bot.config import Config, SecurityConfig, StorageConfig, WebConfig, load_config
from bot.demo import seed_demo
from bot.messages import OutgoingMessage
from bot.outbox import Transport
from bot.runtime import RUNTIME

log = logging.getLogger(__name__)


class LogTransport:
    """Prints what would be sent; the transport for a demo until the chat hub is in place."""

    async def send(self, message: OutgoingMessage) -> None:
        log.info("to %s %s: %s", message.receiver_type, message.receiver, message.text)

    async def close(self) -> None:
        return None


def demo_config(host: str, port: int, data_dir: Path) -> Config:
    data_dir.mkdir(parents=True, exist_ok=True)
    base = load_config(None, os.environ)
    return Config(
        web=WebConfig(host=host, port=port, public_url=f"http://{host}:{port}"),
        storage=StorageConfig(url=f"sqlite+aiosqlite:///{(data_dir / 'calbot.db').resolve()}"),
        security=SecurityConfig(secret_key=_demo_secret(data_dir), token_keys=()),
        cometchat=base.cometchat,
        google=base.google,
        calendar=base.calendar,
        bot=base.bot,
    )


def _demo_secret(data_dir: Path) -> str:
    """A per-install random key, kept beside the demo database so links survive restarts."""
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def run_demo(host: str, port: int, data_dir: Path) -> None:
    config = demo_config(host, port, data_dir)

    def transport(_app: web.Application) -> Transport:
        return LogTransport()

    app = build_app(config, transport)

    async def seed(app: web.Application) -> None:
        runtime = app[RUNTIME]
        added = await seed_demo(runtime.services.store, runtime.services.clock.now())
        log.info("demo users ready (%d busy events added)", added)

    app.on_startup.append(seed)
    print(f"calbot demo on {config.web.public_url} (health: {config.web.public_url}/healthz)")
    web.run_app(app, host=host, port=port, print=None)


def run_real(config: Config) -> None:
    def transport(_app: web.Application) -> Transport:
        return CometChatClient(config.cometchat)

    app = build_app(config, transport)
    print(
        f"calbot serving on {config.web.host}:{config.web.port}; CometChat webhook: "
        f"{config.web.public_url}/cometchat/webhook"
    )
    web.run_app(app, host=config.web.host, port=config.web.port, print=None)
