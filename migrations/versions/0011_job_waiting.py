"""Until when a job waits on a service that asked it to slow down, and why

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:05:00

A job whose task is deferred by a rate limit (Google Photos asks for 30 s at least) or a busy server went on
reading "running" with a time estimate counting down, and nothing said it was waiting. The page now says so,
until when, and leaves the estimate out meanwhile.
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types.datetime import DateTimeUTC
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_until", DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("waiting_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("waiting_reason")
        batch_op.drop_column("waiting_until")
