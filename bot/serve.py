"""Process entry points for `calbot demo` and `calbot serve`.

`calbot demo --calendar caldav` also runs Radicale (a CalDAV server) as a child process and
connects every demo user to their own calendar on it, so a real calendar app pointed at that
server shows the meetings booked in the demo. Radicale is GPL-3 and only in the test extra: it
is run, never imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

from aiohttp import web

from bot.app import build_app
from bot.calendars.caldav import seal_credentials
from bot.calendars.caldav_account import verify_credentials
from bot.calendars.tokens import new_key
from bot.config import Config, SecurityConfig, StorageConfig, WebConfig, load_config
from bot.core import urls
from bot.core.messages import IncomingMessage
from bot.core.outbox import Transport
from bot.core.runtime import RUNTIME
from bot.demo import DEMO_GROUP, DEMO_USERS, seed_demo
from bot.transports.cometchat_rest import cometchat_transport
from bot.transports.hub import Directory, Hub, HubTransport
from bot.web.render import SECURITY_HEADERS
from storage import Store

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "web" / "static"
RADICALE_START_SECONDS = 15.0


class DemoProblem(Exception):
    """The demo cannot start as asked; the message says what to do, in one line."""


@dataclass
class DemoCalDav:
    """A Radicale child process with one account (and app password) per demo user."""

    url: str
    passwords: dict[str, str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def demo_config(host: str, port: int, data_dir: Path, *, sealed: bool = False) -> Config:
    """`sealed`: keep a token key too (CalDAV app passwords are stored encrypted)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    base = load_config(None, os.environ)
    keys = (_kept(data_dir / "token_key", new_key),) if sealed else ()
    return Config(
        web=WebConfig(host=host, port=port, public_url=f"http://{host}:{port}"),
        storage=StorageConfig(url=f"sqlite+aiosqlite:///{(data_dir / 'calbot.db').resolve()}"),
        security=SecurityConfig(secret_key=_demo_secret(data_dir), token_keys=keys),
        cometchat=base.cometchat,
        google=base.google,
        calendar=base.calendar,
        bot=base.bot,
    )


def _demo_secret(data_dir: Path) -> str:
    """A per-install random key, kept beside the demo database so links survive restarts."""
    return _kept(data_dir / "secret_key", lambda: secrets.token_urlsafe(48))


def _kept(path: Path, make: Callable[[], str]) -> str:
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


@contextlib.contextmanager
def demo_caldav(data_dir: Path, host: str = "127.0.0.1") -> Iterator[DemoCalDav]:
    """Radicale on a free port of `host`, its collections and passwords kept in `data_dir`
    so a calendar app set up once keeps working after a restart."""
    if find_spec("radicale") is None:
        raise DemoProblem(
            "--calendar caldav runs Radicale, which is not installed: pip install radicale"
        )
    folder = data_dir / "caldav"
    folder.mkdir(parents=True, exist_ok=True)
    passwords = {
        uid: _kept(folder / f"{uid}.password", lambda: secrets.token_urlsafe(12))
        for uid, _, _ in DEMO_USERS
    }
    users = folder / "users"
    users.write_text("".join(f"{uid}:{pw}\n" for uid, pw in passwords.items()))
    users.chmod(0o600)
    port = _free_port(host)
    settings = folder / "radicale.conf"
    settings.write_text(
        f"[server]\nhosts = {host}:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\n"
        "htpasswd_encryption = plain\ndelay = 0\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
        "[rights]\ntype = owner_only\n"
        "[logging]\nlevel = warning\nmask_passwords = True\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(settings)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(host, port, process)
        yield DemoCalDav(f"http://{host}:{port}/", passwords, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _wait_for(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + RADICALE_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoProblem(f"Radicale stopped at start (exit {process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise DemoProblem(f"Radicale did not answer on {host}:{port} in time")


def _make_calendar(dav_url: str, uid: str, password: str, name: str) -> None:
    """What a calendar app does first: a calendar in the user's home (kept across restarts)."""
    from caldav.davclient import DAVClient

    with DAVClient(dav_url, username=uid, password=password) as dav:
        principal = dav.principal()  # type: ignore[no-untyped-call]
        if not principal.calendars():
            principal.make_calendar(name=f"{name}'s calendar", cal_id="calendar")


async def connect_demo_caldav(app: web.Application, server: DemoCalDav) -> None:
    """Every demo user connected to their own Radicale calendar, as the CalDAV form would."""
    services = app[RUNTIME].services
    assert services.vault is not None  # demo_config(sealed=True)
    for uid, name, _ in DEMO_USERS:
        current = await services.store.get_connection(uid)
        if current is not None and current.provider == "caldav":
            continue
        password = server.passwords[uid]
        await asyncio.to_thread(_make_calendar, server.url, uid, password, name)
        account = await verify_credentials(server.url, uid, password)
        sealed = seal_credentials(
            services.vault, uid, server.url, uid, password, account.calendar_url
        )
        await services.store.save_connection(
            uid, "caldav", f"{uid} ({account.calendar_name})", sealed
        )


def build_demo_app(config: Config, caldav: DemoCalDav | None = None) -> web.Application:
    """The embedded default: the bot, a socket.io chat hub, a web chat page and demo users."""
    directory = Directory(
        users={uid: name for uid, name, _ in DEMO_USERS},
        groups={DEMO_GROUP[0]: (DEMO_GROUP[1], DEMO_GROUP[2])},
    )
    secret = secrets.token_urlsafe(32)
    bot_uid = config.cometchat.bot_uid.lower()
    hub = Hub(directory, bot_uid, secret)
    transports: list[HubTransport] = []

    def transport(app: web.Application, _store: Store) -> Transport:
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
        if caldav is not None:
            await connect_demo_caldav(app, caldav)
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


def run_demo(host: str, port: int, data_dir: Path, calendar: str = "local") -> None:
    sock = bind(host, port)
    with contextlib.ExitStack() as stack:
        caldav = None
        if calendar == "caldav":
            try:
                caldav = stack.enter_context(demo_caldav(data_dir, "127.0.0.1"))
            except DemoProblem:
                sock.close()
                raise
        config = demo_config(host, port, data_dir, sealed=caldav is not None)
        app = build_demo_app(config, caldav)
        people = ", ".join(uid for uid, _, _ in DEMO_USERS)
        print(
            f"calbot demo: open {config.web.public_url}/ and pick a demo user ({people}). "
            "Ctrl+C stops it."
        )
        if caldav is not None:
            print(
                f"CalDAV server: {caldav.url} (point Thunderbird, Apple Calendar or DAVx5 "
                "at it; booked meetings appear there)"
            )
            for uid, password in caldav.passwords.items():
                print(f"  user {uid}  password {password}")
        sys.stdout.flush()
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
    def transport(_app: web.Application, store: Store) -> Transport:
        return cometchat_transport(config.cometchat, store)

    sock = bind(config.web.host, config.web.port)
    app = build_app(config, transport)
    print(
        f"calbot serving on {config.web.host}:{config.web.port}; CometChat webhook: "
        f"{config.web.public_url.rstrip('/')}{urls.WEBHOOK}"
    )
    _run(app, sock)
