"""An index on (user_id, fingerprint, created_at), for what the Similar shots page asks on every page

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:30:00

Each page first asks whether the person's photos are still the ones it grouped (how many, how many with a
fingerprint, the latest arrival) and how many still wait for a fingerprint. Both were read from every row;
this index answers them alone. At 100,000 photos in SQLite: 52 ms and 35 ms before, 12.5 ms and 1.4 ms with it.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.create_index("ix_photos_user_fingerprint", ["user_id", "fingerprint", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_index("ix_photos_user_fingerprint")
