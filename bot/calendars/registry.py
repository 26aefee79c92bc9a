"""Calendars per connection: one process serves local, Google, Microsoft 365 and CalDAV users.

Each Connection names its provider; the registry routes every call to that provider and asks
each provider once for a whole group (a /find across providers makes one call per provider).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from bot.calendars.oauth import OAuthFlow
from bot.calendars.provider import (
    BusyResult,
    CalendarError,
    CalendarInfo,
    CalendarProvider,
    Capabilities,
    CreatedEvent,
    EventDraft,
)
from bot.errors import CalendarUnavailable, ReconnectNeeded, UserError
from storage.records import Connection

log = logging.getLogger(__name__)


class UnknownProvider(CalendarError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no calendar provider {name!r} is configured on this server")


class Calendars:
    """A CalendarProvider that dispatches on `Connection.provider`."""

    name = "registry"

    def __init__(
        self,
        providers: Mapping[str, CalendarProvider],
        default: str,
        flows: Mapping[str, OAuthFlow] | None = None,
        on_revoke_failed: Callable[[Connection], Awaitable[None]] | None = None,
    ) -> None:
        self._on_revoke_failed = on_revoke_failed
        if default not in providers:
            raise ValueError(f"default provider {default!r} is not among {sorted(providers)}")
        self._providers = dict(providers)
        self._flows = dict(flows or {})
        self.default = default

    def flow(self, name: str) -> OAuthFlow | None:
        """The OAuth web flow that connects `name`, when its people connect that way."""
        return self._flows.get(name)

    @property
    def capabilities(self) -> Capabilities:
        """What /connect offers: the default provider's capabilities."""
        return self._providers[self.default].capabilities

    def provider(self, name: str) -> CalendarProvider:
        found = self._providers.get(name)
        if found is None:
            raise UnknownProvider(name)
        return found

    def names(self) -> list[str]:
        return list(self._providers)

    def capabilities_of(self, name: str) -> Capabilities:
        return self.provider(name).capabilities

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        groups: dict[str, list[Connection]] = {}
        for owner in owners:
            groups.setdefault(owner.provider, []).append(owner)
        if len(groups) == 1:
            [(name, members)] = groups.items()
            return await self.provider(name).free_busy(members, start, end)
        answers = await asyncio.gather(
            *(self.provider(name).free_busy(m, start, end) for name, m in groups.items()),
            return_exceptions=True,
        )
        results: dict[str, BusyResult] = {}
        for (name, members), answer in zip(groups.items(), answers, strict=True):
            if isinstance(answer, CalendarError):
                # One provider down must not hide everyone else's time from a group.
                log.warning("free/busy from %s failed: %s", name, answer)
                results.update({m.uid: BusyResult((), error=str(answer)) for m in members})
            elif isinstance(answer, BaseException):
                raise answer
            else:
                results.update(answer)
        return results

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        return await self.provider(owner.provider).create_event(owner, draft)

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        return await self.provider(owner.provider).update_event(owner, event_id, draft)

    async def delete_event(self, owner: Connection, event_id: str) -> bool:
        return await self.provider(owner.provider).delete_event(owner, event_id)

    async def calendar_timezone(self, owner: Connection) -> str | None:
        return await self.provider(owner.provider).calendar_timezone(owner)

    async def revoke(self, owner: Connection) -> None:
        """Give back the grant; when the provider could not confirm it, hand the sealed grant
        to `on_revoke_failed` (kept and retried) instead of forgetting it while still live."""
        try:
            await self.provider(owner.provider).revoke(owner)
        except CalendarError as problem:
            log.warning("revoking %s's %s grant failed: %s", owner.uid, owner.provider, problem)
            if self._on_revoke_failed is None:
                raise
            await self._on_revoke_failed(owner)

    async def calendars(self, owner: Connection) -> list[CalendarInfo]:
        """The owner's calendars; a provider failure comes back as a UserError to show."""
        try:
            return await self.provider(owner.provider).calendars(owner)
        except CalendarError as problem:
            raise _shown(problem) from problem

    async def choose(
        self, owner: Connection, busy: Sequence[str], receives: str
    ) -> list[CalendarInfo]:
        try:
            return await self.provider(owner.provider).choose(owner, busy, receives)
        except CalendarError as problem:
            raise _shown(problem) from problem

    def account_email(self, owner: Connection) -> str | None:
        """The owner's e-mail when their provider's account is one (to invite them)."""
        provider = self._providers.get(owner.provider)
        return owner.account if provider and provider.capabilities.account_is_email else None


def _shown(problem: CalendarError) -> UserError:
    # Only the chat and the connect page list calendars; both show this text as is.
    return ReconnectNeeded() if problem.reconnect else CalendarUnavailable()
