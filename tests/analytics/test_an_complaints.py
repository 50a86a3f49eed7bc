"""Frequent outages, complaint classification and matching, attribution and EB rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import complaints as C

NET = {
    "substations": pd.DataFrame({"substation": ["S1"]}),
    "feeders": pd.DataFrame({"feeder": ["F1", "F2"], "substation": ["S1", "S1"]}),
    "transformers": pd.DataFrame(
        {
            "transformer": ["T1", "T2", "T3"],
            "feeder": ["F1", "F1", "F2"],
            "customers": [100, 50, 80],
            "kind": ["public"] * 3,
            "town": ["城关镇", "城关镇", "柳林镇"],
            "address": ["城关镇人民路1号", "城关镇人民路12号", "柳林镇王庄村"],
        }
    ),
}
OUT = pd.DataFrame(
    {
        "outage_id": ["O1", "O2", "O3", "O4"],
        "level": ["feeder", "feeder", "feeder", "transformer"],
        "feeder": ["F1", "F1", "F1", "F1"],
        "transformer": [None, None, None, "T1"],
        "start": ["2025-01-05 10:00", "2025-02-10 09:00", "2025-02-20 08:00", "2025-02-25 14:00"],
        "end": ["2025-01-05 11:00", "2025-02-10 09:03", "2025-02-20 12:00", "2025-02-25 15:00"],
        "planned": [False, False, True, False],
    }
)


def test_an301_frequent_feeder():
    f = C.frequent_outages(NET, OUT, asof="2025-03-01", level="feeder").set_index("feeder")
    # O1 and planned O3 count; O2 is momentary; O4 is an area outage
    assert f.loc["F1", "outages_window"] == 2
    assert not f.loc["F1", "frequent"]
    assert f.loc["F1", "outages_until_frequent"] == 1
    assert f.loc["F1", "age_out_dates"] == ["2025-03-06", "2025-04-21"]
    assert f.loc["F2", "outages_until_frequent"] == 3
    f2 = C.frequent_outages(NET, OUT, asof="2025-03-07", level="feeder").set_index("feeder")
    assert f2.loc["F1", "outages_window"] == 1  # O1 aged out on 2025-03-06


def test_an302_frequent_area():
    a = C.frequent_outages(NET, OUT, asof="2025-03-01", level="area").set_index("transformer")
    assert a.loc["T1", "outages_window"] == 3  # O1, O3, O4
    assert a.loc["T1", "outages_year"] == 3
    assert not a.loc["T1", "frequent"]
    assert a.loc["T1", "outages_until_frequent"] == 1  # a 4th in 60 days makes it > 3
    assert a.loc["T2", "outages_window"] == 2
    assert a.loc["T3", "outages_until_frequent"] == 4


def test_an303_classify_and_match():
    tickets = pd.DataFrame(
        {
            "ticket_id": ["K1", "K2", "K3", "K4", "K5", "K6", "K7"],
            "time": [
                "2025-01-05 10:20",
                "2025-01-05 10:40",
                "2025-01-06 09:00",
                "2025-01-07 09:00",
                "2025-01-08 09:00",
                "2025-01-09 09:00",
                "2025-03-03 20:00",
            ],
            "category": ["outage", "outage", "billing", "other", "low_voltage", "outage", "outage"],
            "transformer": ["T1", "T1", "T2", None, None, None, "T3"],
            "feeder": [None, None, None, None, None, None, None],
            "town": [None, None, None, "城关镇", "城关镇", "某镇", None],
            "address": [None, None, None, "城关镇人民路1号", "城关镇人民路12号", "不知道", None],
            "merged_into": [None, "K1", None, None, None, None, None],
            "text": ["停电", "又打来", "电费有疑问", "表后线路烧了", "电压低", "停电", "停电"],
        }
    )
    c = C.classify_complaints(tickets, network=NET, outages=OUT).set_index("ticket_id")
    assert list(c["match"]) == [
        "transformer",
        "transformer",
        "transformer",
        "address",
        "address",
        "unmatched",
        "transformer",
    ]
    assert c.loc["K4", "area"] == "T1"
    assert c.loc["K5", "area"] == "T2"  # exact address wins over the 人民路1号 prefix
    assert c.loc["K5", "feeder_matched"] == "F1"
    assert c.loc["K6", "area"] is None  # unmatched but kept and counted
    assert bool(c.loc["K6", "counted"])
    assert bool(c.loc["K2", "repeat"]) and not bool(c.loc["K2", "counted"])
    assert c.loc["K3", "reason"] == "category"
    assert c.loc["K4", "reason"] == "keyword"
    assert c.loc["K1", "outage_match"] == 1.0
    assert c.loc["K7", "outage_match"] == 0.0  # T3 (F2) had no outage
    assert int(c["counted"].sum()) == 4  # K1, K5, K6, K7
    s = C.complaint_summary(c.reset_index(), by="feeder").set_index("feeder")
    assert s.loc["(unmatched)", "tickets"] == 1
    assert s["tickets"].sum() == 7


def test_an304_require_matching_event_and_given_flag():
    from analytics.settings import AnalyticsSettings

    tickets = pd.DataFrame(
        {
            "ticket_id": ["A", "B"],
            "time": ["2025-03-03 20:00", "2025-03-03 20:00"],
            "category": ["outage", "billing"],
            "transformer": ["T3", "T3"],
            "reasonable": [None, True],
        }
    )
    c = C.classify_complaints(
        tickets, network=NET, outages=OUT, settings=AnalyticsSettings(require_matching_event=True)
    ).set_index("ticket_id")
    assert c.loc["A", "reason"] == "no_matching_outage"
    assert not bool(c.loc["A", "reasonable"])
    assert bool(c.loc["B", "reasonable"])  # the source's flag wins over the category rule


def test_an305_attribution_recovers_coefficients():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(0, 10, (400, 3)), columns=["customers", "ci", "lvh"])
    y = X.to_numpy() @ np.array([0.5, 0.0, 2.0])
    rows, coef, gof = C.attribute(X, y, ["customers", "ci", "lvh"])
    c = coef.set_index("driver")["coefficient"]
    assert c["customers"] == pytest.approx(0.5, abs=1e-3)
    assert c["ci"] == pytest.approx(0.0, abs=1e-3)
    assert c["lvh"] == pytest.approx(2.0, abs=1e-3)
    assert (coef["coefficient"] >= 0).all()
    assert coef["share"].sum() == pytest.approx(1.0)
    assert gof["r2"] == pytest.approx(1.0, abs=1e-6)
    assert rows["expected"].to_numpy() == pytest.approx(y, rel=1e-3)


def test_an306_attribution_nonnegative_when_a_driver_hurts():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(0, 10, (300, 2)), columns=["a", "b"])
    y = rng.poisson(np.maximum(3 * X["a"] - 0.5 * X["b"], 0.1))
    _, coef, _ = C.attribute(X, y, ["a", "b"])
    assert (coef["coefficient"] >= 0).all()


def test_an307_shrink_rates():
    flat = C.shrink_rates(np.array([2.0, 2.0, 2.0, 2.0]), np.ones(4))
    assert flat.rate == pytest.approx([2.0, 2.0, 2.0, 2.0], rel=1e-6)
    rng = np.random.default_rng(2)
    true = rng.gamma(2.0, 1.0, 500)
    y = rng.poisson(true * 2.0)
    r = C.shrink_rates(y, np.full(500, 2.0))
    assert 0 < r.weight.min() <= r.weight.max() < 1
    # the posterior is closer to the truth than the raw rate on average
    assert np.mean((r.rate - true) ** 2) < np.mean((y / 2.0 - true) ** 2)


def test_an320_unreasonable_keywords_on_real_311_tickets():
    """The keyword rule on a city's real service requests (DC 311, 2016; tests/data/real):
    keywords holding regex metacharacters (".", "(", "+") match as plain, case-sensitive
    substrings, as a substring search done here finds them; a refused category wins over a
    keyword."""
    from analytics.settings import AnalyticsSettings
    from tests.conftest import ROOT

    raw = pd.read_csv(ROOT / "tests/data/real/dc-311-requests/dc_311-2016_100.csv")
    tickets = pd.DataFrame(
        {
            "ticket_id": raw["SERVICEREQUESTID"],
            "time": raw["ADDDATE"],
            "category": raw["SERVICECODEDESCRIPTION"],
            "text": raw["SERVICENOTES"],
        }
    )
    keywords = ("rat burrows", "(", "St.", "a+b", "Closed")
    refused = "parking meter repair"
    s = AnalyticsSettings(unreasonable_keywords=keywords, unreasonable_categories=(refused,))
    c = C.classify_complaints(tickets, network=NET, settings=s)
    notes = [str(v).strip() if isinstance(v, str) else "" for v in raw["SERVICENOTES"]]
    by_keyword = [any(k in n for k in keywords) for n in notes]
    by_category = [str(v).strip().lower() == refused for v in raw["SERVICECODEDESCRIPTION"]]
    want = [
        "category" if cat else "keyword" if kw else ""
        for cat, kw in zip(by_category, by_keyword, strict=True)
    ]
    assert c["reason"].tolist() == want
    # the real notes exercise both rules and leave tickets untouched
    assert 0 < sum(w == "keyword" for w in want) < len(want)
    assert any(by_category) and "" in want
