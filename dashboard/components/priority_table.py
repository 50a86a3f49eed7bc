"""The priorities page's table and chart (dashboard/pages/priorities.py): its columns, its rows
with the score worked out per row, the budget cut-line, the parameters a ranking was made with,
and the bars of complaints avoided by driver."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.priorities import COST_ALIASES
from dashboard.components.common import (
    DRIVER_COLOURS,
    empty_figure,
    figure_layout,
    link_column,
    project_label,
)
from dashboard.data import DRIVERS
from dashboard.i18n import PROJECTS, fmt_num, tr, tr_map


def columns(level: str, lang: str, costs: bool = False) -> list[tuple[str, str, str]]:
    """(field, header, kind) of the table; kind: int, num, text, link."""
    key = "col.feeder" if level == "feeder" else "col.substation"
    cols = [
        ("rank", tr("col.rank", lang), "int"),
        (level, tr(key, lang), "link"),
        ("name", tr("col.name", lang), "text"),
    ]
    if level == "feeder":
        cols.append(("substation", tr("col.substation", lang), "link"))
    cols += [
        ("score", tr("col.score", lang), "num"),
        ("explain", tr("col.explain", lang), "text"),
        ("avoidable_complaints", tr("col.avoidable", lang), "num"),
    ]
    cols += [(d, tr(f"drv.{d}", lang), "num") for d in DRIVERS]
    cols += [
        ("ch_k", tr("col.ch_k", lang), "num"),
        ("lv_ch_k", tr("col.lv_ch_k", lang), "num"),
    ]
    if level == "substation":
        cols += [
            ("feeders_avoidable", tr("col.feeders_avoidable", lang), "num"),
            ("total_avoidable", tr("col.total_avoidable", lang), "num"),
        ]
    cols.append(("project", tr("col.project", lang), "text"))
    if costs:
        cols += [
            ("cost_10k_yuan", tr("col.cost", lang), "num"),
            ("avoided_per_10k_yuan", tr("col.per_10k", lang), "num"),
            ("budget", tr("col.budget", lang), "text"),
            ("budget_order", tr("col.budget_order", lang), "int"),
        ]
    cols += [
        ("saidi", tr("col.saidi", lang), "num"),
        ("saifi", tr("col.saifi", lang), "num"),
        ("low_voltage_days", tr("col.lv_days", lang), "int"),
        ("complaints_per_1000", tr("col.cpk", lang), "num"),
        ("customers", tr("col.customers", lang), "int"),
    ]
    return cols


def column_defs(level: str, lang: str, costs: bool = False) -> list[dict]:
    defs = []
    for field, header, kind in columns(level, lang, costs):
        # headers wrap to their full text (and keep a tooltip): no "可避…"
        col = {
            "field": field,
            "headerName": header,
            "headerTooltip": header,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
            "minWidth": 100,
        }
        if kind == "link":
            extra = {k: v for k, v in col.items() if k not in ("field", "headerName")}
            col = link_column(field, header, f"/{field}/", **extra)
            if field == level:
                col.update(pinned="left", flex=0, width=110, minWidth=90)
        if kind in ("int", "num"):
            col["filter"] = "agNumberColumnFilter"
            col["type"] = "numericColumn"
            if kind == "num":
                col["valueFormatter"] = {
                    "function": "params.value == null ? '' : d3.format(',.2f')(params.value)"
                }
        if field == "project":
            col["minWidth"] = 170
        if field == "explain":
            col["minWidth"] = 330
            col["flex"] = 2
            col["tooltipField"] = "explain"
        defs.append(col)
    return defs


def fmt_weight(v) -> str:
    """A weight or cost as short as it reads (0.5, 1, 120)."""
    return f"{v:g}"


def explain(row: dict, weights: tuple[float, float, float]) -> str:
    """The row's score written out: weight × term for each term, and the sum."""
    wc, wh, wl = weights
    terms = (row["avoidable_complaints"], row["ch_k"], row["lv_ch_k"])
    parts = " + ".join(
        f"{fmt_weight(w)}×{fmt_num(x, 2)}" for w, x in zip(weights, terms, strict=True)
    )
    return f"{parts} = {fmt_num(wc * terms[0] + wh * terms[1] + wl * terms[2], 2)}"


def budget_cut(rows: list[dict], budget: float | None) -> dict:
    """Greedy selection within ``budget`` (10,000 yuan): rows with a cost and a positive score,
    by score per 10,000 yuan (ties by rank), each taken when it still fits. Returns the chosen
    keys in pick order, their total cost and avoidable complaints."""
    chosen: list[str] = []
    cost = avoided = 0.0
    if budget is None:
        return {"keys": chosen, "cost": cost, "avoided": avoided}
    cands = [
        r
        for r in rows
        if r.get("cost_10k_yuan") is not None
        and np.isfinite(r["cost_10k_yuan"])
        and r["cost_10k_yuan"] > 0
        and (r.get("score") or 0) > 0
    ]
    cands.sort(key=lambda r: (-r["score"] / r["cost_10k_yuan"], r["rank"]))
    for r in cands:
        if cost + r["cost_10k_yuan"] <= budget + 1e-9:
            chosen.append(r["row_key"])
            cost += r["cost_10k_yuan"]
            avoided += r["avoidable_complaints"] or 0.0
    return {"keys": chosen, "cost": cost, "avoided": avoided}


def project_text(code, lang: str, levels: dict[str, str]) -> str:
    """The project's name, its voltage levels those of the network."""
    return project_label(code, lang, levels)


def table_rows(
    ranked: pd.DataFrame,
    level: str,
    lang: str,
    weights: tuple[float, float, float] = (1.0, 0.5, 0.5),
    feeders: pd.DataFrame | None = None,
    levels: dict[str, str] | None = None,
) -> list[dict]:
    levels = levels or {"feeder": "10 kV", "substation": "35 kV"}
    df = ranked.copy()
    df["ch_k"] = df["customer_hours_avoided"] / 1000.0
    df["lv_ch_k"] = df["lv_customer_hours_removed"] / 1000.0
    if level == "substation" and feeders is not None:
        per_sub = feeders.groupby("substation")["avoidable_complaints"].sum()
        df["feeders_avoidable"] = df["substation"].map(per_sub).fillna(0.0)
        df["total_avoidable"] = df["avoidable_complaints"] + df["feeders_avoidable"]
    keep = [f for f, _, _ in columns(level, lang, costs=True)]
    df = df[[c for c in keep if c in df]].copy()
    df["project"] = [project_text(p, lang, levels) for p in df["project"]]
    for c in df.columns:
        if df[c].dtype.kind == "f":
            df[c] = df[c].round(3)
    rows = df.astype(object).where(df.notna(), None).to_dict("records")
    for r in rows:
        r["row_key"] = f"{level}:{r[level]}"
        r["explain"] = explain(r, weights)
    return rows


def params_text(window: int, weights, costs: dict, lang: str) -> str:
    """The window, weights and costs a ranking was made with (for the chart and the exports)."""
    wc, wh, wl = (fmt_weight(w) for w in weights)
    cost_text = (
        tr(
            "pri.costs",
            lang,
            costs=", ".join(
                f"{tr_map(PROJECTS, COST_ALIASES.get(k, k), lang)} {fmt_weight(v)}"
                for k, v in costs.items()
            ),
        )
        if costs
        else tr("pri.no_costs", lang)
    )
    return tr(
        "pri.params",
        lang,
        window=tr(f"window.{window}", lang),
        wc=wc,
        wh=wh,
        wl=wl,
        costs=cost_text,
    )


def bars_figure(rows: list[dict], level: str, lang: str, params: str = "", top: int = 20):
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
        max(340, 22 * len(shown) + 130),
        barmode="stack",
        title={"text": params, "font": {"size": 12}, "x": 0, "xanchor": "left"},
        margin={"l": 70, "r": 20, "t": 40, "b": 90},
        legend={"orientation": "h", "y": -0.12},
    )
