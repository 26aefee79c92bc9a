"""One contract for every CalendarProvider (local now; Google joins with its fake server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.calendars.local import LocalCalendar
from bot.calendars.provider import CalendarProvider, EventDraft
from storage import Connection, SqlStore
from tests.google_site import google_world
from tests.graph_site import graph_world

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


@pytest.fixture(params=["local", "google", "microsoft"])
async def provider_with_owners(
    request: pytest.FixtureRequest, store: SqlStore
) -> AsyncIterator[tuple[CalendarProvider, Connection, Connection]]:
    if request.param == "google":
        async with google_world(store) as world:
            ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
            ben = await world.connect(store, "ben", "ben@other.test", "America/New_York")
            yield world.provider, ana, ben
        return
    if request.param == "microsoft":
        async with graph_world(store) as graph:
            ana = await graph.connect(
                store, "ana", "ana@contoso.test", "W. Europe Standard Time", "Europe/Berlin"
            )
            ben = await graph.connect(
                store, "ben", "ben@outlook.test", "Eastern Standard Time", "America/New_York"
            )
            yield graph.provider, ana, ben
        return
    await store.ensure_user("ana", "Ana", "Europe/Berlin")
    await store.ensure_user("ben", "Ben", "America/New_York")
    ana = await store.save_connection("ana", "local", "ana", None)
    ben = await store.save_connection("ben", "local", "ben", None)
    yield LocalCalendar(store), ana, ben


def _draft(event_id: str, start: datetime, minutes: int = 30) -> EventDraft:
    return EventDraft(
        event_id=event_id,
        title="Sync",
        start=start,
        end=start + timedelta(minutes=minutes),
        timezone="Europe/Berlin",
    )


async def test_created_events_show_up_as_busy_for_their_owner_only(
    provider_with_owners: tuple[CalendarProvider, Connection, Connection],
) -> None:
    provider, ana, ben = provider_with_owners
    created = await provider.create_event(ana, _draft("b1e2f", T0))
    assert not created.already_existed
    busy = await provider.free_busy([ana, ben], T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert busy["ana"].busy == ((T0, T0 + timedelta(minutes=30)),)
    assert busy["ana"].error is None
    assert busy["ben"].busy == ()


async def test_creating_the_same_event_id_twice_makes_one_event(
    provider_with_owners: tuple[CalendarProvider, Connection, Connection],
) -> None:
    provider, ana, _ = provider_with_owners
    await provider.create_event(ana, _draft("same1", T0))
    again = await provider.create_event(ana, _draft("same1", T0))
    assert again.already_existed
    busy = await provider.free_busy([ana], T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert len(busy["ana"].busy) == 1


async def test_free_busy_returns_only_the_window_and_only_start_end(
    provider_with_owners: tuple[CalendarProvider, Connection, Connection],
) -> None:
    provider, ana, _ = provider_with_owners
    await provider.create_event(ana, _draft("e0a1b", T0 - timedelta(days=2)))
    await provider.create_event(ana, _draft("i0c1d", T0))
    busy = await provider.free_busy([ana], T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert busy["ana"].busy == ((T0, T0 + timedelta(minutes=30)),)
    assert all(len(interval) == 2 for interval in busy["ana"].busy)


async def test_deleted_events_free_the_time(
    provider_with_owners: tuple[CalendarProvider, Connection, Connection],
) -> None:
    provider, ana, _ = provider_with_owners
    await provider.create_event(ana, _draft("g0e1f", T0))
    assert await provider.delete_event(ana, "g0e1f")
    assert not await provider.delete_event(ana, "g0e1f")
    busy = await provider.free_busy([ana], T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert busy["ana"].busy == ()


async def test_calendar_time_zone_is_known(
    provider_with_owners: tuple[CalendarProvider, Connection, Connection],
) -> None:
    provider, ana, ben = provider_with_owners
    assert await provider.calendar_timezone(ana) == "Europe/Berlin"
    assert await provider.calendar_timezone(ben) == "America/New_York"
