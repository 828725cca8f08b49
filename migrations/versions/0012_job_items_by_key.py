"""An index on job_items (item_key, status), to find the unfinished batches that wait for one photo

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:00:00

A photo is often scored by the task its upload (or the sweep) queued rather than by a batch's own task. The
batch now counts it as it is scored, which needs the batches holding it, found by the item's key.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_items", schema=None) as batch_op:
        batch_op.create_index("ix_job_items_key_status", ["item_key", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_items", schema=None) as batch_op:
        batch_op.drop_index("ix_job_items_key_status")
