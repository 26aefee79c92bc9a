"""The one-time code a group member books with: a group link is shared by many people, so the
booker proves who they are with a code the bot sends them in a direct chat (bound to this
browser), never a typed name alone."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.context import Services
from bot.errors import UserError

if TYPE_CHECKING:
    from bot.web.booking_page import Opened

# How long a code works (a little longer at a window's edge).
CODE_LIFETIME = timedelta(minutes=10)


async def member_of(services: Services, opened: Opened, typed: str) -> str:
    """The typed chat id if it names a member of the link's group other than the sharer."""
    uid = typed.strip().lower()[:100]
    guid = opened.claims.audience.removeprefix("group:")
    if (
        not uid
        or uid == opened.share.sharer_uid
        or uid not in await services.store.group_members(guid)
    ):
        raise UserError(
            f"Only members of the group {opened.owner.name} shared this link with can book "
            "here, each as themselves. Type the chat user id you chat with."
        )
    return uid


def group_code(services: Services, nonce: str, opened: Opened, uid: str, bucket: int) -> str:
    tag = services.links.tag("group-code", f"{nonce}:{opened.share.id}:{uid}:{bucket}")
    return f"{int(tag[:12], 16) % 1_000_000:06d}"


def bucket(services: Services) -> int:
    return int(services.clock.now().timestamp() // CODE_LIFETIME.total_seconds())


def group_code_ok(services: Services, nonce: str, opened: Opened, uid: str, code: str) -> bool:
    """The code sent for this browser, share and member, in this 10-minute window or the last."""
    now = bucket(services)
    given = code.strip()
    return bool(nonce) and any(
        hmac.compare_digest(given, group_code(services, nonce, opened, uid, earlier))
        for earlier in (now, now - 1)
    )
