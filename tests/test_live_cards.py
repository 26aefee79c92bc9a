"""A live card (the /find poll) is edited in place whichever worker edits it, and after a
restart: the chat service's message id is kept in the store, not in one process's memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestServer

from bot.config import CometChatConfig
from bot.core.messages import OutgoingMessage
from bot.transports.cometchat_rest import cometchat_transport
from storage import SqlStore, open_store
from tests.fake_cometchat import FakeCometChat

CARD = OutgoingMessage(
    "crowd", "group", "extension_poll", {"tally": 0}, category="custom", ref="poll:p1"
)


@pytest.fixture
async def chat_service() -> AsyncIterator[tuple[FakeCometChat, CometChatConfig]]:
    fake = FakeCometChat()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    settings = CometChatConfig(
        app_id="app1", region="eu", api_key="rest-key", bot_uid="calbot",
        api_base=str(server.make_url("/v3")),
    )  # fmt: skip
    yield fake, settings
    await server.close()


async def test_a_card_sent_by_one_worker_is_edited_in_place_by_another_and_after_a_restart(
    any_store: SqlStore, chat_service: tuple[FakeCometChat, CometChatConfig]
) -> None:
    fake, settings = chat_service
    other_store = await open_store(any_store._engine.url.render_as_string(hide_password=False))
    first = cometchat_transport(settings, any_store)
    second = cometchat_transport(settings, other_store)  # another worker, its own engine
    try:
        await first.send(CARD)
        [posted] = fake.received
        card_id = next(i for i, body in fake.messages.items() if body == posted.body)
        await second.send(replace(CARD, ref=None, edit_of="poll:p1", data={"tally": 1}))
        assert len(fake.received) == 1, "the edit must not post a second card"
        assert [e.path for e in fake.edits] == [f"/v3/messages/{card_id}"]
        assert fake.messages[card_id]["data"] == {"tally": 1}
        await first.close()
        first = cometchat_transport(settings, any_store)  # the first worker restarted
        await first.send(replace(CARD, ref=None, edit_of="poll:p1", data={"tally": 2}))
        assert len(fake.received) == 1 and len(fake.edits) == 2
        assert fake.messages[card_id]["data"] == {"tally": 2}
    finally:
        await first.close()
        await second.close()
        await other_store.close()


async def test_an_edit_of_a_card_nobody_kept_is_posted_as_a_new_card(
    any_store: SqlStore, chat_service: tuple[FakeCometChat, CometChatConfig]
) -> None:
    fake, settings = chat_service
    client = cometchat_transport(settings, any_store)
    try:
        await client.send(replace(CARD, ref=None, edit_of="poll:gone", data={"tally": 5}))
        assert [r.body["data"] for r in fake.received] == [{"tally": 5}]
        # ...and that new card is the one later edits change.
        await client.send(replace(CARD, ref=None, edit_of="poll:gone", data={"tally": 6}))
        assert len(fake.received) == 1 and len(fake.edits) == 1
    finally:
        await client.close()
