"""Monthly partitions of the voltage tables on PostgreSQL (issue 19).

The raw readings (rows by ``ts``, blocks by ``day``) and both rollups (by ``period_start``) are declaratively
partitioned by RANGE on PostgreSQL, one partition per UTC month, named ``<table>_pYYYYMM``.
Partitions are created ahead of each write, in a short transaction of their own (creating one
locks the parent table), and retention drops whole months instead of deleting row by row.
Queries with a time range read only the months they cover (partition pruning). SQLite keeps
plain tables: it has no partitions, and one county fits it anyway.

There is no DEFAULT partition on purpose: a row with no month to go to is an error, not a row
hidden where a later month's partition could no longer be created.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, ProgrammingError

#: table -> its partition key (epoch seconds, UTC)
PARTITIONED = {
    "voltage_readings": "ts",
    "voltage_blocks": "day",
    "voltage_hourly": "period_start",
    "voltage_daily": "period_start",
}

PARTITION_NAME = re.compile(
    r"^(voltage_readings|voltage_blocks|voltage_hourly|voltage_daily)_p\d{6}$"
)

#: a write's rollups start up to a local day before its first reading
ROLLUP_MARGIN_SECONDS = 2 * 86400


def is_partition(name: str) -> bool:
    return PARTITION_NAME.match(name) is not None


def _month_start(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def months(lo: int, hi: int) -> list[tuple[str, int, int]]:
    """(suffix YYYYMM, start, end) of each UTC month that [lo, hi] (epoch seconds) touches."""
    first = datetime.fromtimestamp(lo, UTC)
    last = datetime.fromtimestamp(hi, UTC)
    y, m = first.year, first.month
    out = []
    while (y, m) <= (last.year, last.month):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append((f"{y:04d}{m:02d}", _month_start(y, m), _month_start(ny, nm)))
        y, m = ny, nm
    return out


def is_partitioned(conn: Connection, table: str) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.exec_driver_sql(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", (table,)
    ).scalar()
    return kind == "p"


def existing(conn: Connection, table: str) -> set[str]:
    """Names of the partitions of ``table``."""
    rows = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s)",
        (table,),
    ).all()
    return {r[0] for r in rows}


def create_partitions(conn: Connection, table: str, lo: int, hi: int) -> list[str]:
    """Create the monthly partitions of ``table`` covering [lo, hi] that do not exist yet."""
    have = existing(conn, table)
    made = []
    for suffix, start, end in months(lo, hi):
        name = f"{table}_p{suffix}"
        if name in have:
            continue
        try:
            with conn.begin_nested():  # a savepoint: losing a race must not end the caller's
                conn.exec_driver_sql(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} "
                    f"FOR VALUES FROM ({start}) TO ({end})"
                )
        except (ProgrammingError, IntegrityError) as exc:
            # another writer created it meanwhile (IF NOT EXISTS does not see an uncommitted
            # one: the second CREATE waits for it, then fails as a duplicate)
            if "already exists" not in str(exc) and "duplicate key" not in str(exc):
                raise
            continue
        made.append(name)
    return made


def ensure_reading_partitions(engine: Engine, ts_lo: int, ts_hi: int) -> list[str]:
    """Before readings of [ts_lo, ts_hi] are written: every voltage table's months exist.

    A transaction of its own, so that the parent's lock is held for the DDL only, never across
    an ingest. Two writers creating the same month: the loser's IF NOT EXISTS finds it."""
    if engine.dialect.name != "postgresql":
        return []
    made: list[str] = []
    with engine.begin() as conn:
        for table in PARTITIONED:
            if is_partitioned(conn, table):
                made += create_partitions(conn, table, ts_lo - ROLLUP_MARGIN_SECONDS, ts_hi)
    return made


def drop_before(conn: Connection, table: str, cutoff: int) -> list[str]:
    """Drop the partitions of ``table`` that end at or before ``cutoff`` (retention by month:
    no row-by-row DELETE, no dead tuples to vacuum). Returns the names dropped."""
    if not is_partitioned(conn, table):
        return []
    dropped = []
    for name in sorted(existing(conn, table)):
        bound = conn.exec_driver_sql(
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = %s "
            "AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass(%s))",
            (name, table),
        ).scalar()
        found = re.search(r"TO \('?(-?\d+)'?\)", bound or "")
        if found and int(found.group(1)) <= cutoff:
            conn.exec_driver_sql(f"DROP TABLE {name}")
            dropped.append(name)
    return dropped
