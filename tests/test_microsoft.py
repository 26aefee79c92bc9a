"""Microsoft Graph: retries, rotating refresh tokens, reconnect, zones, paging, OAuth."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.calendars import microsoft_oauth
from bot.calendars.graph_values import windows_to_iana
from bot.calendars.microsoft import MicrosoftCalendar
from bot.calendars.provider import CalendarError, EventDraft
from storage import Connection, SqlStore
from tests.graph_site import GraphWorld, graph_world

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
VIEW = "/v1.0/me/calendarView"
TOKEN = "/common/oauth2/v2.0/token"


async def _ana(
    world: GraphWorld, store: SqlStore, zone: str = "W. Europe Standard Time"
) -> Connection:
    return await world.connect(store, "ana", "ana@contoso.test", zone, "Europe/Berlin")


def _count(world: GraphWorld, path: str) -> int:
    return sum(1 for _, called in world.fake.calls if called == path)


async def test_429_waits_as_long_as_retry_after_says(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        world.fake.throttle(VIEW, 3, times=2)
        busy = await world.provider.free_busy([ana], T0, T0 + timedelta(hours=1))
        assert busy["ana"].busy == ()
        assert world.sleeps == [3.0, 3.0]
        assert _count(world, VIEW) == 3


async def test_a_long_retry_after_fails_at_once_and_endless_5xx_gives_up(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        world.fake.throttle(VIEW, 600)
        with pytest.raises(CalendarError, match="wait 600 s"):
            await world.provider.free_busy([ana], T0, T0 + timedelta(hours=1))
        assert world.sleeps == []
        world.fake.fail(VIEW, 503, {"error": {"code": "ServiceNotAvailable"}}, times=10)
        with pytest.raises(CalendarError, match="not answering"):
            await world.provider.free_busy([ana], T0, T0 + timedelta(hours=1))
        assert world.sleeps == [0.5, 1.0, 2.0]  # capped backoff, jitter pinned to 1.0


async def test_401_refreshes_once_and_stores_the_rotated_refresh_token(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        first = world.refresh_token(ana.token, "ana")
        await world.provider.free_busy([ana], T0, T0 + timedelta(hours=1))
        after_one = await store.get_connection("ana")
        assert after_one is not None
        second = world.refresh_token(after_one.token, "ana")
        assert second != first and second in world.fake.refresh_tokens
        assert first not in world.fake.refresh_tokens  # rotated away: Graph would refuse it

        world.fake.expire_access_tokens("ana@contoso.test")
        # `ana` still carries the first (dead) token: the provider must read the stored one.
        await world.provider.free_busy([ana], T0, T0 + timedelta(hours=1))
        after_two = await store.get_connection("ana")
        assert after_two is not None and after_two.generation == ana.generation
        assert world.refresh_token(after_two.token, "ana") in world.fake.refresh_tokens
        assert _count(world, TOKEN) == 2
        assert world.reconnects == []


async def test_many_calls_at_once_refresh_once(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        await asyncio.gather(
            *(world.provider.free_busy([ana], T0, T0 + timedelta(hours=1)) for _ in range(10))
        )
        assert _count(world, TOKEN) == 1


async def test_two_workers_refreshing_at_once_both_keep_working(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        # Two processes: own locks and caches, one store; real pauses between them.
        workers = [
            MicrosoftCalendar(world.config, world.tokens, world.vault, world.provider_reconnect)
            for _ in range(2)
        ]
        world.fake.fail(f"POST {TOKEN}", 0, delay=0.2, after=True)  # the first answer is late
        both = await asyncio.gather(
            *(worker.free_busy([ana], T0, T0 + timedelta(hours=1)) for worker in workers)
        )
        assert [answer["ana"].error for answer in both] == [None, None]
        assert _count(world, TOKEN) == 3  # one refused for the rotated token, then tried again
        stored = await store.get_connection("ana")
        assert stored is not None and stored.status == "active"
        assert world.refresh_token(stored.token, "ana") in world.fake.refresh_tokens
        assert world.reconnects == []


async def test_invalid_grant_asks_the_user_to_reconnect_once(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        world.fake.revoke_consent("ana@contoso.test")
        with pytest.raises(CalendarError) as raised:
            await world.provider.free_busy([ana], T0, T0 + timedelta(hours=1))
        assert raised.value.reconnect
        assert _count(world, TOKEN) == 1  # no retry loop on a dead grant
        stored = await store.get_connection("ana")
        assert stored is not None and stored.status == "needs_reconnect"
        assert world.reconnects == ["ana"]


@pytest.mark.parametrize(
    ("windows", "iana"),
    [
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Eastern Standard Time", "America/New_York"),
        ("Tokyo Standard Time", "Asia/Tokyo"),
        ("India Standard Time", "Asia/Calcutta"),
        ("UTC", "Etc/UTC"),
        ("Europe/Lisbon", "Europe/Lisbon"),  # some mailboxes already hold an IANA name
        ("Not A Zone Standard Time", None),
    ],
)
def test_windows_zone_names_map_to_iana(windows: str, iana: str | None) -> None:
    assert windows_to_iana(windows) == iana


async def test_mailbox_zone_is_mapped_and_a_missing_permission_is_no_zone(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store, "Tokyo Standard Time")
        assert await world.provider.calendar_timezone(ana) == "Asia/Tokyo"
        ben = await world.connect(store, "ben", "ben@contoso.test", "UTC", "UTC")
        world.fake.accounts["ben@contoso.test"].mailbox_readable = False
        assert await world.provider.calendar_timezone(ben) is None


async def test_busy_follows_pages_and_skips_free_cancelled_and_elsewhere(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        account = world.fake.accounts["ana@contoso.test"]
        hour = timedelta(hours=1)
        shown = ["busy", "free", "tentative", "workingElsewhere", "busy", "oof"]
        for offset, show_as in enumerate(shown):
            start = T0 + offset * hour
            account.add(start, start + hour / 2, showAs=show_as, isCancelled=offset == 4)
        busy = await world.provider.free_busy([ana], T0, T0 + 6 * hour)
        starts = [start for start, _ in busy["ana"].busy]
        assert starts == [T0, T0 + 2 * hour, T0 + 5 * hour]
        assert _count(world, VIEW) == 3  # six events, two a page
        assert "subject" not in world.fake.selected
        assert set(world.fake.prefer) == {'outlook.timezone="UTC"'}


async def test_an_all_day_event_is_the_owners_local_day(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        world.fake.accounts["ana@contoso.test"].add_all_day(date(2026, 12, 2))
        busy = await world.provider.free_busy([ana], T0, T0 + timedelta(days=3))
        berlin_midnight = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
        assert busy["ana"].busy == ((berlin_midnight, berlin_midnight + timedelta(days=1)),)


async def test_a_lost_answer_to_the_create_is_retried_into_the_same_event(
    store: SqlStore,
) -> None:
    async with graph_world(store, timeout=0.5) as world:
        ana = await _ana(world, store)
        world.fake.fail("POST /v1.0/me/events", 0, delay=1.0, after=True)
        draft = EventDraft("lost1", "Sync", T0, T0 + timedelta(minutes=30), "Europe/Berlin")
        created = await world.provider.create_event(ana, draft)
        assert created.event_id == "lost1"
        events = world.fake.accounts["ana@contoso.test"].events.values()
        assert [e["transactionId"] for e in events] == ["calbot-lost1"]
        assert [e["subject"] for e in events] == ["Sync"]


async def test_revoke_only_forgets_because_graph_cannot_revoke(store: SqlStore) -> None:
    async with graph_world(store) as world:
        ana = await _ana(world, store)
        await world.provider.revoke(ana)
        assert world.fake.calls == []


async def test_sign_in_with_pkce_and_whoami(store: SqlStore) -> None:
    async with graph_world(store) as world:
        verifier = microsoft_oauth.new_verifier()
        url = microsoft_oauth.authorization_url(
            world.config, "https://bot.test/oauth/callback", "st4te", verifier
        )
        parts = urlsplit(url)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        assert parts.path == "/common/oauth2/v2.0/authorize"
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
        assert set(query["scope"].split()) >= {"offline_access", "Calendars.ReadWrite", "User.Read"}
        world.fake.add_account("cy@outlook.test")
        code = world.fake.consent("cy@outlook.test", query)
        with pytest.raises(microsoft_oauth.OAuthError):
            await microsoft_oauth.exchange_code(
                world.config, code, "wrong-verifier", query["redirect_uri"]
            )
        code = world.fake.consent("cy@outlook.test", query)
        grant = await microsoft_oauth.exchange_code(
            world.config, code, verifier, query["redirect_uri"]
        )
        assert grant.refresh_token in world.fake.refresh_tokens
        assert await microsoft_oauth.whoami(world.config, grant.access_token) == "cy@outlook.test"
