"""The fixes the architecture change named, each as the conversation or request that failed
before it: one event path, one error funnel per surface, one free/busy rule, calendars per
connection, and CometChat's mention markup stopping at the adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.calendars.local import LocalCalendar
from bot.calendars.provider import BusyResult
from bot.calendars.registry import Calendars
from bot.core.messages import MembershipChange, SchedulerPick
from bot.errors import UserError
from bot.transports.cometchat import incoming
from bot.web.render import TEMPLATES, error_pages, templates
from storage import SqlStore
from storage.records import Connection
from tests.chat import Chat, meet
from tests.fakes import CountingCalendar, FrozenClock, PassThrough, UnreachableCalendar

WED_10_NY = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


class Exploding(PassThrough):
    """A provider whose free/busy hits a bug of ours (not a calendar failure)."""

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        raise RuntimeError("a bug, not a calendar problem")


async def test_book_first_free_slot_asks_for_a_reconnect_when_access_was_revoked(
    store: SqlStore, clock: FrozenClock
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    chat = Chat(store, clock)
    await chat.say("/share @bob", sender="alice")
    revoked = Chat(store, clock, calendar=UnreachableCalendar(reconnect=True))
    [reply] = await revoked.say("/book 45 min", sender="bob")
    # Before: "I couldn't reach the calendar right now ... try again in a minute."
    assert reply == "I lost access to Alice's calendar; they need to /connect again."


async def test_a_scheduler_pick_that_hits_a_bug_gets_the_apology_with_a_reference(
    store: SqlStore, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    await Chat(store, clock).say("/share @bob", sender="alice")
    share = await store.latest_share("user", "bob", clock.now(), sharer_uid="alice")
    assert share is not None
    chat = Chat(store, clock, calendar=Exploding(LocalCalendar(store)))
    pick = SchedulerPick("interaction:77:bob:x", share.id, "bob", WED_10_NY, 30)
    await chat.dispatcher.dispatch(pick)
    await chat.services.outbox.flush()
    [apology] = [m for m in chat.sent if m.receiver == "bob"]
    assert apology.text.startswith("Sorry, something went wrong on my side (ref ")
    assert "a bug, not a calendar problem" not in apology.text
    ref = apology.text.split("(ref ")[1][:8]
    assert any(ref in record.getMessage() for record in caplog.records)
    assert await store.upcoming_bookings("alice", clock.now()) == []


async def test_a_scheduler_pick_books_through_the_dispatcher_once(
    store: SqlStore, clock: FrozenClock
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    chat = Chat(store, clock)
    await chat.say("/share @bob", sender="alice")
    share = await store.latest_share("user", "bob", clock.now(), sharer_uid="alice")
    assert share is not None
    pick = SchedulerPick("interaction:78:bob:x", share.id, "bob", WED_10_NY, 30)
    for _ in range(2):  # a redelivered click books nothing more
        await chat.dispatcher.dispatch(pick)
    await chat.services.outbox.flush()
    [booked] = await store.upcoming_bookings("alice", clock.now())
    assert (booked.booker_uid, booked.start) == ("bob", WED_10_NY)
    assert [m.text for m in chat.sent if m.receiver == "bob" and m.type == "text"][-1] == (
        "Booked with Alice: Wed 25 Nov 2026, 16:00–16:30 CET (10:00–10:30 EST). "
        "The invite is on its way."
    )


async def test_membership_changes_go_through_the_dispatcher_with_every_member(
    store: SqlStore, clock: FrozenClock
) -> None:
    chat = Chat(store, clock)
    await chat.dispatcher.dispatch(MembershipChange("team", ("bob", "carol"), joined=True))
    assert sorted(await store.group_members("team")) == ["bob", "carol"]
    await chat.dispatcher.dispatch(MembershipChange("team", ("carol",), joined=False))
    assert await store.group_members("team") == ["bob"]


def test_cometchat_mention_markup_becomes_a_plain_mention_at_the_adapter() -> None:
    message = incoming(
        {
            "id": "1",
            "sender": "bob",
            "receiver": "team",
            "receiverType": "group",
            "category": "message",
            "type": "text",
            "data": {"text": "<@uid:calbot> book 30 min with <@uid:Alice> friday"},
        }
    )
    assert message is not None
    assert message.text == "@calbot book 30 min with @Alice friday"


async def test_one_process_serves_several_providers_and_asks_each_once(
    store: SqlStore, clock: FrozenClock
) -> None:
    local, other = CountingCalendar(LocalCalendar(store)), CountingCalendar(LocalCalendar(store))
    calendars = Calendars({"local": local, "google": other}, "local")
    for uid in ("alice", "bob", "carol"):
        await meet(store, uid, "UTC", connected=False)
    await store.save_connection("alice", "local", "alice", None)
    await store.save_connection("bob", "google", "bob@example.com", None)
    await store.save_connection("carol", "google", "carol@example.com", None)
    owners = [c for uid in ("alice", "bob", "carol") if (c := await store.get_connection(uid))]
    answer = await calendars.free_busy(owners, WED_10_NY, WED_10_NY + timedelta(hours=1))
    assert sorted(answer) == ["alice", "bob", "carol"]
    assert (local.free_busy_calls, other.free_busy_calls) == ([1], [2])
    assert calendars.account_email(owners[1]) is None  # a local-shaped account is no e-mail


@pytest.fixture
async def error_site() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async def bug(request: web.Request) -> NoReturn:
        raise RuntimeError("secret internals")

    async def refused(request: web.Request) -> NoReturn:
        raise UserError("That slot was just taken.")

    app = web.Application(middlewares=[error_pages])
    app[TEMPLATES] = templates()
    app.router.add_get("/book/x", bug)
    app.router.add_get("/book/y", refused)
    app.router.add_get("/healthz", bug)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_pages_answer_bugs_and_user_errors_with_the_sites_own_error_page(
    error_site: TestClient[web.Request, web.Application],
) -> None:
    crashed = await error_site.get("/book/x")
    body = await crashed.text()
    assert crashed.status == 500 and crashed.content_type == "text/html"
    assert "Sorry, something went wrong on our side (ref " in body
    assert "secret internals" not in body and "Internal Server Error" not in body
    refused = await error_site.get("/book/y")
    assert refused.status == 409 and "That slot was just taken." in await refused.text()
    machine = await error_site.get("/healthz")  # machine endpoints keep aiohttp's own answer
    assert machine.status == 500 and machine.content_type != "text/html"


def test_the_registry_routes_by_connection_and_refuses_unknown_providers(
    store: SqlStore,
) -> None:
    calendars = Calendars({"local": LocalCalendar(store)}, "local")
    assert calendars.capabilities.connect == "none"
    with pytest.raises(Exception, match="no calendar provider 'caldav'"):
        calendars.provider("caldav")
    with pytest.raises(ValueError):
        Calendars({"local": LocalCalendar(store)}, "google")
