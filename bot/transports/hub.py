"""The embedded chat hub for `calbot demo`: a python-socketio server inside the process.

Messages use CometChat's wire shape, so the bot reads them with bot.transports.cometchat exactly
as it reads webhooks, and connects as an ordinary socket.io client (HubTransport) that sends through
the same Transport protocol as the CometChat REST client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import socketio
from aiohttp import web

from bot.core.messages import IncomingMessage, OutgoingMessage
from bot.core.outbox import DeliveryError
from bot.transports.cometchat import incoming
from storage import is_storage_fault

log = logging.getLogger(__name__)

MAX_TEXT = 4000
HISTORY = 2000
CLOSE_WAIT = 0.5
# How long a person's message waits for the bot to write it down before the hub gives up on it.
ACCEPT_WAIT = 10.0
NOT_ACCEPTED = "The bot could not take that message just now; please send it again in a moment."


@dataclass(frozen=True, slots=True)
class Directory:
    users: Mapping[str, str]  # uid -> name
    groups: Mapping[str, tuple[str, tuple[str, ...]]]  # guid -> (name, member uids)


class Hub:
    def __init__(self, directory: Directory, bot_uid: str, bot_secret: str) -> None:
        self.directory = directory
        self.bot_uid = bot_uid
        self._secret = bot_secret
        self.sio = socketio.AsyncServer(async_mode="aiohttp")
        self.messages: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._refs: dict[str, str] = {}  # live card name ("poll:<id>") -> message id
        self._bot_sids: list[str] = []  # the bot's connections, newest last
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("send", self._send)
        self.sio.on("bot_send", self._bot_send)
        self.sio.on("history", self._history)
        self.sio.on("directory", self._directory)

    def attach(self, app: web.Application) -> None:
        self.sio.attach(app)

    async def _connect(self, sid: str, environ: Any, auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        if "bot" in auth:
            if not hmac.compare_digest(str(auth["bot"]), self._secret):
                raise socketio.exceptions.ConnectionRefusedError("bad bot secret")
            await self.sio.save_session(sid, {"uid": self.bot_uid, "bot": True})
            await self.sio.enter_room(sid, "bot")
            self._bot_sids.append(sid)
            return
        uid = str(auth.get("uid", "")).lower()
        if uid not in self.directory.users:
            raise socketio.exceptions.ConnectionRefusedError(f"unknown user {uid!r}")
        await self.sio.save_session(sid, {"uid": uid, "bot": False})
        await self.sio.enter_room(sid, f"user:{uid}")
        for guid, (_, members) in self.directory.groups.items():
            if uid in members:
                await self.sio.enter_room(sid, f"group:{guid}")

    async def _disconnect(self, sid: str, *_reason: Any) -> None:
        if sid in self._bot_sids:
            self._bot_sids.remove(sid)

    async def _directory(self, sid: str) -> dict[str, Any]:
        return {
            "users": dict(self.directory.users),
            "bot": self.bot_uid,
            "groups": {
                g: {"name": n, "members": list(m)} for g, (n, m) in self.directory.groups.items()
            },
        }

    async def _history(self, sid: str) -> list[dict[str, Any]]:
        uid = (await self.sio.get_session(sid))["uid"]
        return [m for m in self.messages if self._visible(m, uid)]

    async def _send(self, sid: str, data: Any) -> dict[str, Any]:
        session = await self.sio.get_session(sid)
        if not isinstance(data, dict):
            return {"error": "send {receiver, receiverType, text}"}
        text, receiver = data.get("text"), str(data.get("receiver", "")).lower()
        kind = str(data.get("receiverType", ""))
        if not isinstance(text, str) or not text.strip():
            return {"error": "Type a message first."}
        if len(text) > MAX_TEXT:
            return {"error": f"Messages are limited to {MAX_TEXT} characters."}
        if not self._can_reach(session["uid"], receiver, kind):
            return {"error": "You can't message that conversation."}
        message = self._message(session["uid"], receiver, kind, "message", "text", {"text": text})
        if not await self._accepted(message):
            return {"error": NOT_ACCEPTED}
        await self._publish(message, to_bot=False)
        return {"ok": True, "id": message["id"]}

    async def _accepted(self, message: dict[str, Any]) -> bool:
        """Hand a person's message to the bot first, as CometChat's webhook does: it is shown
        only once the bot has written it down (its durable inbox), so a message the bot could
        not take is refused to the sender instead of silently lost."""
        if not self._bot_sids:
            return True  # no bot yet (start-up): people can still talk to each other
        try:
            answer = await self.sio.call(
                "message", message, to=self._bot_sids[-1], timeout=ACCEPT_WAIT
            )
        except socketio.exceptions.TimeoutError:
            log.warning("the bot did not take hub message %s in time", message["id"])
            return False
        return isinstance(answer, dict) and answer.get("ok") is True

    async def _bot_send(self, sid: str, data: Any) -> dict[str, Any]:
        session = await self.sio.get_session(sid)
        if not session.get("bot"):
            return {"error": "only the bot may send on someone's behalf"}
        try:
            out = OutgoingMessage.from_json(data)
        except (KeyError, TypeError, ValueError):
            return {"error": "malformed message"}
        sender = out.on_behalf_of or self.bot_uid
        if out.edit_of and out.edit_of in self._refs:
            edited = await self.edit(self._refs[out.edit_of], dict(out.data))
            if edited is not None:
                return {"ok": True, "id": edited["id"]}
        message = await self.post(
            sender,
            out.receiver,
            out.receiver_type,
            out.category,
            out.type,
            dict(out.data),
            out.parent_id,
        )
        if out.ref or out.edit_of:
            self._refs[out.ref or out.edit_of or ""] = message["id"]
        return {"ok": True, "id": message["id"]}

    async def edit(self, message_id: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """Replace a message's data in place (CometChat's PUT /messages/{id}) and tell everyone
        who can see it with a `message_edited` event carrying the whole new message."""
        for index, old in enumerate(self.messages):
            if old["id"] == message_id:
                message = {**old, "data": {**data, "entities": old["data"].get("entities", {})}}
                message["editedAt"] = int(time.time())
                self.messages[index] = message
                rooms = (
                    [f"group:{old['receiver']}"]
                    if old["receiverType"] == "group"
                    else sorted({f"user:{old['sender']}", f"user:{old['receiver']}"})
                )
                for room in [*rooms, "bot"]:
                    await self.sio.emit("message_edited", message, to=room)
                return message
        return None

    async def post(
        self,
        sender: str,
        receiver: str,
        kind: str,
        category: str,
        type_: str,
        data: dict[str, Any],
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        message = self._message(sender, receiver, kind, category, type_, data, parent_id)
        await self._publish(message, to_bot=True)
        return message

    def _message(
        self,
        sender: str,
        receiver: str,
        kind: str,
        category: str,
        type_: str,
        data: dict[str, Any],
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        name = self.directory.users.get(sender, "Calendar Bot")
        message = {
            "id": str(next(self._ids)),
            "conversationId": (
                f"group_{receiver}"
                if kind == "group"
                else "_user_".join(sorted((sender, receiver)))
            ),
            "sender": sender,
            "receiver": receiver,
            "receiverType": kind,
            "category": category,
            "type": type_,
            "sentAt": int(time.time()),
            "data": {
                **data,
                "entities": {
                    "sender": {"entity": {"uid": sender, "name": name}, "entityType": "user"}
                },
            },
        }
        if parent_id:
            message["parentId"] = parent_id
        return message

    async def _publish(self, message: dict[str, Any], *, to_bot: bool) -> None:
        self.messages = [*self.messages[-(HISTORY - 1) :], message]
        sender, receiver = message["sender"], message["receiver"]
        rooms = (
            [f"group:{receiver}"]
            if message["receiverType"] == "group"
            else sorted({f"user:{sender}", f"user:{receiver}"})
        )
        for room in [*rooms, "bot"] if to_bot else rooms:
            await self.sio.emit("message", message, to=room)

    def _can_reach(self, uid: str, receiver: str, kind: str) -> bool:
        if kind == "group":
            group = self.directory.groups.get(receiver)
            return group is not None and uid in group[1]
        return (
            kind == "user"
            and receiver != uid
            and (receiver in self.directory.users or receiver == self.bot_uid)
        )

    def _visible(self, message: Mapping[str, Any], uid: str) -> bool:
        if message["receiverType"] == "group":
            group = self.directory.groups.get(message["receiver"])
            return group is not None and uid in group[1]
        return uid in (message["sender"], message["receiver"])


class HubTransport:
    """The bot's side of the hub: reads messages like webhooks, sends like the REST client."""

    def __init__(
        self,
        url: str,
        secret: str,
        bot_uid: str,
        accept: Callable[[IncomingMessage], Awaitable[object]],
        directory: Directory | None = None,
    ) -> None:
        self._url, self._secret, self._bot_uid = url, secret, bot_uid
        self._accept = accept
        self._directory = directory
        self._client = socketio.AsyncClient(reconnection=True)
        self._client.on("message", self._received)

    async def group_members(self, guid: str) -> list[tuple[str, str]]:
        """The demo group's people, as the hub's directory lists them (a Roster)."""
        if self._directory is None or guid not in self._directory.groups:
            return []
        _, uids = self._directory.groups[guid]
        return [(uid, self._directory.users.get(uid, uid)) for uid in uids]

    async def connect(self, attempts: int = 200) -> None:
        """Connect once the web server listens (it starts after the app's start-up hooks)."""
        for _ in range(attempts):
            try:
                await self._client.connect(
                    self._url, auth={"bot": self._secret}, transports=["websocket"], wait_timeout=5
                )
                return
            except socketio.exceptions.ConnectionError:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the bot could not reach the chat hub at {self._url}")

    async def _received(self, message: Any) -> dict[str, Any]:
        """The hub's acknowledgement: ok once the message is in the durable inbox (the work
        runs after), an error the hub shows the sender when storage could not take it."""
        if not isinstance(message, dict) or message.get("sender") == self._bot_uid:
            return {"ok": True}
        try:
            inbound = incoming(message)
        except ValueError:
            log.warning("unreadable hub message %r", message.get("id"))
            return {"ok": True}  # nothing a resend would fix
        if inbound is None:
            return {"ok": True}
        try:
            await self._accept(inbound)
        except Exception as problem:
            if not is_storage_fault(problem):
                raise
            log.warning("storage refused a hub message (%s); the sender is told", problem)
            return {"error": "storage unavailable"}
        return {"ok": True}

    async def send(self, message: OutgoingMessage) -> None:
        if not self._client.connected:
            raise DeliveryError("the chat hub is not connected yet", retry_after=1.0)
        try:
            answer = await self._client.call("bot_send", message.to_json(), timeout=5)
        except socketio.exceptions.TimeoutError:
            raise DeliveryError("the chat hub did not answer", retry_after=1.0) from None
        if not isinstance(answer, dict) or "error" in answer:
            raise DeliveryError(f"the chat hub refused the message: {answer}", permanent=True)

    async def close(self) -> None:
        # Accepted messages are the inbox's to finish or hand back; nothing to wait for here.
        if self._client.connected:
            # During aiohttp's shutdown the server no longer answers the close handshake;
            # do not wait out the client's full close timeout for it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._client.disconnect(), CLOSE_WAIT)
