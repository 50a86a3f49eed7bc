"""Issue 18 in a real headless Chromium: from a ranked row to its feeder page, and from the map
to a substation (../shared/BROWSER_TESTS.md)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlparse

import pytest
from dash.testing.wait import until

from tests.dashboard.test_dash_browser import _grid_rows, _start, browser_app  # noqa: F401

pytestmark = pytest.mark.browser


def test_plan101_ranked_row_link_and_click_open_feeder(dash_duo, browser_app):  # noqa: F811
    from dashboard import data

    _start(dash_duo, browser_app, "/priorities")
    dash_duo.wait_for_element("#pri-grid .ag-row", timeout=15)
    rows = _grid_rows(dash_duo, "pri-grid")
    first = rows[0]["feeder"]
    # the feeder cell holds a real link (it was an empty markdown div)
    link = dash_duo.find_element(
        "#pri-grid .ag-pinned-left-cols-container .ag-row[row-index='0'] a.fw-link"
    )
    assert link.text == first and link.get_attribute("href").endswith(f"/feeder/{first}")
    # the explanation cell is visible text, not empty
    cell = dash_duo.find_element("#pri-grid .ag-row[row-index='0'] [col-id='explain']")
    assert " = " in cell.text and "×" in cell.text
    # a filter on feeders does not carry over to the substation level
    dash_duo.driver.execute_script(
        "dash_ag_grid.getApi('pri-grid').setFilterModel("
        "{substation: {filterType: 'text', type: 'equals', filter: 'SS02'}});"
    )
    until(lambda: {r["substation"] for r in _grid_rows(dash_duo, "pri-grid")} == {"SS02"}, 5)
    dash_duo.find_element("#pri-level input[value='substation']").click()
    n_subs = len(data.store().network()["substations"])
    until(lambda: len(_grid_rows(dash_duo, "pri-grid")) == n_subs, timeout=10)
    assert all("feeder" not in r for r in _grid_rows(dash_duo, "pri-grid"))
    dash_duo.find_element("#pri-level input[value='feeder']").click()
    until(lambda: len(_grid_rows(dash_duo, "pri-grid")) == len(rows), timeout=10)
    # a click on another cell of the row opens the same page
    dash_duo.find_element("#pri-grid .ag-row[row-index='0'] [col-id='score']").click()
    dash_duo.wait_for_contains_text("h1", first, timeout=10)
    assert urlparse(dash_duo.driver.current_url).path == f"/feeder/{first}"


def test_plan102_map_substation_hover_and_click(dash_duo, browser_app):  # noqa: F811
    _start(dash_duo, browser_app, "/map")
    dash_duo.wait_for_element("#map-graph .scatterlayer .trace", timeout=15)
    # the map fills the window below the controls (not a fixed 640 px)
    height = dash_duo.driver.execute_script(
        "return document.querySelector('#map-graph').getBoundingClientRect().height"
    )
    inner = dash_duo.driver.execute_script("return window.innerHeight")
    assert abs(height - max(420, inner - 250)) < 5, (height, inner)
    target = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#map-graph .js-plotly-plot');"
        "const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;"
        "const i = gd._fullData.findIndex(t => t.mode === 'markers' && t.customdata"
        " && String(Array.from(t.customdata)[0]).startsWith('SS'));"
        "const t = gd._fullData[i], xs = Array.from(t.x), ys = Array.from(t.y);"
        "const r = gd.getBoundingClientRect();"
        "return {id: Array.from(t.customdata)[0],"
        " x: r.left + xa._offset + xa.l2p(xs[0]), y: r.top + ya._offset + ya.l2p(ys[0])};"
    )
    for kind in ("mouseMoved",):
        dash_duo.driver.execute_cdp_cmd(
            "Input.dispatchMouseEvent", {"type": kind, "x": target["x"], "y": target["y"]}
        )
    # the hover card is the substation's own
    until(
        lambda: (
            target["id"]
            in " ".join(e.text for e in dash_duo.find_elements("#map-graph .hoverlayer .hovertext"))
        ),
        timeout=5,
    )
    for kind in ("mousePressed", "mouseReleased"):
        dash_duo.driver.execute_cdp_cmd(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": target["x"], "y": target["y"], "button": "left", "clickCount": 1},
        )
    dash_duo.wait_for_contains_text("h1", target["id"], timeout=10)
    assert urlparse(dash_duo.driver.current_url).path == f"/substation/{target['id']}"


#: ASCII words allowed in Chinese pages: units, index names and standards, file formats
ALLOWED_ASCII = {
    "kV", "km", "MVA", "kVA", "kW", "MW", "V", "h", "min", "A", "VA",
    "SAIDI", "SAIFI", "CAIDI", "ASAI", "AIHC", "MED", "RS", "IEEE", "GB", "DL", "T",
    "CSV", "Excel", "PNG", "FeederWatch", "Plotly", "js",
    "EN",  # the language switch: 中文 / EN
    "MB",
}  # fmt: skip
TEXT_OF_PAGE = """
const out = [document.body.innerText];
document.querySelectorAll('svg text').forEach(t => out.push(t.textContent));
document.querySelectorAll('[title]').forEach(e => out.push(e.getAttribute('title')));
document.querySelectorAll('input[placeholder]').forEach(e => out.push(e.placeholder));
return out.join('\\n');
"""


def english_runs(text: str, ids: set[str] = frozenset()) -> list[str]:
    """Runs of ASCII words that are neither ids/numbers (a token with a digit, a Roman numeral
    in a name, a data source's id) nor allowed units and index names."""
    bad = []
    for token in re.split(r"[\s,;:()\[\]（），：；、·/|=+×<>]+", text):
        if not token or any(ch.isdigit() for ch in token) or token in ids:
            continue
        # a raw record shown as received (JSON), or a reason code (snake_case id): data
        if token[0] in "{\"'" or re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", token):
            continue
        for word in re.findall(r"[A-Za-z]+", token):
            if word not in ALLOWED_ASCII and not re.fullmatch(r"[IVX]+", word):
                bad.append(token)
                break
    return bad


def test_plan103_every_page_in_chinese(dash_duo, browser_app):  # noqa: F811
    """Every page rendered in Chinese shows no English words (outside ids, numbers, units)."""
    from dashboard import data
    from tests.dashboard.test_dash_browser import PAGES, READY

    _start(dash_duo, browser_app)
    driver = dash_duo.driver
    driver.execute_script("localStorage.setItem('lang-store', JSON.stringify('zh'));")
    # source ids, as configured or as written with the records (the quarantine's source column)
    q = data.store().quarantine(limit=500)
    sources = set(data.store().sources_health()) | set(q["source"])
    # the values of quarantined records quoted in their reasons ("…: NOFEEDER") are data too
    sources |= {
        word
        for text in q["reason_text"].dropna()
        if ": " in text
        for word in re.split(r"[\s,;:()]+", text.split(": ", 1)[1])
    }
    found = {}
    for name, path in PAGES.items():
        driver.get(dash_duo.server_url + path)
        dash_duo.wait_for_element(READY[name], timeout=20)
        until(
            lambda: driver.execute_script(
                "return !document.querySelector('[data-dash-is-loading=\"true\"]')"
            ),
            timeout=15,
        )
        # plotly draws with the Chinese locale (month names, modebar)
        locales = driver.execute_script(
            "return Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".map(gd => gd._context.locale)"
        )
        assert set(locales) <= {"zh-CN"} and (locales or name == "data"), (name, locales)
        if name == "priorities":
            dash_duo.wait_for_element("#pri-grid .ag-row", timeout=10)
            # AG Grid's own texts: a filter that matches nothing says so in Chinese
            driver.execute_script(
                "dash_ag_grid.getApi('pri-grid').setFilterModel("
                "{name: {filterType: 'text', type: 'equals', filter: 'no such feeder'}});"
            )
            dash_duo.wait_for_contains_text("#pri-grid", "没有符合筛选条件的行", timeout=5)
        bad = english_runs(driver.execute_script(TEXT_OF_PAGE), sources)
        if bad:
            found[name] = sorted(set(bad))

    assert found == {}, found


def test_plan104_map_on_a_fresh_20kv_network(dash_duo, app, settings, tmp_path, monkeypatch):
    """A network just imported (no outages, complaints or voltage), its feeders at 20 kV: the
    map draws every feeder grey with a note saying what is missing, titled 20 kV."""
    from collectors.pipeline import IngestOptions, Pipeline
    from collectors.simulator import Simulation
    from collectors.simulator.load import NETWORK_ORDER
    from dashboard import data
    from dashboard.app import create_app
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'net20.db'}")
    upgrade(engine)
    network = Simulation(preset="small", seed=1, start=date(2025, 1, 1), days=1).network()
    network["feeders"] = network["feeders"].assign(voltage_kv=20.0)
    for table in NETWORK_ORDER:
        Pipeline(engine).ingest(table, network[table], IngestOptions(source="gis"))
    monkeypatch.setattr(data, "_STORE", data.store())  # the session's store comes back after
    s = settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": str(engine.url)})}
    )
    fresh = create_app(s, engine)
    try:
        _start(dash_duo, fresh, "/map")
        dash_duo.wait_for_element("#map-graph .scatterlayer .trace", timeout=15)
        dash_duo.wait_for_contains_text("h1", "20 kV", timeout=5)
        dash_duo.wait_for_contains_text("#map-note", "无停电记录", timeout=5)
        colours = dash_duo.driver.execute_script(
            "const gd = document.querySelector('#map-graph .js-plotly-plot'); const c = {};"
            "gd._fullData.forEach(t => { if (t.mode === 'lines' && t.customdata)"
            " Array.from(t.customdata).forEach(f => { if (f) c[f] = t.line.color; }); });"
            "return c;"
        )
        assert set(colours) == set(network["feeders"]["feeder"])
        assert set(colours.values()) == {"#9e9e9e"}
        assert "数据库" not in dash_duo.find_element("body").text  # no "database unreadable"
    finally:
        engine.dispose()
