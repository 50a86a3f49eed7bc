"""PostgreSQL: voltage readings and rollups in monthly partitions (db/partitions.py, migration
0009): made ahead of each ingest, read with partition pruning, dropped by retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd

from collectors.pipeline import IngestOptions, Pipeline
from db.partitions import existing, months
from db.readings import read_readings
from db.rollups import prune_raw
from tests.collectors.helpers import load_network


def _epoch(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def test_part001_months_are_utc_calendar_months():
    got = months(_epoch(2025, 12, 31, 23), _epoch(2026, 2, 1))
    assert got == [
        ("202512", _epoch(2025, 12, 1), _epoch(2026, 1, 1)),
        ("202601", _epoch(2026, 1, 1), _epoch(2026, 2, 1)),
        ("202602", _epoch(2026, 2, 1), _epoch(2026, 3, 1)),
    ]


def test_part002_ingest_makes_months_pruning_reads_them_retention_drops_them(pg_engine):
    """Rows by ``ts`` and blocks by ``day`` (db/readings.py) land in their UTC months, a time
    range reads only its months, and retention drops whole months, then deletes what is left
    before the cutoff (a block once its whole day is before it)."""
    engine = pg_engine
    tables = ("voltage_readings", "voltage_blocks", "voltage_hourly", "voltage_daily")
    with engine.connect() as conn:
        kinds = dict(
            conn.exec_driver_sql(
                "SELECT relname, relkind FROM pg_class WHERE relname = ANY(%s) "
                "AND relnamespace = current_schema()::regnamespace",
                (list(tables),),
            ).all()
        )
    assert kinds == dict.fromkeys(tables, "p")
    pipe = Pipeline(engine)
    load_network(pipe)
    start = datetime(2025, 7, 29, tzinfo=UTC)  # 6 days: July into August
    times = [start + timedelta(hours=h) for h in range(6 * 24)]
    frame = pd.DataFrame(
        {"transformer": "T1", "time": times, "va": [220.0 + (h % 7) for h in range(len(times))]}
    )
    summary = pipe.ingest("voltage", frame, IngestOptions(source="m", interval_min=60))
    assert summary.upserted == len(times) and summary.quarantined_total == 0
    july, august = "p202507", "p202508"
    with engine.connect() as conn:
        # every voltage table's months made ahead of the write
        for table in ("voltage_readings", "voltage_blocks"):
            assert existing(conn, table) == {f"{table}_{july}", f"{table}_{august}"}
        # the newest days are open (rows, in August); days closed a day before the newest
        # reading are in blocks (both months)
        for table, count in (("voltage_readings", "count(*)"), ("voltage_blocks", "sum(n)")):
            per_month = dict(
                conn.exec_driver_sql(
                    f"SELECT tableoid::regclass::text, {count} FROM {table} GROUP BY 1"
                ).all()
            )
            want = {f"voltage_readings_{august}"}
            if table == "voltage_blocks":
                want = {f"voltage_blocks_{july}", f"voltage_blocks_{august}"}
            assert set(per_month) == want
        # the daily rollup of 29 July starts at local (UTC+8) midnight, 28 July 16:00 UTC
        assert existing(conn, "voltage_daily") == {
            f"voltage_daily_{july}",
            f"voltage_daily_{august}",
        }
        stored = read_readings(conn, 0, _epoch(2030, 1, 1))
        assert [int(t) for t in stored["ts"]] == [int(t.timestamp()) for t in times]
        assert stored["va_dv"].tolist() == [2200.0 + 10 * (h % 7) for h in range(len(times))]
        for table, key in (("voltage_readings", "ts"), ("voltage_blocks", "day")):
            plan = "\n".join(
                r[0]
                for r in conn.exec_driver_sql(
                    f"EXPLAIN SELECT count(*) FROM {table} WHERE {key} >= %s AND {key} < %s",
                    (_epoch(2025, 8, 2), _epoch(2025, 8, 3)),
                )
            )
            assert f"{table}_{august}" in plan and f"{table}_{july}" not in plan
    # retention on 1 September with 31 days (cutoff 1 August 00:00 UTC): no row is before it;
    # a block (a local day of the site, UTC+8) goes when its whole day ends before the cutoff
    cutoff = datetime.fromtimestamp(_epoch(2025, 9, 1) - 31 * 86400, UTC)
    with engine.begin() as conn:
        deleted = prune_raw(conn, 31, _epoch(2025, 9, 1))
        remaining = read_readings(conn, 0, _epoch(2030, 1, 1))
    local = timezone(timedelta(hours=8))

    def day_end(t: datetime) -> datetime:  # the local midnight closing the day of (t - 1 s)
        day = (t - timedelta(seconds=1)).astimezone(local).date()
        return datetime(day.year, day.month, day.day, tzinfo=local) + timedelta(days=1)

    gone = [t for t in times if day_end(t) < cutoff]
    assert deleted == len(gone) > 0
    assert [int(t) for t in remaining["ts"]] == [int(t.timestamp()) for t in times if t not in gone]
