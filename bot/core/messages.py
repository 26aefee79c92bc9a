"""Transport-neutral message values shared by transports, the dispatcher and handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ReceiverType = Literal["user", "group"]


@dataclass(frozen=True, slots=True)
class Sender:
    uid: str
    name: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where a message was posted: a one-to-one chat with `receiver` (a uid) or a group (a guid)."""

    kind: ReceiverType
    receiver: str


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    id: str
    sender: Sender
    conversation: Conversation
    text: str
    sent_at: datetime
    # uid -> display name of everyone @mentioned, as the transport reported them.
    mentions: Mapping[str, str] = field(default_factory=dict)
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class SchedulerPick:
    """Someone picked a slot in an interactive scheduler bubble of a share."""

    id: str  # the click's idempotency key: one booking however often it is delivered
    share_id: str
    picker: str
    start: datetime
    minutes: int


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """People joined or left a group (one webhook can name several)."""

    guid: str
    uids: tuple[str, ...]
    joined: bool


# What transports hand to the dispatcher; everything goes through its one error funnel.
Event = IncomingMessage | SchedulerPick | MembershipChange


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to send: from the bot, or on behalf of a user when `on_behalf_of` is set."""

    receiver: str
    receiver_type: ReceiverType
    type: str
    data: Mapping[str, Any]
    category: str = "message"
    on_behalf_of: str | None = None
    parent_id: str | None = None
    # A live card: `ref` names the sent message ("poll:<id>"); a later message with
    # `edit_of` set to that name replaces it in place. The transport maps names to the chat
    # service's message ids, since the id only exists once the message is sent.
    ref: str | None = None
    edit_of: str | None = None

    @property
    def text(self) -> str:
        return str(self.data.get("text", ""))

    def to_json(self) -> dict[str, Any]:
        return {
            "receiver": self.receiver,
            "receiver_type": self.receiver_type,
            "category": self.category,
            "type": self.type,
            "data": dict(self.data),
            "on_behalf_of": self.on_behalf_of,
            "parent_id": self.parent_id,
            "ref": self.ref,
            "edit_of": self.edit_of,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> OutgoingMessage:
        kind = raw["receiver_type"]
        if kind not in ("user", "group"):
            raise ValueError(f"bad receiver_type {kind!r}")
        return cls(
            receiver=raw["receiver"],
            receiver_type=kind,
            category=raw["category"],
            type=raw["type"],
            data=raw["data"],
            on_behalf_of=raw.get("on_behalf_of"),
            parent_id=raw.get("parent_id"),
            ref=raw.get("ref"),
            edit_of=raw.get("edit_of"),
        )


def text_message(
    receiver: str, receiver_type: ReceiverType, text: str, parent_id: str | None = None
) -> OutgoingMessage:
    return OutgoingMessage(
        receiver=receiver,
        receiver_type=receiver_type,
        type="text",
        data={"text": text},
        parent_id=parent_id,
    )
