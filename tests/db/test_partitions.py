"""PostgreSQL: voltage readings and rollups in monthly partitions (db/partitions.py, migration
0009): made ahead of each ingest, read with partition pruning, dropped by retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from collectors.pipeline import IngestOptions, Pipeline
from db.partitions import existing, months
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
    engine = pg_engine
    with engine.connect() as conn:
        kinds = dict(
            conn.exec_driver_sql(
                "SELECT relname, relkind FROM pg_class WHERE relname IN "
                "('voltage_readings', 'voltage_hourly', 'voltage_daily') "
                "AND relnamespace = current_schema()::regnamespace"
            ).all()
        )
    assert kinds == {"voltage_readings": "p", "voltage_hourly": "p", "voltage_daily": "p"}
    pipe = Pipeline(engine)
    load_network(pipe)
    start = datetime(2025, 7, 29, tzinfo=UTC)  # 6 days: July into August
    times = [start + timedelta(hours=h) for h in range(6 * 24)]
    frame = pd.DataFrame(
        {"transformer": "T1", "time": times, "va": [220.0 + (h % 7) for h in range(len(times))]}
    )
    summary = pipe.ingest("voltage", frame, IngestOptions(source="m", interval_min=60))
    assert summary.upserted == len(times) and summary.quarantined_total == 0
    with engine.connect() as conn:
        assert existing(conn, "voltage_readings") == {
            "voltage_readings_p202507",
            "voltage_readings_p202508",
        }
        # the daily rollup of 29 July starts at local (UTC+8) midnight, 28 July 16:00 UTC
        assert existing(conn, "voltage_daily") == {"voltage_daily_p202507", "voltage_daily_p202508"}
        per_month = dict(
            conn.exec_driver_sql(
                "SELECT tableoid::regclass::text, count(*) FROM voltage_readings GROUP BY 1"
            ).all()
        )
        july = sum(t < datetime(2025, 8, 1, tzinfo=UTC) for t in times)
        assert per_month == {
            "voltage_readings_p202507": july,
            "voltage_readings_p202508": len(times) - july,
        }
        plan = "\n".join(
            r[0]
            for r in conn.exec_driver_sql(
                "EXPLAIN SELECT count(*) FROM voltage_readings WHERE ts >= %s AND ts < %s",
                (_epoch(2025, 8, 2), _epoch(2025, 8, 3)),
            )
        )
    assert "voltage_readings_p202508" in plan and "voltage_readings_p202507" not in plan
    # retention on 1 September with 31 days: July ends before the cutoff and goes whole;
    # August is cut row by row
    with engine.begin() as conn:
        deleted = prune_raw(conn, 31, _epoch(2025, 9, 1))
        left = existing(conn, "voltage_readings")
        remaining = conn.exec_driver_sql("SELECT count(*) FROM voltage_readings").scalar_one()
    assert left == {"voltage_readings_p202508"}
    cutoff = datetime.fromtimestamp(_epoch(2025, 9, 1) - 31 * 86400, UTC)
    assert deleted == sum(datetime(2025, 8, 1, tzinfo=UTC) <= t < cutoff for t in times)
    assert remaining == sum(t >= cutoff for t in times)
