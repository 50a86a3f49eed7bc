"""Live outage board (default page, for shift leads, on a wall at 1920x1080 or a desk at
1366x768): big figures, a "since you last looked" strip, the active-outage table (as tall as the
screen allows, every row reachable by its own scroll; sort/filter/scroll survive refreshes: only
rowData changes, rows keyed by getRowId; sorted by urgency: overdue ETR first, then customers x
duration; overdue ETRs in red), customers out over 24 h / 5 days / 2 weeks, and a breakdown by
substation or town. ``/?storm=1`` is storm mode: large fonts, no chart toolbars.
Refreshes every ``refresh_seconds``; nothing heavy runs in a callback here (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html

from analytics import etr
from dashboard import data, ids
from dashboard.components.common import (
    card,
    county_scoped,
    empty_figure,
    grid,
    header_row,
    kpi,
    t,
)
from dashboard.components.live_board import (
    by_substation_figure,
    column_defs,
    customers_count,
    fixed_rows,
    outage_rows,
    outage_towns,
    since_last_look,
    snapshot,
    trend_figure,
)
from dashboard.handover import file_stem, render_pdf, render_xlsx
from dashboard.i18n import CAUSES, fmt_int, fmt_minutes, fmt_time, norm_lang, tr, tr_map

dash.register_page(__name__, path="/", name="nav.live", nav_order=1, title="FeederWatch")

CHARTS_SECONDS = 10.0

#: trend ranges: (hours, step in minutes)
TREND_RANGES = {"24h": (24, 10), "5d": (120, 30), "14d": (336, 60)}
#: the table fills the screen below the figures; never shorter than this
GRID_HEIGHT = "max(320px, calc(100vh - 330px))"


def storm_mode(value) -> bool:
    """``?storm=1`` (or true/yes/on) turns storm mode on."""
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _kpi(value_id: str, label_key: str, lang: str, delta_id: str | None = None) -> html.Div:
    """A top card; ``delta_id`` adds its "since you last looked" line."""
    card_ = kpi(value_id, label_key, lang)
    if delta_id:
        card_.children.append(html.Div("", id=delta_id, className="kpi-delta"))
    return card_


def _kpis(lang: str) -> html.Div:
    return html.Div(
        [
            _kpi(ids.LIVE_KPI_ACTIVE, "live.active", lang, ids.LIVE_DELTA_ACTIVE),
            _kpi(ids.LIVE_KPI_CUSTOMERS, "live.customers", lang, ids.LIVE_DELTA_CUSTOMERS),
            _kpi(ids.LIVE_KPI_SHARE, "storm.share", lang),
            _kpi(ids.LIVE_KPI_FEEDERS, "live.feeders", lang),
            _kpi(ids.LIVE_KPI_LAST_HOUR, "live.last_hour", lang),
            _kpi(ids.LIVE_KPI_LONGEST, "live.longest", lang),
        ],
        id=ids.LIVE_KPIS,
        className="kpis kpis-6",
    )


def _since_strip(lang: str) -> html.Div:
    """The "since you last looked" line and its "mark as seen" button."""
    return html.Div(
        [
            html.Div("", id=ids.LIVE_SINCE, className="since-text"),
            html.Button(t("storm.mark_seen", lang), id=ids.LIVE_MARK_SEEN, className="btn"),
        ],
        className="since-strip",
    )


def _outage_table(lang: str, storm: bool):
    return card(
        t("live.table", lang),
        grid(
            ids.LIVE_GRID,
            row_id_field="row_id",
            height=GRID_HEIGHT,
            columnDefs=column_defs(lang),
            rowClassRules={
                "row-new": "params.data.is_new",
                "row-since-new": "params.data.since === 'new'",
                "row-changed": "params.data.since === 'changed'",
            },
            dashGridOptions={"rowHeight": 44, "headerHeight": 44} if storm else {},
        ),
        html.Div(t("storm.predicted_note", lang), className="note"),
    )


def _chart_card(title_key: str, choice_id: str, value: str, options, graph_id: str, lang, config):
    """A chart card: its title, a choice of what it shows (``options``: (label key, value)),
    and the graph, empty until the first refresh."""
    return card(
        t(title_key, lang),
        dcc.RadioItems(
            id=choice_id,
            value=value,
            inline=True,
            options=[{"label": t(key, lang), "value": v} for key, v in options],
        ),
        dcc.Graph(id=graph_id, config=config, figure=empty_figure("", 260)),
    )


def _charts(lang: str, graph_config: dict) -> html.Div:
    """Customers out over a chosen range, and outages by substation or town."""
    ranges = [("storm.range_24h", "24h"), ("storm.range_5d", "5d"), ("storm.range_14d", "14d")]
    groups = [("storm.by_substation", "substation"), ("storm.by_town", "town")]
    return html.Div(
        [
            _chart_card(
                "storm.trend",
                ids.LIVE_TREND_RANGE,
                "24h",
                ranges,
                ids.LIVE_TREND,
                lang,
                graph_config,
            ),
            _chart_card(
                "storm.breakdown",
                ids.LIVE_BREAKDOWN,
                "substation",
                groups,
                ids.LIVE_BY_SUBSTATION,
                lang,
                graph_config,
            ),
        ],
        className="grid-2",
    )


def layout(storm=None, **_kw):
    store = data.store()
    lang = store.settings.dashboard.language
    refresh = int(store.settings.dashboard.refresh_seconds * 1000)
    storm = storm_mode(storm)
    graph_config = {"displaylogo": False, "displayModeBar": not storm}
    return html.Div(
        [
            dcc.Interval(id=ids.LIVE_TICK, interval=refresh),
            dcc.Store(id=ids.LIVE_SEEN, storage_type="memory"),
            # what this browser saw when its user last looked (kept across visits and reloads)
            dcc.Store(id=ids.LIVE_LOOKED, storage_type="local"),
            dcc.Store(id=ids.LIVE_STORM, data=storm),
            html.H1(t("live.title", lang)),
            _kpis(lang),
            _since_strip(lang),
            _outage_table(lang, storm),
            _charts(lang, graph_config),
            card(
                t("storm.planned_title", lang),
                html.Div(id=ids.LIVE_PLANNED),
                html.Div(t("storm.planned_rules", lang), className="note"),
            ),
        ],
        className="live-board storm" if storm else "live-board",
    )


@callback(Output(ids.LIVE_GRID, "columnDefs"), Input(ids.LANG, "data"))
def live_columns(lang):
    return column_defs(norm_lang(lang, data.store().settings.dashboard.language))


def customers_served(store) -> int:
    """Customers of every transformer area (the base of "customers out, % served")."""
    tf = store.network()["transformers"]
    return int(pd.to_numeric(tf["customers"]).fillna(0).sum())


def etr_predictions(store, act: pd.DataFrame, now=None) -> pd.DataFrame | None:
    """Predicted restoration of the active outages whose source gives no ETR (None while the
    model is not ready: it is fitted once per data version by the warmer, never here). Part
    of the rows' fixed part: the time it is computed at stands for that data version."""
    try:
        model = store.etr_model()
    except data.AnalysisNotReady:
        return None
    if model is None or act.empty:
        return None
    pred = etr.predict_restoration(model, act, now or datetime.now(UTC))
    return pred


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
    State(ids.LIVE_LOOKED, "data"),
    Input(ids.COUNTY, "data"),
)
@county_scoped
def update_live(_n, lang, seen, looked=None, county=None, now: datetime | None = None):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    now = now or datetime.now(UTC)
    summary = store.live_summary(now)

    def board() -> tuple[list[dict], pd.DataFrame]:
        act = store.active()
        return fixed_rows(act, lang, store.tz, etr_predictions(store, act)), act

    # every open board of this data version shares the rows' fixed part (135 active outages:
    # 60 ms each time otherwise); the rows and the outages they come from are read together
    base, act = store.latest_memo(("live_rows", lang), board)
    rows = outage_rows(act, now, lang, store.tz, seen, base, looked)
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
    Output(ids.LIVE_SINCE, "children"),
    Output(ids.LIVE_DELTA_ACTIVE, "children"),
    Output(ids.LIVE_DELTA_CUSTOMERS, "children"),
    Output(ids.LIVE_LOOKED, "data"),
    Output(ids.LIVE_KPI_SHARE, "children"),
    Input(ids.LIVE_SEEN, "data"),
    Input(ids.LIVE_MARK_SEEN, "n_clicks"),
    State(ids.LIVE_GRID, "rowData"),
    State(ids.LIVE_LOOKED, "data"),
    State(ids.LANG, "data"),
)
def update_since(seen, _clicks, rows, looked, lang, now: datetime | None = None, marked=None):
    """The "since you last looked" strip and the cards' change lines: a diff of the rows the
    board shows against what this browser last marked as seen (no database read). The first
    visit, and the button, take the board as it is now as the new reference."""
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    if seen is None or rows is None:
        return (dash.no_update,) * 5
    now = now or datetime.now(UTC)
    marked = ctx.triggered_id == ids.LIVE_MARK_SEEN if marked is None else marked
    store_out = dash.no_update
    if marked or not isinstance(looked, dict) or not isinstance(looked.get("rows"), dict):
        looked = store_out = snapshot(rows, now)
    d = since_last_look(rows, looked)
    at = fmt_time(looked.get("at"), lang, store.tz)
    parts = [
        tr("storm.since_new", lang, n=d["new"]),
        tr("storm.since_restored", lang, n=d["restored"]),
        tr("storm.since_changed", lang, n=d["changed"]),
    ]
    strip = [
        html.Strong(tr("storm.since", lang, at=at) + ": "),
        html.Span(
            " · ".join(parts),
            className="since-counts"
            + (" since-any" if any(d[k] for k in ("new", "restored", "changed")) else ""),
        ),
    ]
    active_delta = " · ".join(
        [tr("storm.delta_new", lang, n=d["new"]), tr("storm.delta_restored", lang, n=d["restored"])]
    )
    c = d["customers_delta"]
    customers_delta = tr(
        "storm.delta_customers", lang, sign="+" if c >= 0 else "−", n=fmt_int(abs(c))
    )
    served = store.latest_memo(("live_served",), lambda: customers_served(store))
    out = sum(customers_count(r["customers"]) for r in rows)
    share = f"{100.0 * out / served:.1f} %" if served else "–"
    return strip, active_delta, customers_delta, store_out, share


@callback(
    Output(ids.LIVE_TREND, "figure"),
    Output(ids.LIVE_BY_SUBSTATION, "figure"),
    Input(ids.LIVE_TICK, "n_intervals"),
    Input(ids.LANG, "data"),
    Input(ids.LIVE_TREND_RANGE, "value"),
    Input(ids.LIVE_BREAKDOWN, "value"),
    State(ids.LIVE_STORM, "data"),
    Input(ids.COUNTY, "data"),
)
@county_scoped
def update_live_charts(
    _n,
    lang,
    trend_range="24h",
    breakdown="substation",
    storm=False,
    county=None,
    now: datetime | None = None,
):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    hours, step = TREND_RANGES.get(trend_range, TREND_RANGES["24h"])
    group = "town" if breakdown == "town" else "substation"
    height = 340 if storm else 260

    def figures():
        series = store.customers_out_series(now, hours=hours, step_minutes=step)
        act = store.active()
        if group == "town":
            towns = store.latest_memo(
                ("live_towns",), lambda: outage_towns(store.active(), store.network())
            )
            act = act.assign(town=towns.to_numpy())
        trend = trend_figure(series, lang, store.tz, height)
        bars = by_substation_figure(act, lang, group, height)
        if storm:
            for fig in (trend, bars):
                fig.update_layout(font={"size": 20})
        return trend, bars

    if now is not None:
        return figures()
    # Every open board asks at each refresh; the trend has 10-minute (or longer) steps, so one
    # drawing per data version serves them all for CHARTS_SECONDS.
    key = ("live_charts", lang, hours, group, bool(storm))
    return store.fresh(key, CHARTS_SECONDS, figures)


def _lead(minutes: float, lang: str) -> str:
    """Time until a planned outage starts: "3 天 4 小时" / "3 d 4 h"; "45 分钟" under an hour."""
    m = max(0, int(minutes))
    days, hours = divmod(m // 60, 24)
    if days:
        return tr("fmt.lead_days", lang).format(days=days, hours=hours)
    if hours:
        return tr("fmt.lead_hours", lang).format(hours=hours)
    return tr("fmt.lead_minutes", lang).format(minutes=m)


def planned_table(planned: pd.DataFrame, lang: str, tz: str, now) -> html.Div | html.Table:
    """Planned outages announced for the next 7 days, soonest first, apart from the faults:
    area, customers, start and end, how long until they start; within 24 h marked."""
    if planned.empty:
        return html.Div(tr("storm.planned_none", lang), className="note")
    keys = ("col.start", "col.end", "col.duration", "col.area", "col.customers", "col.cause")
    head = header_row((*keys, "storm.planned_in"), lang)
    body = []
    for r in planned.itertuples(index=False):
        until = (pd.Timestamp(r.start) - pd.Timestamp(now)).total_seconds() / 60.0
        length = (
            (pd.Timestamp(r.end) - pd.Timestamp(r.start)).total_seconds() / 60.0
            if pd.notna(r.end)
            else None
        )
        where = " · ".join(
            str(v)
            for v in (
                r.substation,
                r.feeder_name if pd.notna(r.feeder_name) else r.feeder,
                r.area_text,
            )
            if v is not None and pd.notna(v)
        )
        soon = until <= 24 * 60
        badge = tr("storm.planned_within_24h" if soon else "storm.planned_within_7d", lang)
        body.append(
            html.Tr(
                [
                    html.Td(fmt_time(r.start, lang, tz)),
                    html.Td(fmt_time(r.end, lang, tz)),
                    html.Td(fmt_minutes(length, lang), className="num"),
                    html.Td(where),
                    html.Td(fmt_int(r.customers), className="num"),
                    html.Td(tr_map(CAUSES, r.cause, lang) if r.cause else ""),
                    html.Td(
                        [
                            _lead(until, lang) + " ",
                            html.Span(badge, className="badge badge-bad" if soon else "badge"),
                        ]
                    ),
                ],
                **{"data-outage": str(r.outage_id)},
            )
        )
    return html.Table([html.Thead(head), html.Tbody(body)], className="simple planned-table")


@callback(
    Output(ids.LIVE_PLANNED, "children"),
    Input(ids.LIVE_TICK, "n_intervals"),
    Input(ids.LANG, "data"),
    Input(ids.COUNTY, "data"),
)
@county_scoped
def update_planned(_n, lang, county=None, now: datetime | None = None):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    at = now or datetime.now(UTC)
    return planned_table(store.planned(7.0, now), lang, store.tz, at)


#: the shift the board's handover button covers (the command takes any --from / --to)
HANDOVER_HOURS = 12


@callback(
    Output(ids.LIVE_HANDOVER_PDF, "data"),
    Output(ids.LIVE_HANDOVER_XLSX, "data"),
    Input(ids.LIVE_HANDOVER, "n_clicks"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def handover_download(_clicks, lang, now: datetime | None = None):
    """The shift handover of the last ``HANDOVER_HOURS`` (PDF and workbook), on a click only:
    read and drawn then, never at a refresh."""
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    end = now or datetime.now(UTC)
    start = end - pd.Timedelta(hours=HANDOVER_HOURS)
    s = store.handover(start, end)
    site, stem = store.settings.site.name, file_stem(s, store.tz)
    return (
        dcc.send_bytes(render_pdf(s, lang, store.tz, site), f"{stem}.pdf"),
        dcc.send_bytes(render_xlsx(s, lang, store.tz, site), f"{stem}.xlsx"),
    )
