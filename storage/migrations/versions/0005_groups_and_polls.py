"""Group members, /find polls and votes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "group_members",
        sa.Column("guid", sa.String(100), primary_key=True),
        sa.Column("uid", sa.String(100), primary_key=True),
    )
    op.create_table(
        "polls",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("guid", sa.String(100), nullable=False, index=True),
        sa.Column("organizer_uid", sa.String(100), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("slots", sa.JSON, nullable=False),
        sa.Column("members", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("booking_id", sa.String(36), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "votes",
        sa.Column("poll_id", sa.String(36), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(100), primary_key=True),
        sa.Column("answer", sa.String(5), nullable=False),
    )


def downgrade() -> None:
    for table in ("votes", "polls", "group_members"):
        op.drop_table(table)
