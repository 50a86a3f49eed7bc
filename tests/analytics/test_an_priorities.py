"""Upgrade priorities on a small synthetic county: ranking, ownership of 35 kV events,
breakdown, costs, and the entry points the CLI and dashboard call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import fault_rates, reliability
from analytics import priorities as P
from analytics.settings import AnalyticsSettings

WINDOW = ("2025-01-01", "2026-01-01")


@pytest.fixture(scope="module")
def county():
    rng = np.random.default_rng(7)
    feeders = pd.DataFrame(
        {
            "feeder": [f"F{i}" for i in range(1, 9)],
            "substation": ["S1"] * 4 + ["S2"] * 4,
            "length_km": [30.0, 10, 12, 8, 11, 9, 14, 10],
            "conductor_mm2": [50, 120, 120, 150, 120, 150, 95, 120],
            "year_built": [1995, 2010, 2012, 2015, 2011, 2016, 2008, 2013],
            "rated_mva": 6.0,
        }
    )
    tr = []
    for f in feeders["feeder"]:
        for k in range(12):
            tr.append(
                {
                    "transformer": f"T{f[1:]}{k:02d}",
                    "feeder": f,
                    "kind": "public",
                    "customers": 60,
                    "kva": 200.0,
                    "distance_km": 1.0 + k,
                    "town": "城关镇",
                    "address": f"{f}村{k}",
                }
            )
    network = {
        "substations": pd.DataFrame({"substation": ["S1", "S2"], "capacity_mva": [20.0, 20.0]}),
        "feeders": feeders,
        "transformers": pd.DataFrame(tr),
    }
    outages, tickets = [], []
    day0 = pd.Timestamp("2025-01-01", tz="Asia/Shanghai")

    def outage(oid, level, sub, feeder, start, hours, planned=False, event=None):
        outages.append(
            {
                "outage_id": oid,
                "event_id": event or oid,
                "level": level,
                "substation": sub,
                "feeder": feeder,
                "start": start,
                "end": start + pd.Timedelta(hours=hours),
                "planned": planned,
                "cause": "planned" if planned else "equipment",
            }
        )

    n = 0
    for i, f in enumerate(feeders["feeder"]):
        faults = 14 if f == "F1" else 2  # F1 is the weak feeder
        for _j in range(faults):
            start = day0 + pd.Timedelta(
                days=int(rng.integers(0, 360)), hours=int(rng.integers(8, 20))
            )
            outage(f"O{n}", "feeder", feeders["substation"][i], f, start, 3.0)
            n += 1
            for k in range(12):  # callers from about half the areas
                if rng.random() < 0.5:
                    tickets.append(
                        {
                            "ticket_id": f"K{len(tickets)}",
                            "time": start + pd.Timedelta(minutes=30),
                            "category": "outage",
                            "transformer": f"T{f[1:]}{k:02d}",
                        }
                    )
    # one 35 kV event at S2: one row per feeder, one event id
    start = day0 + pd.Timedelta(days=200, hours=19)
    for f in ["F5", "F6", "F7", "F8"]:
        outage(f"SUB-{f}", "substation", "S2", f, start, 4.0, event="E35")
        for k in range(12):
            tickets.append(
                {
                    "ticket_id": f"K{len(tickets)}",
                    "time": start + pd.Timedelta(minutes=40),
                    "category": "outage",
                    "transformer": f"T{f[1:]}{k:02d}",
                }
            )
    for k in range(40):  # background unreasonable tickets
        tickets.append(
            {
                "ticket_id": f"K{len(tickets)}",
                "time": day0 + pd.Timedelta(days=k * 7),
                "category": "billing",
                "transformer": "T100",
            }
        )
    return network, pd.DataFrame(outages), pd.DataFrame(tickets)


def test_an401_feeder_rank(county):
    network, outages, tickets = county
    r = P.rank("feeder", network, outages, tickets, None, AnalyticsSettings(), WINDOW)
    assert list(r["rank"]) == list(range(1, 9))
    assert r.iloc[0]["feeder"] == "F1"
    assert r["score"].is_monotonic_decreasing
    for col in (
        "avoidable_complaints",
        "from_interruptions",
        "from_duration",
        "from_repeated_outages",
        "from_low_voltage",
        "saidi",
        "saifi",
        "low_voltage_days",
        "complaints_per_1000",
        "load_ratio",
        "project",
        "project_label",
    ):
        assert col in r.columns
    parts = r[
        ["from_interruptions", "from_duration", "from_repeated_outages", "from_low_voltage"]
    ].sum(axis=1)
    assert np.allclose(parts, r["avoidable_complaints"])
    assert r.iloc[0]["project"] in P.PROJECTS
    # the 35 kV event belongs to S2, not to F5..F8: their SAIFI counts it, their score does not
    f5 = r.set_index("feeder").loc["F5"]
    assert f5["saifi"] >= 1.0
    assert f5["avoidable_complaints"] < r.iloc[0]["avoidable_complaints"] / 5


def test_an402_substation_rank_owns_35kv(county):
    network, outages, tickets = county
    s = P.rank(
        "substation", network, outages, tickets, None, AnalyticsSettings(), WINDOW
    ).set_index("substation")
    assert s.loc["S2", "avoidable_complaints"] > 0
    assert s.loc["S2", "rank"] == 1
    assert s.loc["S1", "avoidable_complaints"] == 0.0


def test_an403_costs_and_weights(county):
    network, outages, tickets = county
    st = AnalyticsSettings(
        costs={"insulation_or_automation": 50.0, "new_tie": 80.0, "reconductor": 120.0},
        weight_customer_hours=0.0,
        weight_low_voltage_hours=0.0,
    )
    r = P.rank("feeder", network, outages, tickets, None, st, WINDOW)
    assert np.allclose(r["score"], r["avoidable_complaints"])
    has = r["cost_10k_yuan"].notna()
    assert has.any()
    assert np.allclose(
        r.loc[has, "avoided_per_10k_yuan"],
        r.loc[has, "avoidable_complaints"] / r.loc[has, "cost_10k_yuan"],
    )


def test_an404_entry_points(county):
    network, outages, _ = county
    sysi = reliability.system_indices(network, outages, window=WINDOW)
    assert len(sysi) == 1 and sysi["customers_served"].iloc[0] == 96 * 60
    by = reliability.indices("feeder", network, outages, window=WINDOW)
    assert set(by["feeder"]) == {f"F{i}" for i in range(1, 9)}
    # F5 sees its two faults and the 35 kV event
    assert by.set_index("feeder").loc["F5", "saifi"] == 3.0


def test_an408_precomputed_classification_gives_the_same_analysis(county):
    """The dashboard classifies all complaints once and analyses several windows with it."""
    from analytics.complaints import classify_complaints

    network, outages, tickets = county
    s = AnalyticsSettings()
    classified = classify_complaints(tickets, network=network, settings=s)
    plain = P.analyse(network, outages, tickets, None, s, WINDOW)
    cache: dict = {}
    shared = P.analyse(
        network, outages, tickets, None, s, WINDOW, classified=classified, reliability_cache=cache
    )
    pd.testing.assert_frame_equal(plain.rank("feeder"), shared.rank("feeder"))
    pd.testing.assert_frame_equal(plain.rank("substation"), shared.rank("substation"))
    assert [k[0] for k in cache].count("model") == 1  # both levels' indices: one placement
    pd.testing.assert_frame_equal(plain.complaints, shared.complaints)
    assert plain.rank("feeder")["complaints_counted"].sum() > 0


def test_an405_settings_from_config():
    class Sec:
        def __init__(self, **kw):
            self.__dict__.update(kw)

        def model_dump(self):
            return dict(self.__dict__)

    cfg = Sec(
        site=Sec(timezone="Asia/Shanghai"),
        thresholds=Sec(momentary_minutes=3.0, low_voltage_rule="all", stale_after_seconds=300),
        ranking=Sec(
            weight_customer_hours=0.0, customer_basis="users_10kv", costs={"new_tie": 60.0}
        ),
    )
    st = AnalyticsSettings.from_config(cfg)
    assert st.momentary_minutes == 3.0
    assert st.low_voltage_rule == "all"
    assert st.customer_basis == "users_10kv"
    assert st.costs["new_tie"] == 60.0
    with pytest.raises(ValueError):
        AnalyticsSettings(customer_basis="people")


def test_an406_empty_inputs(county):
    network, outages, tickets = county
    for o, c in (
        (outages.iloc[:0], tickets),
        (outages, tickets.iloc[:0]),
        (outages.iloc[:0], tickets.iloc[:0]),
    ):
        for level in ("feeder", "substation"):
            r = P.rank(level, network, o, c, None, AnalyticsSettings(), WINDOW)
            assert len(r) == (8 if level == "feeder" else 2)
            assert np.isfinite(r["score"]).all()
    r = P.rank(
        "feeder", network, outages.iloc[:0], tickets.iloc[:0], None, AnalyticsSettings(), WINDOW
    )
    assert (r["project"] == "none").all()


def test_an407_storm_hit_model_recovers_exposure():
    """Storm hits drawn from 1 − exp(−θ_s·E_f) with log E_f = 1.0·x1 − 0.5·x2: the fit finds
    the effects' signs and sizes, ranks the excess by exposure, and drops an attribute whose
    effect comes out with the wrong physical sign (so the sound exposure never exceeds the
    feeder's own)."""
    rng = np.random.default_rng(3)
    n, theta = 600, np.array([0.2, 0.5, 1.0, 0.3, 0.8])
    x = rng.normal(0, 0.5, (n, 2))
    expo = np.exp(1.0 * x[:, 0] - 0.5 * x[:, 1])
    hits = (rng.random((n, len(theta))) < 1 - np.exp(-np.outer(expo, theta))).astype(float)
    log_theta, beta = fault_rates.cloglog_fit(hits, (x - x.mean(0)) / x.std(0), ridge=1e-3)
    assert beta[0] / 0.5 == pytest.approx(1.0, abs=0.2)  # standardised: sd 0.5
    assert beta[1] / 0.5 == pytest.approx(-0.5, abs=0.2)
    assert np.corrcoef(log_theta, np.log(theta))[0, 1] > 0.95
    sound = x.copy()
    sound[:, 1] = x[:, 1].max()  # rebuilt: the attribute that lowers exposure at its best
    expected, excess = fault_rates.storm_hit_excess(
        hits, x, sound, np.array([1.0, -1.0]), 1e-3, 1.0
    )
    assert (excess >= 0).all() and (excess <= expected + 1e-9).all()
    assert (
        np.corrcoef(excess, np.maximum(expo - np.exp(x[:, 0] - 0.5 * sound[:, 1]), 0))[0, 1] > 0.6
    )
    # a covariate claimed to lower exposure that in fact raises it is dropped: its sound value
    # no longer matters (only the unexplained exposure u_f above the mean remains excess)
    runs = [
        fault_rates.storm_hit_excess(hits, x[:, :1], x[:, :1] - d, np.array([-1.0]), 1e-3, 1.0)[1]
        for d in (1.0, 5.0)
    ]
    assert np.allclose(runs[0], runs[1])


def test_an409_reliability_cache_shared_across_windows(county):
    """The dashboard's per-version cache: same figures as without it, outages placed once."""
    from analytics import reliability as R

    network, outages, _ = county
    cache: dict = {}
    end = pd.Timestamp(WINDOW[1])
    for start in (pd.Timestamp(WINDOW[0]), end - pd.Timedelta(days=90)):
        w = (start, end)
        for by in ("system", "substation", "feeder"):
            pd.testing.assert_frame_equal(
                R.indices(by, network, outages, window=w, cache=cache),
                R.indices(by, network, outages, window=w),
            )
        pd.testing.assert_frame_equal(
            R.system_indices(network, outages, window=w, cache=cache),
            R.system_indices(network, outages, window=w),
        )
        cached, plain = (
            R.major_event_days(network, outages, window=w, cache=cache),
            R.major_event_days(network, outages, window=w),
        )
        pd.testing.assert_frame_equal(cached[0], plain[0])
        assert cached[1] == plain[1]
    assert [k[0] for k in cache].count("model") == 1


def test_an410_low_voltage_fix_judged_at_each_rows_own_limit():
    """A low-voltage area-day counts as removed when the uplift reaches the row's own lower
    limit (stored rollups carry it: a 10 kV bus is judged at -7 %), not a fixed 198 V."""
    from datetime import date

    from collectors.simulator import Simulation
    from tests.truth_kit import simulated_inputs

    sim = Simulation(preset="small", seed=5, start=date(2025, 1, 1), days=60, resolution="1h")
    network, outages, complaints, daily = simulated_inputs(sim)
    window = ("2025-01-01", "2025-03-02")
    st = AnalyticsSettings()

    def removed(frame):
        ranked = P.rank("feeder", network, outages, complaints, frame, st, window)
        return ranked.set_index("feeder")["from_low_voltage"]

    plain = removed(daily)
    assert plain.sum() > 0  # the weak feeders' uplift removes some low-voltage days
    same = removed(daily.assign(v_low=st.voltage_low))
    pd.testing.assert_series_equal(same, plain)
    # judged at a limit no uplift reaches, nothing is removed; NaN limits fall back to 198 V
    assert removed(daily.assign(v_low=260.0)).sum() == 0
    pd.testing.assert_series_equal(removed(daily.assign(v_low=np.nan)), plain)


def test_an411_text_and_rollups_read_once_match_the_plain_paths():
    """Speed paths give the plain paths' results: ids cleaned once per distinct value (strings
    only; a mixed column keeps 1 and 1.0 apart), and low-voltage drivers from X rows read once
    for several windows equal those read per window (rows of other phases and unknown
    transformers left out alike)."""
    from analytics.area_drivers import daily_x_rows, low_voltage_drivers
    from analytics.areas import text

    ids = pd.Series([" T1", "T2 ", None, np.nan, "", "  ", "T1", pd.NA, "T3"] * 20)
    plain = [
        (str(v).strip() or None)
        if isinstance(v, str) or (v is not None and not pd.isna(v))
        else None
        for v in ids
    ]
    assert text(ids).tolist() == plain
    assert text(pd.Series([1, 1.0, "1", " 1 "] * 20)).tolist()[:4] == ["1", "1.0", "1", "1"]

    s = AnalyticsSettings()
    areas = pd.DataFrame({"transformer": ["T1", "T2", "T3"]})
    days = pd.date_range("2024-01-01", "2026-01-01", freq="D", tz="UTC")[:-1]
    rng = np.random.default_rng(3)
    n = len(days) * 4
    daily = pd.DataFrame(
        {
            "period_start": np.repeat(days, 4),
            "transformer": np.tile(["T1", "T2", "T3", "TX"], len(days)),
            "phase": rng.choice(["X", "X", "A"], n),
            "v_min": rng.uniform(180, 230, n),
            "minutes_below": rng.choice([0.0, 0.0, 90.0, 300.0], n),
            "kw_max": rng.uniform(10, 200, n),
        }
    )
    every = daily_x_rows(daily, areas, None, s)
    for window in (("2025-01-01", "2026-01-01"), ("2024-01-01", "2026-01-01")):
        direct = low_voltage_drivers(daily, areas, window, s)
        shared = low_voltage_drivers(daily, areas, window, s, every)
        for k in direct.rows:
            np.testing.assert_array_equal(direct.rows[k], shared.rows[k])
        for k in ("hours", "days", "kw_max"):
            np.testing.assert_array_equal(getattr(direct, k), getattr(shared, k))
        assert direct.days.sum() > 0 and direct.rows["a"].max() == 2  # TX left out


def test_an412_speed_paths_match_the_plain_paths():
    """Session 17's speed paths give the plain paths' results exactly: tz-aware times to ns
    (any unit and zone, NaT kept), bus medians by one sort (odd and even groups, as pandas'
    groupby median), the uplifts from area-day rows gathered once, and the Newton polish of
    the attribution with an area no driver reaches (no 0/0: same coefficients, no warning)."""
    import warnings

    from analytics.attribution import fit_nonnegative_poisson
    from analytics.lv_uplift import (
        AreaDays,
        FeederProfiles,
        _group_median,
        daily_load_scale,
        sound_feeder_uplift,
        substation_sag_uplift,
    )
    from analytics.times import NAT, ns_view, to_ns

    stamps = ["2025-03-30 01:30", None, "2025-10-26 02:30", "2026-01-01 00:00"]
    local = pd.Series(pd.to_datetime(stamps)).dt.tz_localize("Europe/Berlin", ambiguous=True)
    for series in (local, local.dt.as_unit("us"), local.dt.tz_convert("UTC")):
        plain = series.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("ns")
        expected = [NAT if pd.isna(t) else t.value for t in plain]
        got = to_ns(series, "Asia/Shanghai")
        assert got.dtype == np.int64 and got.tolist() == expected
        got[0] = 0  # a copy: the frame's column is not touched
        assert series.notna().iloc[0]
        view = ns_view(series, "Asia/Shanghai")
        assert view.tolist() == expected and not view.flags.writeable
    assert (
        ns_view(pd.Series(stamps), "Asia/Shanghai").tolist()
        == to_ns(stamps, "Asia/Shanghai").tolist()
    )

    # outage flags: a bool column (nullable, missing = false) read directly, as as_bool reads it
    from analytics.interruptions import as_bool, outage_frame

    flags = pd.array([True, None, False, True], dtype="boolean")
    outages = pd.DataFrame(
        {
            "outage_id": ["a", "b", "c", "d"],
            "feeder": "F1",
            "start": "2025-05-01 08:00",
            "end": "2025-05-01 09:00",
            "planned": flags,
            "supply_shortage": [False, True, False, False],
        }
    )
    frame = outage_frame(outages, "Asia/Shanghai")
    assert frame["planned"].tolist() == [as_bool(v) for v in flags.astype(object)]
    assert frame["supply_shortage"].tolist() == [False, True, False, False]

    rng = np.random.default_rng(11)
    keys = rng.integers(0, 40, 2000)
    values = np.round(rng.normal(215, 6, 2000), 1)
    k, med = _group_median(keys, values)
    ref = pd.Series(values).groupby(keys).median()
    np.testing.assert_array_equal(k, ref.index.to_numpy())
    np.testing.assert_array_equal(med, ref.to_numpy())

    n_a, n_days = 12, 30
    area = np.repeat(np.arange(n_a), n_days)
    days = AreaDays(
        area=area,
        day=np.tile(np.arange(n_days), n_a),
        n_days=n_days,
        vmin=rng.uniform(185, 225, len(area)),
        below=rng.choice([0.0, 120.0], len(area)),
        kw=rng.uniform(20, 90, len(area)),
        low=np.full(len(area), 198.0),
    )
    profiles = FeederProfiles(
        feeder=np.repeat([0, 1, 2], 4),
        shape=rng.uniform(0, 1, n_a),
        length=np.array([8.0, 12.0, 5.0]),
        drop=np.array([6.0, 14.0, 2.0]),
        local=np.minimum(rng.normal(0, 2, n_a), 0.0),
    )
    areas = pd.DataFrame({"substation": ["S1"] * 8 + ["S2"] * 4})
    fa = profiles.feeder[days.area]
    scale = daily_load_scale(fa, days, 3)
    row_scale, row_shape = scale[fa, days.day], profiles.shape[days.area]
    s = AnalyticsSettings()
    np.testing.assert_array_equal(
        sound_feeder_uplift(profiles, days, scale, s),
        sound_feeder_uplift(profiles, days, scale, s, fa, row_shape, row_scale),
    )
    np.testing.assert_array_equal(
        substation_sag_uplift(areas, profiles, days, scale),
        substation_sag_uplift(areas, profiles, days, scale, fa, row_scale, row_shape),
    )

    X = rng.uniform(0, 3, (60, 3))
    y = rng.poisson(X @ np.array([0.5, 0.0, 1.2])).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reached = fit_nonnegative_poisson(X, y)
        with_idle = fit_nonnegative_poisson(np.vstack([X, np.zeros((5, 3))]), np.r_[y, [0.0] * 5])
    np.testing.assert_allclose(with_idle, reached, rtol=1e-9, atol=1e-12)
