"""Voltage readings of closed days packed in blocks (issue 19): the voltage_blocks table

One row per area and local day (db/readings.py; storage_layout keeps the UTC offset the days
begin at, fixed at the first block written): about 12 bytes a reading instead of a row per
reading. On PostgreSQL it is partitioned by UTC month on ``day`` like the other voltage tables.
Readings stored before stay rows: the pipeline packs the rows of closed days as it ingests (a
bounded number per batch), and ``feederwatch db compact`` packs them all at once. Going down
unpacks every block back into rows first, so no reading is lost either way.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _big():
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "voltage_blocks",
        sa.Column("day", _big(), nullable=False),
        sa.Column("ts_last", _big(), nullable=False),
        sa.Column("transformer_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.SmallInteger(), nullable=False),
        sa.Column("fmt", sa.SmallInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", "transformer_id", name="pk_voltage_blocks"),
        **({"postgresql_partition_by": "RANGE (day)"} if postgresql else {}),
    )

    op.create_table(
        "storage_layout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_offset_s", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_storage_layout"),
    )


def downgrade() -> None:
    from db.readings import unpack_all

    unpack_all(op.get_bind())
    op.drop_table("voltage_blocks")
    op.drop_table("storage_layout")
