"""The CalendarProvider seam: free/busy (start/end only, never titles) and event creation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from storage.records import Connection

Interval = tuple[datetime, datetime]
# How a person links this kind of calendar: nothing to do (kept by us), an OAuth web flow, or a
# form with a server address and credentials (CalDAV).
ConnectKind = Literal["none", "oauth", "credentials"]


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the rest of the bot may rely on, declared by each provider instead of tested by name."""

    label: str  # as people read it: "Google Calendar"
    connect: ConnectKind
    invites_attendees: bool = False  # create_event can invite attendee_emails itself
    account_is_email: bool = False  # Connection.account is an e-mail address others can invite
    account_label: str = "account"  # what Connection.account is: "Google account"
    video_meetings: bool = False  # create_event can make its own meeting link (Meet, Teams)


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event to create. `event_id` is derived from the booking id so retries are idempotent."""

    event_id: str
    title: str
    start: datetime
    end: datetime
    timezone: str
    description: str = ""
    attendee_emails: tuple[str, ...] = ()
    sequence: int = 0  # bumped on every change, so calendars that import .ics replace it
    conference: bool = False  # ask the provider for its own meeting link (Meet, Teams)
    join_url: str = ""  # a link made elsewhere (Jitsi) to show as the event's location


@dataclass(frozen=True, slots=True)
class CreatedEvent:
    event_id: str
    url: str | None
    already_existed: bool = False
    join_url: str | None = None  # the video link the provider made or kept


@dataclass(frozen=True, slots=True)
class BusyResult:
    """Busy intervals of one calendar, or `error` when the provider could not say (= all busy)."""

    busy: tuple[Interval, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    """One of a person's calendars and their choice: does it count as busy, do bookings land in
    it. `id` is what the provider needs to address it (a Google calendar id, a Graph calendar
    id, a CalDAV collection URL)."""

    id: str
    name: str
    busy: bool
    receives: bool
    writable: bool = True


class CalendarError(Exception):
    """The provider failed. `reconnect` means the user must connect again (revoked access)."""

    def __init__(self, reason: str, *, reconnect: bool = False) -> None:
        super().__init__(reason)
        self.reconnect = reconnect


class CalendarProvider(Protocol):
    name: str
    capabilities: Capabilities

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        """Busy intervals (UTC) per owner uid, for all owners in as few calls as possible."""
        ...

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        """Create the event, or return the existing one when `draft.event_id` already exists."""
        ...

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        """Move/retitle the existing event `event_id` in place (same id, so a reschedule never
        leaves two events); repeating it changes nothing. CalendarError when it is gone."""
        ...

    async def delete_event(self, owner: Connection, event_id: str) -> bool: ...

    async def calendar_timezone(self, owner: Connection) -> str | None: ...

    async def revoke(self, owner: Connection) -> None:
        """Give back the access the owner granted us (on disconnect); best effort."""
        ...

    async def calendars(self, owner: Connection) -> list[CalendarInfo]:
        """The owner's calendars, marked with which count as busy and which receives events."""
        ...

    async def choose(
        self, owner: Connection, busy: Sequence[str], receives: str
    ) -> list[CalendarInfo]:
        """Remember which calendars (ids from `calendars`) count as busy and which receives
        booked events; CalendarError naming the problem for an unknown or read-only one."""
        ...
