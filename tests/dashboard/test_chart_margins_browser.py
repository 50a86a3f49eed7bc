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
