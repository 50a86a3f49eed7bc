"""figure_layout's fitted margins (issue 18): sized from the figure's own labels, and a margin
given by the caller is kept. The browser test (test_chart_margins_browser) checks that plotly
draws the pages' charts with exactly these margins and that nothing is clipped."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.components.common import figure_layout


def _bars(names, values, **kw):
    fig = go.Figure([go.Bar(x=["2025-01", "2025-02"], y=values, name=n) for n in names])
    return figure_layout(fig, **kw).layout.margin


def test_margins_follow_labels_titles_and_legend_rows():
    short = _bars(["a", "b"], [1, 2])
    # longer tick labels and an axis title need a wider left margin
    titled = _bars(["a", "b"], [123456, 2], yaxis={"title": "持续(分钟)"})
    assert titled.l > short.l
    # a second axis with a title: a wider right margin
    fig = go.Figure(
        [
            go.Bar(x=[1, 2], y=[1, 2], name="a"),
            go.Scatter(x=[1, 2], y=[0.3, 0.4], name="b", yaxis="y2"),
        ]
    )
    two = figure_layout(fig, yaxis2={"overlaying": "y", "side": "right", "title": "SAIFI"})
    assert two.layout.margin.r > short.r + 30
    # many legend entries wrap into more rows below the plot, more so in a narrow card
    names = [f"原因{i} long name" for i in range(8)]
    wide, narrow = _bars(names, [1, 2]), _bars(names, [1, 2], width=380)
    assert wide.b > short.b and narrow.b > wide.b


def test_given_margin_kept():
    m = _bars(["a", "b"], [1, 2], margin={"l": 70, "r": 20, "t": 40, "b": 90})
    assert (m.l, m.r, m.t, m.b) == (70, 20, 40, 90)
