"""Rollups follow the limits in config (rebuild) and outlive the raw readings (retention)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import select

from collectors.pipeline import IngestOptions, Pipeline
from db.models import VoltageDaily
from db.queries import voltage_rollups
from db.readings import count_readings
from tests.collectors.helpers import load_network
from tests.conftest import ROOT


def readings(start: datetime, hours: int, volts: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transformer": "T1",
            "time": [start + timedelta(hours=h) for h in range(hours)],
            "va": [volts[h % len(volts)] for h in range(hours)],
        }
    )


def test_roll001_rebuild_applies_new_limits(engine, db_url, tmp_path):
    pipe = Pipeline(engine)
    load_network(pipe)
    pipe.ingest(
        "voltage",
        readings(datetime(2025, 8, 1, tzinfo=UTC), 24, [200.0, 203.0, 196.0, 220.0]),
        IngestOptions(source="m", interval_min=60),
    )
    before = voltage_rollups(engine, "D", long=False)
    assert before["a_below_min"].sum() == 6 * 60  # 196 V: 6 of 24 hours below 198 V
    cfg = tmp_path / "fw.toml"
    cfg.write_text("[thresholds]\nvoltage_low = 205.0\n")
    env = {**os.environ, "FEEDERWATCH_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", "--config", str(cfg), "rollups", "rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    after = voltage_rollups(engine, "D", long=False)
    assert after["a_below_min"].sum() == 18 * 60  # 200, 203 and 196 V are all below 205 V
    assert after["n"].sum() == before["n"].sum() == 24
    with engine.connect() as conn:
        assert set(conn.execute(select(VoltageDaily.low_dv)).scalars()) == {2050}


def test_roll002_retention_prunes_raw_readings_but_keeps_rollups(engine):
    pipe = Pipeline(engine, raw_retention_days=30)
    load_network(pipe)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    old = readings(now - timedelta(days=40), 6, [221.0, 197.0])
    recent = readings(now - timedelta(days=5), 6, [222.0, 223.0])
    pipe.ingest("voltage", pd.concat([old, recent]), IngestOptions(source="m", interval_min=60))
    with engine.connect() as conn:
        kept = count_readings(conn)
    assert kept == 6
    hourly = voltage_rollups(engine, "h", long=False)
    assert len(hourly) == 12
    assert hourly["x_below_min"].sum() == 3 * 60


def test_roll003_hourly_rollups_kept_for_the_newest_days_of_data(engine):
    """hourly_retention_days: hourly rows only for the newest N days of data (counted from the
    data, not the clock: these readings are from 2007), daily rows for every day; a backfill's
    older hours are never written, and hours that fall behind are pruned."""
    from db.rollups import RollupLimits, prune_hourly, rebuild_all

    pipe = Pipeline(engine, hourly_retention_days=21)
    load_network(pipe)
    start = datetime(2007, 3, 1, tzinfo=UTC)
    pipe.ingest(
        "voltage",
        readings(start, 40 * 24, [221.0, 222.5, 219.0]),
        IngestOptions(source="m", interval_min=60),
    )
    hourly = voltage_rollups(engine, "h", long=False)
    daily = voltage_rollups(engine, "D", long=False)
    newest = hourly["period_start"].max()
    # stamped at the end of its interval, the last reading closes the hour before it
    assert newest == pd.Timestamp(start) + pd.Timedelta(hours=40 * 24 - 2)
    assert hourly["period_start"].min() == newest - pd.Timedelta(days=21)
    assert len(hourly) == 21 * 24 + 1
    assert daily["n"].sum() == 40 * 24  # every reading is in the daily rollups
    # ten more days arrive: the cutoff moves with the data and the prune removes what fell behind
    pipe.ingest(
        "voltage",
        readings(start + timedelta(days=40), 10 * 24, [222.0, 223.5, 220.0]),
        IngestOptions(source="m", interval_min=60),
    )
    with engine.begin() as conn:
        assert prune_hourly(conn, 21) == 10 * 24
    hourly = voltage_rollups(engine, "h", long=False)
    assert len(hourly) == 21 * 24 + 1
    assert hourly["period_start"].min() == hourly["period_start"].max() - pd.Timedelta(days=21)
    # a rebuild keeps the same window
    with engine.begin() as conn:
        rebuild_all(conn, 60, RollupLimits(), hourly_days=21)
    pd.testing.assert_frame_equal(voltage_rollups(engine, "h", long=False), hourly)
    assert voltage_rollups(engine, "D", long=False)["n"].sum() == 50 * 24
    # a backfill batch wholly older than the hourly window (the demo's history load after its
    # recent days): daily rows only, no hourly row, no error
    summary = pipe.ingest(
        "voltage",
        readings(start - timedelta(days=5), 3 * 24, [218.0, 221.0, 223.0]),
        IngestOptions(source="m", interval_min=60),
    )
    assert summary.upserted == 3 * 24 and summary.quarantined_total == 0
    pd.testing.assert_frame_equal(voltage_rollups(engine, "h", long=False), hourly)
    assert voltage_rollups(engine, "D", long=False)["n"].sum() == 53 * 24


def test_roll004_rebuild_window_by_window_equals_the_ingest(engine):
    """A rebuild reads the raw readings in windows of whole local days (the readings are keyed
    time first): windows of one day each give back exactly the rollups the ingest made,
    across a month boundary, for areas with and without readings every hour."""
    from db.rollups import RollupLimits, rebuild_all

    pipe = Pipeline(engine)
    load_network(pipe)
    start = datetime(2025, 7, 29, 16, tzinfo=UTC)  # local midnight, Asia/Shanghai
    volts = [221.0, 197.0, 236.0, 219.5, 199.9]
    first = readings(start, 6 * 24, volts)
    other = first.iloc[::3].assign(transformer="T2", va=lambda f: f["va"] - 1.0)
    pipe.ingest("voltage", pd.concat([first, other]), IngestOptions(source="m", interval_min=60))
    hourly = voltage_rollups(engine, "h", long=False)
    daily = voltage_rollups(engine, "D", long=False)
    assert len(daily) == 2 * 7  # six local days and the first point of a seventh, two areas
    with engine.begin() as conn:
        totals = rebuild_all(conn, 60, RollupLimits(), batch_readings=1)
    assert totals == {"h": len(hourly), "D": len(daily)}
    pd.testing.assert_frame_equal(voltage_rollups(engine, "h", long=False), hourly)
    pd.testing.assert_frame_equal(voltage_rollups(engine, "D", long=False), daily)
