"""Google access tokens shared by every worker through the connection row.

Each worker used to refresh its own access token, so N workers cost Google N refreshes per owner
per hour (and raced each other on rotated refresh tokens). Now the fresh access token and its
expiry are sealed into the connection's secret next to the refresh token; the refresh runs while
the row is locked (Store.update_connection_token), so the first worker refreshes and the others,
waiting on the lock, find a valid token and use it. The database is the only shared part.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.auth.transport.requests import Request as AuthRequest
from google.oauth2.credentials import Credentials

from bot.calendars import google_client
from bot.calendars.provider import CalendarError
from bot.calendars.tokens import TokenError, TokenVault
from bot.config import GoogleConfig
from storage.records import Connection
from storage.store import Store


def credentials(config: GoogleConfig, secret: dict[str, Any], *, shared: bool) -> Credentials:
    """Credentials for a sealed secret; with `shared`, the access token other workers stored."""
    token = secret.get("access_token") if shared else None
    expiry = secret.get("expiry") if token else None
    # scopes=None: sending the requested scopes on refresh breaks partial grants.
    return Credentials(  # type: ignore[no-untyped-call]
        token=token,
        expiry=datetime.fromisoformat(expiry) if expiry else None,  # naive UTC, as google-auth
        refresh_token=secret["refresh_token"],
        token_uri=config.token_uri,
        client_id=config.client_id,
        client_secret=config.client_secret,
        scopes=None,
    )


async def fresh(
    store: Store,
    vault: TokenVault,
    config: GoogleConfig,
    owner: Connection,
    rejected: str | None = None,
) -> Credentials:
    """A valid access token for `owner`: the one another worker stored if it is still good (and
    not the `rejected` one Google just answered 401 to), else refreshed once and stored.
    Raises google-auth's RefreshError/TransportError, or CalendarError(reconnect) without a
    usable secret."""
    found: list[Credentials] = []

    async def update(sealed: bytes) -> bytes | None:
        try:
            secret = vault.open(owner.uid, sealed)
        except TokenError as problem:
            raise CalendarError(str(problem), reconnect=True) from None
        current = credentials(config, secret, shared=True)
        found.append(current)
        if current.valid and current.token != rejected:
            return None  # refreshed by another worker (or by us) since we last looked
        await google_client.in_thread(current.refresh, AuthRequest())
        renewed = {**secret, "access_token": current.token}
        renewed["expiry"] = current.expiry.isoformat() if current.expiry else None
        if current.refresh_token:  # Google may rotate it
            renewed["refresh_token"] = current.refresh_token
        return vault.seal(owner.uid, renewed)

    if not await store.update_connection_token(owner.uid, update):
        raise CalendarError("no Google token stored", reconnect=True)
    return found[-1]
