"""Reliability indices on hand-made tables; every expected number is written out literally.

Network: S1 feeds F1 (T1 100 households, T2 50) and F2 (T3 200, T4 dedicated 1); S2 feeds F3
(T5 150). 501 households; 5 users on the 10 kV basis (4 public transformers + 1 dedicated).
Window: January 2025, local time (44,640 minutes, 744 hours).
"""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import reliability as R
from analytics.settings import AnalyticsSettings

JAN = ("2025-01-01", "2025-02-01")
# the hand-made figures below are for the "clip" rule; test_an010 checks "start"
S = AnalyticsSettings(cemi_n=1, celid_t_hours=2.0, period_rule="clip")


@pytest.fixture(scope="module")
def net():
    return {
        "substations": pd.DataFrame({"substation": ["S1", "S2"]}),
        "feeders": pd.DataFrame({"feeder": ["F1", "F2", "F3"], "substation": ["S1", "S1", "S2"]}),
        "transformers": pd.DataFrame(
            {
                "transformer": ["T1", "T2", "T3", "T4", "T5"],
                "feeder": ["F1", "F1", "F2", "F2", "F3"],
                "kind": ["public", "public", "public", "dedicated", "public"],
                "customers": [100, 50, 200, 1, 150],
                "kva": [200, 100, 400, 500, 315],
            }
        ),
    }


@pytest.fixture(scope="module")
def outages():
    rows = [
        # feeder F1 10:00-11:00 and area T1 10:30-12:00 overlap: T1 is out once, 10:00-12:00
        (
            "O1",
            "feeder",
            "S1",
            "F1",
            None,
            "2025-01-05 10:00",
            "2025-01-05 11:00",
            False,
            False,
            150,
        ),
        (
            "O2",
            "transformer",
            "S1",
            "F1",
            "T1",
            "2025-01-05 10:30",
            "2025-01-05 12:00",
            False,
            False,
            100,
        ),
        # 3 minutes: momentary on T3 and T4
        (
            "O3",
            "feeder",
            "S1",
            "F2",
            None,
            "2025-01-10 08:00",
            "2025-01-10 08:03",
            False,
            False,
            201,
        ),
        # 35 kV event at S2 without a feeder: all of S2's areas; crosses midnight; supply shortage
        (
            "O4",
            "substation",
            "S2",
            None,
            None,
            "2025-01-20 23:00",
            "2025-01-21 01:00",
            False,
            True,
            150,
        ),
        # starts before the window: 60 minutes inside, not counted as an interruption of January
        (
            "O5",
            "feeder",
            "S2",
            "F3",
            None,
            "2024-12-31 23:00",
            "2025-01-01 01:00",
            False,
            False,
            150,
        ),
        # planned, crosses the window end: counted in January with 30 of its 60 minutes
        (
            "O6",
            "feeder",
            "S1",
            "F1",
            None,
            "2025-01-31 23:30",
            "2025-02-01 00:30",
            True,
            False,
            150,
        ),
        # feeder unknown to the network: its own 40 customers, system and S1 only
        (
            "O7",
            "feeder",
            "S1",
            "FX",
            None,
            "2025-01-15 12:00",
            "2025-01-15 12:30",
            False,
            False,
            40,
        ),
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "outage_id",
            "level",
            "substation",
            "feeder",
            "transformer",
            "start",
            "end",
            "planned",
            "supply_shortage",
            "customers",
        ],
    )


def test_an001_system_indices_households(net, outages):
    r = R.system_indices(net, outages, window=JAN, settings=S).iloc[0]
    assert r["customers_served"] == 501
    assert r["customers_interrupted"] == 490  # 100*2 + 50*2 + 150 + 40
    assert r["customer_minutes"] == 47700  # 100*150 + 50*90 + 150*180 + 40*30
    assert r["saifi"] == pytest.approx(0.9780439121756487)
    assert r["saidi"] == pytest.approx(95.20958083832335)
    assert r["caidi"] == pytest.approx(97.34693877551021)
    assert r["caifi"] == pytest.approx(1.4411764705882353)  # 490 / 340 distinct
    assert r["maifi"] == pytest.approx(0.40119760479041916)  # 201 / 501
    assert r["asai"] == pytest.approx(0.9978671688880304)
    assert r["cemi_n"] == pytest.approx(0.2994011976047904)  # T1 + T2 had 2 > 1
    assert r["celid_t"] == pytest.approx(0.499001996007984)  # T1 150 min, T5 180 min >= 120
    assert r["aihc"] == pytest.approx(1.5868263473053892)
    assert r["rs1"] == pytest.approx(99.78671688880304)
    assert r["rs3"] == pytest.approx(99.86720108170756)  # O4 (supply shortage) left out
    assert r["saidi_planned"] == pytest.approx(8.982035928143713)
    assert r["saifi_planned"] == pytest.approx(0.2994011976047904)
    assert r["saidi_fault"] == pytest.approx(86.22754491017965)
    assert r["budget_use"] == pytest.approx(0.15868263473053892)  # AIHC / 10 h
    assert r["med_years_available"] == 0
    assert r["med_count"] == 0


def test_an002_users_10kv_basis(net, outages):
    r = R.system_indices(net, outages, window=JAN, settings=S, basis="users_10kv").iloc[0]
    assert r["customers_served"] == 5
    # every area is one user; O7's 40 households count 40 * 5/501 users
    assert r["saifi"] == pytest.approx(1.0798403193612773)
    assert r["saidi"] == pytest.approx(86.39520958083833)


def test_an003_by_feeder_and_substation(net, outages):
    f = R.indices("feeder", net, outages, window=JAN, settings=S).set_index("feeder")
    assert list(f.index) == ["F1", "F2", "F3"]
    assert f.loc["F1", "saifi"] == 2.0
    assert f.loc["F1", "saidi"] == 130.0
    assert f.loc["F1", "caidi"] == 65.0
    assert f.loc["F2", "saifi"] == 0.0
    assert f.loc["F2", "maifi"] == 1.0
    assert f.loc["F3", "saifi"] == 1.0
    assert f.loc["F3", "saidi"] == 180.0  # O4 120 min + O5's 60 minutes inside the window
    s = R.indices("substation", net, outages, window=JAN, settings=S).set_index("substation")
    assert s.loc["S1", "saifi"] == pytest.approx(0.9686609686609686)  # (300 + 40) / 351
    assert s.loc["S1", "saidi"] == pytest.approx(58.97435897435897)  # 20700 / 351
    assert s.loc["S2", "saidi"] == 180.0


def test_an004_by_area_and_month(net, outages):
    a = R.indices("area", net, outages, window=JAN, settings=S).set_index("transformer")
    assert a.loc["T1", "saidi"] == 150.0
    assert a.loc["T1", "saifi"] == 2.0
    assert a.loc["T2", "saidi"] == 90.0
    m = R.indices("system", net, outages, window=("2025-01-01", "2025-03-01"), settings=S, freq="M")
    assert list(m["month"]) == ["2025-01", "2025-02"]
    assert list(m["customer_minutes"]) == [47700.0, 4500.0]  # O6: 30 min each side of midnight
    assert list(m["customers_interrupted"]) == [490.0, 0.0]


def test_an005_merged_interruptions(net, outages):
    it = R.area_interruptions(net, outages, settings=S)
    t1 = it[it["transformer"] == "T1"].sort_values("start")
    assert list(t1["minutes"]) == [120.0, 60.0]
    assert list(t1["n_outages"]) == [2, 1]
    assert it["momentary"].sum() == 2


def test_an006_momentary_boundary(net):
    o = pd.DataFrame(
        {
            "outage_id": ["A", "B"],
            "feeder": ["F3", "F3"],
            "start": ["2025-01-03 10:00:00", "2025-01-04 10:00:00"],
            "end": ["2025-01-03 10:05:00", "2025-01-04 10:05:01"],
        }
    )
    r = R.system_indices(net, o, window=JAN, settings=S).iloc[0]
    assert r["maifi"] == pytest.approx(150 / 501)  # exactly 5 min is momentary
    assert r["saifi"] == pytest.approx(150 / 501)  # 5 min 1 s is sustained


def test_an007_active_outage_ends_at_window_end(net):
    o = pd.DataFrame(
        {"outage_id": ["A"], "feeder": ["F3"], "start": ["2025-01-31 22:00"], "end": [None]}
    )
    r = R.system_indices(net, o, window=JAN, settings=S).iloc[0]
    assert r["customer_minutes"] == 150 * 120


def test_an008_med_threshold_known_series():
    import numpy as np

    m = R.med_threshold(np.exp([1.0, 2.0, 3.0, 4.0, 5.0, 0.0]) * [1, 1, 1, 1, 1, 0])
    assert m["n_days"] == 5  # the zero day is dropped
    assert m["alpha"] == pytest.approx(3.0)
    assert m["beta"] == pytest.approx(1.5811388300841898)
    assert m["threshold"] == pytest.approx(1046.123885728329)


def test_an009_med_days_from_history():
    net = {
        "substations": pd.DataFrame({"substation": ["S"]}),
        "feeders": pd.DataFrame({"feeder": ["F"], "substation": ["S"]}),
        "transformers": pd.DataFrame({"transformer": ["T"], "feeder": ["F"], "customers": [100]}),
    }
    rows = [
        ("2024-03-01 10:00", 10),
        ("2024-05-01 10:00", 20),
        ("2024-07-01 10:00", 40),
        ("2024-09-01 10:00", 80),  # history: ln SAIDI = ln 10..ln 80
        ("2025-01-10 10:00", 300),
        ("2025-01-20 10:00", 100),
        ("2025-01-25 23:00", 300),
    ]
    o = pd.DataFrame(
        {
            "outage_id": [f"O{i}" for i in range(len(rows))],
            "feeder": "F",
            "start": pd.to_datetime([r[0] for r in rows]),
            "end": pd.to_datetime([r[0] for r in rows])
            + pd.to_timedelta([r[1] for r in rows], "min"),
        }
    )
    # 306 days of history: straight IEEE 1366 (the one-year floor and day minimum lowered)
    hist = AnalyticsSettings(med_min_history_days=300, med_min_days=2)
    days, info = R.major_event_days(net, o, window=JAN, settings=hist)
    assert info["alpha"] == pytest.approx(3.3423058638339636)
    assert info["beta"] == pytest.approx(0.8948491622597642)
    assert info["threshold"] == pytest.approx(264.92023203468005)
    assert info["years_available"] == 0.84  # 2024-03-01 .. 2025-01-01 = 306 days
    # the 23:00 outage runs past midnight but accrues to the day it began (IEEE 1366)
    assert info["med_days"] == ["2025-01-10", "2025-01-25"]
    assert len(days) == 31
    assert info["provisional"] is False
    r = R.system_indices(net, o, window=JAN, settings=hist).iloc[0]
    assert r["saidi"] == 700.0
    assert r["saidi_ex_med"] == 100.0
    assert r["saifi_ex_med"] == 1.0
    assert r["med_count"] == 2
    assert r["med_threshold"] == pytest.approx(264.92023203468005)


# --- issue 15: period rule, MED floor, customer base, open outages ---------------------------


def test_an010_start_rule_charges_whole_interruptions(net, outages):
    start = S.replace(period_rule="start")
    r = R.system_indices(net, outages, window=JAN, settings=start).iloc[0]
    assert r["period_rule"] == "start"
    assert r["customers_interrupted"] == 490  # counted where they start, as with clip
    # T1 120 + O6's whole 60 (crosses the window end); T2 60 + 60; T5 only O4's 120 (O5 began
    # in December and belongs to December); O7 40 * 30
    assert r["customer_minutes"] == 100 * 180 + 50 * 120 + 150 * 120 + 40 * 30
    assert r["celid_t"] == pytest.approx(300 / 501)  # T1 180, T2 120, T5 120 min >= 120
    f = R.indices("feeder", net, outages, window=JAN, settings=start).set_index("feeder")
    assert f.loc["F3", "saidi"] == 120.0
    assert f.loc["F1", "saidi"] == 160.0  # (100 * 180 + 50 * 120) / 150
    m = R.indices(
        "system", net, outages, window=("2025-01-01", "2025-03-01"), settings=start, freq="M"
    )
    assert list(m["customer_minutes"]) == [43200.0, 0.0]  # O6 whole in January


def _one_area_net(customers=100):
    return {
        "substations": pd.DataFrame({"substation": ["S"]}),
        "feeders": pd.DataFrame({"feeder": ["F"], "substation": ["S"]}),
        "transformers": pd.DataFrame(
            {"transformer": ["T"], "feeder": ["F"], "customers": [customers]}
        ),
    }


def _outages_on_f(rows):
    start = pd.to_datetime([r[0] for r in rows])
    return pd.DataFrame(
        {
            "outage_id": [f"O{i}" for i in range(len(rows))],
            "feeder": "F",
            "start": start,
            "end": start + pd.to_timedelta([r[1] for r in rows], "min"),
        }
    )


# 40 ordinary days in the quarter plus one storm of 2,000 minutes from 2025-03-15 10:00 (it
# runs to 03-16 19:20); the history before it: five 30-minute outages in December only
ORDINARY = [10 + (k * 7) % 23 for k in range(40)]
SHORT_HISTORY = (
    [(f"2024-12-{d:02d} 09:00", 30) for d in (5, 10, 15, 20, 25)]
    + [
        ((pd.Timestamp("2025-01-01 08:00") + pd.Timedelta(days=k)).strftime("%Y-%m-%d %H:%M"), d)
        for k, d in enumerate(ORDINARY)
    ]
    + [("2025-03-15 10:00", 2000)]
)
Q1 = ("2025-01-01", "2025-04-01")


@pytest.mark.parametrize("rule", ["start", "clip"])
def test_an011_short_history_gives_provisional_med(rule):
    import math
    import statistics

    net, o = _one_area_net(), _outages_on_f(SHORT_HISTORY)
    settings = AnalyticsSettings(period_rule=rule)
    days, info = R.major_event_days(net, o, window=Q1, settings=settings)
    # 27 days of history (Dec 5 to Jan 1) is under a year: T_MED from the quarter's own days;
    # five identical December days would have given β = 0 and T_MED = 30 min
    storm = [2000] if rule == "start" else [14 * 60, 2000 - 14 * 60]
    sample = [math.log(x) for x in ORDINARY + storm]
    expected = math.exp(statistics.mean(sample) + 2.5 * statistics.stdev(sample))
    assert info["history_days"] == 27
    assert info["provisional"] is True and info["status"] == "provisional"
    assert info["threshold"] == pytest.approx(expected)
    assert info["med_days"] == (["2025-03-15"] if rule == "start" else ["2025-03-15", "2025-03-16"])
    r = R.system_indices(net, o, window=Q1, settings=settings).iloc[0]
    assert bool(r["med_provisional"]) is True
    assert r["saidi"] == pytest.approx(sum(ORDINARY) + 2000)
    assert r["saidi_ex_med"] == pytest.approx(sum(ORDINARY))  # the storm's minutes all dropped
    assert r["saifi_ex_med"] == 40


def test_an012_no_med_from_a_handful_of_days():
    net, o = _one_area_net(), _outages_on_f(SHORT_HISTORY)
    days, info = R.major_event_days(net, o, window=("2025-03-10", "2025-03-20"))
    assert info["status"] == "too_few_days"  # one day with interruptions in the window
    assert math_isnan(info["threshold"]) and info["med_days"] == []
    assert not days["is_med"].any()


def math_isnan(x):
    return x != x


def test_an013_customers_served_from_config():
    # a network without customer counts (feeders only) and an outage on a feeder it lacks
    net = {
        "substations": pd.DataFrame({"substation": ["S1"]}),
        "feeders": pd.DataFrame({"feeder": ["F1", "F2"], "substation": ["S1", "S1"]}),
        "transformers": pd.DataFrame({"transformer": [], "feeder": [], "customers": []}),
    }
    o = pd.DataFrame(
        {
            "outage_id": ["A", "B", "C"],
            "feeder": ["F1", "F2", "FX"],
            "substation": ["S1", "S1", "S1"],
            "start": ["2025-01-05 10:00", "2025-01-06 10:00", "2025-01-07 10:00"],
            "end": ["2025-01-05 11:00", "2025-01-06 10:30", "2025-01-07 10:10"],
            "customers": [100, 50, 20],
        }
    )
    none = R.system_indices(net, o, window=JAN)
    assert none.attrs["customer_base"] == "none" and math_isnan(none.iloc[0]["saifi"])
    cfg = AnalyticsSettings(customers_served=1000, customers_served_feeders={"F1": 400})
    r = R.system_indices(net, o, window=JAN, settings=cfg)
    assert r.attrs["customer_base"] == "config"
    assert r.iloc[0]["customers_served"] == 1000
    assert r.iloc[0]["saifi"] == pytest.approx(170 / 1000)
    assert r.iloc[0]["saidi"] == pytest.approx((100 * 60 + 50 * 30 + 20 * 10) / 1000)
    f = R.indices("feeder", net, o, window=JAN, settings=cfg).set_index("feeder")
    assert list(f.index) == ["F1"]  # F2 has no base anywhere: not shown
    assert f.loc["F1", "customers_served"] == 400
    assert f.loc["F1", "saidi"] == pytest.approx(100 * 60 / 400)


@pytest.mark.parametrize(
    ("rule", "now", "count", "minutes"),
    [
        # A (Jan 31 22:00, 150 customers) open until now; B began Dec 31 20:00 on F1 (150)
        ("start", "2025-01-31 23:00", 1, 150 * 60),
        ("start", "2025-03-01", 1, 150 * 120),  # clipped at the window end
        ("clip", "2025-01-31 23:00", 2, 150 * 60 + 150 * (30 * 24 + 23) * 60),
    ],
)
def test_an014_open_outages_clipped_and_counted(net, rule, now, count, minutes):
    o = pd.DataFrame(
        {
            "outage_id": ["A", "B"],
            "feeder": ["F3", "F1"],
            "start": ["2025-01-31 22:00", "2024-12-31 20:00"],
            "end": [None, None],
        }
    )
    settings = S.replace(period_rule=rule)
    r = R.system_indices(net, o, window=JAN, settings=settings, now=now).iloc[0]
    assert r["open_outages"] == count
    assert r["customer_minutes"] == pytest.approx(minutes)
    f = R.indices("feeder", net, o, window=JAN, settings=settings, now=now).set_index("feeder")
    assert f.loc["F3", "open_outages"] == 1
