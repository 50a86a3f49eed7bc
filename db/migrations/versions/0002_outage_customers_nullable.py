"""outages.customers nullable: a blank count is unknown, not 0

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows stored before keep their 0: which of them were blank in the source is not known.
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.alter_column("customers", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE outages SET customers = 0 WHERE customers IS NULL")
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.alter_column("customers", existing_type=sa.Integer(), nullable=False)
