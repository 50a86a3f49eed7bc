"""Browser tests in a real headless Chromium (dash_duo; ../shared/BROWSER_TESTS.md). They skip
without Chromium and fail under CI=true. Screenshots of each page go to docs/screenshots/."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.conftest import chromium_available, require
from tests.dashboard.conftest import ingest_active_outage

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {
    "live": "/",
    "map": "/map",
    "priorities": "/priorities",
    "feeder": "/feeder/F0304",
    "substation": "/substation/SS03",
    "reliability": "/reliability",
    "data": "/data",
}
# what shows that each page has finished drawing
READY = {
    "live": "#live-trend .main-svg",
    "map": "#map-graph .scatterlayer .trace",
    "priorities": "#pri-bars .main-svg",
    "feeder": "#feeder-body .main-svg",
    "substation": "#sub-body .main-svg",
    "reliability": "#rel-body .main-svg",
    "data": "#data-counts table",
}


@pytest.fixture
def browser_app(app, settings, county_db, tmp_path):
    """A fresh app (1 s refresh) on the session database, which has active outages, with the
    simulated county's roads as a local base layer (as `feederwatch demo` draws them)."""
    from collectors.simulator import Simulation
    from dashboard.app import create_app

    roads = Simulation(preset="small", seed=1, start=date(2025, 1, 1), days=1).roads()
    (tmp_path / "roads.geojson").write_text(json.dumps(roads), encoding="utf-8")
    fast = settings.model_copy(
        update={
            "dashboard": settings.dashboard.model_copy(
                update={"refresh_seconds": 1, "base_layers": [str(tmp_path / "roads.geojson")]}
            )
        }
    )
    return create_app(fast, county_db[1])


def _start(dash_duo, app, path="/"):
    require(chromium_available(), "chromium not installed")
    dash_duo.start_server(app)
    if path != "/":
        dash_duo.wait_for_page(url=dash_duo.server_url + path)
    return dash_duo


def _grid_rows(dash_duo, grid_id):
    """The grid's rows in display order after its sort and filter (AG Grid API)."""
    return dash_duo.driver.execute_script(
        "const api = dash_ag_grid.getApi(arguments[0]); const out = [];"
        "api.forEachNodeAfterFilterAndSort(n => out.push(n.data)); return out;",
        grid_id,
    )


def test_live001_count_changes_without_reload(dash_duo, browser_app, county_db):
    require(chromium_available(), "chromium not installed")
    _start(dash_duo, browser_app)
    dash_duo.wait_for_element("#live-kpi-active")
    dash_duo.wait_for_element(".ag-row")
    dash_duo.driver.execute_script("window.__marker = 'no reload';")
    # the user's own sort and filter: refreshes replace rowData only, so both must survive
    dash_duo.driver.execute_script(
        "const api = dash_ag_grid.getApi('live-grid');"
        "api.applyColumnState({state: [{colId: 'customers', sort: 'asc'}],"
        " defaultState: {sort: null}});"
        "api.setFilterModel({customers: {filterType: 'number', type: 'greaterThan', filter: 50}});"
    )
    before = int(dash_duo.find_element("#live-kpi-active").text)
    ingest_active_outage(county_db[1], "BROWSER-NEW-1", "F0103", 55, 2)
    dash_duo.wait_for_text_to_equal("#live-kpi-active", str(before + 1), timeout=10)
    assert dash_duo.driver.execute_script("return window.__marker") == "no reload"
    until(
        lambda: "BROWSER-NEW-1" in [r["outage_id"] for r in _grid_rows(dash_duo, "live-grid")],
        timeout=5,
    )
    state = dash_duo.driver.execute_script(
        "const api = dash_ag_grid.getApi('live-grid');"
        "return [api.getColumnState().filter(c => c.sort).map(c => [c.colId, c.sort]),"
        " Object.keys(api.getFilterModel())];"
    )
    assert state == [[["customers", "asc"]], ["customers"]]
    shown = [r["customers"] for r in _grid_rows(dash_duo, "live-grid")]
    assert shown == sorted(shown) and min(shown) > 50
    dash_duo.wait_for_element(".row-new")
    ids = [r["outage_id"] for r in _grid_rows(dash_duo, "live-grid")]
    assert "BROWSER-NEW-1" in ids


def test_map001_every_feeder_drawn_and_click_opens_detail(dash_duo, browser_app):
    from dashboard import data

    _start(dash_duo, browser_app, "/map")
    dash_duo.wait_for_element("#map-graph .scatterlayer .trace", timeout=15)
    feeders = set(data.store().network()["feeders"]["feeder"])
    drawn = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#map-graph .js-plotly-plot');"
        "const s = new Set(); gd.data.forEach(t => { if (t.mode === 'lines')"
        " (t.customdata || []).forEach(c => c && s.add(c)); }); return Array.from(s);"
    )
    assert set(drawn) == feeders
    # click the midpoint marker of a feeder at its pixel position: the one farthest from any
    # other feeder's or substation's point, so that the closest point is surely its own
    target = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#map-graph .js-plotly-plot');"
        "const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;"
        "const px = (x, y) => [xa._offset + xa.l2p(x), ya._offset + ya.l2p(y)];"
        "const arr = v => Array.from(v || []);"  # decoded (typed) arrays of the drawn traces
        "const data = gd._fullData.map(t => ({mode: t.mode, x: arr(t.x), y: arr(t.y),"
        " customdata: t.customdata ? arr(t.customdata) : null}));"
        "const mids = data.find(t => t.mode === 'markers' && (t.customdata || [])[0]"
        " && String(t.customdata[0]).startsWith('F'));"
        "const others = [];"
        "data.forEach(t => { if (t === mids || !t.customdata) return;"
        "  t.x.forEach((x, i) => { if (x !== null && !Number.isNaN(x))"
        "    others.push([px(x, t.y[i]), t.customdata[i]]); }); });"
        "let best = null;"
        "mids.x.forEach((x, i) => { const p = px(x, mids.y[i]); let d = Infinity;"
        "  others.forEach(([q, id]) => { if (id !== mids.customdata[i])"
        "    d = Math.min(d, Math.hypot(q[0] - p[0], q[1] - p[1])); });"
        "  if (!best || d > best.d) best = {d: d, id: mids.customdata[i], p: p}; });"
        "const r = gd.getBoundingClientRect();"
        "return {id: best.id, x: r.left + best.p[0], y: r.top + best.p[1], d: best.d};"
    )
    assert target["d"] > 10, target  # pixels to the nearest other point
    # a real mouse click at that viewport position (browser-level input events)
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        dash_duo.driver.execute_cdp_cmd(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": target["x"], "y": target["y"], "button": "left", "clickCount": 1},
        )
    dash_duo.wait_for_contains_text("h1", target["id"], timeout=10)
    assert urlparse(dash_duo.driver.current_url).path == f"/feeder/{target['id']}"
    dash_duo.wait_for_element("#feeder-body .main-svg", timeout=10)


def test_pri001_weight_change_reranks_and_export_equals_table(dash_duo, browser_app):
    _start(dash_duo, browser_app, "/priorities")
    dash_duo.wait_for_element("#pri-grid .ag-row", timeout=10)
    first = [r["feeder"] for r in _grid_rows(dash_duo, "pri-grid")]
    for weight_id, value in (("pri-w-complaints", "0"), ("pri-w-hours", "0"), ("pri-w-lv", "5")):
        box = dash_duo.find_element(f"#{weight_id}")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(value, Keys.ENTER)
    until(lambda: [r["feeder"] for r in _grid_rows(dash_duo, "pri-grid")] != first, timeout=10)
    rows = _grid_rows(dash_duo, "pri-grid")
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    # filter the table to one substation, then export: the file holds exactly those rows
    dash_duo.driver.execute_script(
        "dash_ag_grid.getApi('pri-grid').setFilterModel("
        "{substation: {filterType: 'text', type: 'equals', filter: 'SS02'}});"
    )
    until(
        lambda: {r["substation"] for r in _grid_rows(dash_duo, "pri-grid")} == {"SS02"}, timeout=5
    )
    shown = _grid_rows(dash_duo, "pri-grid")
    dash_duo.find_element("#pri-export-csv").click()
    target = Path(dash_duo.download_path) / "priorities_feeder.csv"
    until(lambda: target.exists() and target.stat().st_size > 0, timeout=10)
    with target.open(encoding="utf-8-sig") as fh:
        exported = list(csv.DictReader(fh))
    header = "线路" if "线路" in exported[0] else "Feeder"
    assert [r[header] for r in exported] == [r["feeder"] for r in shown]
    assert len(exported) == len(shown) < 20


def test_lang001_switch_changes_labels_and_is_remembered(dash_duo, browser_app):
    _start(dash_duo, browser_app)
    dash_duo.wait_for_element("#live-kpi-active")
    dash_duo.wait_for_contains_text("#nav", "实时停电")
    dash_duo.find_element("#lang-switch input[value='en']").click()
    dash_duo.wait_for_contains_text("#nav", "Live", timeout=5)
    dash_duo.wait_for_contains_text("#live-kpis", "Customers out", timeout=5)
    until(lambda: "Feeder" in dash_duo.find_element("#live-grid").text, timeout=5)
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#live-kpis", "Customers out", timeout=10)
    dash_duo.find_element("#lang-switch input[value='zh']").click()
    dash_duo.wait_for_contains_text("#live-kpis", "停电户数", timeout=5)


def test_offline001_no_foreign_host_and_screenshots(dash_duo, browser_app):
    """With the default config no page requests any host but the server's own (from the
    browser's network log), each page loads plotly.js once, the vendored cartesian bundle
    (preloaded, run by assets/fw-locale.js; never Dash's full one), and each page is saved as
    a 1366×900 screenshot."""
    from selenium import webdriver
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.conftest import pytest_setup_options

    _start(dash_duo, browser_app)
    own = urlparse(dash_duo.server_url).netloc
    # dash.testing overrides goog:loggingPrefs on its own driver: use one with the network log
    driver = webdriver.Chrome(options=pytest_setup_options())
    try:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        # screenshots in English: build machines often lack CJK fonts (the page itself only
        # names system fonts, never downloads one)
        driver.get(dash_duo.server_url + "/")
        driver.execute_script("localStorage.setItem('lang-store', JSON.stringify('en'));")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        foreign = []
        driver.get_log("performance")  # drop the start-up noise before our first page
        for name, path in PAGES.items():
            driver.get(dash_duo.server_url + path)
            WebDriverWait(driver, 20).until(
                lambda d, sel=READY[name]: d.find_elements(By.CSS_SELECTOR, sel)
            )
            # let late requests (tiles, fonts) happen, then wait until the page settles
            WebDriverWait(driver, 10).until(
                lambda d: d.execute_script(
                    "return !document.querySelector('._dash-loading-callback') &&"
                    " !document.querySelector('[data-dash-is-loading=\"true\"]')"
                )
            )
            driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
            plotly_js = []
            for entry in driver.get_log("performance"):
                msg = json.loads(entry["message"])["message"]
                if msg["method"] != "Network.requestWillBeSent":
                    continue
                url = msg["params"]["request"]["url"]
                parsed = urlparse(url)
                if "plotly" in parsed.path:
                    plotly_js.append(parsed.path)
                # chrome:// and the like are the browser's own pages, not the network
                if parsed.scheme not in ("http", "https", "ws", "wss") or parsed.netloc == own:
                    continue
                foreign.append((name, url))
            assert plotly_js == ["/assets/vendor/plotly-cartesian.min.js"], (name, plotly_js)
            assert driver.execute_script("return !!(window.Plotly && window.Plotly.__fwLocale)")
        assert foreign == []
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()
