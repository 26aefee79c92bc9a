"""The durable inbox (accepted inbound events) and the health check's heartbeat row.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_inbox_due", "inbox", ["status", "next_attempt_at"])
    op.create_table(
        "heartbeat",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("beat_at", UTCDateTime, nullable=False),
    )
    op.execute("INSERT INTO heartbeat (id, beat_at) VALUES (1, CURRENT_TIMESTAMP)")
    # Rows the old relay dead-lettered are owed messages too: park them for `calbot outbox`.
    op.execute("UPDATE outbox SET status = 'parked' WHERE status = 'dead'")


def downgrade() -> None:
    op.drop_table("heartbeat")
    op.drop_index("ix_inbox_due", table_name="inbox")
    op.drop_table("inbox")
