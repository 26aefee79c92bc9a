"""Process entry points for `calbot demo` and `calbot serve`."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import secrets
import socket
from pathlib import Path

from aiohttp import web

from bot.app import build_app
from bot.config import Config, SecurityConfig, StorageConfig, WebConfig, load_config
from bot.core import urls
from bot.core.messages import IncomingMessage
from bot.core.outbox import Transport
from bot.core.runtime import RUNTIME
from bot.demo import DEMO_GROUP, DEMO_USERS, seed_demo
from bot.transports.cometchat import CometChatClient
from bot.transports.hub import Directory, Hub, HubTransport
from bot.web.render import SECURITY_HEADERS

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "web" / "static"


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


def build_demo_app(config: Config) -> web.Application:
    """The embedded default: the bot, a socket.io chat hub, a web chat page and demo users."""
    directory = Directory(
        users={uid: name for uid, name, _ in DEMO_USERS},
        groups={DEMO_GROUP[0]: (DEMO_GROUP[1], DEMO_GROUP[2])},
    )
    secret = secrets.token_urlsafe(32)
    bot_uid = config.cometchat.bot_uid.lower()
    hub = Hub(directory, bot_uid, secret)
    transports: list[HubTransport] = []

    def transport(app: web.Application) -> Transport:
        async def accept(message: IncomingMessage) -> bool:
            return await app[RUNTIME].accept(message)  # the durable inbox, as for webhooks

        hub_url = f"http://127.0.0.1:{config.web.port}"
        transports.append(HubTransport(hub_url, secret, bot_uid, accept, directory))
        return transports[-1]

    app = build_app(config, transport)
    hub.attach(app)
    page = (Path(__file__).parent / "web" / "templates" / "chat.html").read_text(encoding="utf-8")
    people = {uid: {"name": name, "zone": zone} for uid, name, zone in DEMO_USERS}
    # "<" escaped so the JSON can never close its <script> element.
    page = page.replace("__PEOPLE__", json.dumps(people).replace("<", "\\u003c"))

    async def chat_page(request: web.Request) -> web.Response:
        # The demo page gets a CSP like every other page: scripts only from our own files,
        # its one <style> marked with a fresh nonce, nothing framed, no plugins.
        nonce = secrets.token_urlsafe(16)
        policy = (
            f"default-src 'self'; script-src 'self'; style-src 'nonce-{nonce}'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
        return web.Response(
            text=page.replace("<style>", f'<style nonce="{nonce}">', 1),
            content_type="text/html",
            headers={**SECURITY_HEADERS, "Content-Security-Policy": policy},
        )

    app.router.add_get("/", chat_page)
    app.router.add_static("/static/", STATIC)

    async def start(app: web.Application) -> None:
        runtime = app[RUNTIME]
        added = await seed_demo(runtime.services.store, runtime.services.clock.now())
        log.info("demo users ready (%d busy events added)", added)
        runtime.background.spawn(transports[-1].connect(), "hub-connect")

    async def stop(app: web.Application) -> None:
        # aiohttp waits for open connections before cleanup runs, and the bot's own socket is
        # one of them: deliver what is due, then hang up, so stopping does not stall.
        await app[RUNTIME].services.outbox.flush()
        await transports[-1].close()
        await hub.sio.shutdown()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    return app


def run_demo(host: str, port: int, data_dir: Path) -> None:
    sock = bind(host, port)
    config = demo_config(host, port, data_dir)
    app = build_demo_app(config)
    people = ", ".join(uid for uid, _, _ in DEMO_USERS)
    print(
        f"calbot demo: open {config.web.public_url}/ and pick a demo user ({people}). "
        "Ctrl+C stops it."
    )
    _run(app, sock)


class PortInUse(Exception):
    """The web port is taken (usually a second demo); says which port to try instead."""


def bind(host: str, port: int) -> socket.socket:
    """Take the port before any start-up work, so a busy port fails at once, not after
    migrations and seeding have run and the hub has been announced as ready."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as problem:
        sock.close()
        if problem.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} is in use; try --port {port + 1}") from None
        raise PortInUse(f"cannot listen on {host}:{port}: {problem.strerror}") from None
    sock.setblocking(False)
    return sock


def _run(app: web.Application, sock: socket.socket) -> None:
    # run_app turns SIGINT into KeyboardInterrupt and SIGTERM into GracefulExit and shuts the
    # app down (outbox flush, hub hang-up) before returning; both end the same quiet way.
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        web.run_app(app, sock=sock, print=None, handle_signals=True)
    print("calbot stopped.")


def run_real(config: Config) -> None:
    def transport(_app: web.Application) -> Transport:
        return CometChatClient(config.cometchat)

    sock = bind(config.web.host, config.web.port)
    app = build_app(config, transport)
    print(
        f"calbot serving on {config.web.host}:{config.web.port}; CometChat webhook: "
        f"{config.web.public_url.rstrip('/')}{urls.WEBHOOK}"
    )
    _run(app, sock)
