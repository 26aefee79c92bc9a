"""Microsoft identity platform (v2.0): authorization code + PKCE (S256), code exchange, refresh
with rotating refresh tokens, and which account signed in (`/me`). Plain aiohttp, no SDK.

Every refresh answers with a new refresh token; the caller must store it (the old one may stop
working). `invalid_grant` means the grant is gone for good: the user has to connect again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.calendars import graph_values
from bot.calendars.google_oauth import challenge, new_verifier

# The PKCE helpers are the RFC 7636 ones the Google flow already uses.
from bot.config import MicrosoftConfig

__all__ = [
    "SCOPES",
    "Grant",
    "InvalidGrant",
    "MicrosoftConfig",
    "OAuthError",
    "authorization_url",
    "challenge",
    "exchange_code",
    "new_verifier",
    "refresh",
    "whoami",
]

# MailboxSettings.Read: GET /me/mailboxSettings needs it (Calendars.* does not cover the
# mailbox time zone); without it calendar_timezone answers None.
SCOPES = (
    "offline_access",
    "Calendars.ReadWrite",
    "User.Read",
    "MailboxSettings.Read",
)
TIMEOUT = 10.0


class OAuthError(Exception):
    """The flow failed; the text is safe to show on the page."""


class InvalidGrant(OAuthError):
    """The refresh token (or code) is dead: revoked, expired, or already rotated away."""


@dataclass(frozen=True, slots=True)
class Grant:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: tuple[str, ...]


def authorization_url(
    config: MicrosoftConfig,
    redirect_uri: str,
    state: str,
    verifier: str,
    *,
    choose_account: bool = False,
) -> str:
    params = {
        "client_id": config.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "response_mode": "query",
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
    }
    if choose_account:
        params["prompt"] = "select_account"
    return f"{config.auth_uri.format(tenant=config.tenant)}?{urlencode(params)}"


async def exchange_code(
    config: MicrosoftConfig, code: str, verifier: str, redirect_uri: str
) -> Grant:
    try:
        return await _token(
            config,
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
            },
        )
    except InvalidGrant:
        raise OAuthError("Microsoft did not accept the sign-in. Please start again.") from None


async def refresh(
    config: MicrosoftConfig, refresh_token: str, session: aiohttp.ClientSession | None = None
) -> Grant:
    """A new access token and the new refresh token that replaces `refresh_token`."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await _token(config, form, session)


async def whoami(config: MicrosoftConfig, access_token: str) -> str:
    """The signed-in account's e-mail (work accounts) or user principal name (personal ones)."""
    url = config.api_base.rstrip("/") + "/me"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
            session.get(
                url,
                params={"$select": "mail,userPrincipalName"},
                headers={"Authorization": f"Bearer {access_token}"},
            ) as response,
        ):
            answer = await graph_values.json_object(response)
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as problem:
        raise OAuthError("I couldn't reach Microsoft. Please try again in a minute.") from problem
    account = answer.get("mail") or answer.get("userPrincipalName")
    if status != 200 or not account:
        raise OAuthError(
            "Microsoft did not tell me which account you signed in with. Please start again."
        )
    return str(account)


async def _token(
    config: MicrosoftConfig,
    form: dict[str, str],
    session: aiohttp.ClientSession | None = None,
) -> Grant:
    body = {
        **form,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "scope": " ".join(SCOPES),
    }
    uri = config.token_uri.format(tenant=config.tenant)
    try:
        if session is None:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as own:
                status, answer = await _post(own, uri, body)
        else:
            status, answer = await _post(session, uri, body)
    except (aiohttp.ClientError, TimeoutError) as problem:
        raise OAuthError("I couldn't reach Microsoft. Please try again in a minute.") from problem
    if answer.get("error") == "invalid_grant":
        raise InvalidGrant("Microsoft no longer accepts this sign-in")
    if status != 200 or "access_token" not in answer:
        raise OAuthError(f"Microsoft's sign-in refused the request ({answer.get('error', status)})")
    if not answer.get("refresh_token"):
        raise OAuthError(
            "Microsoft did not give long-term access. Please start again and allow "
            "access on the consent screen."
        )
    return Grant(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer["refresh_token"]),
        expires_in=int(answer.get("expires_in", 3600)),
        scopes=tuple(str(answer.get("scope", "")).split()),
    )


async def _post(
    session: aiohttp.ClientSession, uri: str, form: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    async with session.post(uri, data=form) as response:
        return response.status, await graph_values.json_object(response)
