"""alerts_sent: the record of alert notifications (issue 17)

Revision ID: 0006
Revises: 0009
Create Date: 2026-11-29 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.base import UTCDateTime

revision = "0006"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts_sent")),
    )
    op.create_index("ix_alerts_sent_rule_key", "alerts_sent", ["rule", "key", "id"])
    op.create_index(op.f("ix_alerts_sent_sent_at"), "alerts_sent", ["sent_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_sent_sent_at"), table_name="alerts_sent")
    op.drop_index("ix_alerts_sent_rule_key", table_name="alerts_sent")
    op.drop_table("alerts_sent")
