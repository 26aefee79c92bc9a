"""Two real CalDAV servers, Radicale and Xandikos, started in-process on 127.0.0.1 for tests.

Both are GPL-3 and live only in the test extra: shipped code never imports them. Each runs its
WSGI app in a threaded wsgiref server on a free port and is shut down when the context ends.
Radicale checks passwords itself (htpasswd); Xandikos has no authentication of its own (it is
meant to sit behind a proxy), so a small Basic-auth gate stands in for that proxy and maps each
user to their own principal.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.calendars.caldav import seal_credentials, verify_credentials
from bot.calendars.tokens import TokenVault
from storage import Connection, SqlStore

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class DavServer:
    kind: str
    url: str  # what a user types into the connect form
    passwords: dict[str, str]
    htpasswd: Path | None = None  # Radicale reads passwords from this file

    def change_password(self, user: str, password: str) -> None:
        """The user revokes the app password in their account settings."""
        self.passwords[user] = password
        if self.htpasswd is not None:
            self.htpasswd.write_text("".join(f"{u}:{p}\n" for u, p in self.passwords.items()))

    def calendar_url(self, user: str) -> str:
        return f"{self.url}{user}/calendars/calendar/" if self.kind == "xandikos" else (
            f"{self.url}{user}/calendar/"
        )  # fmt: skip


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logging.getLogger("tests.caldav").debug(format, *args)


@contextmanager
def _serve(app: Wsgi) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def radicale(root: Path, passwords: dict[str, str]) -> Iterator[DavServer]:
    import radicale.config
    from radicale.app import Application

    htpasswd = root / "users"
    htpasswd.write_text("".join(f"{user}:{pw}\n" for user, pw in passwords.items()))
    configuration = radicale.config.load()
    configuration.update(
        {
            "auth": {
                "type": "htpasswd",
                "htpasswd_filename": str(htpasswd),
                "htpasswd_encryption": "plain",
                "delay": "0",
            },
            "storage": {"filesystem_folder": str(root / "collections")},
            "rights": {"type": "owner_only"},
            "logging": {"level": "warning", "mask_passwords": "True"},
        },
        "tests",
        privileged=True,
    )
    with _serve(Application(configuration)) as url:
        yield DavServer("radicale", url, passwords, htpasswd)


@contextmanager
def xandikos(root: Path, passwords: dict[str, str]) -> Iterator[DavServer]:
    from xandikos.web import SingleUserFilesystemBackend, XandikosApp

    backend = SingleUserFilesystemBackend(str(root))
    for user in passwords:
        backend._mark_as_principal(f"/{user}/")  # type: ignore[no-untyped-call]
        backend.create_principal(f"/{user}/", create_defaults=True)  # type: ignore[no-untyped-call]
    app = XandikosApp(backend, current_user_principal=_PrincipalOfUser())
    with _serve(_basic_auth(app, passwords)) as url:
        yield DavServer("xandikos", url, passwords)


class _PrincipalOfUser:
    """Xandikos formats its one principal with `principal % environ`; this picks the signed-in
    user's principal from the WSGI environ the gate filled in (Xandikos wraps it)."""

    def __mod__(self, environ: dict[str, Any]) -> str:
        return f"/{environ['ORIGINAL_ENVIRON']['REMOTE_USER']}/"


def _basic_auth(app: Wsgi, passwords: dict[str, str]) -> Wsgi:
    def gate(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        header = environ.get("HTTP_AUTHORIZATION", "")
        user, _, password = "", "", ""
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        path_user = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
        if (
            passwords.get(user) != password
            or not user
            or path_user not in ("", ".well-known", user)
        ):
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Basic realm="xandikos"'), ("Content-Length", "0")],
            )
            return [b""]
        environ["REMOTE_USER"] = user
        # Xandikos reads the body to EOF; wsgiref's socket only ends when the client hangs up.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
        return app(environ, start_response)

    return gate


PROPPATCH_ZONE = """<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<C:calendar-timezone>BEGIN:VCALENDAR\r
PRODID:-//tests//EN\r
VERSION:2.0\r
BEGIN:VTIMEZONE\r
TZID:{zone}\r
END:VTIMEZONE\r
END:VCALENDAR\r
</C:calendar-timezone></D:prop></D:set></D:propertyupdate>"""


def prepare_calendar(server: DavServer, user: str, zone: str | None) -> None:
    """What a calendar app does first: make the calendar (Xandikos has one) and set its zone."""
    from caldav.davclient import DAVClient

    url = server.calendar_url(user)
    with DAVClient(server.url, username=user, password=server.passwords[user]) as dav:
        if server.kind == "radicale":
            assert dav.mkcalendar(url).status == 201
        if zone is not None:
            assert dav.proppatch(url, PROPPATCH_ZONE.format(zone=zone)).status == 207


def put_ics(server: DavServer, user: str, name: str, ics: str) -> None:
    """Another calendar app saving an event straight into the user's calendar."""
    from caldav.davclient import DAVClient

    with DAVClient(server.url, username=user, password=server.passwords[user]) as dav:
        answer = dav.put(server.calendar_url(user) + name, ics, {"Content-Type": "text/calendar"})
        assert answer.status in (201, 204), answer.status


async def connect_caldav(
    store: SqlStore, vault: TokenVault, server: DavServer, uid: str, timezone: str
) -> Connection:
    """The connect form's path: calendar made, credentials tested, sealed and stored."""
    await asyncio.to_thread(prepare_calendar, server, uid, timezone)
    password = server.passwords[uid]
    account = await verify_credentials(server.url, uid, password)
    sealed = seal_credentials(vault, uid, server.url, uid, password, account.calendar_url)
    await store.ensure_user(uid, uid.capitalize(), timezone)
    return await store.save_connection(uid, "caldav", f"{uid}@{server.kind}", sealed)
