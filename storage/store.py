"""The Store protocol: the use cases the bot needs from its database, nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from storage.records import (
    Booking,
    BookingStatus,
    Connection,
    ConnectionStatus,
    InboxItem,
    Limits,
    LocalEvent,
    NewBooking,
    NewShare,
    OAuthState,
    OAuthStatus,
    OutboxItem,
    ParkedMessage,
    Poll,
    PollStatus,
    Scheduled,
    Share,
    User,
    WorkingHours,
)


@dataclass(frozen=True, slots=True)
class BookerQuota:
    """At most `limit` active bookings by one booker in one owner's calendar made since `since`."""

    since: datetime
    limit: int


class QuotaReached(Exception):
    """The booker already holds as many bookings with this owner as the quota allows."""


class SlotTaken(Exception):
    """Another active booking overlaps the requested interval for the same calendar owner."""

    def __init__(self, conflict: Booking) -> None:
        super().__init__(f"overlaps booking {conflict.id}")
        self.conflict = conflict


class HeldBefore(SlotTaken):
    """The same request made this booking before (a re-run after a crash or a lost lease):
    `conflict` is that booking, in whatever state the earlier run left it."""


class Store(Protocol):
    # Users and their settings
    async def get_user(self, uid: str) -> User | None: ...
    async def ensure_user(self, uid: str, name: str, default_timezone: str) -> User: ...
    async def update_user(
        self,
        uid: str,
        *,
        timezone: str | None = None,
        working_hours: WorkingHours | None = None,
        date_order: str | None = None,
        next_weekday: str | None = None,
        reminders: tuple[int, ...] | None = None,
        limits: Limits | None = None,
        language: str | None = None,
    ) -> User: ...
    async def get_users(self, uids: Sequence[str]) -> dict[str, User]:
        """The known users among `uids` in one read, keyed by uid in the order asked; the
        unknown ones are left out (a /find for 50 people is one query, not 50)."""
        ...

    async def get_connections(self, uids: Sequence[str]) -> dict[str, Connection]:
        """The calendar connections of `uids` (any status) in one read, keyed by uid in the
        order asked; people without one are left out."""
        ...

    # Calendar connections
    async def save_connection(
        self, uid: str, provider: str, account: str, token: bytes | None
    ) -> Connection: ...
    async def get_connection(self, uid: str) -> Connection | None: ...
    async def swap_connection_token(self, uid: str, expected: bytes, token: bytes) -> bool:
        """Replace a rotated secret only if it is still `expected` (workers race refreshes);
        unlike save_connection it keeps the generation, so shared links stay valid."""
        ...

    async def update_connection_token(
        self, uid: str, update: Callable[[bytes], Awaitable[bytes | None]]
    ) -> bool:
        """Run `update` on the stored secret while no other worker runs it for `uid` (the row
        is locked on PostgreSQL) and store what it returns (None: keep it); False when `uid` has
        no secret. For one access-token refresh per owner per expiry across workers."""
        ...

    async def set_connection_status(self, uid: str, status: ConnectionStatus) -> None: ...
    async def delete_connection(self, uid: str) -> bool: ...

    # Shares and bookings
    async def create_share(self, share: NewShare, now: datetime) -> Share: ...
    async def get_share(self, share_id: str) -> Share | None: ...
    async def hold_booking(
        self,
        booking: NewBooking,
        now: datetime,
        quota: BookerQuota | None = None,
        request: str | None = None,
    ) -> Booking:
        """Atomically check overlap (SlotTaken) and the booker's quota (QuotaReached), then
        insert a `held` booking. With `request` (the inbound event that asks for it) the
        booking's id derives from it, and a second hold for the same request raises HeldBefore
        with the first one instead of refusing the slot as taken by itself."""
        ...

    async def transition_booking(
        self,
        booking_id: str,
        from_status: BookingStatus,
        to_status: BookingStatus,
        event_id: str | None = None,
    ) -> bool:
        """Compare-and-swap the status; False when the booking was not in `from_status`."""
        ...

    async def confirm_booking(
        self,
        booking_id: str,
        event_id: str,
        messages: Sequence[tuple[str, dict[str, Any]]],
        now: datetime,
        scheduled: Sequence[Scheduled] = (),
        join_url: str = "",
    ) -> bool:
        """held -> confirmed and queue `messages` (dedup key, payload) and the `scheduled`
        ones (reminders, sent at their due time) in one transaction; a `join_url` the calendar
        made (Meet, Teams) replaces the one chosen at hold time."""
        ...

    async def cancel_booking(
        self, booking_id: str, messages: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> bool:
        """confirmed -> cancelled, drop its unsent reminders and queue `messages` in one
        transaction."""
        ...

    # Moving bookings
    async def move_booking(
        self, booking_id: str, expected_sequence: int, start: datetime, end: datetime
    ) -> Booking | None:
        """Give a confirmed booking new times and sequence + 1, unless another active booking
        of the owner overlaps (SlotTaken); None when it is not confirmed at that sequence."""
        ...

    async def finish_move(
        self,
        booking_id: str,
        sequence: int,
        messages: Sequence[tuple[str, dict[str, Any]]],
        scheduled: Sequence[Scheduled],
        now: datetime,
    ) -> bool:
        """Mark `sequence` as told, replace unsent reminders and queue `messages` in one
        transaction; False when that was already done (so a retry never tells twice)."""
        ...

    async def revert_move(
        self, booking_id: str, sequence: int, start: datetime, end: datetime
    ) -> bool:
        """Put the times back after the calendar refused the move (nobody was told of it)."""
        ...

    async def unfinished_moves(self) -> list[Booking]:
        """Moves a crash left between the database and the calendar/people."""
        ...

    async def skip_expired(self, now: datetime) -> int:
        """Give up pending rows whose expires_at has passed; returns how many."""
        ...

    async def stale_holds(self, older_than: datetime) -> list[Booking]:
        """Holds left behind by a crash between holding and confirming."""
        ...

    async def upcoming_bookings(self, uid: str, now: datetime) -> list[Booking]:
        """Confirmed bookings not yet over where `uid` is the owner or the booker."""
        ...

    async def latest_share(
        self,
        conversation_type: str,
        conversation_id: str,
        now: datetime,
        sharer_uid: str | None = None,
    ) -> Share | None:
        """The newest unexpired share posted to that conversation (optionally by one sharer)."""
        ...

    async def get_booking(self, booking_id: str) -> Booking | None: ...
    async def active_bookings(
        self, owner_uid: str, start: datetime, end: datetime
    ) -> list[Booking]: ...

    # Inbound deduplication
    async def claim_message(self, message_id: str, now: datetime) -> bool:
        """True the first time a message id is seen, False for every redelivery."""
        ...

    # Outbox
    async def enqueue(self, dedup_key: str, payload: dict[str, Any], now: datetime) -> bool: ...
    async def enqueue_leased(
        self, dedup_key: str, payload: dict[str, Any], now: datetime, lease: timedelta
    ) -> OutboxItem | None:
        """`enqueue`, with the new row already leased to the caller (who sends it at once, no
        claim needed); None when the key was queued before."""
        ...

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Lease due messages to one sender; another worker cannot claim them meanwhile."""
        ...

    async def mark_delivered(self, item_id: int, now: datetime) -> None: ...
    async def mark_failed(
        self,
        item_id: int,
        next_attempt_at: datetime | None,
        error: str,
        *,
        park_if_created_before: datetime | None = None,
    ) -> bool:
        """Count a failed attempt; park the row (None, or older than the cut-off); True if
        parked. Parked rows are kept for `calbot outbox retry`."""
        ...

    async def parked_messages(self, limit: int = 100) -> list[ParkedMessage]: ...
    async def retry_parked(self, item_id: int | None, now: datetime) -> int:
        """Queue parked rows again (one, or all when `item_id` is None); how many."""
        ...

    async def release(self, item_id: int, next_attempt_at: datetime) -> None:
        """Hand a leased, unsent message back, due at `next_attempt_at`; no attempt counted."""
        ...

    async def pending_count(self) -> int:
        """Messages owed and not delivered yet (pending or being sent); scheduled ones
        (reminders) count from their first attempt."""
        ...

    # Sending limits counted by every worker together (the chat service's per-sender limit)
    async def take_send_slot(
        self, sender: str, now: datetime, limit: int, window: timedelta
    ) -> float:
        """Count one send by `sender` when fewer than `limit` were counted in the `window`
        before `now` and return 0.0; otherwise count nothing and return the seconds until
        one may go."""
        ...

    async def remember_sent(self, ref: str, message_id: str, now: datetime) -> None:
        """The chat service's id of the live card we call `ref` (the latest one wins)."""
        ...

    async def sent_message(self, ref: str) -> str | None:
        """The chat service's id of the live card `ref`, whichever worker sent it."""
        ...

    # Durable inbox: inbound events are stored before we answer for them
    async def accept(
        self, key: str, payload: dict[str, Any], now: datetime, lease: timedelta
    ) -> int | None:
        """Store an inbound event once per key, leased to the caller; its id, or None for a
        redelivery of a stored one."""
        ...

    async def claim_inbound(self, now: datetime, limit: int, lease: timedelta) -> list[InboxItem]:
        """Lease due events (and those of a worker that died) to one worker."""
        ...

    async def finish_inbound(self, item_id: int, now: datetime) -> None: ...
    async def release_inbound(
        self, item_id: int, next_attempt_at: datetime, error: str | None = None
    ) -> None: ...
    async def inbox_pending_count(self) -> int: ...
    async def check_writable(self, now: datetime) -> None:
        """A tiny real write; raises when the database cannot take writes."""
        ...

    # Local calendars (the embedded default provider)
    async def add_local_event(self, event: LocalEvent) -> bool:
        """Insert; False (and no change) when the owner already has an event with that id."""
        ...

    async def get_local_event(self, owner_uid: str, event_id: str) -> LocalEvent | None: ...
    async def delete_local_event(self, owner_uid: str, event_id: str) -> bool: ...
    async def update_local_event(self, event: LocalEvent) -> bool:
        """New times/title for an existing event; False when there is none."""
        ...

    async def local_busy(
        self, owner_uids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]: ...

    # OAuth attempts
    async def create_oauth_state(self, state: OAuthState) -> None: ...
    async def get_oauth_state(self, state: str) -> OAuthState | None: ...
    async def advance_oauth_state(
        self,
        state: str,
        from_status: OAuthStatus,
        to_status: OAuthStatus,
        *,
        account: str | None = None,
        sealed: bytes | None = None,
    ) -> bool:
        """Compare-and-swap, so a state can be used once."""
        ...

    # Lifetimes (issue 16): what we keep, and for how long
    # Revocations a provider did not confirm, retried until it does
    async def queue_revocation(self, connection: Connection, now: datetime) -> None: ...
    async def due_revocations(
        self, now: datetime, limit: int = 50
    ) -> list[tuple[int, int, Connection]]:
        """(id, failed attempts so far, the retired grant) of revocations due by `now`."""
        ...

    async def finish_revocation(self, revocation_id: int) -> None: ...
    async def retry_revocation(self, revocation_id: int, next_attempt_at: datetime) -> None:
        """Count a failed attempt and set the next."""
        ...

    async def delete_oauth_state(self, state: str) -> bool: ...
    async def message_claimed(self, message_id: str) -> bool:
        """Whether claim_message(message_id) was ever won (and not yet purged)."""
        ...

    async def purge_expired(
        self, oauth_before: datetime, records_before: datetime
    ) -> dict[str, int]:
        """Delete OAuth attempts older than `oauth_before`; processed ids, delivered outbox
        rows, handled inbox rows and live cards' ids older than `records_before`. Counts per
        table."""
        ...

    async def forget_user(self, uid: str) -> dict[str, int]:
        """/forget-me: everything about `uid` but the bookings others need. Counts per table."""
        ...

    # Groups and /find polls
    async def add_group_member(self, guid: str, uid: str) -> None: ...
    async def remove_group_member(self, guid: str, uid: str) -> bool: ...
    async def group_members(self, guid: str) -> list[str]: ...
    async def create_poll(
        self,
        guid: str,
        organizer_uid: str,
        title: str,
        slots: Sequence[tuple[datetime, datetime]],
        members: dict[str, bool],
        now: datetime,
        auto: bool = False,
        poll_id: str | None = None,
    ) -> Poll:
        """A new open poll; with `poll_id` (derived from the /find message) a re-run of the same
        message returns the poll it already made."""
        ...

    async def get_poll(self, poll_id: str) -> Poll | None: ...
    async def open_polls(self, guid: str) -> list[Poll]: ...
    async def cast_vote(self, poll_id: str, slot: int, uid: str, answer: str) -> None: ...
    async def set_poll_members(self, poll_id: str, members: dict[str, bool]) -> None: ...
    async def set_poll_outcome(self, poll_id: str, outcome: str) -> bool:
        """Record the outcome told to the group; False when it is unchanged."""
        ...

    async def add_attendees(self, booking_id: str, uids: Sequence[str]) -> None: ...
    async def attendees(self, booking_id: str) -> dict[str, str]:
        """uid -> attending / declined for a group meeting; empty for one-to-one bookings."""
        ...

    async def decline_attendance(self, booking_id: str, uid: str) -> bool: ...
    async def transition_poll(
        self,
        poll_id: str,
        from_status: PollStatus,
        to_status: PollStatus,
        booking_id: str | None = None,
    ) -> bool:
        """Compare-and-swap the status, so only one vote can book a poll."""
        ...

    async def close(self) -> None: ...
