"""The per-sender send limit is counted across workers, in the database.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "send_windows",
        sa.Column("sender", sa.String(100), primary_key=True),
        sa.Column("sent", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("send_windows")
