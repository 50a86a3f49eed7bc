"""PostgreSQL: voltage readings and rollups partitioned by UTC month (issue 19)

Each table is rebuilt as a RANGE-partitioned table on its time key (readings: ts, rollups:
period_start) with the same columns, primary key and indexes; the months its rows cover get
partitions and the rows move across. SQLite is untouched (no partitions there).

Revision ID: 0009
Revises: 0005
Create Date: 2026-11-29 04:40:00
"""

from __future__ import annotations

from alembic import op

from db.partitions import create_partitions

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None

#: the tables this revision partitions (later revisions partition their own tables)
PARTITIONED = {
    "voltage_readings": "ts",
    "voltage_hourly": "period_start",
    "voltage_daily": "period_start",
}

PERIOD_INDEX = {
    "voltage_hourly": "ix_voltage_hourly_period",
    "voltage_daily": "ix_voltage_daily_period",
}


def _rebuild(table: str, key: str, partitioned: bool) -> None:
    conn = op.get_bind()
    old = f"{table}_before_0009"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT pk_{table} TO pk_{old}")
    if table in PERIOD_INDEX:
        op.execute(f"ALTER INDEX {PERIOD_INDEX[table]} RENAME TO {PERIOD_INDEX[table]}_old")
    tail = f" PARTITION BY RANGE ({key})" if partitioned else ""
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS){tail}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (transformer_id, {key})")
    if table in PERIOD_INDEX:
        op.execute(f"CREATE INDEX {PERIOD_INDEX[table]} ON {table} (period_start)")
    if partitioned:
        lo, hi = conn.exec_driver_sql(f"SELECT min({key}), max({key}) FROM {old}").one()
        if lo is not None:
            create_partitions(conn, table, int(lo), int(hi))
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in PARTITIONED.items():
        _rebuild(table, key, partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in PARTITIONED.items():
        _rebuild(table, key, partitioned=False)  # its partitions go with the old table
