"""Issue 18 in a real headless Chromium: from a ranked row to its feeder page, and from the map
to a substation (../shared/BROWSER_TESTS.md)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By

from tests.dashboard.test_dash_browser import _grid_rows, _start, browser_app  # noqa: F401

pytestmark = pytest.mark.browser


def test_plan101_ranked_row_link_and_click_open_feeder(dash_duo, browser_app):  # noqa: F811
    _start(dash_duo, browser_app, "/priorities")
    dash_duo.wait_for_element("#pri-grid .ag-row", timeout=15)
    rows = _grid_rows(dash_duo, "pri-grid")
    first = rows[0]["feeder"]
    # the feeder cell holds a real link (it was an empty markdown div)
    link = dash_duo.find_element(
        f"#pri-grid .ag-pinned-left-cols-container .ag-row[row-index='0'] a.fw-link"
    )
    assert link.text == first and link.get_attribute("href").endswith(f"/feeder/{first}")
    # the explanation cell is visible text, not empty
    cell = dash_duo.find_element("#pri-grid .ag-row[row-index='0'] [col-id='explain']")
    assert " = " in cell.text and "×" in cell.text
    # a click on another cell of the row opens the same page
    dash_duo.find_element("#pri-grid .ag-row[row-index='0'] [col-id='score']").click()
    dash_duo.wait_for_contains_text("h1", first, timeout=10)
    assert urlparse(dash_duo.driver.current_url).path == f"/feeder/{first}"
