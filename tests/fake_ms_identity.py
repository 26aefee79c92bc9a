"""The Microsoft identity platform's v2.0 token endpoint, as FakeGraph's sign-in half.

Authorization codes are bound to the PKCE challenge and redirect URI; every refresh answers with
a new refresh token and the used one is gone (rotation), so a rotated-away token gets
invalid_grant, as Microsoft may answer; a revoked consent kills every token of the account.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from aiohttp import web

SCOPE_NEEDED = {"offline_access", "Calendars.ReadWrite", "User.Read"}


class FakeIdentity:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.refresh_tokens: dict[str, str] = {}  # live refresh token -> email
        self.access_tokens: dict[str, str] = {}  # access token -> email
        self.codes: dict[str, dict[str, str]] = {}

    def issue_refresh_token(self, email: str) -> str:
        token = "M.C5" + secrets.token_urlsafe(24)
        self.refresh_tokens[token] = email
        return token

    def consent(self, email: str, query: dict[str, str]) -> str:
        """What the Microsoft sign-in and consent pages do: a code for the redirect."""
        code = "M.R3_" + secrets.token_urlsafe(16)
        self.codes[code] = {"email": email, **query}
        return code

    def expire_access_tokens(self, email: str) -> None:
        for token in [t for t, e in self.access_tokens.items() if e == email]:
            del self.access_tokens[token]

    def revoke_consent(self, email: str) -> None:
        """The user removed the app from their account: every refresh token dies."""
        self.expire_access_tokens(email)
        for token in [t for t, e in self.refresh_tokens.items() if e == email]:
            del self.refresh_tokens[token]

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return _oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret.")
        scopes = set(str(form.get("scope", "")).split())
        if not scopes >= SCOPE_NEEDED:
            return _oauth_error(400, "invalid_scope", "AADSTS70011: The provided scope is invalid.")
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if (
                grant is None
                or grant["redirect_uri"] != form.get("redirect_uri")
                or digest.rstrip(b"=").decode() != grant["code_challenge"]
            ):
                return _oauth_error(400, "invalid_grant", "AADSTS70008: The code has expired.")
            email = grant["email"]
        elif form.get("grant_type") == "refresh_token":
            # Rotation: the used refresh token is gone, whatever happens next.
            email_or_none = self.refresh_tokens.pop(str(form.get("refresh_token")), None)
            if email_or_none is None:
                return _oauth_error(400, "invalid_grant", "AADSTS70000: The grant was revoked.")
            email = email_or_none
        else:
            return _oauth_error(400, "unsupported_grant_type", "AADSTS70003")
        access = "EwB" + secrets.token_urlsafe(32)
        self.access_tokens[access] = email
        return web.json_response(
            {
                "token_type": "Bearer",
                "scope": " ".join(sorted(scopes - {"offline_access"})),
                "expires_in": 3600,
                "ext_expires_in": 3600,
                "access_token": access,
                "refresh_token": self.issue_refresh_token(email),
            }
        )


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    code = description.removeprefix("AADSTS").split(":")[0]
    return web.json_response(
        {"error": error, "error_description": description, "error_codes": [int(code)]},
        status=status,
    )
