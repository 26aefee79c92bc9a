"""Access tokens for Microsoft Graph, from refresh tokens that rotate on every use.

Each refresh answers with a new refresh token that replaces the stored one. Refreshes are
single-flight per user inside a process (a lock), and across workers the new token is stored with
a compare-and-swap on the sealed token: a worker never overwrites a newer token with an older one,
and a worker whose refresh was refused because another one rotated the token a moment earlier
reads the winner's token and tries once more instead of declaring the connection dead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import aiohttp

from bot.calendars import microsoft_oauth
from bot.calendars.provider import CalendarError
from bot.calendars.tokens import TokenError, TokenVault
from bot.config import MicrosoftConfig
from storage.records import Connection, ConnectionStatus

log = logging.getLogger(__name__)

ROTATION_RACE_PAUSE = 0.3  # time for a racing worker to store the token it just got
EARLY_REFRESH = 60.0  # refresh a minute before Graph would start answering 401
Reconnect = Callable[[Connection], Awaitable[None]]


class TokenStore(Protocol):
    """What Graph tokens need from the Store (SqlStore once it has `swap_connection_token`)."""

    async def get_connection(self, uid: str) -> Connection | None: ...
    async def set_connection_status(self, uid: str, status: ConnectionStatus) -> None: ...
    async def swap_connection_token(self, uid: str, expected: bytes, token: bytes) -> bool:
        """Replace the sealed token only if it is still `expected`; False if it was not."""
        ...


class GraphTokens:
    def __init__(
        self,
        config: MicrosoftConfig,
        store: TokenStore,
        vault: TokenVault,
        on_reconnect: Reconnect,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._config = config
        self._store = store
        self._vault = vault
        self._on_reconnect = on_reconnect
        self._sleep = sleep
        self._access: dict[tuple[str, int], tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def access_token(self, session: aiohttp.ClientSession, owner: Connection) -> str:
        key = (owner.uid, owner.generation)
        async with self._locks.setdefault(owner.uid, asyncio.Lock()):
            cached = self._access.get(key)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            grant = await self._refresh(session, owner)
            expires = time.monotonic() + max(grant.expires_in - EARLY_REFRESH, 0.0)
            self._access[key] = (grant.access_token, expires)
            return grant.access_token

    def refused(self, owner: Connection, token: str) -> None:
        """Graph answered 401 to `token`: the next call refreshes (unless someone already did)."""
        key = (owner.uid, owner.generation)
        if self._access.get(key, ("", 0.0))[0] == token:
            del self._access[key]

    def forget(self, owner: Connection) -> None:
        self._access.pop((owner.uid, owner.generation), None)

    async def _refresh(
        self, session: aiohttp.ClientSession, owner: Connection
    ) -> microsoft_oauth.Grant:
        tried: bytes | None = None
        while True:
            sealed = await self._stored_token(owner)
            if sealed == tried:
                break  # nobody rotated it meanwhile: the grant itself is dead
            try:
                secret = self._vault.open(owner.uid, sealed)
            except TokenError as problem:
                raise CalendarError(str(problem), reconnect=True) from None
            try:
                grant = await microsoft_oauth.refresh(
                    self._config, secret["refresh_token"], session
                )
            except microsoft_oauth.InvalidGrant:
                tried = sealed
                await self._sleep(ROTATION_RACE_PAUSE)
                continue
            except microsoft_oauth.OAuthError as problem:
                raise CalendarError(str(problem)) from None
            renewed = self._vault.seal(owner.uid, {**secret, "refresh_token": grant.refresh_token})
            if not await self._store.swap_connection_token(owner.uid, sealed, renewed):
                # Reconnected or rotated elsewhere meanwhile: the stored token is newer than ours.
                log.info("%s's Microsoft token changed while refreshing; keeping theirs", owner.uid)
            return grant
        self.forget(owner)
        await self._store.set_connection_status(owner.uid, "needs_reconnect")
        await self._on_reconnect(owner)
        raise CalendarError("Microsoft no longer accepts this connection", reconnect=True)

    async def _stored_token(self, owner: Connection) -> bytes:
        # The caller's Connection may hold a token rotated away since; the store has the latest.
        stored = await self._store.get_connection(owner.uid)
        if stored is None or stored.provider != "microsoft" or stored.token is None:
            raise CalendarError("no Microsoft calendar is connected", reconnect=True)
        return stored.token
