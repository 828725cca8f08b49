"""Indexes for a tab in blur-score order (most blurred first, sharpest first) and for the Unprocessed tab

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 11:00:00

The gallery's `sort=blurriest` and `sort=sharpest` order by the score with unscored photos last, an expression
neither database could read from ix_photos_user_score_mark, so each first page sorted the person's whole tab. The Unprocessed tab walked every photo newest first to
find the few not scored; a partial index holds those alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# the expressions of app/adapters/sql/models.py as they are today (a migration does not follow later edits)
BLURRIEST_KEY = "coalesce(blur_score, -1.0)"
SHARPEST_KEY = "coalesce(blur_score, 2.0)"
UNSCORED = "blur_score IS NULL"


def upgrade() -> None:
    op.create_index("ix_photos_user_blurriest", "photos", ["user_id", sa.text(BLURRIEST_KEY), "id"])
    op.create_index("ix_photos_user_sharpest", "photos", ["user_id", sa.text(SHARPEST_KEY), "id"])
    where = {"sqlite_where": sa.text(UNSCORED), "postgresql_where": sa.text(UNSCORED)}
    op.create_index("ix_photos_user_unscored", "photos", ["user_id", "created_at", "id"], **where)


def downgrade() -> None:
    op.drop_index("ix_photos_user_unscored", table_name="photos")
    op.drop_index("ix_photos_user_sharpest", table_name="photos")
    op.drop_index("ix_photos_user_blurriest", table_name="photos")
