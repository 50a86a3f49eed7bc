"""Live outage board (default page, for shift leads): big figures, the active-outage table
(sort/filter/scroll survive refreshes: only rowData changes, rows keyed by getRowId), customers
out over the last 24 hours, counts by substation. Refreshes every ``refresh_seconds``."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, ids
from dashboard.components.common import (
    SERIES,
    card,
    empty_figure,
    figure_layout,
    grid,
    kpi,
    md_link,
    t,
)
from dashboard.i18n import CAUSES, fmt_int, fmt_minutes, fmt_time, norm_lang, tr, tr_map

dash.register_page(__name__, path="/", name="nav.live", nav_order=1, title="FeederWatch")

CHARTS_SECONDS = 10.0

COLUMNS = (
    ("feeder", "col.feeder", 100),
    ("feeder_name", "col.feeder_name", 120),
    ("substation", "col.substation", 100),
    ("area", "col.area", 160),
    ("customers", "col.customers", 90),
    ("start", "col.start", 120),
    ("duration_min", "col.duration", 110),
    ("cause", "col.cause", 100),
    ("etr", "col.etr", 120),
)


def column_defs(lang: str) -> list[dict]:
    defs = []
    for field, key, width in COLUMNS:
        col = {"field": field, "headerName": tr(key, lang), "minWidth": width}
        if field in ("customers", "duration_min"):
            col["filter"] = "agNumberColumnFilter"
            col["type"] = "numericColumn"
        if field == "start":
            col["sort"] = "desc"
            col["valueFormatter"] = {"function": "params.data.start_text"}
        if field == "etr":
            col["valueFormatter"] = {"function": "params.data.etr_text"}
        if field == "feeder":
            col["cellRenderer"] = "markdown"
        defs.append(col)
    return defs


def layout(**_kw):
    store = data.store()
    lang = store.settings.dashboard.language
    refresh = int(store.settings.dashboard.refresh_seconds * 1000)
    return html.Div(
        [
            dcc.Interval(id=ids.LIVE_TICK, interval=refresh),
            dcc.Store(id=ids.LIVE_SEEN, storage_type="memory"),
            html.H1(t("live.title", lang)),
            html.Div(
                [
                    kpi(ids.LIVE_KPI_ACTIVE, "live.active", lang),
                    kpi(ids.LIVE_KPI_CUSTOMERS, "live.customers", lang),
                    kpi(ids.LIVE_KPI_FEEDERS, "live.feeders", lang),
                    kpi(ids.LIVE_KPI_LAST_HOUR, "live.last_hour", lang),
                    kpi(ids.LIVE_KPI_LONGEST, "live.longest", lang),
                ],
                id=ids.LIVE_KPIS,
                className="kpis",
            ),
            card(
                t("live.table", lang),
                grid(
                    ids.LIVE_GRID,
                    row_id_field="row_id",
                    height="360px",
                    columnDefs=column_defs(lang),
                    rowClassRules={"row-new": "params.data.is_new"},
                ),
            ),
            html.Div(
                [
                    card(
                        t("live.trend", lang),
                        dcc.Graph(
                            id=ids.LIVE_TREND,
                            config={"displaylogo": False},
                            figure=empty_figure("", 260),
                        ),
                    ),
                    card(
                        t("live.by_substation", lang),
                        dcc.Graph(
                            id=ids.LIVE_BY_SUBSTATION,
                            config={"displaylogo": False},
                            figure=empty_figure("", 260),
                        ),
                    ),
                ],
                className="grid-2",
            ),
        ]
    )


def outage_rows(
    active: pd.DataFrame, now, lang: str, tz: str, seen: list[str] | None, base=None
) -> list[dict]:
    """The board's rows: what depends on the clock (duration, new) on top of ``base`` (the
    rows' fixed part, :func:`fixed_rows`; shared by every open board of one data version)."""
    base = fixed_rows(active, lang, tz) if base is None else base
    seen_set = set(seen or [])
    now = pd.Timestamp(now)
    rows = []
    for fixed, start in zip(base, active["start"], strict=True):
        minutes = (now - start).total_seconds() / 60.0
        row = dict(fixed)
        row["duration_min"] = int(max(0, minutes))
        # new: started in the last hour, or appeared since the previous refresh
        row["is_new"] = bool(minutes <= 60 or (seen is not None and row["row_id"] not in seen_set))
        rows.append(row)
    return rows


def fixed_rows(active: pd.DataFrame, lang: str, tz: str) -> list[dict]:
    """The part of the board's rows that only the data and the language decide."""
    rows = []
    for r in active.itertuples(index=False):
        row_id = f"{r.source}:{r.outage_id}"
        area = r.area_text if isinstance(r.area_text, str) else (r.transformer or r.region or "")
        rows.append(
            {
                "row_id": row_id,
                "outage_id": r.outage_id,
                "feeder": md_link(r.feeder, "/feeder/"),
                "feeder_name": r.feeder_name if isinstance(r.feeder_name, str) else "",
                "substation": r.substation or "",
                "area": area or "",
                "customers": int(r.customers) if pd.notna(r.customers) else None,
                "start": r.start.isoformat(),
                "start_text": fmt_time(r.start, lang, tz),
                "cause": tr_map(CAUSES, r.cause, lang),
                "etr": r.etr.isoformat() if pd.notna(r.etr) else "",
                "etr_text": fmt_time(r.etr, lang, tz) if pd.notna(r.etr) else "",
            }
        )
    return rows


def trend_figure(series: pd.DataFrame, lang: str, tz: str) -> go.Figure:
    if series.empty:
        return empty_figure(tr("shell.no_data", lang), 260)
    fig = go.Figure(
        go.Scatter(
            x=series["time"].dt.tz_convert(tz).dt.tz_localize(None),
            y=series["customers"],
            mode="lines",
            line={"shape": "hv", "color": SERIES[0]},
            fill="tozeroy",
            name=tr("live.customers", lang),
        )
    )
    return figure_layout(fig, 260, showlegend=False)


def by_substation_figure(active: pd.DataFrame, lang: str) -> go.Figure:
    if active.empty:
        return empty_figure(tr("shell.no_data", lang), 260)
    g = (
        active.assign(substation=active["substation"].fillna("?"))
        .groupby("substation")
        .agg(outages=("outage_id", "size"), customers=("customers", "sum"))
        .reset_index()
    )
    fig = go.Figure(
        [
            go.Bar(
                x=g["substation"],
                y=g["outages"],
                name=tr("live.active", lang),
                marker_color=SERIES[0],
                offsetgroup="outages",
            ),
            go.Bar(
                x=g["substation"],
                y=g["customers"],
                name=tr("live.customers", lang),
                marker_color=SERIES[1],
                yaxis="y2",
                offsetgroup="customers",
            ),
        ]
    )
    return figure_layout(
        fig, 260, barmode="group", yaxis2={"overlaying": "y", "side": "right", "showgrid": False}
    )


@callback(Output(ids.LIVE_GRID, "columnDefs"), Input(ids.LANG, "data"))
def live_columns(lang):
    return column_defs(norm_lang(lang, data.store().settings.dashboard.language))


@callback(
    Output(ids.LIVE_KPI_ACTIVE, "children"),
    Output(ids.LIVE_KPI_CUSTOMERS, "children"),
    Output(ids.LIVE_KPI_FEEDERS, "children"),
    Output(ids.LIVE_KPI_LAST_HOUR, "children"),
    Output(ids.LIVE_KPI_LONGEST, "children"),
    Output(ids.LIVE_GRID, "rowData"),
    Output(ids.LIVE_SEEN, "data"),
    Input(ids.LIVE_TICK, "n_intervals"),
    Input(ids.LANG, "data"),
    State(ids.LIVE_SEEN, "data"),
)
def update_live(_n, lang, seen, now: datetime | None = None):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    now = now or datetime.now(UTC)
    summary = store.live_summary(now)

    def board() -> tuple[list[dict], pd.DataFrame]:
        act = store.active()
        return fixed_rows(act, lang, store.tz), act

    # every open board of this data version shares the rows' fixed part (135 active outages:
    # 60 ms each time otherwise); the rows and the outages they come from are read together
    base, act = store.latest_memo(("live_rows", lang), board)
    rows = outage_rows(act, now, lang, store.tz, seen, base)
    return (
        fmt_int(summary["active_outages"]),
        fmt_int(summary["customers_out"]),
        fmt_int(summary["feeders_affected"]),
        fmt_int(summary["started_last_hour"]),
        fmt_minutes(summary["longest_active_minutes"], lang),
        rows,
        [r["row_id"] for r in rows],
    )


@callback(
    Output(ids.LIVE_TREND, "figure"),
    Output(ids.LIVE_BY_SUBSTATION, "figure"),
    Input(ids.LIVE_TICK, "n_intervals"),
    Input(ids.LANG, "data"),
)
def update_live_charts(_n, lang, now: datetime | None = None):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)

    def figures():
        series = store.customers_out_series(now)
        return trend_figure(series, lang, store.tz), by_substation_figure(store.active(), lang)

    if now is not None:
        return figures()
    # Every open board asks at each refresh; the 24-hour trend has 10-minute steps, so one
    # drawing per data version serves them all for CHARTS_SECONDS.
    return store.fresh(("live_charts", lang), CHARTS_SECONDS, figures)
