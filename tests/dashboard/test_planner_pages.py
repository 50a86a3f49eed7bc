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
    assert "10 kV reconductoring 120" in v["params"] and "Last 365 days" in v["params"]
    assert "导线改造 120" in pr.view("feeder", 365, 1, 0.5, 0.5, "zh", budget=300)["params"]
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
    from dashboard.components.priority_table import project_text
    from dashboard.pages import priorities as pr

    levels = {"feeder": "20 kV", "substation": "110 kV"}
    assert project_text("reconductoring", "en", levels) == "20 kV reconductoring"
    assert pr.level_options("zh", levels)[1]["label"] == "110 kV变电站"


# --- the map --------------------------------------------------------------------------------------
def _feeder_lines(fig):
    """{colour: set of feeders} of the drawn feeder lines, and the legend entries of classes."""
    drawn, legend = {}, {}
    for tr in fig.data:
        if tr.mode == "lines" and tr.customdata is not None and tr.line.color:
            drawn.setdefault(tr.line.color, set()).update(c for c in tr.customdata if c)
            if tr.showlegend:
                legend[tr.line.color] = tr.name
    return drawn, legend


@pytest.mark.parametrize("measure", ["saidi", "score", "low_voltage_days"])
def test_plan010_legend_classes_equal_drawn_lines(app, measure):
    import plotly.graph_objects as go

    from dashboard import data
    from dashboard.pages import map as mp

    fig = go.Figure(mp.update_map(measure, None, 365, ["on"], "en")[0])
    drawn, legend = _feeder_lines(fig)
    values = data.store().feeder_measures(365).set_index("feeder")[measure]
    # every colour drawn has its legend entry, and no legend entry lacks lines; feeders that
    # differ are never all in one colour
    assert set(legend) == set(drawn) and len(drawn) >= min(2, values.dropna().nunique())
    spans = []
    for colour, name in legend.items():
        lo, _, hi = name.partition(" – ")
        digits = len(lo.split(".")[1]) if "." in lo else 0
        lo, hi = float(lo.replace(",", "")), float((hi or lo).replace(",", ""))
        got = values.loc[sorted(drawn[colour])]
        # the legend's range is exactly the range of the feeders drawn in that colour
        assert round(got.min(), digits) == pytest.approx(lo)
        assert round(got.max(), digits) == pytest.approx(hi)
        spans.append((got.min(), got.max()))
    spans.sort()
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))  # classes do not overlap
    labels = sorted(legend.values())
    assert len(set(labels)) == len(labels)
    # the midpoint markers use the same colours (no separate continuous colour bar)
    mids = next(
        tr for tr in fig.data if tr.mode == "markers" and tr.name == fig.layout.legend.title.text
    )
    assert set(mids.marker.color) == set(drawn) and mids.marker.colorbar.title.text is None


def test_plan011_substation_zoom_hover_and_outage_by_feeder(app, county_db):
    import plotly.graph_objects as go

    from dashboard import data
    from dashboard.pages import map as mp

    store = data.store()
    full = go.Figure(mp.update_map("saidi", None, 365, ["on"], "en")[0])
    one = go.Figure(mp.update_map("saidi", "SS02", 365, ["on"], "en")[0])
    lines = store.feeder_lines()
    mine = lines[lines["substation"] == "SS02"]
    xs = [p[0] for parts in mine["lines"] for part in parts for p in part]
    ys = [p[1] for parts in mine["lines"] for part in parts for p in part]
    # zoomed: the view is the substation's feeders (with a margin), and a new uirevision
    assert one.layout.xaxis.range[0] < min(xs) and one.layout.xaxis.range[1] > max(xs)
    assert one.layout.yaxis.range[0] < min(ys) and one.layout.yaxis.range[1] > max(ys)
    assert one.layout.xaxis.range[1] - one.layout.xaxis.range[0] < 0.8 * (
        max(p[0] for parts in lines["lines"] for part in parts for p in part)
        - min(p[0] for parts in lines["lines"] for part in parts for p in part)
    )
    assert full.layout.xaxis.range is None and one.layout.uirevision != full.layout.uirevision
    # the substations are drawn over the lines, and no hoverable line point sits on one
    subs = next(tr for tr in full.data if tr.name == "35 kV substations")
    assert list(full.data).index(subs) > max(
        i for i, tr in enumerate(full.data) if tr.mode == "lines" and tr.customdata is not None
    )
    assert "Feeders" in subs.hovertext[0] or "feeders" in subs.hovertext[0]
    for tr in full.data:
        if tr.mode == "lines" and tr.hoverinfo != "skip" and tr.customdata is not None:
            pts = [(x, y) for x, y in zip(tr.x, tr.y) if x is not None]
            net = store.network()["substations"]
            for sx, sy in zip(net["lon"], net["lat"]):
                assert min(np.hypot(x - sx, y - sy) for x, y in pts) > 1e-4
    # the map's town names are drawn as text on the plain map
    towns = next(tr for tr in full.data if tr.name == "Towns")
    assert towns.mode == "markers+text" and len(towns.text) >= 2
    # an outage with only a feeder id: its feeder is highlighted and marked at its midpoint
    from collectors.pipeline import IngestOptions, Pipeline

    frame = pd.DataFrame(
        [
            {
                "outage_id": "T-NOPOS-1",
                "feeder": "F0203",
                "start": pd.Timestamp.now(tz="UTC").isoformat(),
                "end": None,
                "customers": 12,
                "cause": "weather",
            }
        ]
    )
    Pipeline(county_db[1]).ingest("outages", frame, IngestOptions(source="test"))
    act = store.active()
    row = act[act["outage_id"] == "T-NOPOS-1"].iloc[0]
    assert pd.isna(row["lon"]) if "lon" in row else True  # no position of its own
    fig = go.Figure(mp.update_map("saidi", None, 365, ["on"], "en")[0])
    halo = next(tr for tr in fig.data if tr.name == "Feeder with an outage")
    f0203 = [p for part in lines.set_index("feeder").loc["F0203", "lines"] for p in part]
    halo_pts = {(round(x, 5), round(y, 5)) for x, y in zip(halo.x, halo.y) if x is not None}
    assert {(round(x, 5), round(y, 5)) for x, y in f0203} <= halo_pts
    marks = next(tr for tr in fig.data if tr.name == "Active outages")
    assert "F0203" in list(marks.customdata)
    # restored: the outage ends (the session database is shared)
    frame["end"] = pd.Timestamp.now(tz="UTC").isoformat()
    Pipeline(county_db[1]).ingest("outages", frame, IngestOptions(source="test"))
    assert "T-NOPOS-1" not in set(store.active()["outage_id"])


@pytest.fixture(scope="module")
def network_only(tmp_path_factory):
    """A database holding only a network: no outages, complaints or voltage (a fresh import)."""
    from datetime import date

    from collectors.pipeline import Pipeline
    from collectors.simulator import Simulation
    from collectors.simulator.load import load_network
    from db.engine import make_engine
    from db.migrate import upgrade

    path = tmp_path_factory.mktemp("net") / "net.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_network(
        Pipeline(engine), Simulation(preset="small", seed=1, start=date(2025, 1, 1), days=1)
    )
    yield f"sqlite:///{path}", engine
    engine.dispose()


def test_plan012_map_on_network_without_measures(app, settings, network_only, monkeypatch):
    import plotly.graph_objects as go

    from dashboard import data
    from dashboard.pages import map as mp

    url, engine = network_only
    s = settings.model_copy(update={"database": settings.database.model_copy(update={"url": url})})
    store = data.DataStore(s, engine)
    monkeypatch.setattr(data, "_STORE", store)
    for measure, lacking in (
        ("saidi", "no outages"),
        ("complaints_per_1000", "no complaints"),
        ("low_voltage_days", "no voltage readings"),
        ("score", "no outages, no complaints, no voltage readings"),
    ):
        fig_d, note = mp.update_map(measure, None, 365, ["on"], "en")
        fig = go.Figure(fig_d)
        drawn, legend = _feeder_lines(fig)
        assert set(drawn) == {"#9e9e9e"}  # grey, every feeder
        assert drawn["#9e9e9e"] == set(store.network()["feeders"]["feeder"])
        assert legend == {"#9e9e9e": "no data"}
        assert f"({lacking})" in note and "lines are drawn grey" in note
    zh = mp.update_map("saidi", None, 365, ["on"], "zh")[1]
    assert "无停电记录" in zh
    assert store.degraded is False


def test_plan013_failed_figure_says_so_not_database(app, monkeypatch):
    from dashboard import data
    from dashboard.pages import map as mp

    store = data.store()
    # a network whose feeder geometry cannot be drawn (a line that is not a list of points)
    bad = store.feeder_lines().copy()
    bad["lines"] = [[[["x"]]]] * len(bad)
    monkeypatch.setattr(store, "feeder_lines", lambda: bad)
    fig, note = mp.map_view(store, "saidi", None, 180, [], "en")
    assert "could not be drawn (the data is readable)" in note
    assert "database cannot be read" not in note and store.degraded is False
    assert fig["layout"]["annotations"][0]["text"].startswith("The map could not be drawn")


# --- compression ----------------------------------------------------------------------------------
def test_plan020_responses_compressed(app, settings, county_db, monkeypatch):
    import gzip
    import json as _json
    import re
    import zlib

    from dashboard import data
    from dashboard.server import make_server

    monkeypatch.setattr(data, "_STORE", data.store())  # put back after this server's own
    server = make_server(settings, county_db[1])
    client = server.test_client()
    page = client.get("/priorities", headers={"Accept-Encoding": "gzip"})
    html_text = gzip.decompress(page.data).decode()
    assert page.headers["Content-Encoding"] == "gzip" and "<script" in html_text
    plain = client.get("/priorities", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    # the same page (it carries a per-request token, so compare its scripts)
    assert re.findall(r'src="([^"]+)"', plain.data.decode()) == re.findall(
        r'src="([^"]+)"', html_text
    )
    # the biggest bundle (AG Grid), compressed, decoded equal, and kept compressed
    src = next(s for s in re.findall(r'src="([^"]+)"', html_text) if "dash_ag_grid" in s)
    raw = client.get(src, headers={"Accept-Encoding": "identity"}).data
    gz = client.get(src, headers={"Accept-Encoding": "gzip, deflate"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == raw
    assert len(gz.data) < 0.4 * len(raw)
    cache = server.extensions["feederwatch_compress"].cache
    assert any(k.startswith("gzip;") and "dash_ag_grid" in k for k in cache.data)
    br = client.get(src, headers={"Accept-Encoding": "br"})
    import brotli

    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.data) == raw
    # a callback's JSON answer is compressed too, and never cached (blank key)
    deps = _json.loads(client.get("/_dash-dependencies").data)
    dep = next(d for d in deps if d["output"].startswith("..map-graph.figure"))
    values = {"map-measure.value": "saidi", "map-window.value": 180, "lang-store.data": "en"}
    body = {
        "output": dep["output"],
        "outputs": [
            {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]}
            for o in dep["output"].strip(".").split("...")
        ],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in dep["inputs"]],
        "state": [],
        "changedPropIds": ["map-measure.value"],
    }
    n_cached = len(cache.data)
    resp = client.post("/_dash-update-component", json=body, headers={"Accept-Encoding": "deflate"})
    assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "deflate"
    answer = _json.loads(zlib.decompress(resp.data))
    assert answer["response"]["map-graph"]["figure"]["data"]
    assert len(cache.data) == n_cached


def test_plan030_detail_heatmap_dates_and_formats(app):
    import plotly.graph_objects as go

    from dashboard import data
    from dashboard.components.detail import areas_table, heatmap_figure

    store = data.store()
    net = store.network()
    mine = list(net["transformers"].loc[net["transformers"]["feeder"] == "F0304", "transformer"])
    v = store.voltage_hourly(mine)
    fig = go.Figure(heatmap_figure(v, "zh", store.tz))
    days = pd.to_datetime(list(fig.data[0].x))
    local = v["period_start"].dt.tz_convert(store.tz)
    # real dates (with the year), one column per local day, on a date axis
    assert list(days) == sorted(local.dt.tz_localize(None).dt.normalize().unique())
    assert fig.layout.xaxis.type == "date" and "%Y" in fig.layout.xaxis.tickformat
    figs = pd.DataFrame(
        {
            "transformer": mine,
            "compliance_rate": np.linspace(0.9, 1.0, len(mine)),
            "v_min": 200.0,
            "hours_below": 1.0,
            "low_voltage_days": 0,
        }
    )
    g = areas_table(net, figs, ["F0304"], "zh", "t-grid")
    rates = [r["compliance_rate"] for r in g.rowData]
    assert rates[-1] == "100.00%" and all(
        r.endswith("%") and len(r.split(".")[1]) == 3 for r in rates
    )
    assert {r["kind"] for r in g.rowData} <= {"公用", "专用"}


def test_plan014_classes_never_empty():
    from dashboard.components.map_classes import Classes, value_classes

    cases = ([1.0, 2.0, 10.0], [0, 0, 0, 5, 5, 5], [3.0], [np.nan, 1.0, 1.0], [])
    # most feeders without a low-voltage day: the few with some are not coloured as the rest
    zeros = [0.0] * 17 + [3.0, 29.0, 110.0]
    for values in (*cases, zeros):
        cls, n = value_classes(np.asarray(values, float))
        drawn = cls[cls >= 0]
        assert sorted(set(drawn.tolist())) == list(range(n))  # every class has a member
        # classes are ordered like the values
        v = np.asarray(values, float)[cls >= 0]
        assert all(
            v[drawn == a].max() < v[drawn == b].min() for a in range(n) for b in range(a + 1, n)
        )
    # the feeders at 0 are a class of their own, the one with 110 days is in the top class
    cls, n = value_classes(np.asarray(zeros))
    assert n >= 3 and set(np.asarray(zeros)[cls == 0]) == {0.0} and cls[-1] == n - 1
    # scores a hair above 0 are 0 on the legend: with the zeros, not a class named like them
    scores = np.asarray([0.0] * 10 + [1e-5, 2e-5, 3.0, 8.0, 20.0, 22.5])
    c = Classes.of(scores, "score")
    assert set(c.classes[:12]) == {0} and c.n >= 2
    names = [c.name(k, "en") for k in range(c.n)]
    assert len(set(names)) == len(names), names
    # one decimal reads them apart: a hair above 0 does not make every class "3.0000"
    assert c.legend_digits == 1 and names[0] == "0.0", names
    # neighbouring classes that one decimal cannot tell apart get more
    close = Classes.of(
        np.asarray([0.01, 0.02, 0.03, 0.034, 0.05, 0.06, 0.08, 0.09, 0.1, 0.12]), "x"
    )
    tight = [close.name(k, "en") for k in range(close.n)]
    assert close.legend_digits >= 2 and len(set(tight)) == len(tight), tight
