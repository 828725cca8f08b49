"""A number on each account that "sign out everywhere" raises, so browsers signed in before it sign in again

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 08:10:00

Browsers' sessions are stored by session id, not by account, so there is no list of an account's browsers to
end. Each carries a stamp made from the account's password hash and, from this revision, this number: raising
the number changes the stamp, and every session with the old one is signed out at its next request.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
