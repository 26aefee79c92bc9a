"""Every path the bot serves, and the one place that builds public URLs to them.

Route tables (bot.web, bot.transports.webhook) register these paths; handlers and the
scheduling domain build links through `Urls`, so a path is written exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.links import LinkClaims, LinkSigner

HEALTH = "/healthz"
METRICS = "/metrics"
OPENAPI = "/openapi.json"
WEBHOOK = "/cometchat/webhook"
BOOKING_PAGE = "/book/{share_id}"
ICS = "/ics/{booking_id}.ics"
CONNECT = "/connect"
CONNECT_START = "/connect/start"
CONNECT_DISCONNECT = "/connect/disconnect"
OAUTH_CALLBACK = "/oauth/callback"
OAUTH_CONFIRM = "/oauth/confirm"

CONNECT_LINK_LIFETIME = timedelta(hours=1)
ICS_LINK_LIFETIME = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Urls:
    """Public, signed links to our own pages."""

    public_url: str
    signer: LinkSigner

    def _absolute(self, path: str) -> str:
        return f"{self.public_url.rstrip('/')}{path}"

    def connect(self, uid: str, now: datetime) -> str:
        claims = LinkClaims("connect", uid, 0, now + CONNECT_LINK_LIFETIME)
        return self._absolute(f"{CONNECT}?t={self.signer.sign(claims)}")

    def booking_page(self, share_id: str, audience: str, generation: int, until: datetime) -> str:
        token = self.signer.sign(LinkClaims(share_id, audience, generation, until))
        return self._absolute(BOOKING_PAGE.format(share_id=share_id) + f"?t={token}")

    def ics(self, booking_id: str, meeting_end: datetime) -> str:
        claims = LinkClaims(booking_id, "ics", 0, meeting_end + ICS_LINK_LIFETIME)
        path = ICS.format(booking_id=booking_id)
        return self._absolute(f"{path}?t={self.signer.sign(claims)}")

    def webhook(self) -> str:
        return self._absolute(WEBHOOK)

    def oauth_callback(self) -> str:
        return self._absolute(OAUTH_CALLBACK)

    def home(self) -> str:
        return self._absolute("/")
