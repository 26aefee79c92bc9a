"""The video link a booking carries, per `[meetings] video`.

"auto" lets calendars that make their own meetings (Google Meet, Teams) do so and gives every
other booking a Jitsi Meet room; "jitsi" gives everyone a Jitsi room; "none" gives no link.
A Jitsi room is chosen when the slot is held and stored with it, so a retried or recovered
booking puts the same room in the event, the invite and the reminders.
"""

from __future__ import annotations

import secrets

from bot.core.context import Services
from storage.records import Connection

# 128 random bits: a room nobody can find by guessing, as a Jitsi room is open to whoever has
# its name.
ROOM_BYTES = 16


def native(services: Services, connection: Connection) -> bool:
    """Whether the calendar itself should make the meeting link (Meet, Teams)."""
    if services.settings.video != "auto":
        return False
    return services.calendar.capabilities_of(connection.provider).video_meetings


def room_for(services: Services, connection: Connection) -> str:
    """A fresh Jitsi Meet URL for a new booking, or "" when the calendar or nobody makes one."""
    if services.settings.video == "none" or native(services, connection):
        return ""
    return f"{services.settings.jitsi_base}/CalBot-{secrets.token_urlsafe(ROOM_BYTES)}"
