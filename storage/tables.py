"""SQLAlchemy Core tables; the schema itself is created by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores UTC, returns aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        # combine() builds the aware value directly: several times faster than replace(),
        # and every datetime the store reads comes through here.
        return datetime.combine(value, value.time(), UTC)


metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("uid", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("work_start_minute", sa.Integer, nullable=False),
    sa.Column("work_end_minute", sa.Integer, nullable=False),
    sa.Column("work_weekdays", sa.String(7), nullable=False),
    sa.Column("date_order", sa.String(3), nullable=False),
    sa.Column("next_weekday", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Minutes before a meeting to remind in chat, comma-separated ("10,1440"); "" for none.
    sa.Column("reminders", sa.String(100), nullable=False, server_default="10"),
    sa.Column("daily_limit", sa.Integer, nullable=True),
    sa.Column("buffer_before", sa.Integer, nullable=False, server_default="0"),
    sa.Column("buffer_after", sa.Integer, nullable=False, server_default="0"),
    # The language time expressions are written in (BCP 47, "es", "pt-BR"); "" detects it.
    sa.Column("language", sa.String(20), nullable=False, server_default=""),
)

connections = sa.Table(
    "calendar_connections",
    metadata,
    sa.Column("uid", sa.String(100), primary_key=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("account", sa.String(320), nullable=False),
    sa.Column("token", sa.LargeBinary, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("connected_at", UTCDateTime, nullable=False),
)

# Generations survive disconnects, so a reconnect never revives a link signed for an older one.
connection_generations = sa.Table(
    "connection_generations",
    metadata,
    sa.Column("uid", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
)

shares = sa.Table(
    "shares",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("sharer_uid", sa.String(100), nullable=False, index=True),
    sa.Column("conversation_type", sa.String(10), nullable=False),
    sa.Column("conversation_id", sa.String(100), nullable=False),
    sa.Column("receiver_uids", sa.JSON, nullable=False),
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("window_end", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("connection_generation", sa.Integer, nullable=False),
)

bookings = sa.Table(
    "bookings",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("share_id", sa.String(36), nullable=True),
    sa.Column("owner_uid", sa.String(100), nullable=False),
    sa.Column("booker_uid", sa.String(100), nullable=False),
    sa.Column("start_utc", UTCDateTime, nullable=False),
    sa.Column("end_utc", UTCDateTime, nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("event_id", sa.String(1024), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("conversation_type", sa.String(10), nullable=False, server_default="user"),
    sa.Column("conversation_id", sa.String(100), nullable=False, server_default=""),
    # Each move bumps `sequence`; `invited_sequence` catches up once the calendar and the people
    # have been told, so a crash in between is finished by the sweeper.
    sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
    sa.Column("invited_sequence", sa.Integer, nullable=False, server_default="0"),
    sa.Column("join_url", sa.String(500), nullable=False, server_default=""),
    sa.Index("ix_bookings_owner_start", "owner_uid", "start_utc"),
)

processed_messages = sa.Table(
    "processed_messages",
    metadata,
    sa.Column("message_id", sa.String(100), primary_key=True),
    sa.Column("processed_at", UTCDateTime, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.String(200), nullable=False, unique=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    # Past this a pending row is worthless (a reminder for a meeting that began) and is skipped.
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
)

# The embedded default's calendars: events people were booked into, plus seeded demo busy time.
local_events = sa.Table(
    "local_events",
    metadata,
    sa.Column("owner_uid", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(1024), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("start_utc", UTCDateTime, nullable=False),
    sa.Column("end_utc", UTCDateTime, nullable=False),
    sa.Index("ix_local_events_owner_start", "owner_uid", "start_utc"),
)

# One row per OAuth attempt: single use, bound to the browser that started it, short-lived.
oauth_states = sa.Table(
    "oauth_states",
    metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("uid", sa.String(100), nullable=False),
    sa.Column("verifier", sa.String(128), nullable=False),
    sa.Column("browser_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("account", sa.String(320), nullable=True),
    sa.Column("sealed", sa.LargeBinary, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Who is in which group, learned from messages and membership events.
group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("guid", sa.String(100), primary_key=True),
    sa.Column("uid", sa.String(100), primary_key=True),
)

# /find: a ranked shortlist of slots for a group, who must come, and their votes.
polls = sa.Table(
    "polls",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("guid", sa.String(100), nullable=False, index=True),
    sa.Column("organizer_uid", sa.String(100), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("slots", sa.JSON, nullable=False),
    sa.Column("members", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("booking_id", sa.String(36), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # The organizer's `/find ... auto`: silent members who are free may count as a yes.
    sa.Column("auto", sa.Boolean, nullable=False, server_default=sa.false()),
    # The last outcome told to the group, so a vote that changes nothing stays quiet.
    sa.Column("outcome", sa.String(200), nullable=False, server_default=""),
)

# Everyone a group meeting belongs to; each can decline their own attendance.
booking_attendees = sa.Table(
    "booking_attendees",
    metadata,
    sa.Column("booking_id", sa.String(36), primary_key=True),
    sa.Column("uid", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),  # attending, declined
    sa.Index("ix_booking_attendees_uid", "uid"),
)

votes = sa.Table(
    "votes",
    metadata,
    sa.Column("poll_id", sa.String(36), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(100), primary_key=True),
    sa.Column("answer", sa.String(5), nullable=False),
)

# Every inbound event we answered 200 for, written before the answer; workers lease and process
# them, so an event accepted by a process that then dies is picked up by another (or itself).
inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("done_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index("ix_inbox_due", "status", "next_attempt_at"),
)

# One row, rewritten by /healthz: a real write is the only honest test of a full disk or a
# read-only database.
heartbeat = sa.Table(
    "heartbeat",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("beat_at", UTCDateTime, nullable=False),
)


revocations = sa.Table(
    "revocations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uid", sa.String(100), nullable=False),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("account", sa.String(320), nullable=False),
    sa.Column("token", sa.LargeBinary, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_revocations_due", "next_attempt_at"),
)

# The chat service's per-sender send limit, counted by every worker in one place: a sender's
# send times (epoch seconds) within the limit's window, kept in one row that a send locks.
send_windows = sa.Table(
    "send_windows",
    metadata,
    sa.Column("sender", sa.String(100), primary_key=True),
    sa.Column("sent", sa.JSON, nullable=False),
)

# Live cards: the name we give a sent message ("poll:<id>") -> the chat service's message id,
# so whichever worker edits the card later (or the same one after a restart) edits it in place.
sent_refs = sa.Table(
    "sent_refs",
    metadata,
    sa.Column("ref", sa.String(200), primary_key=True),
    sa.Column("message_id", sa.String(100), nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=False),
)
