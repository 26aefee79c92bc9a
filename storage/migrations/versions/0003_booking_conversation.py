"""Bookings remember the conversation the invite goes to.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(
            sa.Column("conversation_type", sa.String(10), nullable=False, server_default="user")
        )
        batch.add_column(
            sa.Column("conversation_id", sa.String(100), nullable=False, server_default="")
        )
    op.create_index("ix_bookings_status_created", "bookings", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_bookings_status_created", "bookings")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("conversation_id")
        batch.drop_column("conversation_type")
