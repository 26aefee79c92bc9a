"""Signed capability links (HMAC-SHA256): who may open which share, until when.

A token binds the share id, the audience (a uid, or `group:<guid>`), the sharer's connection
generation (a disconnect or reconnect kills old links) and an expiry. Opening a link never
books anything; the booking page re-checks everything on POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime


class LinkError(Exception):
    """The link is forged, damaged or expired; the text is safe to show.

    `expired` lets a page that is not about shares give its own advice for an old link."""

    def __init__(self, text: str, *, expired: bool = False) -> None:
        super().__init__(text)
        self.expired = expired


@dataclass(frozen=True, slots=True)
class LinkClaims:
    share_id: str
    audience: str
    generation: int
    expires_at: datetime


# A move link's audience: the person it acts for, prefixed so that no other kind of token
# (a booking page's uid audience, a click token) can be replayed as one.
MOVE_AUDIENCE = "move:"


def move_claims(booking_id: str, uid: str, sequence: int, until: datetime) -> LinkClaims:
    """A link that lets `uid` move one booking while it is at `sequence`: any move (by either
    side) bumps the sequence, so a link never acts on a time its holder no longer sees."""
    return LinkClaims(booking_id, f"{MOVE_AUDIENCE}{uid}", sequence, until)


def mover_of(claims: LinkClaims, booking_id: str) -> str | None:
    """The uid a move link acts for, or None when it is not a move link for that booking."""
    if claims.share_id != booking_id or not claims.audience.startswith(MOVE_AUDIENCE):
        return None
    return claims.audience.removeprefix(MOVE_AUDIENCE) or None


class LinkSigner:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("link secret must be at least 16 characters")
        self._key = hashlib.sha256(b"calbot-links:" + secret.encode()).digest()

    def sign(self, claims: LinkClaims) -> str:
        body = json.dumps(
            {
                "s": claims.share_id,
                "a": claims.audience,
                "g": claims.generation,
                "e": int(claims.expires_at.timestamp()),
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def verify(self, token: str, now: datetime) -> LinkClaims:
        try:
            body_part, mac_part = token.split(".")
            body = _unb64(body_part)
            mac = _unb64(mac_part)
        except ValueError:
            raise LinkError("This link is damaged. Ask for a fresh one with /share.") from None
        if not hmac.compare_digest(mac, self._mac(body)):
            raise LinkError("This link is not valid. Ask for a fresh one with /share.")
        raw = json.loads(body)
        claims = LinkClaims(
            raw["s"], raw["a"], int(raw["g"]), datetime.fromtimestamp(int(raw["e"]), UTC)
        )
        if now >= claims.expires_at:
            raise LinkError("This link has expired. Ask for a fresh one with /share.", expired=True)
        return claims

    def tag(self, purpose: str, message: str) -> str:
        """A hex HMAC for other secrets (CSRF), kept apart from link tokens by `purpose`."""
        return hmac.new(self._key, f"{purpose}\x00{message}".encode(), hashlib.sha256).hexdigest()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("bad base64") from exc
