"""Polls remember whether the organizer allowed auto-booking and the last outcome announced;
group bookings remember their attendees (each can decline for themselves).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.add_column(sa.Column("auto", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("outcome", sa.String(200), nullable=False, server_default=""))
    op.create_table(
        "booking_attendees",
        sa.Column("booking_id", sa.String(36), primary_key=True),
        sa.Column("uid", sa.String(100), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
    )
    op.create_index("ix_booking_attendees_uid", "booking_attendees", ["uid"])


def downgrade() -> None:
    op.drop_index("ix_booking_attendees_uid", table_name="booking_attendees")
    op.drop_table("booking_attendees")
    with op.batch_alter_table("polls") as batch:
        batch.drop_column("outcome")
        batch.drop_column("auto")
