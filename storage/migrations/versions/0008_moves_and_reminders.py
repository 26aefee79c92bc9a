"""Bookings count their changes (the .ics SEQUENCE) and remember which change everyone was told
of; users choose their chat reminders; outbox rows can expire (a reminder after the meeting
began is noise, not news).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("sequence", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("invited_sequence", sa.Integer, nullable=False, server_default="0")
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("reminders", sa.String(100), nullable=False, server_default="10")
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("reminders")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("invited_sequence")
        batch.drop_column("sequence")
