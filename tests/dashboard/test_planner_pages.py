"""Issue 18: the planner's pages, called directly on the small simulated county (no browser):
the priorities table's links, explanation, costs and budget cut-line, weight validation,
substation reconciliation, voltage-level titles; the map's legend classes and empty network."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest

COSTS = {
    "reconductor": 120.0,
    "automation": 60.0,
    "tie": 200.0,
    "capacity_35kv": 800.0,
    "substation": 1500.0,
    "split": 150.0,
    "area": 40.0,
}


@pytest.fixture
def costed_store(app, settings, county_db, monkeypatch):
    """The page's store with ``[ranking.costs]`` configured (a real DataStore on the session
    database), put back afterwards."""
    from dashboard import data

    s = settings.model_copy(
        update={"ranking": settings.ranking.model_copy(update={"costs": COSTS})}
    )
    store = data.DataStore(s, county_db[1])
    monkeypatch.setattr(data, "_STORE", store)
    return store


def test_plan001_links_headers_and_explanation(app):
    from dashboard import data
    from dashboard.pages import priorities as pr

    v = pr.view("feeder", 365, 1, 0.5, 0.5, "zh")
    defs = {d["field"]: d for d in v["defs"]}
    # the id columns are links rendered by our own renderer, to the detail pages
    assert defs["feeder"]["cellRenderer"] == "FwLink"
    assert defs["feeder"]["cellRendererParams"] == {"prefix": "/feeder/"}
    assert defs["substation"]["cellRendererParams"] == {"prefix": "/substation/"}
    assert all(d["wrapHeaderText"] and d["headerTooltip"] == d["headerName"] for d in v["defs"])
    assert defs["from_duration"]["headerName"] == "可避免投诉：来自停电时长"
    # no cost columns when no costs are configured
    assert "cost_10k_yuan" not in defs and v["summary"] is None
    ranked = data.store().ranking("feeder", 365)
    for r in v["rows"]:
        src = ranked.set_index("feeder").loc[r["feeder"]]
        # score = Σ weight × term, independently from the analysis output
        terms = (
            src["avoidable_complaints"],
            src["customer_hours_avoided"] / 1000,
            src["lv_customer_hours_removed"] / 1000,
        )
        want = 1 * terms[0] + 0.5 * terms[1] + 0.5 * terms[2]
        assert r["score"] == pytest.approx(want, abs=1e-3)
        left, total = r["explain"].split(" = ")
        assert float(total.replace(",", "")) == pytest.approx(want, abs=0.006)
        shown = [p.split("×") for p in left.split(" + ")]
        assert [float(w) for w, _ in shown] == [1, 0.5, 0.5]
        assert [float(x.replace(",", "")) for _, x in shown] == pytest.approx(terms, abs=0.006)
        drivers = sum(src[d] for d in data.DRIVERS)
        assert src["avoidable_complaints"] == pytest.approx(drivers, rel=1e-9, abs=1e-9)
    assert "0.5 × 可避免停电户时" in v["formula"]


@pytest.mark.parametrize("bad", [(-1, 0.5, 0.5), (1, None, 0.5), (1, 0.5, "x")])
def test_plan002_weights_refused_with_one_message(app, bad):
    from dashboard.pages import priorities as pr

    out = pr.update_priorities("feeder", 365, *bad, None, "en")
    rows, defs, message, *rest = out
    assert rows is pr.no_update and defs is pr.no_update
    assert "Weights must be numbers of 0 or more" in str(message.children)
    zh = pr.update_priorities("feeder", 365, *bad, None, "zh")[2]
    assert "权重须为不小于0的数字" in zh.children


def test_plan003_costs_budget_cut_line(costed_store):
    from dashboard.pages import priorities as pr

    v = pr.view("feeder", 365, 1, 0.5, 0.5, "en", budget=300)
    defs = [d["field"] for d in v["defs"]]
    assert {"cost_10k_yuan", "avoided_per_10k_yuan", "budget"} <= set(defs)
    rows = v["rows"]
    # independent greedy: best score per cost first, take what still fits in 300
    cands = sorted(
        (r for r in rows if r["cost_10k_yuan"] and r["score"] > 0),
        key=lambda r: (-r["score"] / r["cost_10k_yuan"], r["rank"]),
    )
    left, want = 300.0, []
    for r in cands:
        if r["cost_10k_yuan"] <= left:
            want.append(r["feeder"])
            left -= r["cost_10k_yuan"]
    chosen = [r["feeder"] for r in rows if r["in_budget"]]
    assert chosen == want and 0 < len(want) < len(rows)
    assert [r["budget_order"] for r in rows if r["in_budget"]] == list(range(1, len(want) + 1))
    assert sum(r["cut_line"] for r in rows) == 1 and rows[len(want) - 1]["cut_line"]
    for r in rows:
        if r["cost_10k_yuan"]:
            assert r["avoided_per_10k_yuan"] == pytest.approx(
                r["avoidable_complaints"] / r["cost_10k_yuan"], abs=2e-3
            )
    cost = sum(r["cost_10k_yuan"] for r in rows if r["in_budget"])
    assert f"costing {cost:,.0f}" in v["summary"] and cost <= 300
    assert "reconductoring 120" in v["params"] or "costs (10,000 yuan)" in v["params"]
    # exports carry window, weights and costs
    out = pr.export_payload(
        "csv", rows[:5], "feeder", "en", pr.export_params(365, 1, 0.5, 0.5, "en")
    )
    back = pd.read_csv(io.StringIO(out["content"].lstrip("\ufeff")))
    assert set(back["Window"]) == {"Last 365 days"}
    assert set(back["Weights (complaints/hours/low voltage)"]) == {"1 / 0.5 / 0.5"}
    assert "reconductor=120" in back["Costs used"].iloc[0]
    assert back["Cost (10,000 yuan)"].notna().all()
    x = pr.export_payload(
        "xlsx", rows[:5], "feeder", "zh", pr.export_params(365, 1, 0.5, 0.5, "zh")
    )
    sheet = pd.read_excel(io.BytesIO(base64.b64decode(x["content"])))
    assert set(sheet["统计窗口"]) == {"近365天"} and list(sheet["线路"]) == [
        r["feeder"] for r in rows[:5]
    ]
    # a negative budget: a message, no cut-line
    neg = pr.view("feeder", 365, 1, 0.5, 0.5, "en", budget=-5)
    assert "budget must be" in str(neg["message"].children)
    assert not any(r["in_budget"] for r in neg["rows"])


def test_plan004_substation_reconciled_with_its_feeders(app):
    from dashboard import data
    from dashboard.pages import priorities as pr

    v = pr.view("substation", 365, 1, 0.5, 0.5, "en")
    feeders = data.store().ranking("feeder", 365)
    for r in v["rows"]:
        own = feeders.loc[feeders["substation"] == r["substation"], "avoidable_complaints"].sum()
        assert r["feeders_avoidable"] == pytest.approx(own, abs=1e-3)
        assert r["total_avoidable"] == pytest.approx(r["avoidable_complaints"] + own, abs=2e-3)
    assert "never twice" in v["sub_note"]
    assert pr.clear_filter("substation") == {}


def test_plan005_titles_follow_voltage_levels(app):
    from dashboard.components.common import voltage_levels

    net = {
        "feeders": pd.DataFrame({"voltage_kv": [20.0, 20.0, np.nan]}),
        "substations": pd.DataFrame({"voltage_kv": [110.0, 66.0]}),
    }
    assert voltage_levels(net) == {"feeder": "20 kV", "substation": "66/110 kV"}
    assert voltage_levels({}) == {"feeder": "10 kV", "substation": "35 kV"}
    from dashboard.pages import priorities as pr

    levels = {"feeder": "20 kV", "substation": "110 kV"}
    assert pr.project_text("reconductoring", "en", levels) == "20 kV reconductoring"
    assert pr.level_options("zh", levels)[1]["label"] == "110 kV变电站"
