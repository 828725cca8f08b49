"""Recently removed: a removed photo is kept, as it was, for 30 days, so that a removal can be undone

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 08:00:00

A removal moved nothing anywhere before: the row and Classify's copy of the file went at once. Now the row moves
to `removed_photos` (the same columns and id) and the file stays until the row is put back or expires.
"""

from __future__ import annotations

import advanced_alchemy
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

GUID = advanced_alchemy.types.guid.GUID(length=16)
WHEN = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
JSON = advanced_alchemy.types.JsonB


def upgrade() -> None:
    op.create_table(
        "removed_photos",
        sa.Column("removed_at", WHEN, nullable=False),
        sa.Column("removal_job_id", GUID, nullable=True),
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", GUID, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=512), nullable=True),
        sa.Column("filename", sa.String(length=512), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("taken_at", WHEN, nullable=True),
        sa.Column("storage_key", sa.String(length=128), nullable=False),
        sa.Column("flags", JSON, nullable=False),
        sa.Column("blur_score", sa.Float(), nullable=True),
        sa.Column("blur_kind", sa.String(length=16), nullable=True),
        sa.Column("blur_details", JSON, nullable=True),
        sa.Column("processing_ms", sa.Float(), nullable=True),
        sa.Column("scored_at", WHEN, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("proposed_name", sa.String(length=255), nullable=True),
        sa.Column("fingerprint", sa.String(length=16), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("marked_as", sa.String(length=8), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_removed_photos_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_removed_photos")),
    )
    with op.batch_alter_table("removed_photos", schema=None) as batch_op:
        batch_op.create_index("ix_removed_photos_user_removed", ["user_id", "removed_at", "id"], unique=False)
        batch_op.create_index("ix_removed_photos_removed", ["removed_at"], unique=False)
        batch_op.create_index("ix_removed_photos_job", ["removal_job_id"], unique=False)


def downgrade() -> None:
    op.drop_table("removed_photos")
