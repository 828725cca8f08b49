"""photo fingerprints for similar shots

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 20:10:00

Photos already stored get theirs from their thumbs, in the background (app/domain/services/similar.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
