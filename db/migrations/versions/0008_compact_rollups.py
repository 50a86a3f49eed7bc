"""Compact rollups: hourly keeps the area as a whole (X) only; both tables WITHOUT ROWID on SQLite

Hourly rows also drop n (it is x_n) and the limits and rule (their day's, on the daily row).
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


#: hourly rows no longer carry these: n is x_n, the limits and rule are the day's
DAILY_ONLY = ("n", "low_dv", "high_dv", "rule")


def _columns(phases: str, daily: bool = True) -> list[sa.Column]:
    cols = [
        sa.Column("transformer_id", sa.Integer(), nullable=False),
        sa.Column(
            "period_start", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("minutes_monitored", sa.Integer(), nullable=False),
        sa.Column("kw_max_dw", sa.Integer(), nullable=True),
    ]
    if daily:
        cols += [
            sa.Column("n", sa.Integer(), nullable=False),
            sa.Column("low_dv", sa.SmallInteger(), nullable=False),
            sa.Column("high_dv", sa.SmallInteger(), nullable=False),
            sa.Column("rule", sa.String(length=3), nullable=False),
        ]
    for p in phases:
        cols += [sa.Column(f"{p}_{stat}", kind(), nullable=True) for stat, kind in PHASE_STATS]
    return cols


def _rebuild_sqlite(
    name: str, phases: str, with_rowid: bool, copy: str, daily: bool = True, fill: bool = False
) -> None:
    """Recreate a rollup table with these phase columns, copying the columns of ``copy``
    (``fill``: the daily-only columns come back as x_n and the default limits)."""
    new = f"{name}_new"
    cols = _columns(phases, daily)
    op.create_table(
        new,
        *cols,
        sa.PrimaryKeyConstraint("transformer_id", "period_start", name=f"pk_{name}"),
        sqlite_with_rowid=with_rowid,
    )
    names = ", ".join(c.name for c in _columns(copy, daily and not fill))
    if fill:
        extra = "n, low_dv, high_dv, rule"
        op.execute(
            f"INSERT INTO {new} ({names}, {extra}) "
            f"SELECT {names}, x_n, 1980, 2354, 'any' FROM {name}"
        )
    else:
        op.execute(f"INSERT INTO {new} ({names}) SELECT {names} FROM {name}")
    op.drop_index(f"ix_{name}_period", table_name=name)
    op.drop_table(name)
    op.rename_table(new, name)
    op.create_index(f"ix_{name}_period", name, ["period_start"], unique=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("voltage_hourly", "x", with_rowid=False, copy="x", daily=False)
        _rebuild_sqlite("voltage_daily", "abcx", with_rowid=False, copy="abcx")
        return
    with op.batch_alter_table("voltage_hourly", schema=None) as batch_op:
        for p in "abc":
            for stat, _ in PHASE_STATS:
                batch_op.drop_column(f"{p}_{stat}")
        for column in DAILY_ONLY:
            batch_op.drop_column(column)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("voltage_hourly", "abcx", with_rowid=True, copy="x", fill=True)
        _rebuild_sqlite("voltage_daily", "abcx", with_rowid=True, copy="abcx")
        return
    with op.batch_alter_table("voltage_hourly", schema=None) as batch_op:
        for p in "abc":
            for stat, kind in PHASE_STATS:
                batch_op.add_column(sa.Column(f"{p}_{stat}", kind(), nullable=True))
        batch_op.add_column(sa.Column("n", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("low_dv", sa.SmallInteger(), nullable=False, server_default="1980")
        )
        batch_op.add_column(
            sa.Column("high_dv", sa.SmallInteger(), nullable=False, server_default="2354")
        )
        batch_op.add_column(
            sa.Column("rule", sa.String(length=3), nullable=False, server_default="any")
        )
    op.execute("UPDATE voltage_hourly SET n = COALESCE(x_n, 0)")
