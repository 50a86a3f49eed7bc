"""The header's county selector in a real Chromium (dash_duo, issue 19): three simulated
counties, an active outage in each; choosing a county changes the live board and the
priorities table, in Chinese and in English, and the choice follows the user across pages."""

from __future__ import annotations

import pytest
from dash.testing.wait import until

from tests.conftest import built_once, chromium_available, require
from tests.counties_kit import COUNTIES, build_database, province_config
from tests.dashboard.conftest import ingest_active_outage

pytestmark = pytest.mark.browser

CODES = tuple(c for c, *_ in COUNTIES)
ACTIVE = (("B-LC", "LC-F0101", 120), ("B-ZQ", "ZQ-F0201", 250), ("B-PY", "PY-F0302", 40))


@pytest.fixture(scope="module")
def province_app(tmp_path_factory):
    from dashboard.app import create_app
    from db.engine import make_engine

    path = built_once(tmp_path_factory, "province.db", lambda p: build_database(p, CODES))
    _, settings = province_config(f"sqlite:///{path}", CODES, path.parent)
    fast = settings.model_copy(
        update={"dashboard": settings.dashboard.model_copy(update={"refresh_seconds": 1})}
    )
    engine = make_engine(f"sqlite:///{path}")
    for outage_id, feeder, customers in ACTIVE:
        ingest_active_outage(engine, outage_id, feeder, customers, 15, source="oms")
    yield create_app(fast, engine)
    engine.dispose()


def _rows(dash_duo, grid_id):
    return dash_duo.driver.execute_script(
        "const api = dash_ag_grid.getApi(arguments[0]); const out = [];"
        "api.forEachNodeAfterFilterAndSort(n => out.push(n.data)); return out;",
        grid_id,
    )


def _prefixes(dash_duo, grid_id, column):
    return {r[column][:3] for r in _rows(dash_duo, grid_id)}


def test_cty_browser001_switch_county_in_zh_and_en(dash_duo, province_app):
    require(chromium_available(), "chromium not installed")
    dash_duo.start_server(province_app)
    dash_duo.wait_for_text_to_equal("#live-kpi-customers", "410", timeout=20)
    until(lambda: dash_duo.find_element("#county-box").is_displayed(), timeout=10)
    dash_duo.wait_for_contains_text("#county-box", "全省", timeout=10)

    # zh: 章丘区 -> its outage alone on the board
    dash_duo.select_dcc_dropdown("#county-switch", "章丘区")
    dash_duo.wait_for_text_to_equal("#live-kpi-customers", "250", timeout=10)
    until(lambda: [r["outage_id"] for r in _rows(dash_duo, "live-grid")] == ["B-ZQ"], timeout=10)

    # the priorities page keeps the county: only its feeders are ranked
    dash_duo.find_element("a[href='/priorities']").click()
    dash_duo.wait_for_element("#pri-grid .ag-row", timeout=20)
    until(lambda: _prefixes(dash_duo, "pri-grid", "feeder") == {"ZQ-"}, timeout=20)
    zq_rows = len(_rows(dash_duo, "pri-grid"))

    # en: the selector speaks English; Licheng -> its feeders
    dash_duo.find_element("#lang-switch input[value='en']").click()
    dash_duo.wait_for_contains_text("#county-box", "Zhangqiu", timeout=10)
    dash_duo.select_dcc_dropdown("#county-switch", "Licheng")
    until(lambda: _prefixes(dash_duo, "pri-grid", "feeder") == {"LC-"}, timeout=20)
    assert len(_rows(dash_duo, "pri-grid")) == zq_rows  # same preset: as many feeders

    # a fresh load of a page without ?county= shows the tab's choice: Licheng's outage
    dash_duo.wait_for_page(url=dash_duo.server_url + "/")
    dash_duo.wait_for_text_to_equal("#live-kpi-customers", "120", timeout=20)
    dash_duo.wait_for_contains_text("#county-box", "Licheng", timeout=10)
    dash_duo.wait_for_contains_text("#live-kpis", "Customers out", timeout=10)
    dash_duo.select_dcc_dropdown("#county-switch", "Whole company")
    dash_duo.wait_for_text_to_equal("#live-kpi-customers", "410", timeout=10)
    until(lambda: len(_rows(dash_duo, "live-grid")) == 3, timeout=10)

    # a link to one county's board: the address's ?county= sets the choice
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?county=PY")
    dash_duo.wait_for_text_to_equal("#live-kpi-customers", "40", timeout=20)
    dash_duo.wait_for_contains_text("#county-box", "Pingyin", timeout=10)
