"""CometChat's interactive scheduler on the wire: a click's body -> a SchedulerPick event.

Booking the picked slot is the book handler's job (handlers/book.py), through the dispatcher.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.messages import SchedulerPick
from bot.timeparse import wall_clock
from bot.timeparse.zones import known_zone
from bot.transports.cometchat import PayloadError


def read_pick(body: Mapping[str, Any]) -> SchedulerPick:
    """The slot a scheduler click asks for; PayloadError when the payload does not say."""
    try:
        return _read(body)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as problem:
        raise PayloadError(f"unreadable scheduler interaction ({problem!r:.100})") from None


def _read(body: Mapping[str, Any]) -> SchedulerPick:
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
    key = f"interaction:{data.get('messageId', '')}:{picker}:{start}"
    return SchedulerPick(key, share_id, picker, start, minutes)
