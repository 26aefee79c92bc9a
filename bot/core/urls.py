"""Every path the bot serves, and the one place that builds public URLs to them.

Route tables (bot.web, bot.transports.webhook) register these paths; handlers and the
scheduling domain build links through `Urls`, so a path is written exactly once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.links import LinkClaims, LinkSigner, move_claims

HEALTH = "/healthz"
METRICS = "/metrics"
OPENAPI = "/openapi.json"
WEBHOOK = "/cometchat/webhook"
# Scheduler-bubble clicks: POSTed by the chat clients themselves, without webhook credentials.
SCHEDULER = "/cometchat/scheduler"
# The sharer's busy time as .ics, for the scheduler bubble's icsFileUrl.
BUSY_ICS = "/busy/{share_id}.ics"
BOOKING_PAGE = "/book/{share_id}"
ICS = "/ics/{booking_id}.ics"
CONNECT = "/connect"
CONNECT_START = "/connect/start"
CONNECT_DISCONNECT = "/connect/disconnect"
CONNECT_CALDAV = "/connect/caldav"
CONNECT_CALENDARS = "/connect/calendars"
OAUTH_CALLBACK = "/oauth/callback"
OAUTH_CONFIRM = "/oauth/confirm"
MOVE_PAGE = "/move/{booking_id}"

# OA-3: a forwarded connect link must die quickly; it is also single use and bound to the
# first browser that opens it (bot.web.connect_page).
CONNECT_LINK_LIFETIME = timedelta(minutes=10)
ICS_LINK_LIFETIME = timedelta(days=365)
CLICK_AUDIENCE = "click:"
BUSY_AUDIENCE = "busy"


@dataclass(frozen=True, slots=True)
class Urls:
    """Public, signed links to our own pages."""

    public_url: str
    signer: LinkSigner

    def _absolute(self, path: str) -> str:
        return f"{self.public_url.rstrip('/')}{path}"

    def connect(self, uid: str, now: datetime) -> str:
        # A random serial in the generation slot: every link is distinct, so spending one
        # (they are single use) never spends the next, even within the same second.
        claims = LinkClaims("connect", uid, secrets.randbits(48), now + CONNECT_LINK_LIFETIME)
        return self._absolute(f"{CONNECT}?t={self.signer.sign(claims)}")

    def booking_page(self, share_id: str, audience: str, generation: int, until: datetime) -> str:
        token = self.signer.sign(LinkClaims(share_id, audience, generation, until))
        return self._absolute(BOOKING_PAGE.format(share_id=share_id) + f"?t={token}")

    def ics(self, booking_id: str, meeting_end: datetime) -> str:
        claims = LinkClaims(booking_id, "ics", 0, meeting_end + ICS_LINK_LIFETIME)
        path = ICS.format(booking_id=booking_id)
        return self._absolute(f"{path}?t={self.signer.sign(claims)}")

    def move(self, booking_id: str, uid: str, sequence: int, until: datetime) -> str:
        """The "Move" page of one booking for one side of it (bot.web.move_page)."""
        token = self.signer.sign(move_claims(booking_id, uid, sequence, until))
        return self._absolute(MOVE_PAGE.format(booking_id=booking_id) + f"?t={token}")

    def scheduler_click(self) -> str:
        return self._absolute(SCHEDULER)

    def click_token(self, share_id: str, audience: str, generation: int, until: datetime) -> str:
        """The token a scheduler bubble carries in action.payload: the click's only credential.

        Its audience is prefixed so a booking-page link can't be replayed as a click token."""
        return self.signer.sign(
            LinkClaims(share_id, f"{CLICK_AUDIENCE}{audience}", generation, until)
        )

    def busy_ics(self, share_id: str, generation: int, until: datetime) -> str:
        token = self.signer.sign(LinkClaims(share_id, BUSY_AUDIENCE, generation, until))
        return self._absolute(BUSY_ICS.format(share_id=share_id) + f"?t={token}")

    def webhook(self) -> str:
        return self._absolute(WEBHOOK)

    def oauth_callback(self) -> str:
        return self._absolute(OAUTH_CALLBACK)

    def home(self) -> str:
        return self._absolute("/")
