"""Reliability and voltage: system indices by month with and without Major Event Days (IEEE 1366
2.5β, marked on the daily SAIDI chart), RS-1/RS-3 (DL/T 836), per-substation indices, and the
voltage compliance trend (GB/T 12325)."""

from __future__ import annotations

import dash
import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dashboard import data, ids
from dashboard.components.common import (
    SERIES,
    SEVERITY,
    card,
    empty_figure,
    figure_layout,
    grid,
    records,
    t,
)
from dashboard.i18n import fmt_num, norm_lang, tr

dash.register_page(
    __name__, path="/reliability", name="nav.reliability", nav_order=4, title="FeederWatch"
)

WINDOWS = data.WINDOWS


def layout(**_kw):
    store = data.store()
    lang = store.settings.dashboard.language
    window = min(WINDOWS, key=lambda w: abs(w - store.settings.ranking.window_days))
    return html.Div(
        [
            html.H1(t("rel.title", lang)),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label(t("map.window", lang)),
                            dcc.Dropdown(
                                id=ids.REL_WINDOW,
                                value=window,
                                clearable=False,
                                options=[
                                    {"label": tr(f"window.{w}", lang), "value": w} for w in WINDOWS
                                ],
                            ),
                        ],
                        className="control",
                    )
                ],
                className="controls",
            ),
            dcc.Loading(html.Div(id=ids.REL_BODY)),
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
        yaxis2={"overlaying": "y", "side": "right", "showgrid": False},
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
        fig.add_hline(
            y=info["threshold"],
            line_dash="dash",
            line_color=SEVERITY[4],
            annotation_text=f"T_MED = {info['threshold']:.2f}",
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


def reliability_body(window, lang):
    store = data.store()
    system = store.system_indices(window)
    monthly = store.indices("system", window, monthly=True)
    days, info = store.major_event_days(window)
    by_sub = store.indices("substation", window)
    s = system.iloc[0]
    figures = [
        ("SAIFI", fmt_num(s["saifi"], 3)),
        ("SAIDI", fmt_num(s["saidi"], 1)),
        ("CAIDI", fmt_num(s["caidi"], 1)),
        (tr("rel.rs1", lang), f"{s['rs1']:.4f}%"),
        (tr("rel.rs3", lang), f"{s['rs3']:.4f}%"),
    ]
    kpis = html.Div(
        [
            html.Div(
                [html.Div(v, className="kpi-value"), html.Div(k, className="kpi-label")],
                className="kpi",
            )
            for k, v in figures
        ],
        className="kpis",
    )
    years = info.get("years_available", 0)
    note = (
        tr("rel.med_note", lang, years=years)
        if np.isfinite(info.get("threshold", np.nan))
        else tr("rel.med_none", lang)
    )
    cols = [
        "substation",
        "customers_served",
        "saifi",
        "saidi",
        "caidi",
        "saidi_ex_med",
        "asai",
        "rs1",
        "rs3",
        "maifi",
    ]
    tbl = by_sub[cols].copy()
    for c in cols[2:]:
        tbl[c] = tbl[c].astype(float).round(4)
    defs = [
        {
            "field": c,
            "minWidth": 110,
            "headerName": tr("col.substation", lang) if c == "substation" else c.upper(),
        }
        for c in cols
    ]
    g = grid("rel-sub-grid", row_id_field="substation", height="260px", columnDefs=defs)
    g.rowData = records(tbl)
    gr = lambda fig: dcc.Graph(figure=fig, config={"displaylogo": False})
    return html.Div(
        [
            kpis,
            html.Div(
                [
                    card(t("rel.monthly", lang), gr(monthly_figure(monthly, lang))),
                    card(
                        t("rel.daily", lang),
                        html.Div(note, className="note"),
                        gr(daily_figure(days, info, lang)),
                    ),
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
    Input(ids.REL_WINDOW, "value"),
    Input(ids.LANG, "data"),
    Input(ids.ANALYSIS_READY, "data"),
)
def render_reliability(window, lang, _ready=None):
    return reliability_body(window, norm_lang(lang, data.store().settings.dashboard.language))


@callback(Output(ids.REL_WINDOW, "options"), Input(ids.LANG, "data"))
def window_labels(lang):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    return [{"label": tr(f"window.{w}", lang), "value": w} for w in WINDOWS]
