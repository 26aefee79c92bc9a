"""Connecting Google Calendar through the bot's page, against the fake Google server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aiohttp.test_utils import TestServer

from bot.calendars.google_oauth import SCOPES
from bot.calendars.tokens import new_key
from bot.config import CalendarConfig, Config, SecurityConfig
from bot.core.messages import Conversation, IncomingMessage, Sender
from bot.core.retention import retry_revocations
from tests.fake_google import FakeGoogle
from tests.fakes import FrozenClock
from tests.google_site import google_config
from tests.site import Site, running_site


@dataclass
class World:
    site: Site
    fake: FakeGoogle
    ids: int = 0

    async def say(self, text: str, sender: str = "alice") -> list[str]:
        self.ids += 1
        await self.site.runtime.services.outbox.flush()  # earlier notices are not replies to this
        before = len(self.site.transport.sent)
        await self.site.say(
            IncomingMessage(
                f"g{self.ids}",
                Sender(sender, sender.capitalize()),
                Conversation("user", "calbot"),
                text,
                datetime(2026, 11, 24, 15, tzinfo=UTC),
            )
        )
        return [m.text for m in self.site.transport.sent[before:]]


@pytest.fixture
async def world(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[World]:
    fake = FakeGoogle()
    fake.add_account("alice@example.com", "America/New_York")
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")

    def configure(config: Config) -> Config:
        return replace(
            config,
            calendar=CalendarConfig(provider="google"),
            google=google_config(base),
            security=SecurityConfig(secret_key=config.security.secret_key, token_keys=(new_key(),)),
        )

    async with running_site(tmp_path, clock, configure=configure) as site:
        yield World(site, fake)
    await server.close()


def field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match is not None, f"no {name} in page"
    return match.group(1)


async def start_sign_in(world: World, another: bool = False) -> tuple[dict[str, str], str]:
    [reply] = await world.say("/connect")
    assert reply.startswith("Open your personal page to connect Google Calendar")
    link = world.site.local(reply.rsplit(" ", 1)[1])
    page = await (await world.site.client.get(link)).text()
    assert "Alice (alice)" in page
    form = {"t": field(page, "t"), "csrf": field(page, "csrf")}
    if another:
        form["another"] = "1"
    response = await world.site.client.post("/connect/start", data=form, allow_redirects=False)
    assert response.status == 302
    query = {k: v[0] for k, v in parse_qs(urlparse(response.headers["Location"]).query).items()}
    return query, link


async def finish_sign_in(
    world: World, query: dict[str, str], email: str = "alice@example.com"
) -> str:
    code = world.fake.consent(email, query)
    page = await (
        await world.site.client.get(f"/oauth/callback?state={query['state']}&code={code}")
    ).text()
    assert "Alice (alice)" in page and email in page  # both identities before anything is saved
    response = await world.site.client.post(
        "/oauth/confirm", data={"state": field(page, "state"), "csrf": field(page, "csrf")}
    )
    return await response.text()


async def test_the_authorization_request_is_minimal_pkce_and_offline(world: World) -> None:
    query, _ = await start_sign_in(world)
    assert query["response_type"] == "code" and query["client_id"] == "cid"
    assert query["redirect_uri"] == f"{world.site.base}/oauth/callback"
    assert set(query["scope"].split()) == set(SCOPES)
    assert "calendar.readonly" not in query["scope"] and "auth/calendar " not in query["scope"]
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert len(query["state"]) >= 32


async def test_connecting_shows_the_account_and_keeps_the_token_encrypted(
    world: World, tmp_path: Path
) -> None:
    query, _ = await start_sign_in(world)
    done = await finish_sign_in(world, query)
    assert 'Connected Google account: <strong id="account">alice@example.com' in done
    connection = await world.site.runtime.services.store.get_connection("alice")
    assert connection is not None and (connection.provider, connection.account) == (
        "google",
        "alice@example.com",
    )
    refresh_token = next(iter(world.fake.refresh_tokens))
    assert refresh_token.encode() not in (tmp_path / "site.db").read_bytes()
    replies = await world.say("/share @bob")
    assert replies[-1].startswith("Shared your free time with Bob")
    assert any(
        "Google Calendar (alice@example.com) is connected" in m.text
        for m in world.site.transport.sent
    )


async def test_a_sign_in_cannot_be_replayed_or_finished_in_another_browser(world: World) -> None:
    query, _ = await start_sign_in(world)
    code = world.fake.consent("alice@example.com", query)
    world.site.client.session.cookie_jar.clear()  # another browser
    other = await world.site.client.get(f"/oauth/callback?state={query['state']}&code={code}")
    assert other.status == 400
    assert "same browser" in await other.text()
    forged = await world.site.client.get(f"/oauth/callback?state=forged&code={code}")
    assert forged.status == 400 and "not valid" in await forged.text()


async def test_a_used_state_is_refused(world: World) -> None:
    query, _ = await start_sign_in(world)
    await finish_sign_in(world, query)
    code = world.fake.consent("alice@example.com", query)
    again = await world.site.client.get(f"/oauth/callback?state={query['state']}&code={code}")
    assert again.status == 400 and "already used" in await again.text()


async def test_declining_or_granting_only_part_is_explained(world: World) -> None:
    query, _ = await start_sign_in(world)
    denied = await world.site.client.get(
        f"/oauth/callback?state={query['state']}&error=access_denied"
    )
    assert denied.status == 400 and "cancelled" in await denied.text()
    world.fake.granted_scope = " ".join(SCOPES[:3])  # no permission to add events
    query, _ = await start_sign_in(world)
    code = world.fake.consent("alice@example.com", query)
    partial = await world.site.client.get(f"/oauth/callback?state={query['state']}&code={code}")
    assert partial.status == 400 and "I need both permissions" in await partial.text()
    assert world.fake.revoked, "the partial grant must be given back"
    assert await world.site.runtime.services.store.get_connection("alice") is None


async def test_disconnect_revokes_at_google_and_kills_share_links(world: World) -> None:
    query, _ = await start_sign_in(world)
    await finish_sign_in(world, query)
    refresh_token = next(iter(world.fake.refresh_tokens))
    await world.say("/share @bob")
    booking_url = world.site.local(
        next(
            m for m in world.site.transport.sent if m.type == "extension_calendar_availability"
        ).data["customData"]["bookingUrl"]
    )
    assert await world.say("/disconnect") == [
        "Disconnected. Booking links you shared no longer work; /connect to link again."
    ]
    assert refresh_token in world.fake.revoked
    assert (await world.site.client.get(booking_url)).status == 410


async def test_connecting_another_account_replaces_and_revokes_the_old_one(world: World) -> None:
    world.fake.add_account("alice.work@example.com", "America/New_York")
    query, _ = await start_sign_in(world)
    await finish_sign_in(world, query)
    first_token = next(iter(world.fake.refresh_tokens))
    query, _ = await start_sign_in(world, another=True)
    assert query["prompt"] == "consent select_account"
    done = await finish_sign_in(world, query, "alice.work@example.com")
    assert "alice.work@example.com" in done
    assert first_token in world.fake.revoked


async def test_a_revoked_grant_asks_once_to_reconnect_in_chat(world: World) -> None:
    query, _ = await start_sign_in(world)
    await finish_sign_in(world, query)
    world.fake.refresh_tokens.clear()  # removed in the Google account settings:
    world.fake.access_tokens.clear()  # Google kills the access tokens with the grant
    assert (await world.say("/share @bob"))[-1] == (
        "I lost access to your calendar. Send /connect to link it again."
    )
    await world.say("/share @bob")
    asks = [
        m for m in world.site.transport.sent if "I lost access to your Google Calendar" in m.text
    ]
    assert len(asks) == 1 and "/connect?t=" in asks[0].text


async def test_a_revocation_google_did_not_confirm_is_kept_and_retried(world: World) -> None:
    query, _ = await start_sign_in(world)
    await finish_sign_in(world, query)
    refresh_token = next(iter(world.fake.refresh_tokens))
    world.fake.revoke_outages = 2  # Google is down for the disconnect and the first retry
    assert (await world.say("/disconnect"))[0].startswith("Disconnected.")
    services = world.site.runtime.services
    assert await services.store.get_connection("alice") is None
    assert refresh_token not in world.fake.revoked  # still live at Google...
    [(_, attempts, grant)] = await services.store.due_revocations(world.site.clock.now())
    assert (attempts, grant.uid, grant.provider) == (0, "alice", "google")  # ...so it is kept
    assert await retry_revocations(services) == 0
    assert await services.store.due_revocations(world.site.clock.now()) == []  # backed off
    world.site.clock.advance(seconds=120)
    assert await retry_revocations(services) == 1
    assert refresh_token in world.fake.revoked
    assert await services.store.due_revocations(world.site.clock.now()) == []
