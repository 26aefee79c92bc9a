"""CometChat's interactive scheduler: a slot picked in the bubble becomes a booking."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import booking
from bot.cards import both_zones
from bot.context import Services
from bot.errors import UserError
from bot.messages import ReceiverType, text_message
from bot.timeparse import wall_clock

log = logging.getLogger(__name__)


async def handle_interaction(services: Services, body: Mapping[str, Any]) -> None:
    """Book the picked slot and tell the picker how it went (never raises for bad input)."""
    try:
        request = _read(body)
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as problem:
        log.warning("unreadable scheduler interaction: %r", problem)
        return
    share_id, picker, start, minutes, message_id = request
    now = services.clock.now()
    if not await services.store.claim_message(f"interaction:{message_id}:{picker}:{start}", now):
        return
    booker = await services.store.ensure_user(picker, picker, services.settings.default_timezone)
    share = await services.store.get_share(share_id)
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
        start + timedelta(minutes=minutes),
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


def _read(body: Mapping[str, Any]) -> tuple[str, str, datetime, int, str]:
    data = body["data"]
    payload = body.get("payload") or {}
    share_id = str(payload["shareId"])
    picker = str(data["interactedBy"]).lower()
    scheduled = data["schedulerData"]
    zone = ZoneInfo(str(data.get("interactionTimezoneCode") or "UTC"))
    local = datetime.fromisoformat(str(scheduled["meetStartAt"]))
    start = local if local.tzinfo else wall_clock(local.date(), local.time(), zone)
    minutes = int(scheduled.get("duration") or 30)
    if not 5 <= minutes <= 480:
        raise ValueError("duration out of range")
    return share_id, picker, start, minutes, str(data.get("messageId", ""))


async def _tell(services: Services, uid: str, text: str) -> None:
    await services.outbox.post(
        f"interaction-reply:{uid}:{services.clock.now().isoformat()}",
        text_message(uid, "user", text),
    )
