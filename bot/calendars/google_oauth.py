"""Google's OAuth 2.0 web-server flow with PKCE (S256): the URL, code exchange, e-mail, revoke.

Blocking HTTP (httplib2, as the calendar client uses) runs in worker threads.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httplib2

from bot.config import GoogleConfig

SCOPES = (
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.events.owned",
    # Lists the person's other calendars so they can pick which count as busy (/calendars).
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
)
NEEDED = {SCOPES[2], SCOPES[3]}
TIMEOUT = 10.0


class OAuthError(Exception):
    """The flow failed; the text is safe to show on the page."""


@dataclass(frozen=True, slots=True)
class Grant:
    access_token: str
    refresh_token: str
    scopes: tuple[str, ...]


def new_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]  # RFC 7636: 43-128 unreserved characters


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_url(
    config: GoogleConfig,
    redirect_uri: str,
    state: str,
    verifier: str,
    *,
    choose_account: bool = False,
) -> str:
    params = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
        "access_type": "offline",
        # A refresh token only comes with a consent screen; select_account for "another account".
        "prompt": "consent select_account" if choose_account else "consent",
    }
    return f"{config.auth_uri}?{urlencode(params)}"


async def exchange_code(config: GoogleConfig, code: str, verifier: str, redirect_uri: str) -> Grant:
    status, answer = await _post(
        config.token_uri,
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        },
    )
    if status != 200 or "access_token" not in answer:
        raise OAuthError("Google did not accept the sign-in. Please start again.")
    if not answer.get("refresh_token"):
        raise OAuthError(
            "Google did not give long-term access. Please start again and allow "
            "access on the consent screen."
        )
    granted = tuple(str(answer.get("scope", "")).split())
    return Grant(str(answer["access_token"]), str(answer["refresh_token"]), granted)


async def fetch_email(config: GoogleConfig, access_token: str) -> str:
    def call() -> tuple[int, dict[str, Any]]:
        try:
            response, content = httplib2.Http(timeout=TIMEOUT).request(
                config.userinfo_uri, "GET", headers={"Authorization": f"Bearer {access_token}"}
            )
        except (OSError, httplib2.HttpLib2Error) as problem:
            raise OAuthError("I couldn't reach Google. Please try again in a minute.") from problem
        return int(response.status), _json(content)

    status, answer = await asyncio.to_thread(call)
    if status != 200 or not answer.get("email"):
        raise OAuthError(
            "Google did not tell me which account you signed in with. Please start again."
        )
    return str(answer["email"])


async def revoke(config: GoogleConfig, token: str) -> bool:
    """True once Google no longer honours the token: revoked now (200), or already invalid
    (400 invalid_token); False when it could not say (5xx, 429) and it is worth retrying.
    OAuthError when Google could not be reached."""
    status, _ = await _post(config.revoke_uri, {"token": token})
    return status in (200, 400)


async def _post(uri: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    def call() -> tuple[int, dict[str, Any]]:
        try:
            response, content = httplib2.Http(timeout=TIMEOUT).request(
                uri,
                "POST",
                body=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except (OSError, httplib2.HttpLib2Error) as problem:
            raise OAuthError("I couldn't reach Google. Please try again in a minute.") from problem
        return int(response.status), _json(content)

    return await asyncio.to_thread(call)


def _json(content: bytes) -> dict[str, Any]:
    try:
        value = json.loads(content or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
