"""Scheduler clicks as the real UI kits send them: from the reader's own app, with no webhook
credentials, after a CORS preflight (web kit), authenticated only by the token in the payload.

The bot runs for real (aiohttp app, SQLite, the CometChat REST client) against the strict fake
CometChat, which here also accepts `interactive` messages: whether REST v3 does is unverified
(README, Integration notes), and the bubble only exists in that category.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from aiohttp.test_utils import TestServer

from bot.config import CometChatConfig, Config
from bot.transports.cometchat_rest import cometchat_transport
from storage.records import LocalEvent
from tests.fake_cometchat import CATEGORIES, FakeCometChat
from tests.fakes import FrozenClock
from tests.site import Site, running_site

ORIGIN = "https://chat.example.com"
AUTH = "Basic " + base64.b64encode(b"hook-user:hook-pass").decode()


@dataclass
class World:
    site: Site
    fake: FakeCometChat

    async def webhook(self, body: dict[str, Any]) -> None:
        response = await self.site.client.post(
            "/cometchat/webhook", json=body, headers={"Authorization": AUTH}
        )
        assert response.status == 200
        await self.settle()

    async def settle(self) -> None:
        """Until every accepted event is handled and every message it caused has arrived (the
        app's own relay may hold a message in flight while the test flushes)."""
        services = self.site.runtime.services
        for _ in range(100):
            await self.site.runtime.background.drain()
            await services.outbox.flush()
            if await services.store.pending_count() == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("messages still pending after 2 s")

    async def say(self, text: str, sender: str, **where: str) -> None:
        receiver, kind = where.get("group", "calbot"), "group" if "group" in where else "user"
        number = len(self.fake.received) + len(self.fake.refused) + 100
        message = {
            "id": str(number),
            "sender": sender,
            "receiver": receiver,
            "receiverType": kind,
            "category": "message",
            "type": "text",
            "sentAt": int(self.site.clock.now().timestamp()),
            "data": {
                "text": text,
                "entities": {"sender": {"entity": {"uid": sender, "name": sender.capitalize()}}},
            },
        }
        await self.webhook({"trigger": "message_sent", "data": {"message": message}})

    def bubbles(self) -> list[dict[str, Any]]:
        return [
            r.body["data"]["interactiveData"]
            for r in self.fake.received
            if r.body["category"] == "interactive"
        ]

    def booked_texts(self) -> list[str]:
        texts = [str(r.body["data"].get("text", "")) for r in self.fake.received]
        return [t for t in texts if t.startswith("Booked")]

    async def bookings(self) -> int:
        store, now = self.site.runtime.services.store, self.site.clock.now()
        return len(await store.upcoming_bookings("alice", now))


@pytest.fixture
async def world(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[World]:
    fake = FakeCometChat(accept_categories=CATEGORIES | {"interactive"})
    fake.add_users("carol")
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    settings = CometChatConfig(
        app_id="app1",
        region="eu",
        api_key="rest-key",
        api_base=str(server.make_url("/v3")),
        webhook_username="hook-user",
        webhook_password="hook-pass",
        scheduler_message=True,
        client_origins=(ORIGIN,),
    )

    def configure(config: Config) -> Config:
        return replace(config, cometchat=settings)

    async with running_site(
        tmp_path,
        clock,
        configure=configure,
        transport_factory=lambda c, store: cometchat_transport(settings, store),
    ) as site:
        store = site.runtime.services.store
        await store.ensure_user("carol", "Carol", "Europe/Berlin")
        yield World(site, fake)
    await server.close()


def kit_click(bubble: dict[str, Any], clicker: str, receiver: str, kind: str) -> dict[str, Any]:
    """The body CometChat's web kit (uikit-shared 4.3 actionHandler) POSTs for a slot pick."""
    action = bubble["scheduleElement"]["action"]
    return {
        "appID": "app1",
        "region": "eu",
        "trigger": "ui_message_interacted",
        "payload": action["payload"],
        "data": {
            "conversationId": f"group_{receiver}" if kind == "group" else "alice_user_bob",
            "sender": "alice",
            "receiver": receiver,
            "receiverType": kind,
            "messageCategory": "interactive",
            "messageType": "scheduler",
            "messageId": 373,
            "interactionTimezoneCode": "Europe/Berlin",
            "interactedBy": clicker,
            "interactedElementId": "book",
            "schedulerData": {"duration": 30, "meetStartAt": "2026-11-25T15:00"},
        },
    }


async def send_like_the_kit(world: World, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    """Preflight, then the POST with only Content-Type (the action has no headers)."""
    path = urlparse(url).path
    preflight = await world.site.client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    response = await world.site.client.post(
        path,
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "Origin": ORIGIN},
    )
    assert response.headers.get("Access-Control-Allow-Origin") == ORIGIN
    answer = await response.json()
    await world.settle()
    return response.status, answer


async def test_a_click_sent_as_the_web_kit_sends_it_books_the_slot(world: World) -> None:
    await world.say("/share @bob", "alice")
    [bubble] = world.bubbles()
    action = bubble["scheduleElement"]["action"]
    assert "headers" not in action and "hook-pass" not in json.dumps(bubble)
    assert urlparse(action["url"]).path == "/cometchat/scheduler"
    status, answer = await send_like_the_kit(
        world, action["url"], kit_click(bubble, "bob", "bob", "user")
    )
    assert status == 200 and answer["ok"] is True
    assert world.booked_texts() == [
        "Booked with Alice: Wed 25 Nov 2026, 15:00–15:30 CET (09:00–09:30 EST). "
        "The invite is on its way."
    ]
    assert await world.bookings() == 1
    invite = [r for r in world.fake.received if r.body["type"] == "extension_calendar_invite"]
    assert len(invite) == 1


async def test_clicks_for_another_share_expired_or_from_someone_else_book_nothing(
    world: World,
) -> None:
    await world.say("/share @bob", "alice")
    await world.say("/share @carol", "alice")
    for_bob, for_carol = world.bubbles()
    url = for_bob["scheduleElement"]["action"]["url"]
    urls = world.site.runtime.services.urls
    share_id = for_bob["scheduleElement"]["action"]["payload"]["shareId"]
    crossed = kit_click(for_bob, "bob", "bob", "user")
    crossed["payload"] = {
        **crossed["payload"],
        "token": for_carol["scheduleElement"]["action"]["payload"]["token"],
    }
    expired = kit_click(for_bob, "bob", "bob", "user")
    past = world.site.clock.now() - timedelta(minutes=1)
    expired["payload"] = {**expired["payload"], "token": urls.click_token(share_id, "bob", 1, past)}
    page_link = world.site.local(
        json.loads(
            json.dumps([r.body for r in world.fake.received if r.body["category"] == "custom"])
        )[0]["data"]["customData"]["bookingUrl"]
    )
    page_token = kit_click(for_bob, "bob", "bob", "user")
    page_token["payload"] = {**page_token["payload"], "token": page_link.split("t=", 1)[1]}
    cases = {
        "a token for another share": (crossed, "does not belong to that share"),
        "an expired token": (expired, "expired"),
        "a booking-page link as a token": (page_token, "does not belong"),
        "someone the share was not for": (
            kit_click(for_bob, "carol", "bob", "user"),
            "someone else",
        ),
        "no token at all": (
            {**crossed, "payload": {"kind": "book", "shareId": share_id}},
            "fresh /share",
        ),
    }
    for case, (body, words) in cases.items():
        status, answer = await send_like_the_kit(world, url, body)
        assert status == 403, case
        assert words in answer["error"], (case, answer)
    assert world.booked_texts() == [] and await world.bookings() == 0


async def test_in_a_group_only_members_can_book(world: World) -> None:
    await world.webhook(
        {
            "trigger": "group_member_added",
            "data": {
                "group": {"guid": "team"},
                "members": {"alice": {"uid": "alice"}, "bob": {"uid": "bob"}},
                "by": {"uid": "alice"},
            },
        }
    )
    await world.say("/share", "alice", group="team")
    [bubble] = world.bubbles()
    url = bubble["scheduleElement"]["action"]["url"]
    status, answer = await send_like_the_kit(
        world, url, kit_click(bubble, "carol", "team", "group")
    )
    assert status == 403 and "members of the group" in answer["error"]
    assert await world.bookings() == 0
    status, _ = await send_like_the_kit(world, url, kit_click(bubble, "bob", "team", "group"))
    assert status == 200 and await world.bookings() == 1


async def test_an_origin_we_do_not_serve_is_refused_and_apps_without_origin_are_not(
    world: World,
) -> None:
    await world.say("/share @bob", "alice")
    [bubble] = world.bubbles()
    body = kit_click(bubble, "bob", "bob", "user")
    client = world.site.client
    other = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    preflight = await client.options("/cometchat/scheduler", headers=other)
    assert preflight.status == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    posted = await client.post(
        "/cometchat/scheduler", json=body, headers={"Origin": "https://evil.example"}
    )
    assert posted.status == 403
    await world.settle()
    assert await world.bookings() == 0
    # Android's ApiController sends no Origin: the token alone decides.
    android = await client.post("/cometchat/scheduler", json=body)
    assert android.status == 200
    await world.settle()
    assert await world.bookings() == 1


async def test_the_bubble_carries_a_public_busy_calendar_the_kits_can_read(world: World) -> None:
    store = world.site.runtime.services.store
    await world.say("/share @bob", "alice")
    [bubble] = world.bubbles()
    # Wednesday 25 Nov, 10:00-11:00 in New York is busy; the file shows it without a title.
    start = datetime(2026, 11, 25, 15, tzinfo=UTC)
    event = LocalEvent("alice", "e1", "secret plans", start, start + timedelta(hours=1))
    assert await store.add_local_event(event)
    response = await world.site.client.get(
        world.site.local(bubble["icsFileUrl"]), headers={"Origin": ORIGIN}
    )
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Content-Type"].startswith("text/calendar")
    text = await response.text()
    assert "X-WR-TIMEZONE:America/New_York\r\n" in text
    assert "DTSTART:20261125T150000Z\r\nDTEND:20261125T160000Z\r\n" in text
    assert "secret" not in text and "SUMMARY" not in text
    forged = world.site.local(bubble["icsFileUrl"]).replace("t=", "t=x")
    assert (await world.site.client.get(forged)).status == 403
    assert bubble["availability"]["monday"] == [{"from": "0900", "to": "1700"}]
    assert bubble["dateRangeStart"] <= bubble["dateRangeEnd"]
