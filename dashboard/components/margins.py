"""Margins fitted to a chart's own labels (:func:`fit_margin`), so that plotly draws it once,
and the date ticks those margins expect (:func:`space_date_ticks`)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd
import plotly.graph_objects as go

#: text sizes in pixels at the house font (13 px): a wide (CJK) character is about the font
#: size, a Latin letter or digit about 0.62 of it (system-ui, Microsoft YaHei, Noto Sans CJK);
#: one line of text with its leading
FONT_PX = 13
LINE_PX = 16
TITLE_PX = 18 + 15  # an axis title's line plus its standoff (_AXIS)
LEGEND_ROW_PX = {"lines": 20, "markers": 30}  # scatter markers up to 20 px tall in the legend


def text_width(text, size: float = FONT_PX) -> float:
    """Approximate drawn width of ``text`` in pixels (generous: used to size margins)."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.62 * size for c in str(text))


def _numbers(values) -> list[float]:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return []
    return arr[np.isfinite(arr)].tolist()


def _seq(values) -> list:
    return [] if values is None else list(values)


def _tick_text(values, log: bool = False) -> str:
    """The longest tick label plotly's default format writes for an axis over ``values``."""
    nums = _numbers(values)
    if not nums:
        return "0"
    top, low = max(max(nums), 0.0), min(min(nums), 0.0)
    top = max(abs(top), abs(low)) * 1.1  # autorange pads
    minus = "-" if low < 0 else ""
    if log:
        return "10k" if top >= 1e4 else f"{10 ** len(str(int(max(top, 1)))) // 10}0"
    if top >= 1e4:
        return f"{minus}{top / 1e3:.1f}k"
    if top >= 10:
        spread = max(nums) - min(nums)
        return f"{minus}{top:.0f}" + (".5" if spread < 10 else "")
    # plotly steps by 1, 2 or 5 × 10^k, at most ten ticks: its labels carry the step's
    # decimals (0 to 0.03 is stepped by 0.005: "0.025"), two at least here
    rough = max(top, 1e-9) / 10
    power = 10.0 ** np.floor(np.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    decimals = max(2, int(np.ceil(-np.log10(step) - 1e-9)))
    return f"{minus}{top:.{decimals}f}"


def _axis_width(fig, axis: str, traces) -> float:
    """Pixels a vertical axis takes beside the plot: tick labels, their gap and its title."""
    ax = fig.layout[axis]
    values = [v for tr_ in traces for v in _numbers(_seq(getattr(tr_, "y", None)))]
    if ax.range is not None:
        values += _numbers(ax.range)
    if ax.tickvals is not None and ax.ticktext is not None:
        ticks = max((text_width(x) for x in ax.ticktext), default=0)
    else:
        ticks = text_width(_tick_text(values, ax.type == "log"))
    title = ax.title.text if ax.title is not None else None
    return ticks + 10 + (TITLE_PX if title else 0) + (15 if axis == "yaxis2" else 0)


def _legend_height(fig, plot_width: float) -> float:
    """Pixels of the horizontal legend below the plot (0 when there is none). As plotly.js
    lays it out: one row when every item fits side by side; otherwise a grid whose columns are
    as wide as the widest item (an item is its symbol, 40 px, its text and a 5 px gap)."""
    named = [t for t in fig.data if t.name and t.showlegend is not False and t.type != "heatmap"]
    if fig.layout.showlegend is False or (len(named) < 2 and fig.layout.showlegend is not True):
        return 0.0
    widths = [48 + text_width(t.name) for t in named]
    if sum(widths) <= plot_width:
        rows = 1
    else:
        per_row = max(1, int(plot_width // max(widths)))
        rows = -(-len(widths) // per_row)
    markers = any(getattr(t, "mode", None) == "markers" for t in named)
    return 22 + LEGEND_ROW_PX["markers" if markers else "lines"] * rows


def _x_days(fig) -> tuple[list, pd.Series]:
    """The x values of the figure's traces, and those that are dates (empty when none)."""
    xs = [x for t in fig.data if t.type != "heatmap" for x in _seq(getattr(t, "x", None))]
    days = pd.Series(dtype="datetime64[ns]")
    if xs and isinstance(xs[0], (np.datetime64, dt.date)):
        days = pd.to_datetime(pd.Series(xs), errors="coerce").dropna()
    elif xs and isinstance(xs[0], str) and re.fullmatch(r"\d{4}-\d\d(-\d\d)?", xs[0]):
        days = pd.to_datetime(pd.Series(xs), format="mixed", errors="coerce").dropna()
    return xs, days


def _hourly(days: pd.Series) -> bool:
    """Whether a date axis over ``days`` shows hours (under three days)."""
    return bool(len(days)) and (days.max() - days.min()) < pd.Timedelta(days=3)


#: pixels between date ticks at least: more than the widest label plotly writes on its own
#: ("10月 2026", "Sep 2026": 60-70 px), so that it never turns them (a turned label hangs past
#: the plot by most of its width, which no margin here allows for)
DATE_TICK_PX = 75


def _x_labels_height(fig, plot_width: float) -> tuple[float, float]:
    """(pixels below the plot, pixels past its right edge) of the x tick labels."""
    xs, days = _x_days(fig)
    if fig.layout.xaxis.type == "date" or len(days):
        if _hourly(days):
            # hours over the full date, turned when they crowd (one outage, one day)
            return 5 * LINE_PX + 8, 86.0
        return 2 * LINE_PX + 12, 40.0  # dates: day/month over the year; the last one centred
    if xs and isinstance(xs[0], str) and not _numbers(xs[:1]):
        labels = list(dict.fromkeys(xs))
        widest = max(text_width(x) for x in labels)
        if sum(text_width(x) + 8 for x in labels) > plot_width:  # plotly turns them by 30 or 90°
            turned = 90 if len(labels) * (LINE_PX + 2) > plot_width else 30
            down = widest if turned == 90 else widest * 0.5 + LINE_PX
            return down + 12, (widest * 0.87 if turned == 30 else LINE_PX)
        return LINE_PX + 10, widest / 2
    return LINE_PX + 10, 25.0  # numbers: the last one centred on the edge


def fit_margin(fig: go.Figure, height: int, width: int) -> dict[str, int]:
    """Margins that hold the figure's tick labels, axis titles, second axis, colour bar and
    legend, estimated from its own texts for a plot about ``width`` px wide. With them plotly's
    automargin (kept on, so that nothing can clip) finds nothing to push and draws each chart
    once instead of twice: its redraw for new margins was the largest part of a detail page's
    drawing time."""
    top = 20
    left_traces = [t for t in fig.data if getattr(t, "yaxis", None) in (None, "y")]
    right_traces = [t for t in fig.data if getattr(t, "yaxis", None) == "y2"]
    hidden = fig.layout.yaxis.visible is False
    left = (
        20 if hidden else _axis_width(fig, "yaxis", [t for t in left_traces if t.type != "heatmap"])
    )
    if any(t.type == "heatmap" for t in fig.data):
        # hours of the day 0 to 23
        left = 20 + text_width("23") + (TITLE_PX if fig.layout.yaxis.title.text else 0)
    right = 20.0
    if right_traces:
        right = max(right, _axis_width(fig, "yaxis2", right_traces))
    for t in fig.data:
        if t.type == "heatmap" and t.showscale is not False:
            zs = _numbers(t.z) + [v for v in (t.zmin, t.zmax) if v is not None]
            title = t.colorbar.title.text if t.colorbar.title else ""
            right = max(right, 30 + 10 + text_width(_tick_text(zs)) + 34, text_width(title) + 20)
    plot_width = max(120.0, width - left - right)
    if fig.layout.xaxis.visible is False:
        bottom = 20.0
    else:
        below, past = _x_labels_height(fig, plot_width)
        right = max(right, past)
        legend = _legend_height(fig, plot_width)
        legend_y = fig.layout.legend.y if fig.layout.legend.y is not None else -0.18
        # the legend hangs ``-legend_y`` plot heights below the plot: solve for the margin
        hang = -legend_y if legend_y < 0 else 0.0
        bottom = max(below, (hang * (height - top) + legend) / (1 + hang) if legend else 0)
    return {
        "l": int(round(max(50, left) + 4)),
        "r": int(round(right + 4)),
        "t": top,
        "b": int(round(max(40, bottom) + 4)),
    }


def space_date_ticks(fig: go.Figure, width: int) -> None:
    """A date x axis over one instant shows the day (or month) around it. Otherwise, at most
    one date tick per :data:`DATE_TICK_PX` on a date x axis of days or more whose
    ticks the figure leaves to plotly. Plotly puts at least five ticks on any axis, so on a
    narrow chart its month labels ("10月 2026") collide and it turns them by 30°: they then
    hang far past the plot's right edge, and the chart is drawn twice for the margin they
    push. With fewer ticks the labels stay level, where :func:`fit_margin` expects them."""
    ax = fig.layout.xaxis
    if ax.visible is False:
        return
    xs, days = _x_days(fig)
    if not (ax.type == "date" or len(days)):
        return
    if len(days) and days.min() == days.max() and ax.range is None:
        # one instant (a feeder's only outage, one month of complaints): plotly would zoom to
        # milliseconds around it ("12:18:41.0005"); show the day, or the month, around it
        pad = pd.Timedelta(days=15 if isinstance(xs[0], str) and len(xs[0]) == 7 else 1)
        ax.range = [days.min() - pad, days.min() + pad]
        single = True
    else:
        single = False
    if ax.nticks is not None or ax.dtick is not None or ax.tickvals is not None:
        return
    if ax.tickmode not in (None, "auto") or (_hourly(days) and not single):
        return
    m = fig.layout.margin
    plot_width = max(120.0, width - (m.l or 0) - (m.r or 0))
    ax.nticks = max(2, int(plot_width // DATE_TICK_PX))
