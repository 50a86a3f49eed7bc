"""Upgrade priorities: ranked substations or feeders (titled by the network's voltage levels) with
the score worked out per row, the complaints avoided by driver, the recommended project and, when
``[ranking.costs]`` is configured, its cost, complaints avoided per 10,000 yuan and a budget
cut-line; weights (validated) and window editable; links and row clicks open the detail pages;
chart and CSV/Excel export follow exactly the rows shown (after the user's sort and filter) and
carry the window, weights and costs used."""

from __future__ import annotations

import io

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard import data, ids
from dashboard.components.common import (
    card,
    county_scoped,
    empty_figure,
    grid,
    t,
    voltage_levels,
    window_control,
    window_options,
)
from dashboard.components.priority_table import (
    bars_figure,
    budget_cut,
    column_defs,
    columns,
    fmt_weight,
    params_text,
    table_rows,
)
from dashboard.i18n import fmt_num, norm_lang, tr
from dashboard.privacy import mask

dash.register_page(
    __name__, path="/priorities", name="nav.priorities", nav_order=3, title="FeederWatch"
)

WINDOWS = data.WINDOWS
# Cells starting with these are formulas to Excel/LibreOffice (CSV injection, OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _weights(w_c, w_h, w_lv) -> tuple[float, float, float] | None:
    """The three weights as floats, or None when any is blank, not a number or negative."""
    out = []
    for w in (w_c, w_h, w_lv):
        if w is None or isinstance(w, bool) or w == "":
            return None
        try:
            v = float(w)
        except (TypeError, ValueError):
            return None
        if not np.isfinite(v) or v < 0:
            return None
        out.append(v)
    return tuple(out)


def _costs(store) -> dict[str, float]:
    return {str(k): float(v) for k, v in dict(store.settings.ranking.costs or {}).items()}


def _weight(id_, key, value, lang):
    # no min: a negative weight must reach the callback to be refused with a message
    return html.Div(
        [
            html.Label(t(key, lang)),
            dcc.Input(id=id_, type="number", step=0.1, value=value, debounce=True),
        ],
        className="control",
    )


def _controls(lang: str, window: int, levels: dict[str, str], r, has_costs: bool) -> html.Div:
    """Level, window, the three weights, the budget (with costs configured), the exports."""
    return html.Div(
        [
            html.Div(
                [
                    html.Label(t("pri.level", lang)),
                    dcc.RadioItems(
                        id=ids.PRI_LEVEL,
                        value="feeder",
                        inline=True,
                        options=level_options(lang, levels),
                    ),
                ],
                className="control",
            ),
            window_control(ids.PRI_WINDOW, lang, window, WINDOWS),
            _weight(ids.PRI_W_COMPLAINTS, "pri.w_complaints", r.weight_complaints, lang),
            _weight(ids.PRI_W_HOURS, "pri.w_hours", r.weight_customer_hours, lang),
            _weight(ids.PRI_W_LV, "pri.w_lv", r.weight_low_voltage_hours, lang),
            html.Div(
                [
                    html.Label(t("pri.budget", lang)),
                    dcc.Input(id=ids.PRI_BUDGET, type="number", debounce=True),
                ],
                id=ids.PRI_BUDGET_BOX,
                className="control",
                style={} if has_costs else {"display": "none"},
            ),
            html.Button(t("pri.export_csv", lang), id=ids.PRI_EXPORT_CSV, className="btn"),
            html.Button(t("pri.export_xlsx", lang), id=ids.PRI_EXPORT_XLSX, className="btn"),
            dcc.Download(id=ids.PRI_DOWNLOAD),
        ],
        className="controls",
    )


def _table_card(lang: str, has_costs: bool):
    """The formula, the budget summary, the substation note and the ranked table."""
    return card(
        None,
        html.Div(id=ids.PRI_FORMULA, className="formula"),
        html.Div(id=ids.PRI_SUMMARY, className="budget-summary"),
        html.Div(id=ids.PRI_SUB_NOTE, className="note"),
        grid(
            ids.PRI_GRID,
            row_id_field="row_key",
            height="480px",
            columnDefs=column_defs("feeder", lang, has_costs),
            rowClassRules={
                "row-in-budget": "params.data.in_budget === true",
                "row-cut-line": "params.data.cut_line === true",
            },
            dashGridOptions={"tooltipShowDelay": 300},
        ),
    )


def layout(**_kw):
    store = data.store()
    lang = store.settings.dashboard.language
    r = store.settings.ranking
    window = min(WINDOWS, key=lambda w: abs(w - r.window_days))
    levels = voltage_levels(store.network())
    has_costs = bool(_costs(store))
    return html.Div(
        [
            dcc.Location(id=ids.PRI_NAV, refresh="callback-nav"),
            dcc.Store(id=ids.PRI_PARAMS, data=""),
            html.H1(tr("pri.title_kv", lang, **levels), id=ids.PRI_TITLE),
            _controls(lang, window, levels, r, has_costs),
            html.Div(id=ids.PRI_MESSAGE),
            _table_card(lang, has_costs),
            card(
                t("pri.breakdown", lang),
                dcc.Graph(
                    id=ids.PRI_BARS, config={"displaylogo": False}, figure=empty_figure("", 420)
                ),
            ),
        ]
    )


def level_options(lang: str, levels: dict[str, str]) -> list[dict]:
    return [
        {"label": tr("pri.feeders_kv", lang, kv=levels["feeder"]), "value": "feeder"},
        {"label": tr("pri.substations_kv", lang, kv=levels["substation"]), "value": "substation"},
    ]


def view(level, window, w_c, w_h, w_lv, lang, budget=None) -> dict:
    """Everything the page shows for these inputs (the callback's outputs, by name)."""
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    level = level if level in ("feeder", "substation") else "feeder"
    window = (
        window
        if window in WINDOWS
        else min(WINDOWS, key=lambda w: abs(w - store.settings.ranking.window_days))
    )
    weights = _weights(w_c, w_h, w_lv)
    message = None
    if weights is None:
        return {"message": html.Div(tr("pri.bad_weights", lang), className="error-msg")}
    bad_budget = budget is not None and (not isinstance(budget, (int, float)) or budget < 0)
    if bad_budget:
        message = html.Div(tr("pri.bad_budget", lang), className="error-msg")
        budget = None
    costs = _costs(store)
    levels = voltage_levels(store.network())
    ranked = store.reranked(level, window, weights)
    feeders = store.reranked("feeder", window, weights) if level == "substation" else None
    rows = table_rows(ranked, level, lang, weights, feeders, levels)
    summary = None
    if costs:
        cut = budget_cut(rows, budget)
        order = {k: i + 1 for i, k in enumerate(cut["keys"])}
        for r in rows:
            r["in_budget"] = r["row_key"] in order
            r["budget_order"] = order.get(r["row_key"])
            r["budget"] = tr("yes" if r["in_budget"] else "no", lang) if budget is not None else ""
            r["cut_line"] = bool(order) and order.get(r["row_key"]) == len(order)
        if budget is None:
            summary = tr("pri.no_budget", lang)
        else:
            summary = tr(
                "pri.budget_summary",
                lang,
                budget=fmt_num(budget, 0),
                n=len(order),
                cost=fmt_num(cut["cost"], 0),
                avoided=fmt_num(cut["avoided"], 1),
            )
        if budget is not None:
            # in-budget rows first, in pick order: the cut-line sits under the last one
            rows.sort(key=lambda r: (r["budget_order"] is None, r["budget_order"] or 0, r["rank"]))
    formula = tr(
        "pri.formula",
        lang,
        wc=fmt_weight(weights[0]),
        wh=fmt_weight(weights[1]),
        wl=fmt_weight(weights[2]),
    )
    return {
        "rows": rows,
        "defs": column_defs(level, lang, bool(costs)),
        "message": message,
        "formula": formula,
        "summary": summary,
        "sub_note": tr("pri.sub_note", lang) if level == "substation" else None,
        "params": params_text(window, weights, costs, lang),
        "level": level,
        "lang": lang,
    }


@callback(
    Output(ids.PRI_GRID, "rowData"),
    Output(ids.PRI_GRID, "columnDefs"),
    Output(ids.PRI_MESSAGE, "children"),
    Output(ids.PRI_FORMULA, "children"),
    Output(ids.PRI_SUMMARY, "children"),
    Output(ids.PRI_SUB_NOTE, "children"),
    Output(ids.PRI_PARAMS, "data"),
    Input(ids.PRI_LEVEL, "value"),
    Input(ids.PRI_WINDOW, "value"),
    Input(ids.PRI_W_COMPLAINTS, "value"),
    Input(ids.PRI_W_HOURS, "value"),
    Input(ids.PRI_W_LV, "value"),
    Input(ids.PRI_BUDGET, "value"),
    Input(ids.LANG, "data"),
    Input(ids.ANALYSIS_READY, "data"),
    Input(ids.COUNTY, "data"),
)
@county_scoped
def update_priorities(level, window, w_c, w_h, w_lv, budget, lang, _ready=None, county=None):
    v = view(level, window, w_c, w_h, w_lv, lang, budget)
    if "rows" not in v:  # refused weights: one message, the table stays as it was
        return (no_update, no_update, v["message"], no_update, no_update, no_update, no_update)
    return (
        v["rows"],
        v["defs"],
        v["message"],
        v["formula"],
        v["summary"],
        v["sub_note"],
        v["params"],
    )


@callback(
    Output(ids.PRI_GRID, "filterModel"),
    Input(ids.PRI_LEVEL, "value"),
    prevent_initial_call=True,
)
def clear_filter(_level):
    """A filter set on feeders means nothing for substations: each level starts unfiltered."""
    return {}


@callback(
    Output(ids.PRI_BARS, "figure"),
    Input(ids.PRI_GRID, "virtualRowData"),
    Input(ids.PRI_PARAMS, "data"),
    State(ids.PRI_LEVEL, "value"),
    State(ids.LANG, "data"),
)
def update_bars(shown, params, level, lang):
    """The chart shows the table's rows after its filter and sort, with what they were
    computed from."""
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    level = level if level in ("feeder", "substation") else "feeder"
    rows = [r for r in (shown or []) if level in r]
    return bars_figure(rows, level, lang, params or "")


# a click anywhere on a row opens that feeder's or substation's page (row ids: "level:id")
clientside_callback(
    """function (cell) {
        if (!cell || !cell.rowId) { return window.dash_clientside.no_update; }
        const i = String(cell.rowId).indexOf(':');
        const level = cell.rowId.slice(0, i), id = cell.rowId.slice(i + 1);
        if (level !== 'feeder' && level !== 'substation') {
            return window.dash_clientside.no_update;
        }
        return '/' + level + '/' + encodeURIComponent(id);
    }""",
    Output(ids.PRI_NAV, "pathname"),
    Input(ids.PRI_GRID, "cellClicked"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.PRI_LEVEL, "options"),
    Output(ids.PRI_TITLE, "children"),
    Input(ids.LANG, "data"),
)
def level_labels(lang):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    levels = voltage_levels(store.network())
    return level_options(lang, levels), tr("pri.title_kv", lang, **levels)


def neutralise(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_frame(rows: list[dict], level: str, lang: str, params: dict | None = None):
    costs = any(r.get("cost_10k_yuan") is not None for r in rows)
    cols = columns(level, lang, costs)
    # exports are always masked (personal numbers) and formula-neutralised
    df = pd.DataFrame(
        [{header: neutralise(mask(r.get(field))) for field, header, _ in cols} for r in rows],
        columns=[h for _, h, _ in cols],
    )
    # what the ranking was made with, on every row (a CSV has no other place for it)
    for key, value in (params or {}).items():
        df[tr(f"col.{key}", lang)] = value
    return df


def export_params(window, w_c, w_h, w_lv, lang) -> dict:
    store = data.store()
    weights = _weights(w_c, w_h, w_lv) or (None, None, None)
    costs = _costs(store)
    return {
        "window": tr(f"window.{window}", lang) if window in WINDOWS else "",
        "weights": " / ".join("" if w is None else fmt_weight(w) for w in weights),
        "costs": ", ".join(f"{k}={fmt_weight(v)}" for k, v in costs.items())
        or tr("pri.no_costs", lang),
    }


@callback(
    Output(ids.PRI_DOWNLOAD, "data"),
    Input(ids.PRI_EXPORT_CSV, "n_clicks"),
    Input(ids.PRI_EXPORT_XLSX, "n_clicks"),
    State(ids.PRI_GRID, "virtualRowData"),
    State(ids.PRI_GRID, "rowData"),
    State(ids.PRI_LEVEL, "value"),
    State(ids.LANG, "data"),
    State(ids.PRI_WINDOW, "value"),
    State(ids.PRI_W_COMPLAINTS, "value"),
    State(ids.PRI_W_HOURS, "value"),
    State(ids.PRI_W_LV, "value"),
    Input(ids.COUNTY, "data"),
    prevent_initial_call=True,
)
@county_scoped
def export(
    _csv,
    _xlsx,
    shown,
    all_rows,
    level,
    lang,
    window=None,
    w_c=None,
    w_h=None,
    w_lv=None,
    county=None,
):
    """Exactly the rows on screen: the grid's rows after its sort and filter."""
    kind = {ids.PRI_EXPORT_CSV: "csv", ids.PRI_EXPORT_XLSX: "xlsx"}.get(ctx.triggered_id)
    if kind is None:
        return no_update
    rows = shown if shown is not None else (all_rows or [])
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    return export_payload(kind, rows, level, lang, export_params(window, w_c, w_h, w_lv, lang))


def export_payload(
    kind: str, rows: list[dict], level: str, lang: str | None, params: dict | None = None
) -> dict:
    """The dcc.Download payload of ``rows`` as CSV (UTF-8 with BOM, so that Excel on Chinese
    Windows reads the headers) or Excel, formula-like text neutralised."""
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    level = level if level in ("feeder", "substation") else "feeder"
    df = export_frame(rows, level, lang, params)
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
    return window_options(lang, WINDOWS)
