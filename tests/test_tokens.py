from __future__ import annotations

import pytest

from bot.calendars.tokens import TokenError, TokenVault, new_key


def test_tokens_round_trip_and_are_not_plaintext() -> None:
    vault = TokenVault([new_key()])
    sealed = vault.seal("alice", {"refresh_token": "1//secret-refresh"})
    assert b"secret-refresh" not in sealed
    assert vault.open("alice", sealed) == {"refresh_token": "1//secret-refresh"}


def test_a_token_copied_to_another_user_is_refused() -> None:
    vault = TokenVault([new_key()])
    sealed = vault.seal("alice", {"refresh_token": "r"})
    with pytest.raises(TokenError, match="another user"):
        vault.open("mallory", sealed)


def test_keys_rotate_without_losing_tokens() -> None:
    old, new = new_key(), new_key()
    sealed = TokenVault([old]).seal("bob", {"refresh_token": "r"})
    both = TokenVault([new, old])
    assert both.open("bob", sealed) == {"refresh_token": "r"}
    rotated = both.rotate(sealed)
    assert TokenVault([new]).open("bob", rotated) == {"refresh_token": "r"}
    with pytest.raises(TokenError):
        TokenVault([new]).open("bob", sealed)  # the old key is really gone from it


def test_tampering_and_bad_keys_are_reported() -> None:
    vault = TokenVault([new_key()])
    sealed = bytearray(vault.seal("bob", {"refresh_token": "r"}))
    sealed[20] ^= 1
    with pytest.raises(TokenError):
        vault.open("bob", bytes(sealed))
    with pytest.raises(ValueError, match="not a Fernet key"):
        TokenVault(["short"])
