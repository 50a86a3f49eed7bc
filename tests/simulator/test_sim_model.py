"""Simulator: shapes, determinism, realism (medium year) and sanity of the model."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from collectors.simulator import PRESETS, Simulation
from collectors.simulator.exports import write_exports
from collectors.simulator.realism import LowVoltageCounter, area_interruptions, realism

# slow: simulates medium counties and a year of ground truth
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small():
    return Simulation("small", seed=1, start=date(2025, 6, 1), days=45, resolution="1h")


@pytest.fixture(scope="module")
def medium_year():
    sim = Simulation("medium", seed=1, start=date(2025, 1, 1), days=365, resolution="1h")
    lv = LowVoltageCounter(sim, exclude=set(sim.broken_meters["transformer"]))
    evening_min = []
    lv_hours = np.zeros(len(sim.net.areas["id"]))
    for b in sim.iter_batches():
        v = b.voltage
        lv.add(v)
        if b.start.month == 7:
            ok = ~v["transformer"].isin(set(sim.broken_meters["transformer"]))
            vv = v[ok]
            hour = vv["time"].dt.tz_convert(sim.tz).dt.hour
            vmin = vv[["va", "vb", "vc"]].min(axis=1)
            evening_min.append(vmin.groupby(hour).mean())
            low = (vmin < 198).groupby(vv["transformer"], observed=False).sum()
            lv_hours += low.reindex(sim.net.areas["id"].astype(str)).to_numpy()
    return sim, lv.share(), evening_min[0], lv_hours


def test_sim001_presets_and_ids(small):
    assert set(PRESETS) == {"small", "medium", "county"}
    net = small.network()
    assert list(net["substations"].columns)[:2] == ["substation", "name"]
    assert net["substations"]["substation"].str.fullmatch(r"SS\d\d").all()
    assert net["feeders"]["feeder"].str.fullmatch(r"F\d{4}").all()
    assert net["transformers"]["transformer"].str.fullmatch(r"T\d{7}").all()
    assert net["feeders"]["geometry"].str.match(r"(MULTI)?LINESTRING\(").all()
    tr = net["transformers"]
    assert (tr.loc[tr["kind"] == "dedicated", "customers"] == 1).all()
    assert 3 <= len(net["substations"]) <= 5 and 15 <= len(net["feeders"]) <= 25
    assert 200 <= len(tr) <= 400
    assert tr["town"].str.endswith(("镇", "乡")).all()


def test_sim002_batches_canonical(small):
    b = next(iter(small.iter_batches()))
    assert list(b.voltage.columns) == ["transformer", "time", "va", "vb", "vc", "kw"]
    assert str(b.voltage["time"].dt.tz) == "UTC"
    o = small.outages()
    for c in (
        "outage_id",
        "event_id",
        "level",
        "substation",
        "feeder",
        "transformer",
        "start",
        "end",
        "etr",
        "customers",
        "cause",
        "planned",
        "supply_shortage",
    ):
        assert c in o.columns
    assert o["end"].notna().all() and o["outage_id"].is_unique
    assert str(o["start"].dt.tz) == "UTC"
    c = small.complaints()
    assert c["ticket_id"].is_unique
    assert set(c["category"]) <= {
        "outage",
        "frequent_outage",
        "low_voltage",
        "voltage_fluctuation",
        "repair_timeout",
        "repair_quality",
        "customer_side_fault",
        "power_theft",
        "billing",
        "service_attitude",
        "other",
    }
    merged = c["merged_into"].dropna()
    assert merged.isin(c["ticket_id"]).all()
    assert c["transformer"].isna().any()  # some unmatched, town/address only


def test_sim003_last_days_equal_stream(small):
    last = small.voltage(days=3)
    full = pd.concat([b.voltage for b in small.iter_batches()], ignore_index=True)
    tail = full[full["time"] >= last["time"].min()].reset_index(drop=True)
    pd.testing.assert_frame_equal(last.reset_index(drop=True), tail, check_categorical=False)


def test_sim004_broken_meters_present(small):
    v = small.voltage(days=20)
    bm = small.broken_meters.set_index("transformer")["fault"]
    kv = bm[bm == "kv_units"].index[0]
    assert v.loc[v["transformer"] == kv, "va"].between(0.18, 0.27).all()
    ll = bm[bm == "line_to_line"].index[0]
    assert v.loc[v["transformer"] == ll, "va"].median() > 360


def test_sim005_byte_identical_exports(tmp_path):
    def run(d, seed=1):
        sim = Simulation("small", seed=seed, start=date(2025, 3, 1), days=5, resolution="1h")
        write_exports(sim, d)
        return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}

    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    assert "voltage_wide_sample.csv" in {str(k) for k in a}


def test_sim006_other_seed_other_county():
    a = Simulation("small", seed=1, days=5).network()["feeders"]
    b = Simulation("small", seed=2, days=5).network()["feeders"]
    same = (
        a.set_index("feeder")["geometry"]
        == b.set_index("feeder")["geometry"].reindex(a["feeder"]).to_numpy()
    )
    assert same.mean() < 0.2


def test_sim012_weather_start_same_county_other_dates():
    """A county dated from another start but living through the same weather (the dashboard
    tests' county "ending today") is the same county, every time shifted by the days between."""
    base = Simulation("small", seed=1, start=date(2026, 8, 3), days=20, resolution="1h")
    moved = Simulation(
        "small",
        seed=1,
        start=date(2027, 1, 5),
        days=20,
        resolution="1h",
        weather_start="2026-08-03",
    )
    shift = pd.Timestamp("2027-01-05") - pd.Timestamp("2026-08-03")
    a, b = base.outages(), moved.outages()
    assert len(a) > 0 and len(a) == len(b)
    cols = ["feeder", "transformer", "customers", "cause", "planned", "level"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert ((b["start"] - a["start"]) == shift).all()
    assert ((b["end"] - a["end"]).dropna() == shift).all()
    va, vb = base.voltage_days(5, 6), moved.voltage_days(5, 6)
    for col in ("va", "vb", "vc", "kw"):
        assert np.array_equal(va[col].to_numpy(), vb[col].to_numpy(), equal_nan=True)
    assert len(va) > 0 and ((vb["time"] - va["time"]) == shift).all()
    ca, cb = base.complaints(), moved.complaints()
    assert len(ca) == len(cb) and ((cb["time"] - ca["time"]) == shift).all()
    # without it, other dates are another draw of the weather: another county's history
    other = Simulation("small", seed=1, start=date(2027, 1, 5), days=20, resolution="1h")
    assert len(other.outages()) != len(a) or not other.outages()["cause"].equals(a["cause"])


def test_sim007_realism_medium_year(medium_year):
    sim, lv_share, _, _ = medium_year
    r = realism(sim, lv_share)
    assert 1 <= r["saifi"] <= 6, r
    assert 5 <= r["aihc_h"] <= 30, r
    assert r["feeders_1_12_share"] >= 0.6, r
    assert 0.03 <= r["lv_area_share_peak"] <= 0.15, r
    assert 5 <= r["grid_complaints_per_1000"] <= 40, r
    assert r["rs3_pct"] > r["rs1_pct"], r
    # storms: the worst storm day is a major event day (IEEE 1366 2.5 beta)
    assert max(r["storm_day_saidi_min"]) > r["t_med_min"], r


def test_sim008_weak_feeders_worse(medium_year):
    sim, _, _, lv_hours = medium_year
    net = sim.network()
    m = area_interruptions(net, sim.outages())
    m["minutes"] = (m["end"] - m["start"]).dt.total_seconds() / 60
    tr = net["transformers"].set_index("transformer")
    per_area = m.groupby("transformer")["minutes"].sum().reindex(tr.index, fill_value=0)
    weak = sim.net.feeders["bad"][sim.net.areas["feeder"]]
    assert per_area[weak].mean() > 1.3 * per_area[~weak].mean()
    assert lv_hours[weak].mean() > 2 * lv_hours[~weak].mean()


def test_sim009_daily_minimum_in_evening(medium_year):
    _, _, by_hour, _ = medium_year
    assert 17 <= int(by_hour.idxmin()) <= 23


def test_sim010_complaints_rise_with_outages(medium_year):
    sim = medium_year[0]
    net = sim.network()
    m = area_interruptions(net, sim.outages())
    n_out = (
        m.groupby("transformer").size().reindex(net["transformers"]["transformer"], fill_value=0)
    )
    c = sim.complaints()
    c = c[
        c["category"].isin(["outage", "frequent_outage", "repair_timeout", "repair_quality"])
        & c["merged_into"].isna()
        & c["transformer"].notna()
    ]
    per_area = c.groupby("transformer").size().reindex(n_out.index, fill_value=0)
    cust = net["transformers"].set_index("transformer")["customers"]
    rate = per_area / cust * 1000
    lo, hi = rate[n_out <= 2].mean(), rate[n_out >= 5].mean()
    assert hi > 1.5 * lo


def test_sim011_ground_truth(medium_year):
    sim = medium_year[0]
    gt = sim.ground_truth()  # its time is bench_simulator's to measure, not a test's
    assert gt["precision_p90_rel_se"] <= 0.06
    att = {f["feeder"]: f for f in gt["feeders"]}
    weak = [f["attributable"] for f in att.values() if f["weak"]]
    strong = [f["attributable"] for f in att.values() if not f["weak"]]
    assert np.mean(weak) > 3 * np.mean(strong)
    f0 = next(iter(att.values()))
    assert set(f0["attributable_by_driver"]) == {
        "interruptions",
        "long_interruptions",
        "low_voltage",
        "frequent_outages",
    }
    assert any(s["overloaded"] and s["attributable"] > 0 for s in gt["substations"])
