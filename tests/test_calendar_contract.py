"""One contract for every CalendarProvider: local, Google and Microsoft (fake servers speaking
their HTTP), and CalDAV on two real servers, Radicale and Xandikos, started for the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.calendars.caldav import CalDavCalendar
from bot.calendars.local import LocalCalendar
from bot.calendars.provider import CalendarError, CalendarProvider, EventDraft
from bot.calendars.tokens import TokenVault, new_key
from bot.errors import UserError
from storage import Connection, SqlStore
from tests.caldav_servers import connect_caldav, put_ics, radicale, xandikos
from tests.google_site import google_world
from tests.graph_site import add_to_graph, graph_world

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


Seed = Callable[[str, str], None]  # (uid, iCalendar text) as another calendar app saves it


@dataclass
class Rig:
    provider: CalendarProvider
    ana: Connection
    ben: Connection
    seed: Seed | None = None  # None: this calendar cannot hold events made elsewhere


@pytest.fixture(params=["local", "google", "microsoft", "radicale", "xandikos"])
async def rig(
    request: pytest.FixtureRequest, store: SqlStore, tmp_path: Path
) -> AsyncIterator[Rig]:
    if request.param == "google":
        async with google_world(store) as world:
            ana = await world.connect(store, "ana", "ana@example.com", "Europe/Berlin")
            ben = await world.connect(store, "ben", "ben@other.test", "America/New_York")
            yield Rig(world.provider, ana, ben)
        return
    if request.param == "microsoft":
        async with graph_world(store) as graph:
            ana = await graph.connect(
                store, "ana", "ana@contoso.test", "W. Europe Standard Time", "Europe/Berlin"
            )
            ben = await graph.connect(
                store, "ben", "ben@outlook.test", "Eastern Standard Time", "America/New_York"
            )
            emails = {"ana": "ana@contoso.test", "ben": "ben@outlook.test"}
            # Ana's mailbox holds more than its default calendar, as most work mailboxes do.
            graph.fake.accounts[emails["ana"]].add_calendar("Family")
            graph.fake.accounts[emails["ana"]].add_calendar("Team (shared)", can_edit=False)

            def seed_graph(uid: str, ics: str) -> None:
                add_to_graph(graph.fake.accounts[emails[uid]], ics)

            yield Rig(graph.provider, ana, ben, seed_graph)
        return
    if request.param in ("radicale", "xandikos"):
        start = radicale if request.param == "radicale" else xandikos
        with start(tmp_path, {"ana": "app-pw-ana", "ben": "app-pw-ben"}) as server:
            vault = TokenVault([new_key()])
            provider = CalDavCalendar(store, vault, _no_reconnect)
            ana = await connect_caldav(store, vault, server, "ana", "Europe/Berlin")
            ben = await connect_caldav(store, vault, server, "ben", "America/New_York")
            counter = iter(range(1000))

            def seed_dav(uid: str, ics: str) -> None:
                put_ics(server, uid, f"other-app-{next(counter)}.ics", ics)

            yield Rig(provider, ana, ben, seed_dav)
        return
    await store.ensure_user("ana", "Ana", "Europe/Berlin")
    await store.ensure_user("ben", "Ben", "America/New_York")
    ana = await store.save_connection("ana", "local", "ana", None)
    ben = await store.save_connection("ben", "local", "ben", None)
    yield Rig(LocalCalendar(store), ana, ben)


async def _no_reconnect(owner: Connection) -> None:
    raise AssertionError(f"{owner.uid} was asked to reconnect")


@pytest.fixture
def provider_with_owners(rig: Rig) -> tuple[CalendarProvider, Connection, Connection]:
    return rig.provider, rig.ana, rig.ben


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


async def test_concurrent_creates_of_one_event_id_make_one_event(
    provider_with_owners: tuple[CalendarProvider, Connection, Connection],
) -> None:
    provider, ana, _ = provider_with_owners
    both = await asyncio.gather(*(provider.create_event(ana, _draft("c0c1a", T0)) for _ in "ab"))
    assert {created.event_id for created in both} == {"c0c1a"}
    busy = await provider.free_busy([ana], T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert busy["ana"].busy == ((T0, T0 + timedelta(minutes=30)),)


def _seeded(rig: Rig) -> Seed:
    if rig.seed is None:
        pytest.skip(f"{rig.provider.name} holds only the events the bot made")
    return rig.seed


def _vevent(body: str) -> str:
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other app//EN\r\n{body}END:VCALENDAR\r\n"


def _event(uid: str, start: str, end: str, extra: str = "") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Secret\r\n"
        f"DTSTART:{start}\r\nDTEND:{end}\r\n{extra}END:VEVENT\r\n"
    )


async def test_transparent_and_cancelled_events_are_free(rig: Rig) -> None:
    seed = _seeded(rig)
    seed("ana", _vevent(_event("o1", "20261201T150000Z", "20261201T160000Z")))
    seed(
        "ana",
        _vevent(_event("t1", "20261201T160000Z", "20261201T170000Z", "TRANSP:TRANSPARENT\r\n")),
    )
    seed(
        "ana", _vevent(_event("c1", "20261201T170000Z", "20261201T180000Z", "STATUS:CANCELLED\r\n"))
    )
    busy = await rig.provider.free_busy([rig.ana], T0, T0 + timedelta(hours=6))
    hour = timedelta(hours=1)
    assert busy["ana"].busy == ((T0 + hour, T0 + 2 * hour),)


async def test_recurring_events_with_exceptions(rig: Rig) -> None:
    seed = _seeded(rig)
    rule = "RRULE:FREQ=DAILY;COUNT=5\r\nEXDATE:20261203T080000Z\r\n"
    moved = _event(
        "r1", "20261204T120000Z", "20261204T130000Z", "RECURRENCE-ID:20261204T080000Z\r\n"
    )
    dropped = _event(
        "r1", "20261205T080000Z", "20261205T090000Z",
        "RECURRENCE-ID:20261205T080000Z\r\nSTATUS:CANCELLED\r\n",
    )  # fmt: skip
    seed(
        "ana", _vevent(_event("r1", "20261201T080000Z", "20261201T090000Z", rule) + moved + dropped)
    )
    start = datetime(2026, 12, 1, tzinfo=UTC)
    busy = await rig.provider.free_busy([rig.ana], start, start + timedelta(days=7))

    def at(day: int, hour: int) -> tuple[datetime, datetime]:
        begin = datetime(2026, 12, day, hour, tzinfo=UTC)
        return (begin, begin + timedelta(hours=1))

    assert busy["ana"].busy == (at(1, 8), at(2, 8), at(4, 12))


async def test_all_day_events_are_the_owners_local_day(rig: Rig) -> None:
    seed = _seeded(rig)
    seed("ana", _vevent(_event("d1", "", "").replace(
        "DTSTART:\r\nDTEND:\r\n", "DTSTART;VALUE=DATE:20261202\r\nDTEND;VALUE=DATE:20261203\r\n"
    )))  # fmt: skip
    start = datetime(2026, 12, 1, tzinfo=UTC)
    busy = await rig.provider.free_busy([rig.ana, rig.ben], start, start + timedelta(days=3))
    berlin_midnight = datetime(2026, 12, 1, 23, tzinfo=UTC)
    assert busy["ana"].busy == ((berlin_midnight, berlin_midnight + timedelta(days=1)),)
    assert busy["ben"].busy == ()


async def test_updating_an_event_moves_it_in_place_and_repeating_changes_nothing(
    provider_with_owners: tuple[CalendarProvider, Connection, Connection],
) -> None:
    provider, ana, _ = provider_with_owners
    await provider.create_event(ana, _draft("m0v1e", T0))
    later = T0 + timedelta(hours=3)
    moved = replace(_draft("m0v1e", later, minutes=45), title="Sync (moved)", sequence=1)
    first = await provider.update_event(ana, "m0v1e", moved)
    again = await provider.update_event(ana, "m0v1e", moved)
    assert first.event_id == again.event_id == "m0v1e"
    busy = await provider.free_busy([ana], T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert busy["ana"].busy == ((later, later + timedelta(minutes=45)),)
    # The same event, not a new one: deleting it once frees the day.
    assert await provider.delete_event(ana, "m0v1e")
    busy = await provider.free_busy([ana], T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert busy["ana"].busy == ()


async def test_updating_a_deleted_event_fails_instead_of_recreating_it(
    provider_with_owners: tuple[CalendarProvider, Connection, Connection],
) -> None:
    provider, ana, _ = provider_with_owners
    await provider.create_event(ana, _draft("d0e1a", T0))
    await provider.delete_event(ana, "d0e1a")
    with pytest.raises(CalendarError):
        await provider.update_event(ana, "d0e1a", _draft("d0e1a", T0 + timedelta(hours=1)))
    busy = await provider.free_busy([ana], T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert busy["ana"].busy == ()


async def test_each_person_has_one_receiving_calendar_that_counts_as_busy(rig: Rig) -> None:
    found = await rig.provider.calendars(rig.ana)
    [receiving] = [c for c in found if c.receives]
    assert receiving.busy and receiving.writable
    assert len({c.id for c in found}) == len(found)


async def test_a_choice_is_kept_and_events_still_land_in_the_receiving_calendar(
    rig: Rig, store: SqlStore
) -> None:
    found = await rig.provider.calendars(rig.ana)
    everything = [c.id for c in found]
    [receiving] = [c.id for c in found if c.receives]
    chosen = await rig.provider.choose(rig.ana, everything, receiving)
    assert [(c.id, c.busy, c.receives) for c in chosen] == [
        (c.id, True, c.id == receiving) for c in found
    ]
    ana = await store.get_connection("ana")  # as the next command reads it: choices re-seal
    assert ana is not None and ana.generation == rig.ana.generation
    assert [(c.id, c.busy) for c in await rig.provider.calendars(ana)] == [
        (c, True) for c in everything
    ]
    await rig.provider.create_event(ana, _draft("k0e1a", T0))
    busy = await rig.provider.free_busy([ana], T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert busy["ana"].busy == ((T0, T0 + timedelta(minutes=30)),)


async def test_an_unknown_calendar_is_refused_clearly(rig: Rig) -> None:
    [receiving] = [c.id for c in await rig.provider.calendars(rig.ana) if c.receives]
    with pytest.raises(UserError, match="There is no calendar 'nope' in this account"):
        await rig.provider.choose(rig.ana, ["nope"], receiving)
    with pytest.raises(UserError, match="There is no calendar"):
        await rig.provider.choose(rig.ana, [receiving], "nope")


async def test_only_chosen_calendars_count_and_events_go_to_the_receiving_one(
    rig: Rig, store: SqlStore
) -> None:
    async def ana() -> Connection:  # as the next command reads it: a choice re-seals the secret
        found = await store.get_connection("ana")
        assert found is not None
        return found

    found = await rig.provider.calendars(rig.ana)
    [default] = [c.id for c in found if c.receives]
    others = [c.id for c in found if c.writable and c.id != default]
    if not others:
        pytest.skip(f"{rig.provider.name}: this account has one writable calendar")
    hour = timedelta(hours=1)
    await rig.provider.create_event(rig.ana, _draft("f1r5t", T0))
    await rig.provider.choose(rig.ana, [others[0]], others[0])
    # The default calendar is no longer chosen: its event no longer blocks the time ...
    busy = await rig.provider.free_busy([await ana()], T0 - hour, T0 + 3 * hour)
    assert busy["ana"].busy == ()
    # ... and a new event lands in the chosen one, which alone counts.
    await rig.provider.create_event(await ana(), _draft("s2c0d", T0 + hour))
    busy = await rig.provider.free_busy([await ana()], T0 - hour, T0 + 3 * hour)
    assert busy["ana"].busy == ((T0 + hour, T0 + hour + timedelta(minutes=30)),)
    # Both calendars chosen: both events count; the one made elsewhere can still be deleted.
    await rig.provider.choose(rig.ana, [default, others[0]], others[0])
    busy = await rig.provider.free_busy([await ana()], T0 - hour, T0 + 3 * hour)
    assert busy["ana"].busy == (
        (T0, T0 + timedelta(minutes=30)),
        (T0 + hour, T0 + hour + timedelta(minutes=30)),
    )
    assert await rig.provider.delete_event(await ana(), "f1r5t")
    [receiving] = [c.id for c in await rig.provider.calendars(await ana()) if c.receives]
    assert receiving == others[0]


async def test_a_read_only_calendar_cannot_receive_meetings(rig: Rig) -> None:
    found = await rig.provider.calendars(rig.ana)
    read_only = [c for c in found if not c.writable]
    if not read_only:
        pytest.skip(f"{rig.provider.name}: this account has no read-only calendar")
    with pytest.raises(UserError, match="read-only for me"):
        await rig.provider.choose(rig.ana, [read_only[0].id], read_only[0].id)
    # It may still count as busy.
    [receiving] = [c.id for c in found if c.receives]
    chosen = await rig.provider.choose(rig.ana, [read_only[0].id], receiving)
    assert {c.id for c in chosen if c.busy} == {read_only[0].id, receiving}
