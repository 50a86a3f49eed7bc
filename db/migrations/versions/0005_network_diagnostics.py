"""network_diagnostics: what a network import found (islands, loops, open points, ...)

Revision ID: 0005
Revises: 0008 (re-chained after main's 0008_compact_rollups)
Create Date: 2026-11-29 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.base import UTCDateTime

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_diagnostics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("collector_runs.id"), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("feeder", sa.String(64), nullable=True),
        sa.Column("substation", sa.String(64), nullable=True),
        sa.Column("bus", sa.String(100), nullable=True),
        sa.Column("line_id", sa.String(100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_network_diagnostics_source", "network_diagnostics", ["source"])
    op.create_index("ix_network_diagnostics_feeder", "network_diagnostics", ["feeder"])


def downgrade() -> None:
    op.drop_index("ix_network_diagnostics_feeder", table_name="network_diagnostics")
    op.drop_index("ix_network_diagnostics_source", table_name="network_diagnostics")
    op.drop_table("network_diagnostics")
