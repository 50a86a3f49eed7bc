"""Voltage rollups and figures: literal numbers on a tiny case, and rollup-based figures equal to
raw-based ones on a random month of 15-minute readings (both rules, both rollup frequencies)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import voltage as V
from analytics.settings import AnalyticsSettings

TR = pd.DataFrame(
    {
        "transformer": ["T1", "T2", "T3"],
        "feeder": ["F1", "F1", "F2"],
        "kva": [100.0, 200.0, 50.0],
        "customers": [10, 20, 30],
    }
)
NET = {
    "feeders": pd.DataFrame({"feeder": ["F1", "F2"], "substation": ["S", "S"]}),
    "transformers": TR,
}


def _tiny() -> pd.DataFrame:
    # hourly readings (time = end of the hour, local) of T1 on 2025-07-01
    t = pd.date_range("2025-07-01 01:00", periods=24, freq="h", tz="Asia/Shanghai")
    va = np.full(24, 220.0)
    vb = np.full(24, 221.0)
    vc = np.full(24, 222.0)
    va[18:20] = 190.0  # 18:00-20:00 local: phase A below 198 for 2 hours
    vb[19] = 195.0  # 19:00-20:00: B below too
    vc[3] = 240.0  # 03:00-04:00: C above 235.4
    kw = np.full(24, 50.0)
    kw[19:21] = 120.0  # 2 hours above 100 kVA
    return pd.DataFrame(
        {"transformer": "T1", "time": t.tz_convert("UTC"), "va": va, "vb": vb, "vc": vc, "kw": kw}
    )


def test_an101_tiny_rollup_literal():
    r = V.rollup_readings(_tiny(), freq="D", interval_min=60, rule="any")
    assert list(r["phase"]) == ["A", "B", "C", "X"]
    assert r["period_start"].iloc[0] == pd.Timestamp("2025-06-30 16:00", tz="UTC")  # local midnight
    x = r.set_index("phase")
    assert x.loc["A", "minutes_below"] == 120.0
    assert x.loc["B", "minutes_below"] == 60.0
    assert x.loc["C", "minutes_above"] == 60.0
    assert x.loc["X", "minutes_below"] == 120.0
    assert x.loc["X", "minutes_monitored"] == 1440.0
    assert x.loc["X", "v_min"] == 190.0
    assert x.loc["X", "v_max"] == 240.0
    assert x.loc["A", "kw_max"] == 120.0
    r_all = V.rollup_readings(_tiny(), freq="D", interval_min=60, rule="all").set_index("phase")
    assert r_all.loc["X", "minutes_below"] == 0.0  # C never below


def test_an102_tiny_figures_literal():
    h = V.rollup_readings(_tiny(), freq="h", interval_min=60)
    f = V.area_voltage(h, TR).set_index("transformer").loc["T1"]
    assert f["compliance_rate"] == pytest.approx(1 - 4 / 72)  # 2 h A + 1 h B below, 1 h C above
    assert f["hours_below"] == 2.0
    assert f["hours_above"] == 1.0
    assert f["low_voltage_days"] == 1.0
    assert f["low_voltage_customer_hours"] == 20.0
    assert f["worst_phase"] == "A"
    assert f["evening_peak_min"] == 190.0
    assert f["load_ratio"] == 1.2
    assert f["overloaded_hours"] == 2.0
    assert f["overloaded_days"] == 1.0
    # phase means 217.5, 219.9166.., 222.75: max deviation from 220.0555.. is 2.6944..
    assert f["imbalance_pct"] == pytest.approx(1.2244382731633485)


def _random_readings(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2025-03-01 00:15", periods=4 * 24 * 30, freq="15min", tz="Asia/Shanghai")
    frames = []
    for i, t in enumerate(["T1", "T2", "T3"]):
        n = len(times)
        hour = times.hour.to_numpy()
        sag = np.where((hour >= 18) & (hour < 22), 18.0, 0.0)
        va = 222 - sag + rng.normal(0, 8, n)
        vb = 220 - sag * (i + 1) / 2 + rng.normal(0, 8, n)
        vc = 224 - sag + rng.normal(0, 8, n)
        if t == "T3":  # single-phase meter
            vb[:] = np.nan
            vc[:] = np.nan
        va[rng.random(n) < 0.01] = np.nan
        kw = rng.uniform(0, 1.1, n) * TR["kva"].iloc[i]
        frames.append(
            pd.DataFrame(
                {
                    "transformer": t,
                    "time": times.tz_convert("UTC"),
                    "va": va,
                    "vb": vb,
                    "vc": vc,
                    "kw": kw,
                }
            )
        )
    rd = pd.concat(frames, ignore_index=True)
    return rd.sample(frac=1.0, random_state=3).reset_index(drop=True)  # order must not matter


@pytest.mark.parametrize("rule", ["any", "all"])
def test_an103_rollups_equal_raw(rule):
    rd = _random_readings()
    st = AnalyticsSettings(low_voltage_rule=rule)
    window = ("2025-03-03", "2025-03-29")
    raw = V.area_voltage_from_readings(rd, TR, interval_min=15, window=window, settings=st)
    hourly = V.rollup_readings(rd, freq="h", interval_min=15, rule=rule)
    daily = V.rollup_readings(rd, freq="D", interval_min=15, rule=rule)
    pd.testing.assert_frame_equal(
        daily, V.rollup_daily_from_hourly(hourly), check_exact=False, rtol=1e-12
    )
    from_h = V.area_voltage(hourly, TR, window=window, settings=st)
    from_d = V.area_voltage(daily, TR, window=window, settings=st)
    assert raw["low_voltage_days"].sum() > 0
    assert raw["overloaded_hours"].sum() > 0
    pd.testing.assert_frame_equal(raw, from_h, check_exact=False, rtol=1e-9)
    daily_cols = [c for c in raw.columns if c not in ("evening_peak_min", "overloaded_hours")]
    pd.testing.assert_frame_equal(raw[daily_cols], from_d[daily_cols], check_exact=False, rtol=1e-9)
    assert from_d["evening_peak_min"].isna().all()  # needs hourly rollups


def test_an104_interval_per_transformer_and_feeder_figures():
    rd = _random_readings()
    iv = pd.Series({"T1": 15.0, "T2": 15.0, "T3": 15.0})
    h = V.rollup_readings(rd, freq="h", interval_min=iv)
    area = V.area_voltage(h, TR)
    fv = V.feeder_voltage(area, NET).set_index("feeder")
    assert fv.loc["F1", "monitored_areas"] == 2
    assert fv.loc["F1", "low_voltage_customer_hours"] == pytest.approx(
        area.set_index("transformer").loc[["T1", "T2"], "low_voltage_customer_hours"].sum()
    )
    with pytest.raises(ValueError):
        V.rollup_readings(rd, freq="h", interval_min=pd.Series({"T1": 15.0}))
