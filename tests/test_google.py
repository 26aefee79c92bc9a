"""The Google provider's real client code against FakeGoogle: retries, tokens, privacy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.calendars.google import MAX_ATTEMPTS
from bot.calendars.google_oauth import SCOPES
from bot.calendars.provider import CalendarError, EventDraft
from bot.calendars.retry import BACKOFF_BASE, BACKOFF_CAP
from storage import SqlStore
from tests.fake_google import rate_limited
from tests.google_site import GoogleWorld, google_world

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
FREEBUSY = "/calendar/v3/freeBusy"


@pytest.fixture
async def world(store: SqlStore) -> AsyncIterator[GoogleWorld]:
    async with google_world(store, timeout=0.5) as running:
        yield running


def count(world: GoogleWorld, path: str) -> int:
    return sum(1 for _, called in world.fake.calls if called == path)


async def test_rate_limits_and_server_errors_are_retried_with_capped_backoff(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    world.fake.accounts["ana@example.com"].busy.append(
        ("2026-12-01T14:00:00Z", "2026-12-01T15:00:00Z")
    )
    world.fake.fail(FREEBUSY, 429, rate_limited(429))
    world.fake.fail(FREEBUSY, 403, rate_limited(403))
    world.fake.fail(FREEBUSY, 500, {"error": {"code": 500, "errors": [{"reason": "backendError"}]}})
    result = await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert result["ana"].busy == ((T0, T0 + timedelta(hours=1)),)
    assert count(world, FREEBUSY) == 4
    assert world.sleeps == [BACKOFF_BASE * 2**n for n in range(3)]  # jitter pinned to 1.0
    assert all(delay <= BACKOFF_CAP for delay in world.sleeps)


async def test_permanent_errors_are_not_retried(world: GoogleWorld, store: SqlStore) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    world.fake.fail(FREEBUSY, 400, {"error": {"code": 400, "errors": [{"reason": "badRequest"}]}})
    with pytest.raises(CalendarError, match="refused the request"):
        await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert count(world, FREEBUSY) == 1
    world.fake.fail(FREEBUSY, 403, {"error": {"code": 403, "errors": [{"reason": "forbidden"}]}})
    with pytest.raises(CalendarError):
        await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert count(world, FREEBUSY) == 2


async def test_an_outage_gives_up_after_the_last_attempt(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    world.fake.fail(FREEBUSY, 503, {"error": {"code": 503}}, times=MAX_ATTEMPTS)
    with pytest.raises(CalendarError, match="not answering"):
        await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert count(world, FREEBUSY) == MAX_ATTEMPTS
    assert len(world.sleeps) == MAX_ATTEMPTS - 1


async def test_a_slow_answer_times_out_and_is_retried(world: GoogleWorld, store: SqlStore) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    world.fake.fail(FREEBUSY, 0, delay=2.0)  # longer than the 0.5 s socket timeout
    result = await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert result["ana"].error is None
    assert count(world, FREEBUSY) == 2


async def test_a_dropped_connection_is_retried(world: GoogleWorld, store: SqlStore) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    world.fake.fail(FREEBUSY, 0, drop=True)
    result = await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert result["ana"].error is None
    assert count(world, FREEBUSY) == 2


async def test_an_expired_access_token_is_refreshed_once(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    world.fake.fail(FREEBUSY, 401, {"error": {"code": 401, "errors": [{"reason": "authError"}]}})
    await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert count(world, "/token") == 2


async def test_concurrent_calls_refresh_the_token_once(world: GoogleWorld, store: SqlStore) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    await asyncio.gather(
        *(world.provider.free_busy([ana], T0, T0 + timedelta(days=1)) for _ in range(5))
    )
    assert count(world, "/token") == 1


async def test_a_revoked_grant_marks_the_connection_and_asks_to_reconnect(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    world.fake.refresh_tokens.clear()  # the user removed access in their Google account
    with pytest.raises(CalendarError) as problem:
        await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert problem.value.reconnect
    connection = await store.get_connection("ana")
    assert connection is not None and connection.status == "needs_reconnect"
    assert world.reconnects == ["ana"]
    assert count(world, FREEBUSY) == 0


async def test_a_retried_insert_never_makes_a_second_event(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    draft = EventDraft(
        "0123456789abcdef0123456789abcdef", "Sync", T0, T0 + timedelta(minutes=30), "Europe/Berlin"
    )
    first = await world.provider.create_event(ana, draft)
    again = await world.provider.create_event(ana, draft)  # e.g. after a lost answer
    assert (first.already_existed, again.already_existed) == (False, True)
    assert len(world.fake.accounts["ana@example.com"].events) == 1
    body = world.fake.accounts["ana@example.com"].events[draft.event_id]
    assert body["start"] == {"dateTime": "2026-12-01T14:00:00Z", "timeZone": "Europe/Berlin"}


async def test_group_free_busy_is_one_query_with_a_fallback_for_other_domains(
    world: GoogleWorld, store: SqlStore
) -> None:
    team = [
        await world.connect(store, f"u{i}", f"u{i}@example.com", "Europe/Berlin") for i in range(4)
    ]
    outsider = await world.connect(store, "out", "out@elsewhere.test", "Asia/Tokyo")
    result = await world.provider.free_busy([*team, outsider], T0, T0 + timedelta(days=1))
    assert set(result) == {"u0", "u1", "u2", "u3", "out"}
    assert all(r.error is None for r in result.values())
    assert count(world, FREEBUSY) == 2  # one for the domain, one for the outsider


async def test_only_free_busy_and_event_endpoints_are_ever_used(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    draft = EventDraft("abcdef0123456789", "Sync", T0, T0 + timedelta(minutes=30), "Europe/Berlin")
    await world.provider.create_event(ana, draft)
    await world.provider.create_event(ana, draft)
    await world.provider.delete_event(ana, draft.event_id)
    assert await world.provider.calendar_timezone(ana) == "Europe/Berlin"
    allowed = {
        ("POST", "/token"),
        ("POST", FREEBUSY),
        ("POST", "/calendar/v3/calendars/primary/events"),
        ("GET", f"/calendar/v3/calendars/primary/events/{draft.event_id}"),
        ("DELETE", f"/calendar/v3/calendars/primary/events/{draft.event_id}"),
        ("GET", "/calendar/v3/calendars/primary/events"),
    }
    assert set(world.fake.calls) <= allowed and world.fake.violations == []
    # The one listing asks for the calendar's zone only, never for events.
    listings = [q for m, p, q in world.fake.queries if p.endswith("/primary/events") and m == "GET"]
    assert listings == [{"maxResults": "1", "fields": "timeZone", "alt": "json"}]


async def test_a_403_rate_limit_with_details_is_retried(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    world.fake.fail(FREEBUSY, 403, rate_limited(403, details=True))
    result = await world.provider.free_busy([ana], T0, T0 + timedelta(days=1))
    assert result["ana"].error is None and count(world, FREEBUSY) == 2


async def test_inserts_fit_the_discovery_schema_and_notify_only_attendees(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
    alone = EventDraft("a0123456789", "Focus", T0, T0 + timedelta(minutes=30), "Europe/Berlin")
    met = EventDraft(
        "b0123456789",
        "Sync",
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=2),
        "Europe/Berlin",
        attendee_emails=("bo@example.com",),
    )
    await world.provider.create_event(ana, alone)
    await world.provider.create_event(ana, met)
    inserts = [q for m, p, q in world.fake.queries if m == "POST" and p.endswith("/events")]
    assert [q.get("sendUpdates") for q in inserts] == [
        None,
        "all",
    ]  # no "none": nothing is sent, nobody to tell
    events = world.fake.accounts["ana@example.com"].events
    assert events["b0123456789"]["attendees"] == [{"email": "bo@example.com"}]
    assert world.fake.violations == []


async def test_a_token_without_the_scope_is_refused_like_google_does(
    world: GoogleWorld, store: SqlStore
) -> None:
    world.fake.add_account("ana@example.com")
    token = world.fake.issue_refresh_token("ana@example.com", "openid " + SCOPES[2])
    sealed = world.vault.seal("ana", {"refresh_token": token})
    await store.ensure_user("ana", "Ana", "Europe/Berlin")
    ana = await store.save_connection("ana", "google", "ana@example.com", sealed)
    draft = EventDraft("c0123456789", "Sync", T0, T0 + timedelta(minutes=30), "Europe/Berlin")
    with pytest.raises(CalendarError):
        await world.provider.create_event(ana, draft)
    assert world.fake.violations and "insufficient" in world.fake.violations[0].lower()
    assert (await world.provider.free_busy([ana], T0, T0 + timedelta(days=1)))["ana"].error is None


async def test_consumer_accounts_do_not_see_each_others_free_busy(
    world: GoogleWorld, store: SqlStore
) -> None:
    ana = await world.connect(store, "ana", "ana@gmail.com", "Europe/Berlin")
    bo = await world.connect(store, "bo", "bo@gmail.com", "Europe/Berlin")
    world.fake.accounts["bo@gmail.com"].busy.append(
        ("2026-12-01T14:00:00Z", "2026-12-01T15:00:00Z")
    )
    result = await world.provider.free_busy([ana, bo], T0, T0 + timedelta(days=1))
    assert result["bo"].busy == ((T0, T0 + timedelta(hours=1)),)  # read with bo's own token
    assert count(world, FREEBUSY) == 2  # the shared query could not see bo; the fallback could
