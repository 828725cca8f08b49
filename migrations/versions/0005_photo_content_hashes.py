"""Dropbox content hashes of photos, so a Dropbox file already here is not downloaded

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 23:10:00

A photo gets its hash when a Dropbox import lists a file of its size to the byte
(app/domain/services/link_imports.py): never at intake, where it would cost as much as the SHA-256 again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_photos_user_content_hash", ["user_id", "content_hash"], unique=False)
        batch_op.create_index("ix_photos_user_size", ["user_id", "file_size"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_index("ix_photos_user_size")
        batch_op.drop_index("ix_photos_user_content_hash")
        batch_op.drop_column("content_hash")
