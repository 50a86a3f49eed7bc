"""The storm board in a real headless Chromium at a wall's 1920x1080 and a desk's 1366x768
(issue 17): every active outage reachable in the table, overdue ETRs marked in red first, and the
"since you last looked" strip counting a restoration (kept per browser in localStorage)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until

from tests.conftest import chromium_available, require
from tests.dashboard.storm_helpers import ingest_outage

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def storm_app(app, settings, county_db):
    from dashboard.app import create_app

    fast = settings.model_copy(
        update={"dashboard": settings.dashboard.model_copy(update={"refresh_seconds": 1})}
    )
    return create_app(fast, county_db[1])


def _rows(dash_duo):
    return dash_duo.driver.execute_script(
        "const api = dash_ag_grid.getApi('live-grid'); const out = [];"
        "api.forEachNodeAfterFilterAndSort(n => out.push(n.data)); return out;"
    )


def _active_ids(engine) -> set[str]:
    from db.queries import active_outages

    return {f"{r.source}:{r.outage_id}" for r in active_outages(engine).itertuples()}


def _check_board(dash_duo, engine, width: int, height: int) -> list[dict]:
    """At this window size: the table fits the screen and every active outage can be scrolled
    into view inside it; overdue ETRs come first and are red."""
    driver = dash_duo.driver
    driver.set_window_size(width, height)
    until(lambda: {r["row_id"] for r in _rows(dash_duo)} == _active_ids(engine), timeout=10)
    rows = _rows(dash_duo)
    inner = driver.execute_script("return window.innerHeight")

    def table():
        return driver.execute_script(
            "window.scrollTo(0, 0); const r = document.getElementById('live-grid')"
            ".getBoundingClientRect(); return [r.top, r.bottom];"
        )

    # the table takes the rest of the screen below the figures (at least 300 px), and never
    # more than the window: every row is reachable by the table's own scroll
    until(lambda: abs(table()[1] - max(table()[0] + 300, inner - 28)) <= 3, timeout=5)
    top, bottom = table()
    assert bottom - top <= inner and bottom - top >= 300
    driver.execute_script("document.getElementById('live-grid').scrollIntoView({block: 'end'})")
    for i, row in enumerate(rows):
        seen = driver.execute_script(
            "const api = dash_ag_grid.getApi('live-grid'); api.ensureIndexVisible(arguments[0]);"
            "return null;",
            i,
        )
        assert seen is None
        until(
            lambda row=row: driver.execute_script(
                "const el = document.querySelector(`#live-grid .ag-center-cols-container"
                " [row-id='${arguments[0]}']`); if (!el) return false;"
                "const r = el.getBoundingClientRect(), g = document.querySelector("
                "'#live-grid .ag-body-viewport').getBoundingClientRect();"
                "return r.top >= g.top - 1 && r.bottom <= g.bottom + 1 &&"
                " r.bottom <= window.innerHeight;",
                row["row_id"],
            ),
            timeout=3,
        )
    overdue = [r["etr_overdue"] for r in rows]
    assert any(overdue) and overdue == sorted(overdue, reverse=True)
    driver.execute_script("dash_ag_grid.getApi('live-grid').ensureIndexVisible(0);")

    def overdue_colour():
        return driver.execute_script(
            "const c = document.querySelector('#live-grid .etr-overdue');"
            "return c && getComputedStyle(c).color;"
        )

    # the grid draws the first rows again after the scroll: wait for the cell, then read it
    until(lambda: overdue_colour() is not None, timeout=5)
    assert overdue_colour() == "rgb(185, 28, 28)"
    return rows


def test_storm101_wall_and_desk(dash_duo, storm_app, county_db):
    require(chromium_available(), "chromium not installed")
    _, engine = county_db
    now = pd.Timestamp.now(tz="UTC")
    for i in range(4):  # a storm's worth of rows beyond what the session already has
        ingest_outage(engine, f"SB-{i}", f"F010{1 + i}", 20 + i, now - pd.Timedelta(minutes=30 + i))
    ingest_outage(
        engine,
        "SB-OVERDUE",
        "F0202",
        12,
        now - pd.Timedelta(hours=2),
        etr=now - pd.Timedelta(minutes=15),
    )
    ingest_outage(engine, "SB-REST-1", "F0203", 44, now - pd.Timedelta(minutes=40))
    landed = ingest_outage(engine, "SB-REST-2", "F0102", 33, now - pd.Timedelta(minutes=40))
    assert landed.upserted == 1
    dash_duo.start_server(storm_app)
    dash_duo.wait_for_element("#live-grid .ag-row", timeout=15)
    dash_duo.wait_for_contains_text("#live-since", "恢复 0 起", timeout=10)

    # the wall: 1920x1080
    _check_board(dash_duo, engine, 1920, 1080)
    dash_duo.driver.save_screenshot(str(SCREENSHOTS / "live-storm-1920.png"))
    ingest_outage(engine, "SB-REST-1", "F0203", 44, now - pd.Timedelta(minutes=40), end=now)
    dash_duo.wait_for_contains_text("#live-since", "恢复 1 起", timeout=10)
    dash_duo.wait_for_contains_text("#live-delta-active", "恢复 1", timeout=5)
    dash_duo.wait_for_contains_text("#live-delta-customers", "户数 −44", timeout=5)

    # the desk: 1366x768, after the user marked the board as seen
    dash_duo.find_element("#live-mark-seen").click()
    dash_duo.wait_for_contains_text("#live-since", "恢复 0 起", timeout=5)
    _check_board(dash_duo, engine, 1366, 768)
    ingest_outage(engine, "SB-REST-2", "F0102", 33, now - pd.Timedelta(minutes=40), end=now)
    dash_duo.wait_for_contains_text("#live-since", "恢复 1 起", timeout=10)
    # what the browser keeps survives a reload (localStorage): the count stays
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#live-since", "恢复 1 起", timeout=10)
    dash_duo.driver.save_screenshot(str(SCREENSHOTS / "live-storm-1366.png"))

    # storm mode: large fonts, no chart toolbars
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?storm=1")
    dash_duo.wait_for_element(".live-board.storm #live-trend .main-svg", timeout=15)
    assert not dash_duo.driver.find_elements(
        "css selector", "#live-trend .modebar-container .modebar"
    )
    size = dash_duo.driver.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('.kpi-value')).fontSize)"
    )
    assert size >= 50
