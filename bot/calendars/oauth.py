"""The OAuth seam the connect page drives: any provider whose people connect through an OAuth
web flow (Google today; Microsoft 365 next) offers one of these, and the page stays the same."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.calendars import google_oauth, microsoft_oauth
from bot.calendars.google_oauth import OAuthError
from bot.config import GoogleConfig, MicrosoftConfig

__all__ = ["GoogleFlow", "Granted", "MicrosoftFlow", "OAuthError", "OAuthFlow"]


@dataclass(frozen=True, slots=True)
class Granted:
    """A finished sign-in: the account as people know it, and the secret to seal and keep."""

    account: str
    secret: Mapping[str, Any]


class OAuthFlow(Protocol):
    provider: str  # the Connection.provider this flow creates
    label: str  # "Google Calendar"

    def authorization_url(
        self, redirect_uri: str, state: str, verifier: str, *, choose_account: bool
    ) -> str: ...

    async def finish(self, code: str, verifier: str, redirect_uri: str) -> Granted:
        """Exchange the code; OAuthError (text safe to show) when it can't be used."""
        ...


class GoogleFlow:
    provider = "google"
    label = "Google Calendar"

    def __init__(self, config: GoogleConfig) -> None:
        self._config = config

    def authorization_url(
        self, redirect_uri: str, state: str, verifier: str, *, choose_account: bool
    ) -> str:
        return google_oauth.authorization_url(
            self._config, redirect_uri, state, verifier, choose_account=choose_account
        )

    async def finish(self, code: str, verifier: str, redirect_uri: str) -> Granted:
        grant = await google_oauth.exchange_code(self._config, code, verifier, redirect_uri)
        email = await google_oauth.fetch_email(self._config, grant.access_token)
        if google_oauth.NEEDED - set(grant.scopes):
            await google_oauth.revoke(self._config, grant.refresh_token)
            raise OAuthError(
                "I need both permissions: seeing when you are busy, and "
                "adding booked meetings. Send /connect and allow both."
            )
        return Granted(email, {"refresh_token": grant.refresh_token, "scopes": list(grant.scopes)})


class MicrosoftFlow:
    provider = "microsoft"
    label = "Microsoft 365 / Outlook"

    def __init__(self, config: MicrosoftConfig) -> None:
        self._config = config

    def authorization_url(
        self, redirect_uri: str, state: str, verifier: str, *, choose_account: bool
    ) -> str:
        return microsoft_oauth.authorization_url(
            self._config, redirect_uri, state, verifier, choose_account=choose_account
        )

    async def finish(self, code: str, verifier: str, redirect_uri: str) -> Granted:
        try:
            grant = await microsoft_oauth.exchange_code(self._config, code, verifier, redirect_uri)
            account = await microsoft_oauth.whoami(self._config, grant.access_token)
        except microsoft_oauth.OAuthError as problem:
            raise OAuthError(str(problem)) from None
        # Graph rotates refresh tokens on every use; the provider stores each new one.
        return Granted(account, {"refresh_token": grant.refresh_token})
