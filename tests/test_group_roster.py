"""A fresh group's /find plans with its real members: the chat service's member list (REST
GET /groups/{guid}/members, the hub's directory in the demo), cached, joined with who spoke."""

from __future__ import annotations

from dataclasses import replace

from aiohttp.test_utils import TestServer

from bot.config import CometChatConfig
from bot.core.dispatcher import Dispatcher
from bot.core.messages import Conversation, IncomingMessage, Sender
from bot.core.roster import CachedRoster
from bot.transports.cometchat_rest import CometChatClient
from bot.transports.hub import Directory, HubTransport
from storage import SqlStore
from tests.chat import Chat, meet
from tests.fake_cometchat import FakeCometChat
from tests.fakes import FrozenClock


class ListedRoster:
    """The chat service's answer, counted (it stands where the REST client or hub would)."""

    def __init__(self, members: list[tuple[str, str]]) -> None:
        self.members, self.calls = members, 0

    async def group_members(self, guid: str) -> list[tuple[str, str]]:
        self.calls += 1
        return self.members if guid == "team" else []


async def test_find_in_a_fresh_group_uses_the_listed_members(
    store: SqlStore, clock: FrozenClock
) -> None:
    for uid, zone in (("alice", "America/New_York"), ("bob", "Europe/Berlin"),
                      ("carol", "Europe/London")):  # fmt: skip
        await meet(store, uid, zone)
    chat = Chat(store, clock)
    listed = ListedRoster([("calbot", "Calendar Bot"), ("alice", "Alice"), ("bob", "Bob"),
                           ("carol", "Carol")])  # fmt: skip
    chat.services = replace(chat.services, roster=CachedRoster(listed, clock))
    chat.dispatcher = Dispatcher(chat.services)
    await chat.say("/find 30m", sender="alice", group="team")
    [poll] = await store.open_polls("team")
    assert set(poll.members) == {"alice", "bob", "carol"}  # the bot is not a member to plan for
    await chat.say("/find 45m", sender="alice", group="team")
    assert listed.calls == 1  # cached: membership webhooks keep the store current meanwhile


async def test_the_rest_client_reads_every_page_of_members() -> None:
    fake = FakeCometChat()
    fake.groups["big"] = [f"user{n:03d}" for n in range(250)]
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    client = CometChatClient(
        CometChatConfig(api_key="rest-key", bot_uid="calbot", api_base=str(server.make_url("/v3")))
    )
    try:
        members = await client.group_members("big")
        assert [uid for uid, _ in members] == fake.groups["big"]
        assert members[0] == ("user000", "User000")
    finally:
        await client.close()
        await server.close()


async def test_the_demo_hub_lists_its_directorys_group() -> None:
    directory = Directory(
        users={"alice": "Alice", "bob": "Bob"}, groups={"team": ("Team", ("alice", "bob"))}
    )

    async def accept(message: object) -> bool:
        return True

    hub = HubTransport("http://127.0.0.1:9", "secret", "calbot", accept, directory)
    assert await hub.group_members("team") == [("alice", "Alice"), ("bob", "Bob")]
    assert await hub.group_members("other") == []


async def test_a_find_re_run_after_a_crash_makes_one_poll(
    store: SqlStore, clock: FrozenClock
) -> None:
    for uid, zone in (("alice", "America/New_York"), ("bob", "Europe/Berlin")):
        await meet(store, uid, zone)
    chat = Chat(store, clock)
    await chat.say("hi", sender="bob", group="team")
    message = IncomingMessage(
        "find-1", Sender("alice", "Alice"), Conversation("group", "team"), "/find 30m", clock.now()
    )
    for _ in range(2):  # the durable inbox runs an event again when its worker died mid-way
        await chat.dispatcher.dispatch(message, deduplicated=True)
    assert len(await store.open_polls("team")) == 1
