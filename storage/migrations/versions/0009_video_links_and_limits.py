"""Bookings carry their video link; owners cap their meetings per day and keep buffers.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("join_url", sa.String(500), nullable=False, server_default=""))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("daily_limit", sa.Integer, nullable=True))
        batch.add_column(sa.Column("buffer_before", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("buffer_after", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("buffer_after")
        batch.drop_column("buffer_before")
        batch.drop_column("daily_limit")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("join_url")
