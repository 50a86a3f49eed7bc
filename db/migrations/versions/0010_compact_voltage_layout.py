"""Compact voltage tables (issue 19): readings keyed by time first, narrow rollup columns

- voltage_readings: primary key (ts, transformer_id) instead of (transformer_id, ts). New
  readings then append at the end of the key order (SQLite's WITHOUT ROWID table and
  PostgreSQL's primary-key index fill their pages instead of splitting them in the middle of
  every area's range). Columns in the order ts, transformer_id, kw_dw, va_dv, vb_dv, vc_dv:
  on PostgreSQL the 8-byte column first and the 2-byte ones last leave no alignment padding,
  and the key's index is filled to 100 % (appends: nothing to leave room for).
- voltage_hourly: ix_voltage_hourly_period goes (the ingest's existing-period check and the
  readers go through the primary key; the newest hour comes from the readings' time key).
  Columns narrowed where an hour bounds them: minutes, counts and minutes below/above as
  SMALLINT (at most 60 readings x 60 min), x_sum as INTEGER.
- voltage_daily: sums as INTEGER (a day's sum of decivolts is below 2^31).

Each table is rebuilt and its rows copied; on PostgreSQL the monthly partitions are made again
for the months the rows cover (db/partitions.py).

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-29 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.partitions import create_partitions, existing

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def _big():
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _col(name, kind, nullable=True):
    return sa.Column(name, kind() if callable(kind) else kind, nullable=nullable)


# --- layouts: (columns, primary key, indexes) -------------------------------------------------
def _readings(new: bool):
    if new:
        cols = [
            _col("ts", _big, False),
            _col("transformer_id", sa.Integer, False),
            _col("kw_dw", sa.Integer),
            _col("va_dv", sa.SmallInteger),
            _col("vb_dv", sa.SmallInteger),
            _col("vc_dv", sa.SmallInteger),
        ]
        return cols, ("ts", "transformer_id"), {}
    cols = [
        _col("transformer_id", sa.Integer, False),
        _col("ts", _big, False),
        _col("va_dv", sa.SmallInteger),
        _col("vb_dv", sa.SmallInteger),
        _col("vc_dv", sa.SmallInteger),
        _col("kw_dw", sa.Integer),
    ]
    return cols, ("transformer_id", "ts"), {}


def _hourly(new: bool):
    if new:
        cols = [
            _col("period_start", _big, False),
            _col("transformer_id", sa.Integer, False),
            _col("kw_max_dw", sa.Integer),
            _col("x_sum", sa.Integer),
            _col("minutes_monitored", sa.SmallInteger, False),
            _col("x_n", sa.SmallInteger),
            _col("x_min", sa.SmallInteger),
            _col("x_max", sa.SmallInteger),
            _col("x_below_min", sa.SmallInteger),
            _col("x_above_min", sa.SmallInteger),
        ]
        return cols, ("transformer_id", "period_start"), {}
    cols = [
        _col("transformer_id", sa.Integer, False),
        _col("period_start", _big, False),
        _col("minutes_monitored", sa.Integer, False),
        _col("kw_max_dw", sa.Integer),
        _col("x_n", sa.Integer),
        _col("x_min", sa.SmallInteger),
        _col("x_max", sa.SmallInteger),
        _col("x_sum", _big),
        _col("x_below_min", sa.Integer),
        _col("x_above_min", sa.Integer),
    ]
    return cols, ("transformer_id", "period_start"), {"ix_voltage_hourly_period": "period_start"}


def _daily(new: bool):
    cols = [
        _col("period_start", _big, False) if new else None,
        _col("transformer_id", sa.Integer, False),
        _col("period_start", _big, False) if not new else None,
        _col("minutes_monitored", sa.Integer, False),
        _col("kw_max_dw", sa.Integer),
        _col("n", sa.Integer, False),
        _col("low_dv", sa.SmallInteger, False),
        _col("high_dv", sa.SmallInteger, False),
    ]
    cols = [c for c in cols if c is not None]
    for p in "abcx":
        cols += [
            _col(f"{p}_n", sa.Integer),
            _col(f"{p}_sum", sa.Integer if new else _big),
            _col(f"{p}_below_min", sa.Integer),
            _col(f"{p}_above_min", sa.Integer),
            _col(f"{p}_min", sa.SmallInteger),
            _col(f"{p}_max", sa.SmallInteger),
        ]
    cols.append(_col("rule", sa.String(length=3), False))
    return cols, ("transformer_id", "period_start"), {"ix_voltage_daily_period": "period_start"}


TABLES = {
    "voltage_readings": ("ts", _readings),
    "voltage_hourly": ("period_start", _hourly),
    "voltage_daily": ("period_start", _daily),
}


def _rebuild(table: str, new: bool) -> None:
    """Recreate ``table`` in the given layout under a temporary name, copy its rows across
    (in the new key order), drop the old one and take its name (and, on PostgreSQL, its
    partitions' names)."""
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    key, layout = TABLES[table]
    cols, pk, indexes = layout(new)
    tmp = f"{table}_0010"
    options = {"postgresql_partition_by": f"RANGE ({key})"} if pg else {"sqlite_with_rowid": False}
    # PostgreSQL: the key's index is named after the constraint, unique per schema (renamed
    # below); SQLite keeps constraint names in the table's SQL only
    pk_name = f"pk_{tmp}" if pg else f"pk_{table}"
    if pg and new and table == "voltage_readings":
        # time first, new keys land on the rightmost leaf: pages filled to the brim (the
        # default 90 % leaves room for inserts in the middle, which only late readings make);
        # given at creation, since a partitioned index's options cannot be altered later and
        # the monthly partitions' indexes copy them
        op.create_table(tmp, *cols, **options)
        op.execute(
            f"ALTER TABLE {tmp} ADD CONSTRAINT {pk_name} PRIMARY KEY ({', '.join(pk)}) "
            "WITH (fillfactor = 100)"
        )
    else:
        op.create_table(tmp, *cols, sa.PrimaryKeyConstraint(*pk, name=pk_name), **options)
    if pg:
        lo, hi = conn.exec_driver_sql(f"SELECT min({key}), max({key}) FROM {table}").one()
        if lo is not None:
            create_partitions(conn, tmp, int(lo), int(hi))
    names = ", ".join(c.name for c in cols)
    op.execute(f"INSERT INTO {tmp} ({names}) SELECT {names} FROM {table} ORDER BY {', '.join(pk)}")
    for name in ("ix_voltage_hourly_period", "ix_voltage_daily_period"):
        if name.startswith(f"ix_{table}_"):
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_table(table)  # PostgreSQL: its partitions go with it
    op.rename_table(tmp, table)
    if pg:
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT pk_{tmp} TO pk_{table}")
        for part in sorted(existing(conn, table)):
            op.execute(f"ALTER TABLE {part} RENAME TO {part.replace(tmp, table)}")
    for name, column in indexes.items():
        op.create_index(name, table, [column], unique=False)


def upgrade() -> None:
    for table in TABLES:
        _rebuild(table, new=True)


def downgrade() -> None:
    for table in TABLES:
        _rebuild(table, new=False)
