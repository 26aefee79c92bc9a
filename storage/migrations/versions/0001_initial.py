"""Initial schema: users, calendar connections, shares, bookings, processed messages, outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("uid", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("work_start_minute", sa.Integer, nullable=False),
        sa.Column("work_end_minute", sa.Integer, nullable=False),
        sa.Column("work_weekdays", sa.String(7), nullable=False),
        sa.Column("date_order", sa.String(3), nullable=False),
        sa.Column("next_weekday", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "calendar_connections",
        sa.Column("uid", sa.String(100), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("account", sa.String(320), nullable=False),
        sa.Column("token", sa.LargeBinary, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("connected_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "connection_generations",
        sa.Column("uid", sa.String(100), primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
    )
    op.create_table(
        "shares",
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
    op.create_table(
        "bookings",
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
    )
    op.create_index("ix_bookings_owner_start", "bookings", ["owner_uid", "start_utc"])
    # Backstop for the overlap check: two identical active holds can never both exist.
    op.create_index(
        "ux_bookings_active_slot",
        "bookings",
        ["owner_uid", "start_utc", "end_utc"],
        unique=True,
        sqlite_where=sa.text("status IN ('held', 'confirmed')"),
        postgresql_where=sa.text("status IN ('held', 'confirmed')"),
    )
    op.create_table(
        "processed_messages",
        sa.Column("message_id", sa.String(100), primary_key=True),
        sa.Column("processed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dedup_key", sa.String(200), nullable=False, unique=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in (
        "outbox",
        "processed_messages",
        "bookings",
        "shares",
        "connection_generations",
        "calendar_connections",
        "users",
    ):
        op.drop_table(table)
