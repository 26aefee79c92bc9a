"""CometChat's wire format: inbound payloads -> IncomingMessage. With its REST v3 client
(bot.transports.cometchat_rest), the only module that knows CometChat's JSON.

Inbound accepts the current webhook (`message_sent`, message under data.message), the legacy
`after_message` and bot callbacks (message directly under data, maybe a `bot` field). The
embedded hub speaks the same shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.core.messages import (
    Conversation,
    IncomingMessage,
    MembershipChange,
    Sender,
)
from bot.core.text import clean_name

MESSAGE_TRIGGERS = {"message_sent", "after_message", "user_mentioned"}


# CometChat writes a mention as `<@uid:bob>` inside data.text; past this adapter it is `@bob`.
MENTION_MARKUP = re.compile(r"<@uid:([^>\s]+)>")


class PayloadError(ValueError):
    """The payload is not a CometChat message we can read (answered 400 or ignored)."""


MEMBERSHIP_TRIGGERS = {
    "group_member_added",
    "group_member_joined",
    "group_member_left",
    "group_member_kicked",
    "group_member_banned",
    "group_member_removed",
}


def membership_change(body: Mapping[str, Any]) -> MembershipChange | None:
    """Who joined or left which group, from a membership webhook; None when it can't be read.

    added/kicked/banned carry `data.members`, a map that can name several people at once;
    joined/left name the one person in `data.user`."""
    data = body.get("data")
    if not isinstance(data, Mapping):
        return None
    group = data.get("group")
    guid = group.get("guid") if isinstance(group, Mapping) else None
    members = data.get("members")
    uids = [str(uid).lower() for uid in members] if isinstance(members, Mapping) else []
    if not uids:
        who = data.get("user") or data.get("by")
        uid = who.get("uid") if isinstance(who, Mapping) else None
        uids = [uid.lower()] if isinstance(uid, str) and uid else []
    if not isinstance(guid, str) or not guid or not uids:
        return None
    joined = body.get("trigger") in ("group_member_added", "group_member_joined")
    return MembershipChange(guid.lower(), tuple(dict.fromkeys(uids)), joined)


def message_of(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The message inside a webhook/bot-callback body, or None for events we do not handle."""
    trigger = body.get("trigger")
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise PayloadError("data must be an object")
    if trigger not in MESSAGE_TRIGGERS:
        return None
    message = data.get("message", data)
    if not isinstance(message, Mapping):
        raise PayloadError("data.message must be an object")
    return message


def incoming(message: Mapping[str, Any]) -> IncomingMessage | None:
    """A text message as our value type; None for non-text messages (receipts, actions...)."""
    if message.get("category") != "message" or message.get("type") != "text":
        return None
    inner = message.get("data")
    if not isinstance(inner, Mapping):
        raise PayloadError("a text message needs a data object")
    try:
        text = inner["text"]
        ids = [message["id"], message["sender"], message["receiver"]]
        receiver_type = message["receiverType"]
    except KeyError:
        raise PayloadError(
            "a text message needs id, sender, receiver, receiverType and data.text"
        ) from None
    if not all(isinstance(v, str | int) and not isinstance(v, bool) and str(v) for v in ids):
        raise PayloadError("id, sender and receiver must be non-empty strings or numbers")
    message_id, sender_uid, receiver = str(ids[0]), str(ids[1]).lower(), str(ids[2]).lower()
    if not isinstance(text, str) or receiver_type not in ("user", "group"):
        raise PayloadError("data.text must be a string and receiverType user or group")
    sender_entity = as_mapping(
        as_mapping(as_mapping(inner.get("entities")).get("sender")).get("entity")
    )
    name = sender_entity.get("name")
    # Names are typed by other people: cleaned here, at the edge, before any page, card, event
    # or log line shows them.
    mentions = {
        str(uid).lower(): clean_name(
            str(user.get("name", uid)) if isinstance(user, Mapping) else str(uid), str(uid)
        )
        for uid, user in as_mapping(inner.get("mentions")).items()
    }
    return IncomingMessage(
        id=message_id,
        sender=Sender(sender_uid, clean_name(str(name or sender_uid), sender_uid)),
        conversation=Conversation(receiver_type, receiver),
        text=MENTION_MARKUP.sub(r"@\1", text),
        sent_at=_sent_at(message.get("sentAt")),
        mentions=mentions,
        parent_id=str(message["parentId"]) if message.get("parentId") else None,
    )


def as_mapping(value: object) -> Mapping[str, Any]:
    """`value` when it is a JSON object; optional parts of a payload may be anything."""
    return value if isinstance(value, Mapping) else {}


def _sent_at(value: object) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            pass  # nonsense clocks (NaN, year 30000) are not worth refusing the message over
    return datetime.now(UTC)
