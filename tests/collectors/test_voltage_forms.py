"""Voltage: wide (96-point) and long forms give identical rollups; late readings correct the
right hour and day. The 00:15 convention is checked against docs/formats.md, not our writer."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from collectors.ingest import ingest_file
from collectors.pipeline import IngestOptions, Pipeline
from db.queries import voltage_rollups
from tests.collectors.helpers import load_network

TZ = ZoneInfo("Asia/Shanghai")


def point_value(phase: str, k: int) -> float:
    base = {"A": 220.0, "B": 230.0, "C": 200.0}[phase]
    # Phase C dips below 198 V for points 73-80 (18:15-20:00): 2 hours of low voltage.
    if phase == "C" and 73 <= k <= 80:
        return 195.0 + k / 100
    return round(base + (k % 10) / 10, 1)


def write_wide(path):
    header = "台区编号,数据日期,相别," + ",".join(f"U{k}" for k in range(1, 97))
    rows = [
        f"T1,2025-06-01,{ph}," + ",".join(str(point_value(ph, k)) for k in range(1, 97))
        for ph in "ABC"
    ]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="gbk")


def write_long(path):
    # Straight from docs/formats.md: point k is the value at local 00:00 + k x 15 min.
    midnight = datetime(2025, 6, 1, tzinfo=TZ)
    lines = ["transformer,time,va,vb,vc"]
    for k in range(1, 97):
        t = midnight + timedelta(minutes=15 * k)
        lines.append(
            f"T1,{t.isoformat()},{point_value('A', k)},{point_value('B', k)},{point_value('C', k)}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


@pytest.fixture
def pipeline(engine):
    pipe = Pipeline(engine, tz="Asia/Shanghai")
    load_network(pipe)
    return pipe


def test_volt001_wide_and_long_forms_give_identical_rollups(pipeline, tmp_path, db_url):
    wide, long = tmp_path / "voltage_wide.csv", tmp_path / "voltage_long.csv"
    write_wide(wide)
    write_long(long)
    first = ingest_file(pipeline, wide, "voltage", IngestOptions(source="wide"))
    assert (first.upserted, first.quarantined_total) == (96, 0)
    wide_hourly = voltage_rollups(pipeline.engine, "h")
    wide_daily = voltage_rollups(pipeline.engine, "D")
    # Re-sending the same readings in the long form changes nothing at all.
    second = ingest_file(pipeline, long, "voltage", IngestOptions(source="long"))
    assert (second.upserted, second.quarantined_total) == (96, 0)
    pd.testing.assert_frame_equal(voltage_rollups(pipeline.engine, "h"), wide_hourly)
    pd.testing.assert_frame_equal(voltage_rollups(pipeline.engine, "D"), wide_daily)
    # reading only some phases' columns gives exactly those phases' rows
    for phases in (("x",), ("a", "x")):
        only = voltage_rollups(pipeline.engine, "D", phases=phases)
        full = wide_daily[wide_daily["phase"].isin([p.upper() for p in phases])]
        pd.testing.assert_frame_equal(only, full.reset_index(drop=True))
    # the hourly rollups keep the area as a whole (X) only, and say so when asked for more
    assert set(wide_hourly["phase"]) == {"X"}
    with pytest.raises(ValueError, match="keeps the phases"):
        voltage_rollups(pipeline.engine, "h", phases=("a", "x"))

    # The convention itself, with literal figures: the local day 2025-06-01 holds 96 points
    # (00:15 ... 24:00), the first hour holds points 1-4.
    daily = wide_daily.set_index("phase")
    assert daily.loc["A", "period_start"] == pd.Timestamp("2025-05-31 16:00", tz="UTC")
    assert daily.loc["A", "n"] == 96
    assert daily.loc["X", "minutes_monitored"] == 96 * 15
    assert daily.loc["C", "minutes_below"] == 8 * 15
    assert daily.loc["X", "minutes_below"] == 8 * 15
    assert daily.loc["A", "minutes_below"] == 0
    assert daily.loc["C", "v_min"] == 195.7
    first_hour = wide_hourly.sort_values("period_start").iloc[0]
    assert first_hour["period_start"] == pd.Timestamp("2025-05-31 16:00", tz="UTC")
    assert first_hour["n"] == 4
    assert len(wide_hourly) == 24


def test_volt002_late_readings_correct_the_right_hour_and_day(pipeline, tmp_path):
    early = tmp_path / "voltage_1.csv"
    early.write_text(
        "transformer,time,va\nT2,2025-06-02 10:15,221.0\nT2,2025-06-02 10:30,222.0\n"
        "T2,2025-06-02 11:15,223.0\n"
    )
    ingest_file(pipeline, early, "voltage", IngestOptions(source="m", interval_min=15))
    late = tmp_path / "voltage_2.csv"
    # Arrives later, out of order: one reading for 10:00-11:00 (a dip) and a correction.
    late.write_text("transformer,time,va\nT2,2025-06-02 10:45,190.5\nT2,2025-06-02 10:30,224.0\n")
    summary = ingest_file(pipeline, late, "voltage", IngestOptions(source="m", interval_min=15))
    assert summary.upserted == 2
    hourly = voltage_rollups(pipeline.engine, "h", transformers=["T2"])
    # phase A alone is measured, so the area as a whole (X) is phase A
    a = hourly[hourly["phase"] == "X"].set_index("period_start")
    ten = a.loc[pd.Timestamp("2025-06-02 02:00", tz="UTC")]
    assert (ten["n"], ten["v_min"], ten["v_max"], ten["minutes_below"]) == (3, 190.5, 224.0, 15)
    assert ten["v_sum"] == pytest.approx(221.0 + 224.0 + 190.5)
    eleven = a.loc[pd.Timestamp("2025-06-02 03:00", tz="UTC")]
    assert eleven["n"] == 1
    day = voltage_rollups(pipeline.engine, "D", transformers=["T2"])
    day_a = day[day["phase"] == "A"].iloc[0]
    assert (day_a["n"], day_a["v_min"], day_a["minutes_below"]) == (4, 190.5, 15)
