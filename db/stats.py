"""Bytes on disk per table and index, and per voltage reading (``feederwatch db stats``).

SQLite measures pages with the ``dbstat`` virtual table (compiled into Python's SQLite on every
platform we support) and adds the write-ahead log; PostgreSQL asks ``pg_relation_size`` for each
table (with its TOAST) and each index. "Per reading" divides by the readings the rollups account
for (the daily rollups' ``n``), so it stays meaningful after raw readings are pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select

from db.engine import sqlite_file
from db.models import Base, VoltageDaily


@dataclass(frozen=True)
class Relation:
    name: str
    table: str  # the table it belongs to (itself for a table)
    kind: str  # "table", "index" or "wal"
    bytes: int


@dataclass(frozen=True)
class StorageStats:
    relations: list[Relation]
    readings: int

    @property
    def total_bytes(self) -> int:
        return sum(r.bytes for r in self.relations)

    def per_reading(self, tables: tuple[str, ...] | None = None) -> float | None:
        """Bytes per reading of these tables with their indexes (all relations by default)."""
        if not self.readings:
            return None
        chosen = [r for r in self.relations if tables is None or r.table in tables]
        return sum(r.bytes for r in chosen) / self.readings


#: The tables a voltage reading costs: the raw readings (rows and blocks) and both rollups.
READING_TABLES = ("voltage_readings", "voltage_blocks", "voltage_hourly", "voltage_daily")


def readings_represented(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(VoltageDaily.n), 0))).scalar_one())


def storage_stats(engine: Engine) -> StorageStats:
    if engine.dialect.name == "sqlite":
        relations = _sqlite(engine)
    elif engine.dialect.name == "postgresql":
        relations = _postgresql(engine)
    else:
        raise ValueError(
            f"storage figures are measured on SQLite and PostgreSQL, not {engine.dialect.name}"
        )
    return StorageStats(relations, readings_represented(engine))


def _sqlite(engine: Engine) -> list[Relation]:
    with engine.connect() as conn:
        owner = dict(
            conn.exec_driver_sql(
                "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"
            ).all()
        )
        sizes = conn.exec_driver_sql(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY name"
        ).all()
    out = []
    for name, size in sizes:
        table = owner.get(name, name)
        out.append(Relation(name, table, "table" if table == name else "index", int(size or 0)))
    path = sqlite_file(engine.url)
    wal = Path(f"{path}-wal") if path is not None else None
    if wal is not None and wal.exists():
        out.append(Relation(wal.name, "(write-ahead log)", "wal", wal.stat().st_size))
    return out


def _postgresql(engine: Engine) -> list[Relation]:
    out = []
    with engine.connect() as conn:
        for table in sorted(Base.metadata.tables):
            oid = conn.exec_driver_sql("SELECT to_regclass(%s)::oid", (table,)).scalar()
            if oid is None:
                continue
            # heap + TOAST + free-space and visibility maps, over its monthly partitions when
            # partitioned (a partitioned parent holds no rows itself)
            size = conn.exec_driver_sql(
                "SELECT COALESCE(sum(pg_table_size(relid)), 0) FROM pg_partition_tree(%s::oid)",
                (oid,),
            ).scalar_one()
            out.append(Relation(table, table, "table", int(size)))
            indexes = conn.exec_driver_sql(
                "SELECT c.relname, (SELECT COALESCE(sum(pg_relation_size(relid)), 0) "
                "FROM pg_partition_tree(c.oid)) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::oid "
                "ORDER BY c.relname",
                (oid,),
            ).all()
            out += [Relation(name, table, "index", int(size)) for name, size in indexes]
    return out


def format_stats(stats: StorageStats) -> str:
    """A table for the terminal: each relation's bytes and bytes per reading, then totals."""
    n = stats.readings
    lines = [f"readings accounted for by the daily rollups: {n:,}"]
    lines.append(f"{'relation':42s} {'kind':6s} {'MB':>10s} {'B/reading':>10s}")
    for r in sorted(stats.relations, key=lambda r: (-r.bytes, r.name)):
        per = f"{r.bytes / n:10.1f}" if n else f"{'-':>10s}"
        label = r.name if r.kind != "index" else f"{r.name} ({r.table})"
        lines.append(f"{label[:42]:42s} {r.kind:6s} {r.bytes / 2**20:10.1f} {per}")
    per_all = stats.per_reading()
    per_volt = stats.per_reading(READING_TABLES)
    lines.append(
        f"total: {stats.total_bytes / 2**20:,.1f} MB; per reading: "
        + (
            f"{per_volt:.1f} B for readings and rollups with their indexes, {per_all:.1f} B all in"
            if n
            else "no readings yet"
        )
    )
    return "\n".join(lines)
