"""alerts_sent.seq: each (rule, key)'s messages numbered, unique, so that two processes that
evaluate the alert rules at once cannot both send the same change

A process claims a message by inserting its row with the next number before it sends; the
process whose insert loses to the unique constraint sends nothing (feederwatch/alerts.py).
Rows recorded before are numbered in id order.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts_sent") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE alerts_sent SET seq = (SELECT count(*) FROM alerts_sent b "
        "WHERE b.rule = alerts_sent.rule AND b.key = alerts_sent.key AND b.id <= alerts_sent.id)"
    )
    with op.batch_alter_table("alerts_sent") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_alerts_sent_rule_key_seq", ["rule", "key", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("alerts_sent") as batch:
        batch.drop_constraint("uq_alerts_sent_rule_key_seq", type_="unique")
        batch.drop_column("seq")
