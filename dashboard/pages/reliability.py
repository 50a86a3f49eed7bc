"""Reliability and voltage: system indices by month with and without Major Event Days (IEEE 1366
2.5β, marked on the daily SAIDI chart), RS-1/RS-3 (DL/T 836), per-substation indices, and the
voltage compliance trend (GB/T 12325). The page says how it counts (issue 15): the period rule,
where the customers served come from, T_MED (marked provisional when the history is short), the
MED days and the open outages; every index is named with its unit (issue 18)."""

from __future__ import annotations

import dash
import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, ids
from dashboard.components.common import (
    SECOND_AXIS,
    SERIES,
    SEVERITY,
    card,
    county_scoped,
    drawn_body,
    empty_figure,
    figure_layout,
    grid,
    header_row,
    records,
    redraw_needed,
    shown_as,
    t,
    window_control,
    window_options,
)
from dashboard.i18n import fmt_int, fmt_num, norm_lang, tr

dash.register_page(
    __name__, path="/reliability", name="nav.reliability", nav_order=4, title="FeederWatch"
)

WINDOWS = data.WINDOWS


def layout(county: str | None = None, **_kw):
    store = data.store()
    lang = store.settings.dashboard.language
    window = min(WINDOWS, key=lambda w: abs(w - store.settings.ranking.window_days))
    return html.Div(
        [
            html.H1(t("rel.title", lang)),
            html.Div(
                [window_control(ids.REL_WINDOW, lang, window, WINDOWS)],
                className="controls",
            ),
            *drawn_body(ids.REL_BODY, ids.REL_SHOWN, reliability_body, window, county=county),
        ]
    )


def monthly_figure(m, lang):
    if m.empty:
        return empty_figure(tr("shell.no_data", lang))
    fig = go.Figure(
        [
            go.Bar(
                x=m["month"],
                y=m["saidi"],
                name=f"SAIDI {tr('rel.with_med', lang)}",
                marker_color=SERIES[0],
            ),
            go.Bar(
                x=m["month"],
                y=m["saidi_ex_med"],
                name=f"SAIDI {tr('rel.ex_med', lang)}",
                marker_color=SERIES[4],
            ),
            go.Scatter(
                x=m["month"],
                y=m["saifi"],
                name="SAIFI",
                yaxis="y2",
                mode="lines+markers",
                line={"color": SERIES[1]},
            ),
        ]
    )
    return figure_layout(
        fig,
        320,
        barmode="group",
        yaxis={"title": tr("col.saidi", lang)},
        yaxis2=SECOND_AXIS,
    )


def daily_figure(days, info, lang):
    if days.empty:
        return empty_figure(tr("shell.no_data", lang))
    colours = np.where(days["is_med"], SEVERITY[4], SERIES[0])
    fig = go.Figure(
        go.Bar(
            x=days["day"],
            y=days["saidi"],
            marker_color=colours,
            name="SAIDI",
            customdata=np.where(days["is_med"], "MED", ""),
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} min %{customdata}",
        )
    )
    if np.isfinite(info.get("threshold", np.nan)):
        mark = f" ({tr('rel.tmed.mark', lang)})" if info.get("provisional") else ""
        fig.add_hline(
            y=info["threshold"],
            line_dash="dash",
            line_color=SEVERITY[4],
            annotation_text=f"T_MED = {fmt_num(info['threshold'], 2)}{mark}",
        )
    return figure_layout(fig, 300, showlegend=False)


def compliance_figure(v, lang):
    if v.empty:
        return empty_figure(tr("shell.no_data", lang))
    fig = go.Figure(
        go.Scatter(
            x=v["day"],
            y=v["compliance"] * 100,
            mode="lines",
            line={"color": SERIES[2]},
            name=tr("col.compliance", lang),
        )
    )
    fig.update_yaxes(title="%")
    return figure_layout(fig, 280, showlegend=False)


#: the substation table: field, header key, d3 format of the value ("%" appends a percent sign)
SUB_COLUMNS = (
    ("customers_served", "rel.h.served", ",.0f"),
    ("saifi", "rel.h.saifi", ",.3f"),
    ("saidi", "rel.h.saidi", ",.1f"),
    ("caidi", "rel.h.caidi", ",.1f"),
    ("saidi_ex_med", "rel.h.saidi_ex_med", ",.1f"),
    ("asai", "rel.h.asai", ".4%"),
    ("rs1", "rel.h.rs1", ",.4f%"),
    ("rs3", "rel.h.rs3", ",.4f%"),
    ("maifi", "rel.h.maifi", ",.3f"),
    ("open_outages", "rel.h.open", ",.0f"),
)
#: the split table: index, header key, digits
SPLIT_ROWS = (("saifi", "rel.h.saifi", 3), ("saidi", "rel.h.saidi", 1), ("caidi", "rel.h.caidi", 1))
SPLIT_COLUMNS = (
    ("", "rel.c.all"),
    ("_ex_med", "rel.c.all_ex"),
    ("_planned", "rel.c.planned"),
    ("_planned_ex_med", "rel.c.planned_ex"),
    ("_fault", "rel.c.unplanned"),
    ("_fault_ex_med", "rel.c.unplanned_ex"),
)


def _formatter(spec: str) -> dict:
    suffix = " + '%'" if spec.endswith("f%") else ""
    spec = spec.removesuffix("%") if suffix else spec
    return {"function": f"params.value == null ? '–' : d3.format('{spec}')(params.value){suffix}"}


def substation_column_defs(lang: str) -> list[dict]:
    """Named, bilingual headers with units and one number format per index."""
    defs = [{"field": "substation", "headerName": tr("col.substation", lang), "minWidth": 110}]
    for field, key, spec in SUB_COLUMNS:
        defs.append(
            {
                "field": field,
                "headerName": tr(key, lang),
                "headerTooltip": tr(key, lang),
                "minWidth": 130,
                "wrapHeaderText": True,
                "autoHeaderHeight": True,
                "type": "numericColumn",
                "filter": "agNumberColumnFilter",
                "valueFormatter": _formatter(spec),
            }
        )
    return defs


def counting_panel(system, info: dict, lang: str, settings) -> html.Div:
    """How the figures are counted: period rule, customer base, T_MED, MED days, open outages."""
    rule = info.get("period_rule", settings.period_rule)
    base = system.attrs.get("customer_base", "network")
    threshold = info.get("threshold", np.nan)
    if np.isfinite(threshold):
        t_med = tr("rel.tmed.value", lang, value=fmt_num(threshold, 2))
        if info.get("provisional"):
            t_med += tr("rel.tmed.provisional", lang, days=info.get("history_days", 0))
        else:
            t_med += tr("rel.tmed.history", lang, years=info.get("years_available", 0))
    else:
        t_med = tr("rel.tmed.none", lang)
    med_days = (
        "、".join(info.get("med_days", [])) if lang != "en" else ", ".join(info.get("med_days", []))
    )
    open_count = system.iloc[0].get("open_outages", 0) if len(system) else 0
    rows = [
        ("rel.rule", tr(f"rel.rule.{rule}", lang), "rel-rule"),
        ("rel.base", tr(f"rel.base.{base}", lang), "rel-base"),
        ("rel.tmed", t_med, "rel-tmed"),
        ("rel.med_days", med_days or tr("rel.med_days.none", lang), "rel-med-days"),
        ("rel.open", fmt_int(open_count), "rel-open"),
        (
            "rel.no_customers",
            fmt_int(system.attrs.get("outages_without_customers", 0)),
            "rel-no-customers",
        ),
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.Span(f"{tr(k, lang)}：" if lang != "en" else f"{tr(k, lang)}: "),
                    html.Span(v, id=i),
                ],
                className="note",
            )
            for k, v, i in rows
        ],
        className="rel-counting",
    )


def split_table(row, lang: str) -> html.Table:
    """SAIFI / SAIDI / CAIDI with and without MEDs, planned and unplanned."""
    head = header_row(["rel.c.index", *(k for _, k in SPLIT_COLUMNS)], lang)
    body = [
        html.Tr(
            [html.Td(tr(key, lang))]
            + [
                html.Td(fmt_num(row.get(f"{name}{suffix}", np.nan), digits))
                for suffix, _ in SPLIT_COLUMNS
            ]
        )
        for name, key, digits in SPLIT_ROWS
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="table", id="rel-split")


def reliability_body(window, lang):
    store = data.store()
    system = store.system_indices(window)
    monthly = store.indices("system", window, monthly=True)
    days, info = store.major_event_days(window)
    by_sub = store.indices("substation", window)
    s = system.iloc[0]
    figures = [
        ("rel.h.saifi", fmt_num(s["saifi"], 3)),
        ("rel.h.saidi", fmt_num(s["saidi"], 1)),
        ("rel.h.caidi", fmt_num(s["caidi"], 1)),
        ("rel.h.saidi_ex_med", fmt_num(s["saidi_ex_med"], 1)),
        ("rel.h.rs1", fmt_num(s["rs1"], 4)),
        ("rel.h.rs3", fmt_num(s["rs3"], 4)),
    ]
    kpis = html.Div(
        [
            html.Div(
                [html.Div(v, className="kpi-value"), html.Div(tr(k, lang), className="kpi-label")],
                className="kpi",
            )
            for k, v in figures
        ],
        className="kpis",
    )
    cols = ["substation", *(f for f, _, _ in SUB_COLUMNS)]
    tbl = by_sub[[c for c in cols if c in by_sub]].copy()
    g = grid(
        "rel-sub-grid",
        row_id_field="substation",
        height="300px",
        columnDefs=substation_column_defs(lang),
    )
    g.rowData = records(tbl)
    gr = lambda fig: dcc.Graph(figure=fig, config={"displaylogo": False})
    return html.Div(
        [
            kpis,
            card(
                t("rel.counting", lang),
                counting_panel(system, info, lang, store.analytics_settings),
                html.Div(t("rel.split", lang), className="card-title"),
                split_table(s, lang),
            ),
            html.Div(
                [
                    card(t("rel.monthly", lang), gr(monthly_figure(monthly, lang))),
                    card(t("rel.daily", lang), gr(daily_figure(days, info, lang))),
                ],
                className="grid-2",
            ),
            html.Div(
                [
                    card(t("rel.by_sub", lang), g),
                    card(
                        t("rel.voltage", lang),
                        gr(compliance_figure(store.voltage_compliance_daily(), lang)),
                    ),
                ],
                className="grid-2",
            ),
        ]
    )


@callback(
    Output(ids.REL_BODY, "children"),
    Output(ids.REL_SHOWN, "data"),
    Input(ids.REL_WINDOW, "value"),
    Input(ids.LANG, "data"),
    Input(ids.ANALYSIS_READY, "data"),
    State(ids.REL_SHOWN, "data"),
    Input(ids.COUNTY, "data"),
)
@county_scoped
def update_reliability(window, lang, _ready=None, shown=None, county=None):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    redraw_needed(shown, lang, window)
    return render_reliability(window, lang), shown_as(lang, window)


def render_reliability(window, lang, _ready=None):
    return reliability_body(window, norm_lang(lang, data.store().settings.dashboard.language))


@callback(Output(ids.REL_WINDOW, "options"), Input(ids.LANG, "data"))
def window_labels(lang):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    return window_options(lang, WINDOWS)
