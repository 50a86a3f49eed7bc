"""transformers.nominal_v: the nominal voltage of what an area's readings measure

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL = a 220 V terminal: every area stored before keeps its meaning.
    with op.batch_alter_table("transformers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nominal_v", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transformers", schema=None) as batch_op:
        batch_op.drop_column("nominal_v")
