"""Compact rollups: hourly keeps the area as a whole (X) only; both tables WITHOUT ROWID on SQLite

The per-phase hourly columns were written on every ingest and read by nothing (the heat maps read
X); they were more than half of an ingest's rollup write time and of the hourly table's bytes.
On SQLite both rollup tables become clustered on their key (no automatic unique index holding a
second copy of it). Existing rows are kept (their X columns); per-phase daily rows are untouched.

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-29 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None

PHASE_STATS = (
    ("n", sa.Integer),
    ("min", sa.SmallInteger),
    ("max", sa.SmallInteger),
    ("sum", lambda: sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
    ("below_min", sa.Integer),
    ("above_min", sa.Integer),
)


def _columns(phases: str) -> list[sa.Column]:
    cols = [
        sa.Column("transformer_id", sa.Integer(), nullable=False),
        sa.Column(
            "period_start", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("minutes_monitored", sa.Integer(), nullable=False),
        sa.Column("kw_max_dw", sa.Integer(), nullable=True),
        sa.Column("low_dv", sa.SmallInteger(), nullable=False),
        sa.Column("high_dv", sa.SmallInteger(), nullable=False),
        sa.Column("rule", sa.String(length=3), nullable=False),
    ]
    for p in phases:
        cols += [sa.Column(f"{p}_{stat}", kind(), nullable=True) for stat, kind in PHASE_STATS]
    return cols


def _rebuild_sqlite(name: str, phases: str, with_rowid: bool, copy: str) -> None:
    """Recreate a rollup table with these phase columns, copying the columns of ``copy``."""
    new = f"{name}_new"
    cols = _columns(phases)
    op.create_table(
        new,
        *cols,
        sa.PrimaryKeyConstraint("transformer_id", "period_start", name=f"pk_{name}"),
        sqlite_with_rowid=with_rowid,
    )
    names = ", ".join(c.name for c in _columns(copy))
    op.execute(f"INSERT INTO {new} ({names}) SELECT {names} FROM {name}")
    op.drop_index(f"ix_{name}_period", table_name=name)
    op.drop_table(name)
    op.rename_table(new, name)
    op.create_index(f"ix_{name}_period", name, ["period_start"], unique=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("voltage_hourly", "x", with_rowid=False, copy="x")
        _rebuild_sqlite("voltage_daily", "abcx", with_rowid=False, copy="abcx")
        return
    with op.batch_alter_table("voltage_hourly", schema=None) as batch_op:
        for p in "abc":
            for stat, _ in PHASE_STATS:
                batch_op.drop_column(f"{p}_{stat}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("voltage_hourly", "abcx", with_rowid=True, copy="x")
        _rebuild_sqlite("voltage_daily", "abcx", with_rowid=True, copy="abcx")
        return
    with op.batch_alter_table("voltage_hourly", schema=None) as batch_op:
        for p in "abc":
            for stat, kind in PHASE_STATS:
                batch_op.add_column(sa.Column(f"{p}_{stat}", kind(), nullable=True))
