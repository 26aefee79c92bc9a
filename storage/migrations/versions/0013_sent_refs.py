"""Live cards' chat message ids are kept in the database, shared by every worker.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.create_table(
        "sent_refs",
        sa.Column("ref", sa.String(200), primary_key=True),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sent_refs")
