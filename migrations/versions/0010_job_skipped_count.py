"""How many of a job's items were skipped (not an image, already in the library, past the AI limit)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:10:00

Skipped items were counted as done, so an import of 7 files of which 2 were skipped read "7 done of 7"
beside "2 items failed or skipped". `done` keeps counting every item handled (the API's contract: done +
failed reach total when a job ends); `skipped` says how many of those were skipped. Jobs from before this
revision are counted from their items.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE jobs SET skipped = (SELECT count(*) FROM job_items"
        " WHERE job_items.job_id = jobs.id AND job_items.status = 'skipped')"
    )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("skipped")
