"""CalDAV: the connect test's answer per failure, sealed credentials, a revoked password, the
booking-derived UID, and GPL-3 servers kept out of shipped code."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.calendars.caldav import CalDavCalendar, CalDavProblem, verify_credentials
from bot.calendars.provider import CalendarError, EventDraft
from bot.calendars.tokens import TokenVault, new_key
from storage import Connection, SqlStore
from tests.caldav_servers import DavServer, connect_caldav, radicale, xandikos
from tests.fake_graph import FakeGraph

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
Start = Callable[[Path, dict[str, str]], AbstractContextManager[DavServer]]


@pytest.fixture(params=["radicale", "xandikos"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DavServer]:
    start: Start = radicale if request.param == "radicale" else xandikos
    with start(tmp_path, {"ana": "app-pw-ana", "cy": "app-pw-cy"}) as running:
        yield running


async def test_a_wrong_password_is_named(server: DavServer) -> None:
    with pytest.raises(CalDavProblem) as raised:
        await verify_credentials(server.url, "ana", "not-it")
    assert raised.value.kind == "wrong_password"
    assert "app-specific password" in str(raised.value)


async def test_wrong_addresses_are_named(server: DavServer) -> None:
    with pytest.raises(CalDavProblem) as raised:
        await verify_credentials("caldav.example.com", "ana", "app-pw-ana")
    assert raised.value.kind == "wrong_url"
    with pytest.raises(CalDavProblem) as raised:
        await verify_credentials("http://127.0.0.1:9/", "ana", "app-pw-ana", seconds=2)
    assert raised.value.kind == "unreachable"
    web = TestServer(FakeGraph().app(), host="127.0.0.1")  # a web server, not a CalDAV one
    await web.start_server()
    try:
        with pytest.raises(CalDavProblem) as raised:
            await verify_credentials(str(web.make_url("/v1.0/")), "ana", "app-pw-ana")
        assert raised.value.kind == "not_caldav"
    finally:
        await web.close()


async def test_an_account_without_a_calendar_is_named(tmp_path: Path) -> None:
    # Radicale makes no calendar by itself.
    with radicale(tmp_path, {"ana": "app-pw-ana"}) as bare, pytest.raises(CalDavProblem) as raised:
        await verify_credentials(bare.url, "ana", "app-pw-ana")
    assert raised.value.kind == "no_calendar"


async def test_credentials_are_sealed_and_a_changed_password_asks_to_reconnect(
    server: DavServer, store: SqlStore
) -> None:
    vault = TokenVault([new_key()])
    asked: list[str] = []

    async def reconnect(owner: Connection) -> None:
        asked.append(owner.uid)

    ana = await connect_caldav(store, vault, server, "ana", "Europe/Berlin")
    assert ana.token is not None and b"app-pw-ana" not in ana.token
    assert vault.open("ana", ana.token)["calendar"] == server.calendar_url("ana")
    provider = CalDavCalendar(store, vault, reconnect)
    assert await provider.calendar_timezone(ana) == "Europe/Berlin"

    server.change_password("ana", "revoked-in-icloud-settings")
    with pytest.raises(CalendarError) as raised:
        await provider.free_busy([ana], T0, T0 + timedelta(hours=1))
    assert raised.value.reconnect
    stored = await store.get_connection("ana")
    assert stored is not None and stored.status == "needs_reconnect"
    assert asked == ["ana"]


async def test_the_event_uid_comes_from_the_booking(server: DavServer, store: SqlStore) -> None:
    vault = TokenVault([new_key()])
    ana = await connect_caldav(store, vault, server, "ana", "Europe/Berlin")
    provider = CalDavCalendar(store, vault, _never)
    draft = EventDraft("bk42", "Sync", T0, T0 + timedelta(minutes=30), "Europe/Berlin")
    assert not (await provider.create_event(ana, draft)).already_existed
    assert (await provider.create_event(ana, draft)).already_existed  # 412 on the retry
    from caldav.davclient import DAVClient

    with DAVClient(server.url, username="ana", password="app-pw-ana") as dav:
        answer = dav.request(server.calendar_url("ana") + "calbot-bk42.ics")
    assert answer.status == 200
    assert "UID:calbot-bk42" in answer.raw and "TRANSP:OPAQUE" in answer.raw


def test_gpl_servers_are_never_imported_by_shipped_code() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(radicale|xandikos)\b", re.MULTILINE)
    shipped = [p for d in ("bot", "handlers", "storage") for p in (ROOT / d).rglob("*.py")]
    assert shipped
    assert [str(p) for p in shipped if pattern.search(p.read_text())] == []


async def _never(owner: Connection) -> None:
    raise AssertionError(f"{owner.uid} was asked to reconnect")
