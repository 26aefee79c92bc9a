"""Who is in a group, as the chat service knows it: the seam a transport offers so /find can
plan with a fresh group's real members before any of them has spoken to the bot."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.clock import Clock


@runtime_checkable
class Roster(Protocol):
    async def group_members(self, guid: str) -> list[tuple[str, str]]:
        """(uid, display name) of every member; raises on failure (the caller falls back)."""
        ...


class CachedRoster:
    """Asks the chat service at most once per `seconds` per group: /find in a busy group must not
    list members on every command; membership webhooks keep the store current in between."""

    def __init__(self, inner: Roster, clock: Clock, seconds: float = 3600.0) -> None:
        self._inner, self._clock, self._seconds = inner, clock, seconds
        self._fetched: dict[str, tuple[datetime, list[tuple[str, str]]]] = {}

    async def group_members(self, guid: str) -> list[tuple[str, str]]:
        now = self._clock.now()
        cached = self._fetched.get(guid)
        if cached is not None and (now - cached[0]).total_seconds() < self._seconds:
            return cached[1]
        members = await self._inner.group_members(guid)
        self._fetched[guid] = (now, members)
        return members
