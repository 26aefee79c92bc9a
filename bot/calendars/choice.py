"""Which of a person's calendars count as busy and which receives booked events.

The choice lives inside the connection's sealed secret (next to the refresh token or CalDAV
password): it belongs to that connection, dies with it on disconnect, and needs no table. It is
written with the store's compare-and-swap so a Microsoft refresh-token rotation racing a choice
keeps both (rotation copies every other key of the secret).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.calendars.provider import CalendarError, CalendarInfo
from bot.calendars.tokens import TokenError, TokenVault
from bot.errors import UserError
from storage.records import Connection

BUSY_KEY = "busy_calendars"
RECEIVES_KEY = "receiving_calendar"
SAVE_ATTEMPTS = 3


class ChoiceRefused(UserError):
    """The person asked for a calendar that does not exist or cannot take meetings."""


class ChoiceStore(Protocol):
    async def get_connection(self, uid: str) -> Connection | None: ...
    async def swap_connection_token(self, uid: str, expected: bytes, token: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class Choice:
    busy: tuple[str, ...]
    receives: str

    def mark(self, found: Sequence[tuple[str, str, bool]]) -> list[CalendarInfo]:
        """(id, name, writable) as the provider listed them, marked with this choice."""
        return [
            CalendarInfo(cid, name, cid in self.busy, cid == self.receives, writable)
            for cid, name, writable in found
        ]


def stored(secret: dict[str, Any], default: str) -> Choice:
    """The choice kept in an opened secret; before any choice: the default calendar alone."""
    busy = secret.get(BUSY_KEY)
    receives = secret.get(RECEIVES_KEY)
    return Choice(
        tuple(str(b) for b in busy) if isinstance(busy, list) and busy else (default,),
        str(receives) if receives else default,
    )


def checked(found: Sequence[tuple[str, str, bool]], busy: Sequence[str], receives: str) -> Choice:
    """The choice, if every id is among the calendars found and the receiving one is writable."""
    known = {cid: (name, writable) for cid, name, writable in found}
    unknown = [b for b in (*busy, receives) if b not in known]
    if unknown:
        raise ChoiceRefused(f"There is no calendar {unknown[0]!r} in this account.")
    if not known[receives][1]:
        raise ChoiceRefused(
            f"“{known[receives][0]}” is read-only for me, so meetings can't be put in it. "
            "Pick a calendar you own to receive them."
        )
    # The receiving calendar always counts as busy: its meetings must block the time.
    return Choice(tuple(dict.fromkeys((*busy, receives))), receives)


async def save(
    store: ChoiceStore,
    vault: TokenVault,
    owner: Connection,
    choice: Choice,
    extra: dict[str, Any] | None = None,
) -> None:
    """Seal `choice` (and any provider keys in `extra`) into the owner's stored secret."""
    for _ in range(SAVE_ATTEMPTS):
        current = await store.get_connection(owner.uid)
        if current is None or current.token is None or current.provider != owner.provider:
            raise CalendarError("that calendar is no longer connected", reconnect=True)
        try:
            secret = vault.open(owner.uid, current.token)
        except TokenError as problem:
            raise CalendarError(str(problem), reconnect=True) from None
        chosen = {BUSY_KEY: list(choice.busy), RECEIVES_KEY: choice.receives}
        sealed = vault.seal(owner.uid, {**secret, **(extra or {}), **chosen})
        if await store.swap_connection_token(owner.uid, current.token, sealed):
            return
    raise CalendarError("the connection kept changing while saving the choice; try again")
