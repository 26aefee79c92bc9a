"""CometChat's interactive scheduler: a slot picked in the bubble becomes a booking."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.context import Services
from bot.core.messages import ReceiverType, text_message
from bot.errors import UserError
from bot.scheduling import booking
from bot.scheduling.cards import both_zones
from bot.timeparse import wall_clock
from bot.timeparse.zones import known_zone
from bot.transports.cometchat import PayloadError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pick:
    share_id: str
    picker: str
    start: datetime
    minutes: int
    message_id: str


async def handle_interaction(services: Services, pick: Pick) -> None:
    """Book the picked slot and tell the picker how it went."""
    picker, start = pick.picker, pick.start
    now = services.clock.now()
    click = f"interaction:{pick.message_id}:{picker}:{start}"
    if not await services.store.claim_message(click, now):
        return
    booker = await services.store.ensure_user(picker, picker, services.settings.default_timezone)
    share = await services.store.get_share(pick.share_id)
    owner = await services.store.get_user(share.sharer_uid) if share else None
    if share is None or owner is None:
        await _tell(
            services, picker, "That availability share no longer exists; ask for a fresh /share."
        )
        return
    receiver_type: ReceiverType = "group" if share.conversation_type == "group" else "user"
    receiver = share.conversation_id if receiver_type == "group" else booker.uid
    slot = booking.Slot(
        owner,
        booker,
        start,
        start + timedelta(minutes=pick.minutes),
        f"Meeting with {owner.name}",
        share,
        receiver,
        receiver_type,
    )
    try:
        booked = await booking.book(services, slot)
    except UserError as problem:
        await _tell(services, picker, problem.text)
        return
    when = both_zones(booked.start, booked.end, ZoneInfo(booker.timezone), ZoneInfo(owner.timezone))
    await _tell(services, picker, f"Booked with {owner.name}: {when}. The invite is on its way.")


def read_pick(body: Mapping[str, Any]) -> Pick:
    """The slot a scheduler click asks for; PayloadError when the payload does not say."""
    try:
        return _read(body)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as problem:
        raise PayloadError(f"unreadable scheduler interaction ({problem!r:.100})") from None


def _read(body: Mapping[str, Any]) -> Pick:
    data = body["data"]
    payload = body.get("payload") or {}
    share_id = str(payload["shareId"])
    picker = str(data["interactedBy"]).lower()
    scheduled = data["schedulerData"]
    zone = known_zone(str(data.get("interactionTimezoneCode") or "UTC"))
    if zone is None:
        raise ValueError("unknown interactionTimezoneCode")
    local = datetime.fromisoformat(str(scheduled["meetStartAt"]))
    start = local if local.tzinfo else wall_clock(local.date(), local.time(), zone)
    minutes = int(scheduled.get("duration") or 30)
    if not 5 <= minutes <= 480:
        raise ValueError("duration out of range")
    if not 2000 <= start.year <= 2200:
        raise ValueError("start out of range")
    return Pick(share_id, picker, start, minutes, str(data.get("messageId", "")))


async def _tell(services: Services, uid: str, text: str) -> None:
    await services.outbox.post(
        f"interaction-reply:{uid}:{services.clock.now().isoformat()}",
        text_message(uid, "user", text),
    )
