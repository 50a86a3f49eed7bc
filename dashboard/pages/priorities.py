"""Upgrade priorities: ranked 35 kV substations or 10 kV feeders with the score breakdown by
driver, recommended project and key figures; weights and window editable (re-ranking at once);
CSV and Excel export of exactly the rows shown (after the user's sort and filter)."""

from __future__ import annotations

import io

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import data, ids
from dashboard.components.common import (
    DRIVER_COLOURS,
    card,
    empty_figure,
    figure_layout,
    grid,
    md_link_js,
    t,
)
from dashboard.data import DRIVERS
from dashboard.i18n import PROJECTS, norm_lang, tr, tr_map
from dashboard.privacy import mask

dash.register_page(
    __name__, path="/priorities", name="nav.priorities", nav_order=3, title="FeederWatch"
)

WINDOWS = data.WINDOWS
# Cells starting with these are formulas to Excel/LibreOffice (CSV injection, OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def columns(level: str, lang: str) -> list[tuple[str, str, str]]:
    """(field, header, kind) of the table; kind: text, int, num."""
    key = "col.feeder" if level == "feeder" else "col.substation"
    cols = [
        ("rank", tr("col.rank", lang), "int"),
        (level, tr(key, lang), "link"),
        ("name", tr("col.name", lang), "text"),
    ]
    if level == "feeder":
        cols.append(("substation", tr("col.substation", lang), "text"))
    cols += [
        ("score", tr("col.score", lang), "num"),
        ("avoidable_complaints", tr("col.avoidable", lang), "num"),
    ]
    cols += [(d, tr(f"drv.{d}", lang), "num") for d in DRIVERS]
    cols += [
        ("project", tr("col.project", lang), "text"),
        ("saidi", tr("col.saidi", lang), "num"),
        ("saifi", tr("col.saifi", lang), "num"),
        ("low_voltage_days", tr("col.lv_days", lang), "int"),
        ("complaints_per_1000", tr("col.cpk", lang), "num"),
        ("customers", tr("col.customers", lang), "int"),
    ]
    return cols


def column_defs(level: str, lang: str) -> list[dict]:
    defs = []
    for field, header, kind in columns(level, lang):
        col = {"field": field, "headerName": header, "minWidth": 90}
        if kind in ("int", "num"):
            col["filter"] = "agNumberColumnFilter"
            col["type"] = "numericColumn"
            if kind == "num":
                col["valueFormatter"] = {
                    "function": "params.value == null ? '' : d3.format(',.2f')(params.value)"
                }
        if kind == "link":
            col["cellRenderer"] = "markdown"
            col["valueGetter"] = {"function": md_link_js(field, f"/{level}/")}
            col["filterValueGetter"] = {"function": f"params.data.{field}"}
        if field == "project":
            col["minWidth"] = 170
        defs.append(col)
    return defs


def table_rows(ranked: pd.DataFrame, level: str, lang: str) -> list[dict]:
    keep = [f for f, _, _ in columns(level, lang)]
    df = ranked[[c for c in keep if c in ranked]].copy()
    df["project"] = [tr_map(PROJECTS, p, lang) for p in df["project"]]
    for c in df.columns:
        if df[c].dtype.kind == "f":
            df[c] = df[c].round(3)
    return df.astype(object).where(df.notna(), None).to_dict("records")


def bars_figure(rows: list[dict], level: str, lang: str, top: int = 20) -> go.Figure:
    if not rows:
        return empty_figure(tr("shell.no_data", lang), 420)
    shown = rows[:top][::-1]
    names = [str(r[level]) for r in shown]
    fig = go.Figure(
        [
            go.Bar(
                y=names,
                x=[r.get(d) or 0 for r in shown],
                orientation="h",
                name=tr(f"drv.{d}", lang),
                marker_color=DRIVER_COLOURS[d],
            )
            for d in DRIVERS
        ]
    )
    return figure_layout(
        fig,
        max(320, 22 * len(shown) + 90),
        barmode="stack",
        margin={"l": 70, "r": 20, "t": 10, "b": 60},
    )


def layout(**_kw):
    store = data.store()
    lang = store.settings.dashboard.language
    r = store.settings.ranking
    window = min(WINDOWS, key=lambda w: abs(w - r.window_days))

    def weight(id_, key, value):
        return html.Div(
            [
                html.Label(t(key, lang)),
                dcc.Input(id=id_, type="number", min=0, step=0.1, value=value, debounce=True),
            ],
            className="control",
        )

    return html.Div(
        [
            html.H1(t("pri.title", lang)),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label(t("pri.level", lang)),
                            dcc.RadioItems(
                                id=ids.PRI_LEVEL,
                                value="feeder",
                                inline=True,
                                options=[
                                    {"label": t("pri.feeders", lang), "value": "feeder"},
                                    {"label": t("pri.substations", lang), "value": "substation"},
                                ],
                            ),
                        ],
                        className="control",
                    ),
                    html.Div(
                        [
                            html.Label(t("map.window", lang)),
                            dcc.Dropdown(
                                id=ids.PRI_WINDOW,
                                value=window,
                                clearable=False,
                                options=[
                                    {"label": tr(f"window.{w}", lang), "value": w} for w in WINDOWS
                                ],
                            ),
                        ],
                        className="control",
                    ),
                    weight(ids.PRI_W_COMPLAINTS, "pri.w_complaints", r.weight_complaints),
                    weight(ids.PRI_W_HOURS, "pri.w_hours", r.weight_customer_hours),
                    weight(ids.PRI_W_LV, "pri.w_lv", r.weight_low_voltage_hours),
                    html.Button(t("pri.export_csv", lang), id=ids.PRI_EXPORT_CSV, className="btn"),
                    html.Button(
                        t("pri.export_xlsx", lang), id=ids.PRI_EXPORT_XLSX, className="btn"
                    ),
                    dcc.Download(id=ids.PRI_DOWNLOAD),
                ],
                className="controls",
            ),
            card(
                None,
                grid(
                    ids.PRI_GRID,
                    row_id_field="row_key",
                    height="440px",
                    columnDefs=column_defs("feeder", lang),
                ),
            ),
            card(
                t("pri.breakdown", lang),
                dcc.Graph(
                    id=ids.PRI_BARS, config={"displaylogo": False}, figure=empty_figure("", 420)
                ),
            ),
        ]
    )


@callback(
    Output(ids.PRI_GRID, "rowData"),
    Output(ids.PRI_GRID, "columnDefs"),
    Output(ids.PRI_BARS, "figure"),
    Input(ids.PRI_LEVEL, "value"),
    Input(ids.PRI_WINDOW, "value"),
    Input(ids.PRI_W_COMPLAINTS, "value"),
    Input(ids.PRI_W_HOURS, "value"),
    Input(ids.PRI_W_LV, "value"),
    Input(ids.LANG, "data"),
    Input(ids.ANALYSIS_READY, "data"),
)
def update_priorities(level, window, w_c, w_h, w_lv, lang, _ready=None):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    level = level if level in ("feeder", "substation") else "feeder"
    ranked = store.reranked(level, window, (w_c, w_h, w_lv))
    rows = table_rows(ranked, level, lang)
    for r in rows:
        r["row_key"] = f"{level}:{r[level]}"
    return rows, column_defs(level, lang), bars_figure(rows, level, lang)


def neutralise(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_frame(rows: list[dict], level: str, lang: str) -> pd.DataFrame:
    cols = columns(level, lang)
    # exports are always masked (personal numbers) and formula-neutralised
    df = pd.DataFrame(
        [{header: neutralise(mask(r.get(field))) for field, header, _ in cols} for r in rows],
        columns=[h for _, h, _ in cols],
    )
    return df


@callback(
    Output(ids.PRI_DOWNLOAD, "data"),
    Input(ids.PRI_EXPORT_CSV, "n_clicks"),
    Input(ids.PRI_EXPORT_XLSX, "n_clicks"),
    State(ids.PRI_GRID, "virtualRowData"),
    State(ids.PRI_GRID, "rowData"),
    State(ids.PRI_LEVEL, "value"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def export(_csv, _xlsx, shown, all_rows, level, lang):
    """Exactly the rows on screen: the grid's rows after its sort and filter."""
    kind = {ids.PRI_EXPORT_CSV: "csv", ids.PRI_EXPORT_XLSX: "xlsx"}.get(ctx.triggered_id)
    if kind is None:
        return no_update
    rows = shown if shown is not None else (all_rows or [])
    return export_payload(kind, rows, level, lang)


def export_payload(kind: str, rows: list[dict], level: str, lang: str | None) -> dict:
    """The dcc.Download payload of ``rows`` as CSV (UTF-8 with BOM, so that Excel on Chinese
    Windows reads the headers) or Excel, formula-like text neutralised."""
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    level = level if level in ("feeder", "substation") else "feeder"
    df = export_frame(rows, level, lang)
    name = f"priorities_{level}"
    if kind == "xlsx":
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xw:
            df.to_excel(xw, index=False, sheet_name=level)
        return dcc.send_bytes(buf.getvalue(), f"{name}.xlsx")
    return dcc.send_string("\ufeff" + df.to_csv(index=False), f"{name}.csv")


@callback(Output(ids.PRI_WINDOW, "options"), Input(ids.LANG, "data"))
def window_labels(lang):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    return [{"label": tr(f"window.{w}", lang), "value": w} for w in WINDOWS]
