"""Issue 18: the planner's charts are drawn once (their margins, fitted on the server to their
own labels, are the margins plotly ends with: no automargin redraw) and no label is clipped
(every text of every chart lies inside its chart), in Chinese and in English, in a real headless
Chromium (../shared/BROWSER_TESTS.md)."""

from __future__ import annotations

import pytest
from dash.testing.wait import until

from tests.dashboard.test_dash_browser import PAGES, READY, _start, browser_app  # noqa: F401

pytestmark = pytest.mark.browser

# per chart: [card title, margins asked, margins drawn, texts outside the chart]
CHARTS = """
return Array.from(document.querySelectorAll('#_pages_content .js-plotly-plot')).map(gd => {
  const m = gd.layout.margin || {}, s = gd._fullLayout._size;
  const box = gd.querySelector('.main-svg').getBoundingClientRect();
  const outside = [];
  gd.querySelectorAll('svg text').forEach(t => {
    const r = t.getBoundingClientRect();
    if (!t.textContent.trim() || r.width === 0) return;
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
        || r.bottom > box.bottom + 1) outside.push(t.textContent);
  });
  const card = gd.closest('.card'), title = card && card.querySelector('.card-title');
  return [title ? title.innerText : gd.id, [m.l, m.r, m.t, m.b], [s.l, s.r, s.t, s.b], outside];
});
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart001_drawn_once_and_nothing_clipped(dash_duo, browser_app, lang):  # noqa: F811
    _start(dash_duo, browser_app)
    driver = dash_duo.driver
    driver.execute_script(f"localStorage.setItem('lang-store', JSON.stringify('{lang}'));")
    redrawn, clipped, seen = {}, {}, 0
    for name in ("feeder", "substation", "reliability"):
        driver.get(dash_duo.server_url + PAGES[name])
        dash_duo.wait_for_element(READY[name], timeout=20)
        until(
            lambda: driver.execute_script(
                "return !document.querySelector('[data-dash-is-loading=\"true\"]')"
            ),
            timeout=15,
        )
        # the page's language reached the charts (the body drawn in it)
        lang_of_page = driver.execute_script(
            "return Array.from(document.querySelectorAll('#_pages_content .js-plotly-plot'))"
            ".map(gd => gd._context.locale)"
        )
        assert set(lang_of_page) == {"zh-CN" if lang == "zh" else "en"}, lang_of_page
        for title, asked, drawn, outside in driver.execute_script(CHARTS):
            seen += 1
            if asked != drawn:
                redrawn[f"{name}: {title}"] = (asked, drawn)
            if outside:
                clipped[f"{name}: {title}"] = outside
    assert seen >= 10
    assert clipped == {}
    assert redrawn == {}


def _edge_figures(lang: str) -> list[tuple[object, int]]:
    """(figure, width) of the cases whose margins depend on the data, not on today's date:
    months of dates in a narrow chart, a legend that wraps into a grid, one instant on a date
    axis, small values on a second axis."""
    import pandas as pd
    import plotly.graph_objects as go

    from dashboard.components.common import SECOND_AXIS, figure_layout
    from dashboard.components.detail import NARROW, complaints_figure, outage_timeline
    from dashboard.i18n import CAUSES, tr_map

    tz = "Asia/Shanghai"
    causes = ["overload", "planned", "third_party", "unknown", "weather"]
    starts = pd.date_range("2026-07-28", "2026-11-30", periods=25, tz="UTC")
    outages = pd.DataFrame(
        {
            "outage_id": [f"O{i}" for i in range(25)],
            "start": starts,
            "end": starts + pd.Timedelta(hours=3),
            "cause": [causes[i % 5] for i in range(25)],
            "customers": range(10, 260, 10),
        }
    )
    categories = ["billing", "customer_fault", "low_voltage", "other", "outage", "service"]
    categories += ["voltage_fluctuation"]
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"T{i}" for i in range(70)],
            "time": pd.date_range("2026-07-17", "2026-11-16", periods=70, tz="UTC"),
            "category": [categories[i % 7] for i in range(70)],
        }
    )
    months = pd.date_range("2025-10-01", "2026-11-01", freq="MS")
    saifi = go.Figure(
        [
            go.Bar(x=months, y=[30 + i for i in range(len(months))], name="SAIDI"),
            go.Scatter(
                x=months,
                y=[0.013 * i for i in range(len(months))],
                name="SAIFI",
                yaxis="y2",
                mode="lines+markers",
            ),
        ]
    )
    return [
        (outage_timeline(outages, lang, tz), NARROW),
        (complaints_figure(tickets, lang, tz), 600),
        (outage_timeline(outages.iloc[:1], lang, tz), NARROW),
        (figure_layout(saifi, 320, barmode="group", yaxis2=SECOND_AXIS), 600),
        (
            figure_layout(
                go.Figure(go.Bar(x=[tr_map(CAUSES, c, lang) for c in causes], y=[3, 1, 4, 1, 5]))
            ),
            600,
        ),
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart002_edge_cases_drawn_once(dash_duo, lang):
    """The cases today's data may or may not show (a county's data end today): each chart's
    margins are the ones plotly ends with, and no label lies outside its chart."""
    from dash import Dash, dcc, html

    from tests.conftest import chromium_available, require

    require(chromium_available(), "chromium not installed")
    figures = _edge_figures(lang)
    app = Dash(__name__)
    app.layout = html.Div(
        [
            html.Div(
                dcc.Graph(
                    id=f"g{i}", figure=fig, config={"locale": "zh-CN" if lang == "zh" else "en"}
                ),
                className="card",
                style={"width": f"{width}px"},
            )
            for i, (fig, width) in enumerate(figures)
        ]
    )
    dash_duo.start_server(app)
    charts = CHARTS.replace("#_pages_content ", "")  # every chart of this page
    until(lambda: len(dash_duo.driver.execute_script(charts)) == len(figures), timeout=20)
    drawn = dash_duo.driver.execute_script(charts)
    assert {i: outside for i, (_, _, _, outside) in enumerate(drawn) if outside} == {}
    assert {i: (a, d) for i, (_, a, d, _) in enumerate(drawn) if a != d} == {}
