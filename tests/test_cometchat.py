"""CometChat for real: webhook shapes in, the real REST client out, against a local fake."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.config import CometChatConfig, Config
from bot.core.messages import OutgoingMessage, text_message
from bot.core.outbox import Outbox
from bot.core.throttle import RateLimit
from bot.transports.cometchat_rest import CometChatClient, cometchat_transport
from tests.conftest import NOW
from tests.fake_cometchat import FakeCometChat
from tests.fakes import FrozenClock
from tests.site import Site, running_site

AUTH = "Basic " + base64.b64encode(b"hook-user:hook-pass").decode()


@dataclass
class World:
    site: Site
    fake: FakeCometChat
    settings: CometChatConfig

    async def post(self, body: Any, auth: str = AUTH, raw: bytes | None = None) -> int:
        data = raw if raw is not None else json.dumps(body).encode()
        response = await self.site.client.post(
            "/cometchat/webhook",
            data=data,
            headers={"Authorization": auth, "Content-Type": "application/json"},
        )
        await self.site.runtime.background.drain()
        await self.site.runtime.services.outbox.flush()
        return response.status


@pytest.fixture
async def world(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[World]:
    fake = FakeCometChat()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    settings = CometChatConfig(
        app_id="app1",
        region="eu",
        api_key="rest-key",
        bot_uid="calbot",
        api_base=str(server.make_url("/v3")),
        webhook_username="hook-user",
        webhook_password="hook-pass",
    )

    def configure(config: Config) -> Config:
        return replace(config, cometchat=settings)

    async with running_site(
        tmp_path,
        clock,
        configure=configure,
        transport_factory=lambda config, store: cometchat_transport(settings, store),
    ) as site:
        yield World(site, fake, settings)
    await server.close()


def message(
    text: str,
    *,
    sender: str = "alice",
    receiver: str = "calbot",
    receiver_type: str = "user",
    message_id: str = "4821",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "conversationId": f"{sender}_user_{receiver}",
        "sender": sender,
        "receiverType": receiver_type,
        "receiver": receiver,
        "category": "message",
        "type": "text",
        # The frozen clock's now: an old sentAt is a replay the webhook ignores.
        "sentAt": int(NOW.timestamp()),
        "updatedAt": int(NOW.timestamp()),
        "data": {
            "text": text,
            "entities": {
                "sender": {
                    "entity": {"uid": sender, "name": sender.capitalize()},
                    "entityType": "user",
                }
            },
        },
        **extra,
    }


def current(msg: dict[str, Any]) -> dict[str, Any]:
    return {
        "trigger": "message_sent",
        "data": {"message": msg},
        "appId": "app1",
        "region": "eu",
        "webhook": "calbot-hook",
    }


async def test_current_webhook_is_answered_through_the_bot_endpoint(world: World) -> None:
    assert await world.post(current(message("/help"))) == 200
    [sent] = world.fake.received
    assert sent.path == "/v3/bots/calbot/messages"
    assert sent.headers["apikey"] == "rest-key" and "onBehalfOf" not in sent.headers
    assert sent.body["receiver"] == "alice" and sent.body["receiverType"] == "user"
    assert sent.body["data"]["text"].startswith("Here is what I can do:")


async def test_legacy_webhook_and_bot_callback_shapes_are_read(world: World) -> None:
    legacy = {
        "trigger": "after_message",
        "data": message("/help", message_id="57"),
        "appId": "app1",
        "webhook": "send-message",
    }
    callback = {
        "trigger": "after_message",
        "chatAPIVersion": "3.0",
        "bot": "calbot",
        "data": message("/help", receiver="team", receiver_type="group", message_id="712"),
    }
    assert await world.post(legacy) == 200
    assert await world.post(callback) == 200
    receivers = [(r.body["receiver"], r.body["receiverType"]) for r in world.fake.received]
    assert receivers == [("alice", "user"), ("team", "group")]


async def test_retried_deliveries_and_own_messages_are_handled_once(world: World) -> None:
    for _ in range(3):  # CometChat retries after 10 s and 30 s
        assert await world.post(current(message("/help", message_id="99"))) == 200
    assert await world.post(current(message("/help", sender="calbot", message_id="100"))) == 200
    assert len(world.fake.received) == 1


async def test_mentions_groups_and_threads(world: World) -> None:
    mentioned = message(
        "<@uid:calbot> help", receiver="team", receiver_type="group", message_id="5", parentId="4"
    )
    mentioned["data"]["mentions"] = {"calbot": {"uid": "calbot", "name": "Calendar Bot"}}
    assert await world.post(current(mentioned)) == 200
    [sent] = world.fake.received
    assert sent.path == "/v3/messages/4/thread" and sent.headers["onBehalfOf"] == "calbot"
    assert sent.body["receiver"] == "team"


async def test_messages_on_a_users_behalf_use_the_messages_endpoint(world: World) -> None:
    await world.post(current(message("/share @bob", message_id="7")))
    card = next(r for r in world.fake.received if r.body["category"] == "custom")
    assert card.path == "/v3/messages" and card.headers["onBehalfOf"] == "alice"
    assert card.body["type"] == "extension_calendar_availability"
    assert card.body["data"]["customData"]["version"] == 1
    assert len(json.dumps(card.body["data"])) < 10 * 1024  # CometChat's limit for data


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        ("", 401),
        ("Basic " + base64.b64encode(b"hook-user:wrong").decode(), 401),
        ("Bearer hook-pass", 401),
    ],
)
async def test_bad_credentials_are_refused_before_parsing(
    world: World, auth: str, status: int
) -> None:
    assert await world.post(None, auth=auth, raw=b"{not json") == status
    assert world.fake.received == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'{"trigger": "message_sent", "data": 5}', 400),
        (json.dumps(current({"id": "1", "category": "message", "type": "text"})).encode(), 400),
        (b'{"trigger": "message_read_receipt", "data": {"body": {}}}', 200),
        (b"x" * (70 * 1024), 413),
    ],
)
async def test_malformed_payloads_get_a_4xx_and_nothing_breaks(
    world: World, raw: bytes, status: int
) -> None:
    assert await world.post(None, raw=raw) == status
    assert await world.post(current(message("/help", message_id="ok"))) == 200  # still alive


async def test_error_envelopes_become_typed_delivery_errors(world: World) -> None:
    outbox = world.site.runtime.services.outbox
    store = world.site.runtime.services.store
    world.fake.fail(429, "ERR_TOO_MANY_REQUESTS", retry_after="7")
    await outbox.post("k1", text_message("alice", "user", "hello"))
    await outbox.flush()
    assert world.fake.received == [] and await store.pending_count() == 1
    world.site.clock.advance(seconds=5)
    await outbox.flush()
    assert world.fake.received == [], "Retry-After: 7 must be honoured"
    world.site.clock.advance(seconds=3)
    await outbox.flush()
    assert [r.body["data"]["text"] for r in world.fake.received] == ["hello"]
    world.fake.fail(400, "ERR_BAD_REQUEST")
    await outbox.post("k2", text_message("ghost", "user", "hi"))
    await outbox.flush()
    assert await store.pending_count() == 0  # permanent: dead-lettered, not retried forever


async def test_a_sender_is_held_to_30_messages_a_minute() -> None:
    now = [0.0]
    rate = RateLimit(30, clock=lambda: now[0])
    assert all(rate.wait_for("alice") == 0 for _ in range(30))
    assert rate.wait_for("alice") == pytest.approx(60)
    assert rate.wait_for("bob") == 0
    now[0] = 61
    assert rate.wait_for("alice") == 0


def test_a_scan_from_many_addresses_is_forgotten_once_it_is_over() -> None:
    now = [0.0]
    rate = RateLimit(20, clock=lambda: now[0])
    for n in range(5000):
        assert rate.wait_for(f"10.0.{n // 256}.{n % 256}") == 0
    now[0] = 61  # a window later every one of those addresses is idle
    assert rate.wait_for("192.0.2.1") == 0
    assert len(rate) == 1


async def test_a_slot_picked_in_the_scheduler_bubble_is_booked(world: World) -> None:
    await world.site.runtime.services.store.save_connection("alice", "local", "alice", None)
    await world.post(current(message("/share @bob", message_id="8")))
    share_id = next(r for r in world.fake.received if r.body["category"] == "custom").body["data"][
        "customData"
    ]["shareId"]
    click = {
        "appID": "app1",
        "region": "eu",
        "trigger": "ui_message_interacted",
        "payload": {"kind": "book", "shareId": share_id},
        "data": {
            "conversationId": "alice_user_bob",
            "sender": "alice",
            "receiver": "bob",
            "receiverType": "user",
            "messageCategory": "interactive",
            "messageType": "scheduler",
            "messageId": 373,
            "interactionTimezoneCode": "Europe/Berlin",
            "interactedBy": "bob",
            "interactedElementId": "book",
            "schedulerData": {"meetStartAt": "2026-11-25T15:00", "duration": 30},
        },
    }
    assert await world.post(click) == 200
    assert await world.post(click) == 200  # a double click books once
    texts = [r.body["data"].get("text", "") for r in world.fake.received]
    assert (
        sum(t.startswith("Booked with Alice: Wed 25 Nov 2026, 15:00–15:30 CET") for t in texts) == 1
    )
    assert sum(r.body["type"] == "extension_calendar_invite" for r in world.fake.received) == 1


async def test_slow_failing_and_dropped_sends_are_retried_until_each_arrives_once(
    world: World, clock: FrozenClock
) -> None:
    client = CometChatClient(world.settings, timeout=aiohttp.ClientTimeout(total=0.5))
    outbox = Outbox(world.site.runtime.services.store, client, clock)
    world.fake.fail(0, delay=2.0)  # slower than our 0.5 s timeout
    world.fake.fail(0, drop=True)  # connection closed without an answer
    world.fake.fail(500, "ERR_INTERNAL")
    world.fake.fail(503, "ERR_UNAVAILABLE")
    try:
        await outbox.post("slow", text_message("alice", "user", "hello"))
        for _ in range(5):
            await outbox.flush()
            clock.advance(seconds=600)  # past any backoff
    finally:
        await client.close()
    assert [r.body["data"]["text"] for r in world.fake.received] == ["hello"]
    assert world.fake.script == []  # all four faults were met on the way
    assert await world.site.runtime.services.store.pending_count() == 0


async def test_a_membership_event_naming_several_people_records_all_of_them(world: World) -> None:
    added: dict[str, Any] = {
        "trigger": "group_member_added",
        "appId": "app1",
        "region": "eu",
        "webhook": "calbot-hook",
        "data": {
            "group": {"guid": "team", "name": "Team"},
            "members": {
                "alice": {"uid": "alice", "name": "Alice"},
                "bob": {"uid": "bob", "name": "Bob"},
                "Carol": {"uid": "Carol", "name": "Carol"},
            },
            "by": {"uid": "alice"},
        },
    }
    assert await world.post(added) == 200
    store = world.site.runtime.services.store
    assert sorted(await store.group_members("team")) == ["alice", "bob", "carol"]
    kicked = {**added, "trigger": "group_member_kicked"}
    kicked["data"] = {
        **added["data"],
        "members": {"bob": {"uid": "bob"}, "carol": {"uid": "carol"}},
    }
    assert await world.post(kicked) == 200
    assert await store.group_members("team") == ["alice"]


async def test_the_strict_fake_refuses_what_cometchat_refuses(world: World) -> None:
    outbox = world.site.runtime.services.outbox
    store = world.site.runtime.services.store
    await outbox.post("ghost", text_message("ghost", "user", "hi"))
    await outbox.flush()
    [refused] = world.fake.refused
    assert refused.body["receiver"] == "ghost" and await store.pending_count() == 0
    huge = OutgoingMessage("alice", "user", "x", {"text": "x" * 11000}, category="custom")
    await outbox.post("huge", huge)
    await outbox.flush()
    assert len(world.fake.refused) == 2 and world.fake.received == []


async def test_a_message_sent_long_ago_is_a_replay_and_is_not_answered(world: World) -> None:
    old = message("/help", message_id="replayed")
    old["sentAt"] = int(NOW.timestamp()) - 2 * 3600  # an hour past the default window
    assert await world.post(current(old)) == 200  # so CometChat does not redeliver it
    assert world.fake.received == []
    metrics = await (await world.site.client.get("/metrics")).text()
    assert 'calbot_messages_total{outcome="stale"} 1' in metrics
    fresh = message("/help", message_id="fresh")
    fresh["sentAt"] = int(NOW.timestamp()) - 60
    assert await world.post(current(fresh)) == 200
    assert len(world.fake.received) == 1
