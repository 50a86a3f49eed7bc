"""The reliability page in a real headless Chromium (issue 18): the substation table's cells
are drawn formatted by their d3 formats (thousands, fixed decimals, percent), its headers are
named with units, and the page says how it counted (issue 15)."""

from __future__ import annotations

import pytest
from dash.testing.wait import until

from tests.conftest import chromium_available, require

pytestmark = pytest.mark.browser


def test_relb001_table_formatted_and_counting_shown(dash_duo, app, settings, county_db):
    from dashboard import data
    from dashboard.app import create_app

    require(chromium_available(), "chromium not installed")
    dash_duo.start_server(create_app(settings, county_db[1]))
    dash_duo.wait_for_page(url=dash_duo.server_url + "/reliability")
    dash_duo.wait_for_element("#rel-sub-grid .ag-row", timeout=20)
    # the page's language is Chinese by default
    dash_duo.wait_for_contains_text("#rel-rule", "按开始时刻", timeout=10)
    assert "SAIDI 平均停电时间（分钟/户）" in dash_duo.find_element("#rel-sub-grid").text
    by_sub = data.store().indices("substation").set_index("substation")

    def cell(sub, col):
        # the grid draws only the columns in view: scroll the column in first
        dash_duo.driver.execute_script(
            "dash_ag_grid.getApi('rel-sub-grid').ensureColumnVisible(arguments[0]);", col
        )
        until(
            lambda: dash_duo.driver.execute_script(
                "return !!document.querySelector(`#rel-sub-grid .ag-cell[col-id='${arguments[0]}']`);",
                col,
            ),
            timeout=5,
        )
        return dash_duo.driver.execute_script(
            "const el = document.querySelector("
            "`#rel-sub-grid .ag-row[row-id='${arguments[0]}'] .ag-cell[col-id='${arguments[1]}']`);"
            "return el ? el.innerText : null;",
            sub,
            col,
        )

    sub = by_sub.index[0]
    until(lambda: cell(sub, "saidi") is not None, timeout=10)
    row = by_sub.loc[sub]
    assert cell(sub, "saidi") == f"{row['saidi']:,.1f}"
    assert cell(sub, "saifi") == f"{row['saifi']:,.3f}"
    assert cell(sub, "customers_served") == f"{row['customers_served']:,.0f}"
    assert cell(sub, "rs1") == f"{row['rs1']:,.4f}%"
    assert cell(sub, "asai") == f"{row['asai'] * 100:.4f}%"
    assert "T_MED" in dash_duo.find_element("#rel-body").text
