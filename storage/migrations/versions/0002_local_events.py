"""Local calendars for the embedded default provider.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "local_events",
        sa.Column("owner_uid", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(1024), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("start_utc", UTCDateTime, nullable=False),
        sa.Column("end_utc", UTCDateTime, nullable=False),
    )
    op.create_index("ix_local_events_owner_start", "local_events", ["owner_uid", "start_utc"])


def downgrade() -> None:
    op.drop_table("local_events")
