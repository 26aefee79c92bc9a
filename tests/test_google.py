"""The Google provider's real client code against FakeGoogle: retries, tokens, privacy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.calendars.google import BACKOFF_BASE, BACKOFF_CAP, MAX_ATTEMPTS
from bot.calendars.provider import CalendarError, EventDraft
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
        ("GET", "/calendar/v3/users/me/settings/timezone"),
    }
    assert set(world.fake.calls) <= allowed
    assert ("GET", "/calendar/v3/calendars/primary/events") not in world.fake.calls  # no listing
