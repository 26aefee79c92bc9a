"""The demo hub edits a live card in place, like CometChat's PUT /messages/{id}."""

from __future__ import annotations

from bot.transports.hub import Directory, Hub


async def test_the_hub_replaces_a_message_and_keeps_one_copy() -> None:
    hub = Hub(Directory({"alice": "Alice"}, {"team": ("Team", ("alice",))}), "calbot", "secret")
    card = await hub.post("calbot", "team", "group", "custom", "poll", {"text": "v1"})
    await hub.post("alice", "team", "group", "message", "text", {"text": "/vote 1 yes"})
    edited = await hub.edit(card["id"], {"text": "v2"})
    assert edited is not None and edited["id"] == card["id"]
    assert [m["data"]["text"] for m in hub.messages] == ["v2", "/vote 1 yes"]
    assert await hub.edit("no-such-id", {"text": "v3"}) is None
