"""Plain, frozen records the Store returns; no ORM object ever leaves storage/."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# The life of each stateful record, as the only values its status may hold.
ConnectionStatus = Literal["active", "needs_reconnect"]
BookingStatus = Literal["held", "confirmed", "cancelled", "failed", "rejected", "expired"]
OAuthStatus = Literal["started", "exchanged", "done", "failed"]
PollStatus = Literal["open", "booking", "booked", "closed"]
ConversationType = Literal["user", "group"]
DateOrder = Literal["MDY", "DMY"]
NextWeekday = Literal["next_week", "first_after"]


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Bookable hours in the user's own zone: minutes after local midnight, ISO weekdays 1-7."""

    start_minute: int = 9 * 60
    end_minute: int = 17 * 60
    weekdays: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Limits:
    """What an owner allows on top of working hours: meetings per local day (None: no cap) and
    free minutes kept before and after each meeting."""

    daily: int | None = None
    before: int = 0
    after: int = 0


@dataclass(frozen=True, slots=True)
class User:
    uid: str
    name: str
    timezone: str
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    # "MDY" reads 12/03 as 3 December (en-US); "DMY" as 12 March (en-GB, most of Europe).
    date_order: DateOrder = "MDY"
    # "next_week": "next friday" is Friday of next Mon-Sun week; "first_after": the first Friday.
    next_weekday: NextWeekday = "next_week"
    # Minutes before each meeting to be reminded in chat, soonest last (empty: no reminders).
    reminders: tuple[int, ...] = (10,)
    limits: Limits = field(default_factory=lambda: Limits())
    language: str = ""  # BCP 47 tag time expressions are written in; "" detects per message


@dataclass(frozen=True, slots=True)
class Connection:
    """A user's connected calendar. `generation` changes on every (re)connect so old links die."""

    uid: str
    provider: str
    account: str
    token: bytes | None
    status: ConnectionStatus
    generation: int
    connected_at: datetime


@dataclass(frozen=True, slots=True)
class NewShare:
    sharer_uid: str
    conversation_type: ConversationType
    conversation_id: str
    receiver_uids: tuple[str, ...]
    window_start: datetime
    window_end: datetime
    expires_at: datetime
    connection_generation: int


@dataclass(frozen=True, slots=True)
class Share:
    id: str
    sharer_uid: str
    conversation_type: ConversationType
    conversation_id: str
    receiver_uids: tuple[str, ...]
    window_start: datetime
    window_end: datetime
    created_at: datetime
    expires_at: datetime
    connection_generation: int


@dataclass(frozen=True, slots=True)
class NewBooking:
    owner_uid: str
    booker_uid: str
    start: datetime
    end: datetime
    title: str
    share_id: str | None = None
    conversation_type: ConversationType = "user"
    conversation_id: str = ""
    join_url: str = ""  # a video link chosen before the event exists (Jitsi)


@dataclass(frozen=True, slots=True)
class Booking:
    id: str
    owner_uid: str
    booker_uid: str
    start: datetime
    end: datetime
    title: str
    status: BookingStatus
    share_id: str | None
    event_id: str | None
    created_at: datetime
    conversation_type: ConversationType = "user"
    conversation_id: str = ""
    sequence: int = 0  # changes so far (the .ics SEQUENCE)
    invited_sequence: int = 0  # the change the calendar and the people were last told of
    join_url: str = ""  # the meeting's video link ("" when it has none)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A message to send at `due` and not after `expires_at` (a reminder)."""

    dedup_key: str
    payload: dict[str, Any]
    due: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A message waiting to be delivered; `payload` is the transport-neutral message as JSON."""

    id: int
    dedup_key: str
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class LocalEvent:
    owner_uid: str
    event_id: str
    title: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class OAuthState:
    state: str
    uid: str
    verifier: str
    browser_hash: str
    status: OAuthStatus  # started -> exchanged -> done (or failed)
    account: str | None
    sealed: bytes | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Poll:
    """A /find shortlist. `members` maps uid -> required; `votes` maps (slot, uid) -> answer."""

    id: str
    guid: str
    organizer_uid: str
    title: str
    slots: tuple[tuple[datetime, datetime], ...]
    members: dict[str, bool]
    votes: dict[tuple[int, str], str]
    status: PollStatus
    booking_id: str | None
    created_at: datetime
    auto: bool = False  # `/find ... auto`: free, silent members may count as a yes
    outcome: str = ""  # the last outcome announced to the group


ACTIVE_BOOKING_STATES = ("held", "confirmed")


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An accepted inbound event leased to one worker; `payload` is what the transport stored."""

    id: int
    key: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    """An outgoing message the relay stopped trying (refused, or retried past give_up_after)."""

    id: int
    dedup_key: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    last_error: str | None
