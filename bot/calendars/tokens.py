"""Calendar tokens at rest: MultiFernet (the first key encrypts, every key decrypts, so keys
rotate), with the owner's uid sealed inside so a row copied to another user is refused."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenError(Exception):
    """The stored token cannot be used: wrong key, tampered, or sealed for another user."""


class TokenVault:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one token key is needed ([security] token_keys)")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as problem:
            raise ValueError(
                f"a [security] token_keys entry is not a Fernet key: {problem}"
            ) from None

    def seal(self, uid: str, secret: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps({"uid": uid, "secret": secret}).encode())

    def open(self, uid: str, sealed: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(self._fernet.decrypt(sealed))
        except (InvalidToken, ValueError):
            raise TokenError("the stored calendar token cannot be decrypted") from None
        if payload.get("uid") != uid:
            raise TokenError("the stored calendar token belongs to another user")
        secret: dict[str, Any] = payload["secret"]
        return secret

    def rotate(self, sealed: bytes) -> bytes:
        """Re-encrypt under the current first key (run after adding a new key in front)."""
        try:
            return self._fernet.rotate(sealed)
        except InvalidToken:
            raise TokenError("the stored calendar token cannot be decrypted") from None


def new_key() -> str:
    return Fernet.generate_key().decode()
