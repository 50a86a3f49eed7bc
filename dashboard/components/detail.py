"""Figures and tables shared by the feeder and substation detail pages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components.common import (
    SECOND_AXIS,
    SERIES,
    SEVERITY,
    card,
    empty_figure,
    figure_layout,
    grid,
    header_row,
    records,
    t,
)
from dashboard.i18n import AREA_KINDS, CATEGORIES, CAUSES, fmt_num, fmt_time, tr, tr_map
from dashboard.privacy import shown_frame

HEATMAP_AREAS = 40
#: about the width of a chart in a third of the page (grid-3), for its margins (figure_layout)
NARROW = 380


def outage_timeline(o: pd.DataFrame, lang: str, tz: str) -> go.Figure:
    if o.empty:
        return empty_figure(tr("shell.no_data", lang))
    start = o["start"].dt.tz_convert(tz).dt.tz_localize(None)
    end = o["end"].fillna(pd.Timestamp.now(tz="UTC")).dt.tz_convert(tz).dt.tz_localize(None)
    minutes = (end - start).dt.total_seconds() / 60
    causes = o["cause"].fillna("unknown")
    fig = go.Figure()
    for i, cause in enumerate(sorted(causes.unique())):
        sel = causes == cause
        fig.add_trace(
            go.Scatter(
                x=start[sel],
                y=minutes[sel],
                mode="markers",
                name=tr_map(CAUSES, cause, lang),
                marker={
                    "size": 6
                    + 14
                    * np.sqrt(
                        pd.to_numeric(o.loc[sel, "customers"]).fillna(0)
                        / max(1, pd.to_numeric(o["customers"]).max())
                    ),
                    "color": SERIES[i % len(SERIES)],
                },
                text=o.loc[sel, "outage_id"],
                hovertemplate="%{text}<br>%{x}<br>%{y:.0f} min",
            )
        )
    fig.update_yaxes(title=tr("col.duration", lang), type="log")
    return figure_layout(fig, width=NARROW)


def cause_figure(o: pd.DataFrame, lang: str) -> go.Figure:
    if o.empty:
        return empty_figure(tr("shell.no_data", lang))
    c = o["cause"].fillna("unknown").value_counts()
    fig = go.Figure(
        go.Bar(x=[tr_map(CAUSES, k, lang) for k in c.index], y=c.to_numpy(), marker_color=SERIES[0])
    )
    return figure_layout(fig, width=NARROW)


def monthly_figure(m: pd.DataFrame, lang: str) -> go.Figure:
    if m.empty:
        return empty_figure(tr("shell.no_data", lang))
    fig = go.Figure(
        [
            go.Bar(x=m["month"], y=m["saidi"], name="SAIDI", marker_color=SERIES[0]),
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
        yaxis={"title": tr("col.saidi", lang)},
        yaxis2={**SECOND_AXIS, "title": "SAIFI"},
    )


STORAGE_BASE_V = 220.0  # readings of every level are stored per-unit × 220 V (docs/formats.md)


def level_unit(level: float) -> tuple[float, str]:
    """(factor from the stored 220 V-base value, unit) that shows a reading of an area of this
    nominal level in that level's own unit: 1.0 V for a terminal, 10/220/1000 kV for 10 kV."""
    if level >= 1000:
        return level / STORAGE_BASE_V / 1000.0, "kV"
    return level / STORAGE_BASE_V, "V"


def voltage_display(areas: list[str], network: dict) -> tuple[dict[str, float], str]:
    """How the areas' stored voltages (220 V base) are shown: ({area: factor}, unit).

    220 V terminals (no nominal stored): volts as stored. Areas of one other level (a 10 kV
    bus): in that level's unit (9.85 kV, not "216.7 V"). Mixed levels: per cent of nominal."""
    tr_df = network.get("transformers", pd.DataFrame())
    nominal = (
        tr_df.set_index("transformer")["nominal_v"].reindex(areas)
        if "nominal_v" in tr_df and len(areas)
        else pd.Series(np.nan, index=areas, dtype=float)
    ).fillna(STORAGE_BASE_V)
    levels = set(nominal.round(3))
    if len(levels) <= 1:
        factor, unit = level_unit(levels.pop() if levels else STORAGE_BASE_V)
        return {a: factor for a in areas}, unit
    return {a: 100.0 / STORAGE_BASE_V for a in areas}, "%"


def heatmap_figure(
    v: pd.DataFrame, lang: str, tz: str, display: tuple[dict[str, float], str] | None = None
) -> go.Figure:
    """Lowest voltage over the areas, hour of day × local day (phase X rollups), in the
    areas' own unit (``display``, from :func:`voltage_display`; volts when not given)."""
    if v.empty:
        return empty_figure(tr("shell.no_data", lang))
    factors, unit = display or ({}, "V")
    if factors:
        v = v.assign(v_min=v["v_min"] * v["transformer"].map(factors).fillna(1.0))
    base = next(iter(factors.values()), 1.0) if factors else 1.0
    digits = 2 if unit == "kV" else 1
    local = v["period_start"].dt.tz_convert(tz)
    # the day as a real date (a date axis: years and month boundaries read right), not a
    # "08-28" string that plotly shows as "Aug 28 2011"
    day = local.dt.tz_localize(None).dt.normalize()
    piv = v.assign(day=day, hour=local.dt.hour).pivot_table(
        index="hour", columns="day", values="v_min", aggfunc="min"
    )
    fig = go.Figure(
        go.Heatmap(
            z=piv.to_numpy(),
            x=[d.strftime("%Y-%m-%d") for d in piv.columns],
            y=list(piv.index),
            colorscale=[[0, SEVERITY[4]], [0.5, SEVERITY[2]], [1, SEVERITY[0]]],
            # the 180-235 V band of a 220 V terminal, in the shown unit
            zmin=180 * base,
            zmax=235 * base,
            colorbar={"title": {"text": tr("det.pct_nominal", lang) if unit == "%" else unit}},
            hovertemplate=f"%{{x|%Y-%m-%d}} %{{y}}:00<br>%{{z:.{digits}f}} {unit}<extra></extra>",
        )
    )
    fig.update_yaxes(title=tr("det.hour", lang), dtick=3)
    return figure_layout(
        fig,
        xaxis={"type": "date", "tickformat": tr("fmt.date_axis", lang)},
    )


def complaints_figure(c: pd.DataFrame, lang: str, tz: str) -> go.Figure:
    if c.empty:
        return empty_figure(tr("shell.no_data", lang))
    month = c["time"].dt.tz_convert(tz).dt.strftime("%Y-%m")
    piv = c.assign(month=month).pivot_table(
        index="month", columns="category", values="ticket_id", aggfunc="count", fill_value=0
    )
    fig = go.Figure(
        [
            go.Bar(
                x=list(piv.index),
                y=piv[col].to_numpy(),
                name=tr_map(CATEGORIES, col, lang),
                marker_color=SERIES[i % len(SERIES)],
            )
            for i, col in enumerate(piv.columns)
        ]
    )
    return figure_layout(fig, barmode="stack")


def countdown(status: pd.DataFrame, lang: str) -> html.Div:
    if status.empty:
        return html.Div(tr("shell.no_data", lang), className="note")
    r = status.iloc[0]
    n = int(r["outages_until_frequent"])
    head = tr("det.is_frequent", lang) if n <= 0 else tr("det.until_frequent", lang, n=n)
    nxt = r.get("next_age_out")
    items = [
        html.Div(
            head, className="kpi-value" if n <= 1 else "kpi-label", style={"fontSize": "1.5rem"}
        ),
        html.Div(f"{tr('col.outages', lang)}: {int(r['outages_window'])}"),
    ]
    if isinstance(nxt, str) and nxt:
        items.append(html.Div(f"{tr('det.next_age_out', lang)}: {nxt}", className="note"))
    return html.Div(items)


def areas_table(
    network: dict, area_figs: pd.DataFrame, feeders: list[str], lang: str, grid_id: str
):
    tr_df = network["transformers"]
    a = tr_df[tr_df["feeder"].isin(feeders)][
        ["transformer", "feeder", "name", "kind", "kva", "customers", "town"]
    ]
    a = a.merge(
        area_figs[["transformer", "compliance_rate", "v_min", "hours_below", "low_voltage_days"]],
        on="transformer",
        how="left",
    )
    # one format everywhere: "100.00%" (the worst-areas table writes it so too)
    a["compliance_rate"] = [
        f"{v * 100:.2f}%" if pd.notna(v) else "" for v in a["compliance_rate"].to_numpy(float)
    ]
    a["hours_below"] = a["hours_below"].round(1)
    a["kind"] = [tr_map(AREA_KINDS, k, lang) for k in a["kind"]]
    cols = [
        ("transformer", "col.transformer"),
        ("feeder", "col.feeder"),
        ("name", "col.name"),
        ("kind", "col.kind"),
        ("kva", "kVA"),
        ("customers", "col.customers"),
        ("town", "col.town"),
        ("compliance_rate", "col.compliance"),
        ("v_min", "col.v_min"),
        ("hours_below", "col.hours_below"),
        ("low_voltage_days", "col.lv_days"),
    ]
    defs = [{"field": f, "headerName": tr(k, lang)} for f, k in cols]
    g = grid(grid_id, row_id_field="transformer", height="360px", columnDefs=defs)
    g.rowData = records(a)
    return g


def worst_areas(area_figs: pd.DataFrame, network: dict, feeders: list[str], lang: str):
    tr_df = network["transformers"]
    mine = set(tr_df.loc[tr_df["feeder"].isin(feeders), "transformer"])
    nominal = tr_df.set_index("transformer")["nominal_v"] if "nominal_v" in tr_df else pd.Series()

    def shown(area: str, value) -> str:
        """Each area in its own unit: 216.3 (V) for a terminal, "9.85 kV" for a 10 kV bus."""
        level = nominal.get(area)
        if level is None or pd.isna(level) or float(level) == STORAGE_BASE_V:
            return fmt_num(value)
        factor, unit = level_unit(float(level))
        return f"{fmt_num(value * factor, 2 if unit == 'kV' else 1)} {unit}"

    w = (
        area_figs[area_figs["transformer"].isin(mine)]
        .sort_values(["hours_below", "v_min"], ascending=[False, True])
        .head(8)
    )
    if w.empty:
        return html.Div(tr("shell.no_data", lang), className="note")
    head = header_row(
        (
            "col.transformer",
            "col.compliance",
            "col.v_min",
            "col.hours_below",
            "col.lv_days",
        ),
        lang,
    )
    body = [
        html.Tr(
            [
                html.Td(r.transformer),
                html.Td(f"{r.compliance_rate * 100:.2f}%", className="num"),
                html.Td(shown(r.transformer, r.v_min), className="num"),
                html.Td(fmt_num(r.hours_below), className="num"),
                html.Td(fmt_num(r.low_voltage_days, 0), className="num"),
            ]
        )
        for r in w.itertuples()
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="simple")


def recent_outages_table(o: pd.DataFrame, lang: str, tz: str) -> html.Table:
    rows = o.sort_values("start", ascending=False).head(12)
    head = header_row(
        (
            "col.outage_id",
            "col.feeder",
            "col.start",
            "col.end",
            "col.customers",
            "col.cause",
        ),
        lang,
    )
    body = [
        html.Tr(
            [
                html.Td(r.outage_id),
                html.Td(r.feeder or ""),
                html.Td(fmt_time(r.start, lang, tz)),
                html.Td(fmt_time(r.end, lang, tz)),
                html.Td(fmt_num(r.customers, 0), className="num"),
                html.Td(tr_map(CAUSES, r.cause, lang)),
            ]
        )
        for r in rows.itertuples()
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="simple")


TICKETS_SHOWN = 20


def tickets_table(c: pd.DataFrame, lang: str, tz: str) -> html.Table:
    """The latest 95598 tickets with their text, shown as text (escaped by React) and with
    personal numbers masked unless the user is an admin."""
    if c.empty:
        return html.Div(tr("shell.no_data", lang), className="note")
    latest = shown_frame(c.sort_values("time", ascending=False).head(TICKETS_SHOWN))
    head = header_row(("col.ticket", "data.time", "col.category", "col.address", "col.text"), lang)

    def cell(v):
        return v if isinstance(v, str) else ""

    body = [
        html.Tr(
            [
                html.Td(cell(r.get("ticket_id"))),
                html.Td(fmt_time(r.get("time"), lang, tz)),
                html.Td(tr_map(CATEGORIES, r.get("category"), lang)),
                html.Td(cell(r.get("address"))),
                html.Td(cell(r.get("text")), className="ticket-text"),
            ]
        )
        for r in latest.to_dict("records")
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="simple tickets")


def detail_body(
    store,
    lang: str,
    feeders: list[str],
    outages: pd.DataFrame,
    complaints: pd.DataFrame,
    monthly: pd.DataFrame,
    status: pd.DataFrame,
    grid_id: str,
    extra=None,
):
    tz = store.tz
    net = store.network()
    tr_df = net["transformers"]
    areas = tr_df.loc[tr_df["feeder"].isin(feeders), "transformer"].tolist()
    area_figs = store.area_voltage()
    if len(areas) > HEATMAP_AREAS:
        # a substation has hundreds of areas: the heat map shows its worst ones, where the
        # lowest voltages are anyway (reading them all costs more than the page's budget)
        worst = area_figs[area_figs["transformer"].isin(areas)].sort_values(
            ["hours_below", "v_min"], ascending=[False, True]
        )["transformer"]
        areas = worst.head(HEATMAP_AREAS).tolist()
    v = store.voltage_hourly(sorted(areas)) if areas else pd.DataFrame()
    g = lambda fig: dcc.Graph(figure=fig, config={"displaylogo": False})
    return html.Div(
        [
            extra,
            html.Div(
                [
                    card(t("det.outages", lang), g(outage_timeline(outages, lang, tz))),
                    card(t("det.causes", lang), g(cause_figure(outages, lang))),
                    card(t("det.frequent", lang), countdown(status, lang)),
                ],
                className="grid-3",
            ),
            card(t("det.outage_records", lang), recent_outages_table(outages, lang, tz)),
            html.Div(
                [
                    card(t("det.monthly", lang), g(monthly_figure(monthly, lang))),
                    card(t("det.complaints", lang), g(complaints_figure(complaints, lang, tz))),
                ],
                className="grid-2",
            ),
            html.Div(
                [
                    card(
                        t("det.heatmap", lang),
                        g(heatmap_figure(v, lang, tz, voltage_display(sorted(areas), net))),
                    ),
                    card(t("det.worst", lang), worst_areas(area_figs, net, feeders, lang)),
                ],
                className="grid-2",
            ),
            card(t("det.tickets", lang), tickets_table(complaints, lang, tz)),
            card(t("det.areas", lang), areas_table(net, area_figs, feeders, lang, grid_id)),
        ]
    )
