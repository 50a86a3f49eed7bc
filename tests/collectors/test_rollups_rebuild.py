"""Rollups follow the limits in config (rebuild) and outlive the raw readings (retention)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select

from collectors.pipeline import IngestOptions, Pipeline
from db.models import VoltageDaily, VoltageReading
from db.queries import voltage_rollups
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
        kept = conn.execute(select(func.count()).select_from(VoltageReading)).scalar_one()
    assert kept == 6
    hourly = voltage_rollups(engine, "h", long=False)
    assert len(hourly) == 12
    assert hourly["x_below_min"].sum() == 3 * 60
