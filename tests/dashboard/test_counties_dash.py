"""The dashboard by county (issue 19): three simulated counties in one SQLite database. A
county's indices and ranking in the store equal those of a database holding that county alone;
the province's customers out is the sum of the counties'; ``/api/live?county=`` and every
page's callbacks follow the county; one county or none: no selector."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

from tests.conftest import built_once
from tests.counties_kit import COUNTIES, build_database, province_config
from tests.dashboard.conftest import ingest_active_outage

CODES = tuple(c for c, *_ in COUNTIES)
#: active outages added to the province: (outage id, feeder, customers)
ACTIVE = (("A-LC", "LC-F0101", 120), ("A-ZQ", "ZQ-F0201", 250), ("A-PY", "PY-F0302", 40))


def page(name):
    return importlib.import_module(f"dashboard.pages.{name}")


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """(settings, engine) of a copy of the three-county database."""
    from db.engine import make_engine

    path = built_once(tmp_path_factory, "province.db", lambda p: build_database(p, CODES))
    _, settings = province_config(f"sqlite:///{path}", CODES, path.parent)
    engine = make_engine(f"sqlite:///{path}")
    yield settings, engine
    engine.dispose()


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """County code -> (settings, engine) of a database holding that county only."""
    from db.engine import make_engine

    out = {}
    for code in ("LC", "ZQ"):
        path = built_once(
            tmp_path_factory, f"county_{code}.db", lambda p, c=code: build_database(p, (c,))
        )
        _, settings = province_config(f"sqlite:///{path}", (code,), path.parent)
        out[code] = (settings, make_engine(f"sqlite:///{path}"))
    yield out
    for _, engine in out.values():
        engine.dispose()


@pytest.fixture(scope="module")
def server(province):
    """The dashboard's Flask server (pages and /api/live) on the province, with an active
    outage in each county."""
    from dashboard.server import make_server

    settings, engine = province
    for outage_id, feeder, customers in ACTIVE:
        ingest_active_outage(engine, outage_id, feeder, customers, 20, source="oms")
    return make_server(settings, engine)


def test_cty_dash001_county_analysis_equals_that_county_alone(province, alone):
    """Indices (system, per feeder, monthly), MED and the ranking of a county, computed by the
    province's store, equal those of a store on a database of that county alone."""
    from dashboard.data import DataStore

    settings, engine = province
    store = DataStore(settings, engine)
    for code, (own_settings, own_engine) in alone.items():
        own = DataStore(own_settings, own_engine)
        with store.in_county(code) as chosen:
            assert chosen == code
            mine = (
                store.system_indices(),
                store.indices("feeder"),
                store.indices("substation", monthly=True),
                store.ranking("feeder"),
                store.major_event_days()[0],
            )
        theirs = (
            own.system_indices(),
            own.indices("feeder"),
            own.indices("substation", monthly=True),
            own.ranking("feeder"),
            own.major_event_days()[0],
        )
        for a, b in zip(mine, theirs, strict=True):
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
        assert (mine[3]["feeder"].str[:3] == f"{code}-").all()
    # the province is every county's feeders once
    assert len(store.ranking("feeder")) == 3 * len(mine[3])
    with store.in_county("XX") as chosen:  # unknown: the province
        assert chosen is None and len(store.ranking("feeder")) == 3 * len(mine[3])


def test_cty_dash002_live_and_api_by_county(server):
    from dashboard import data

    store = data.store()
    whole = store.live_summary()
    parts = {}
    for code in CODES:
        with store.in_county(code):
            parts[code] = store.live_summary()
    assert whole["customers_out"] == sum(p["customers_out"] for p in parts.values())
    assert whole["active_outages"] == sum(p["active_outages"] for p in parts.values())
    assert {c: p["customers_out"] for c, p in parts.items()} == {"LC": 120, "ZQ": 250, "PY": 40}
    c = server.test_client()
    body = c.get("/api/live?county=ZQ").get_json()
    assert body["county"] == "ZQ" and body["customers_out"] == 250
    assert body["active_outages"] == 1 and body["feeders_affected"] == 1
    province_body = c.get("/api/live").get_json()
    assert "county" not in province_body and province_body["customers_out"] == 410
    r = c.get("/api/live?county=XX")
    assert r.status_code == 404 and "unknown county" in r.get_json()["error"]


def test_cty_dash003_pages_follow_the_county(server):
    live, pri, mp, dp = page("live"), page("priorities"), page("map"), page("data")
    rows = live.update_live(0, "en", None, None, "LC")[5]
    assert [r["outage_id"] for r in rows] == ["A-LC"]
    assert {r["outage_id"] for r in live.update_live(0, "en", None)[5]} == {"A-LC", "A-ZQ", "A-PY"}
    table = pri.update_priorities("feeder", 365, 1, 0.5, 0.5, None, "en", None, "ZQ")[0]
    assert table and {r["feeder"][:3] for r in table} == {"ZQ-"}
    whole = pri.update_priorities("feeder", 365, 1, 0.5, 0.5, None, "en", None, None)[0]
    assert len(whole) == 3 * len(table)
    options, chosen = mp.county_substations("PY", None, "LC-SS01")
    assert {o["value"][:3] for o in options} == {"PY-"} and chosen is None
    rel, fd = page("reliability"), page("feeder")
    body, shown = rel.update_reliability(365, "en", None, ["en", 365], "ZQ")
    assert shown == ["en", 365, "ZQ"]  # the layout drew the whole company: drawn again
    assert rel.update_reliability(365, "en", None, shown, None)[1] == ["en", 365]
    assert str(body) != str(rel.update_reliability(365, "en", None, None, "LC")[0])
    layout = rel.layout(county="PY")
    assert any(getattr(x, "data", None) == ["zh", 365, "PY"] for x in layout._traverse())
    # a detail page of another county's feeder (a shared link): as the whole company sees it
    assert fd.update_feeder("ZQ-F0201", "en", None, None, "LC")[1] == ["en", "ZQ-F0201"]
    assert fd.update_feeder("ZQ-F0201", "en", None, None, "ZQ")[1] == ["en", "ZQ-F0201", "ZQ"]
    sources = str(dp.render_status(0, "en", None, "ZQ")[0])
    assert "sim_zq" in sources and "sim_lc" not in sources and "sim_py" not in sources


def test_cty_dash004_through_the_server(server):
    """A callback request carrying the county store's value (as the browser sends it)."""
    c = server.test_client()

    def live_rows(county):
        body = {
            "output": "..live-kpi-active.children...live-kpi-customers.children...live-kpi-feeders"
            ".children...live-kpi-last-hour.children...live-kpi-longest.children...live-grid"
            ".rowData...live-seen.data..",
            "outputs": [
                {"id": i, "property": p}
                for i, p in (
                    ("live-kpi-active", "children"),
                    ("live-kpi-customers", "children"),
                    ("live-kpi-feeders", "children"),
                    ("live-kpi-last-hour", "children"),
                    ("live-kpi-longest", "children"),
                    ("live-grid", "rowData"),
                    ("live-seen", "data"),
                )
            ],
            "inputs": [
                {"id": "live-tick", "property": "n_intervals", "value": 0},
                {"id": "lang-store", "property": "data", "value": "en"},
                {"id": "county-store", "property": "data", "value": county},
            ],
            "state": [
                {"id": "live-seen", "property": "data", "value": None},
                {"id": "live-looked", "property": "data", "value": None},
            ],
            "changedPropIds": ["county-store.data"],
        }
        r = c.post("/_dash-update-component", json=body)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        return [row["outage_id"] for row in r.get_json()["response"]["live-grid"]["rowData"]]

    assert live_rows("PY") == ["A-PY"]
    assert sorted(live_rows(None)) == ["A-LC", "A-PY", "A-ZQ"]


def test_cty_dash005_selector_only_with_several_counties(server, settings, county_db):
    from dashboard import data
    from dashboard.components.county import asked_county, county_options, with_county

    zh = county_options("zh")
    assert [o["value"] for o in zh] == ["*", "LC", "ZQ", "PY"]
    assert [o["label"] for o in zh] == ["全省（全公司）", "历城区", "章丘区", "平阴县"]
    assert [o["label"] for o in county_options("en")][:2] == ["Whole company", "Licheng"]
    assert asked_county("?county=ZQ&storm=1") == "ZQ" and asked_county("") is None
    assert with_county("?storm=1&county=ZQ", "LC") == "?storm=1&county=LC"
    assert with_county("?county=ZQ", None) == "" and with_county(None, "PY") == "?county=PY"
    data.configure(settings, county_db[1])  # the single simulated county: no counties at all
    assert county_options("en") == [{"label": "Whole company", "value": "*"}]
    assert data.store().county_codes() == []
    with data.store().in_county("LC") as chosen:
        assert chosen is None


@pytest.mark.slow
def test_cty_dash006_the_warmer_keeps_asked_counties_warm(province):
    """A county a page asked for is computed by the warmer for each new version (in the
    analysis process too); a county nobody asked for costs nothing; the live API's does not
    count."""
    from dashboard.data import DataStore
    from dashboard.warmproc import AnalysisProcess

    settings, engine = province
    store = DataStore(settings, engine)
    with store.in_county("PY", remember=False):
        store.live_summary()
    assert store.counties_in_use == set()
    with store.in_county("LC"):
        pass
    assert store.counties_in_use == {"LC"}
    version = store.warm()
    ranked = {
        k[-1][1]
        for k in store.cache.keys(version)
        if k[0] == "ranking" and isinstance(k[-1], tuple)
    }
    assert ranked == {"LC"}
    assert ("ranking", "feeder", 365, ("county", "LC")) in store.cache.keys(version)
    proc = AnalysisProcess(settings, str(engine.url))
    try:
        remote, values = proc.warm({365}, {"ZQ"})
    finally:
        proc.stop()
    assert remote == version
    ranking = values[("ranking", "feeder", 365, ("county", "ZQ"))]
    assert (ranking["feeder"].str[:3] == "ZQ-").all()
    assert not [k for k in values if k[0] == "voltage_daily"]  # stays in the process


@pytest.mark.slow
def test_cty_dash007_a_new_county_waits_for_the_analysis_process_never_computes_here(province):
    """With the analysis in its own process: a county a page asks for for the first time is
    refused at once (AnalysisNotReady, the page's notice), never computed in the server
    where seconds of pandas work would stall every live board; the warmer wakes for it at
    once (not after its pause: 3600 s here) and publishes it; its live board never waits
    (the whole company's restoration-time model, no county model)."""
    import time

    from dash.testing.wait import until

    from dashboard.data import ANALYSIS_KEYS, AnalysisNotReady, DataStore
    from dashboard.warmproc import AnalysisProcess

    settings, engine = province
    store = DataStore(settings, engine)
    proc = AnalysisProcess(settings, str(engine.url))
    store.start_warmer(3600, elsewhere=proc)
    try:
        until(lambda: store.published is not None, timeout=180)
        province_model = store.etr_model()
        assert store.analysis_ready() and not store.analysis_ready("ZQ")
        asked = time.monotonic()
        with store.in_county("ZQ"), pytest.raises(AnalysisNotReady):
            store.ranking("feeder")
        with store.in_county("ZQ"):
            assert store.etr_model() is province_model  # the live board's model: no wait
            assert store.live_summary()["data_version"] == store.latest_version()
        computed = [k for k in store.cache.keys(store.published) if ("county", "ZQ") in k[1:]]
        assert computed and not [k for k in computed if k[0] in ANALYSIS_KEYS]
        until(lambda: store.analysis_ready("ZQ"), timeout=180)
        assert time.monotonic() - asked < 600  # woken for it, not after the 3600 s pause
        with store.in_county("ZQ"):
            ranking = store.ranking("feeder")
        alone = DataStore(settings, engine)
        with alone.in_county("ZQ"):
            pd.testing.assert_frame_equal(ranking, alone.ranking("feeder"))
        assert store.analysis_ready("XX")  # an unknown code is the province
    finally:
        store.stop_warmer()
