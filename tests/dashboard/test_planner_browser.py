"""Issue 18 in a real headless Chromium: from a ranked row to its feeder page, and from the map
to a substation (../shared/BROWSER_TESTS.md)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from dash.testing.wait import until

from tests.dashboard.test_dash_browser import _grid_rows, _start, browser_app  # noqa: F401

pytestmark = pytest.mark.browser


def test_plan101_ranked_row_link_and_click_open_feeder(dash_duo, browser_app):  # noqa: F811
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
