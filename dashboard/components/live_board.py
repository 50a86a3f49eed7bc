"""The live board's parts (dashboard/pages/live.py): the active-outage table's columns and rows
(sorted by urgency: overdue ETR first, then customers x duration), what changed since a user
last looked, and the charts (customers out over time, outages by substation or town)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.common import SECOND_AXIS, SERIES, empty_figure, figure_layout, md_link
from dashboard.i18n import CAUSES, fmt_time, tr, tr_map

#: an overdue ETR puts a row above every other (then customers x minutes out)
OVERDUE_WEIGHT = 1e15


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
    # the urgency column is hidden and sorts the board by default (a user's own sort wins)
    defs = []
    for field, key, width in COLUMNS:
        col = {"field": field, "headerName": tr(key, lang), "minWidth": width}
        if field in ("customers", "duration_min"):
            col["filter"] = "agNumberColumnFilter"
            col["type"] = "numericColumn"
        if field == "start":
            col["valueFormatter"] = {"function": "params.data.start_text"}
        if field == "etr":
            col["valueFormatter"] = {"function": "params.data.etr_text"}
            col["cellClassRules"] = {
                "etr-overdue": "params.data.etr_overdue",
                "etr-predicted": "params.data.etr_predicted",
            }
            # "预计 19:41 (80 %: 15:29–23:05)" and "… ⚠ 已超预计送电时间" must fit unclipped
            col["minWidth"] = 290
            col["flex"] = 2
        if field == "feeder":
            col["cellRenderer"] = "markdown"
        defs.append(col)
    defs.append(
        {"field": "urgency", "headerName": "urgency", "hide": True, "sort": "desc", "sortIndex": 0}
    )
    return defs


def customers_count(value) -> int:
    """A row's customers, 0 when unknown."""
    return int(value) if value is not None and pd.notna(value) else 0


def outage_rows(
    active: pd.DataFrame,
    now,
    lang: str,
    tz: str,
    seen: list[str] | None,
    base=None,
    looked: dict | None = None,
) -> list[dict]:
    """The board's rows: what depends on the clock (duration, new, overdue ETR, urgency) and on
    the browser (``looked``: what its user last marked as seen) on top of ``base`` (the rows'
    fixed part, :func:`fixed_rows`; shared by every open board of one data version)."""
    base = fixed_rows(active, lang, tz) if base is None else base
    seen_set = set(seen or [])
    before = (looked or {}).get("rows")
    now = pd.Timestamp(now)
    rows = []
    for fixed, start, etr_at in zip(base, active["start"], active["etr"], strict=True):
        minutes = (now - start).total_seconds() / 60.0
        row = dict(fixed)
        row["duration_min"] = int(max(0, minutes))
        # new: started in the last hour, or appeared since the previous refresh
        row["is_new"] = bool(minutes <= 60 or (seen is not None and row["row_id"] not in seen_set))
        overdue = bool(pd.notna(etr_at) and etr_at < now)
        row["etr_overdue"] = overdue
        if overdue:
            row["etr_text"] = f"{fixed['etr_text']} ⚠ {tr('storm.overdue', lang)}"
        row["urgency"] = (OVERDUE_WEIGHT if overdue else 0.0) + max(
            1, customers_count(row["customers"])
        ) * max(0.0, minutes)
        row["since"] = ""
        if before is not None:
            if row["row_id"] not in before:
                row["since"] = "new"
            elif before[row["row_id"]] != row["customers"]:
                row["since"] = "changed"
        rows.append(row)
    return rows


def _clock(ts, start, lang: str, tz: str) -> str:
    """HH:MM, and on a later (local) day than the outage's start how many days later:
    "次日 06:10" / "06:10 +1d" (a wall board has no room for dates)."""
    t, s = pd.Timestamp(ts).tz_convert(tz), pd.Timestamp(start).tz_convert(tz)
    days = (t.normalize().tz_localize(None) - s.normalize().tz_localize(None)).days
    hm = t.strftime("%H:%M")
    if days <= 0:
        return hm
    if days == 1:
        return tr("fmt.next_day", lang).format(clock=hm)
    return tr("fmt.days_later", lang).format(clock=hm, days=days)


def fixed_rows(active: pd.DataFrame, lang: str, tz: str, predictions=None) -> list[dict]:
    """The part of the board's rows that only the data and the language decide.
    ``predictions`` (optional, indexed like ``active``: columns p50, lo, hi as UTC times) fill
    the ETR of outages whose source gives none, marked as a prediction."""
    rows = []
    for i, r in enumerate(active.itertuples(index=False)):
        row_id = f"{r.source}:{r.outage_id}"
        area = r.area_text if isinstance(r.area_text, str) else (r.transformer or r.region or "")
        etr_text, predicted = "", False
        if pd.notna(r.etr):
            etr_text = fmt_time(r.etr, lang, tz)
        elif predictions is not None and pd.notna(predictions["p50"].iloc[i]):
            p = predictions.iloc[i]
            etr_text = tr(
                "storm.predicted",
                lang,
                at=_clock(p["p50"], r.start, lang, tz),
                lo=_clock(p["lo"], r.start, lang, tz),
                hi=_clock(p["hi"], r.start, lang, tz),
            )
            predicted = True
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
                "etr_text": etr_text,
                "etr_predicted": predicted,
            }
        )
    return rows


def since_last_look(rows: list[dict], looked: dict | None) -> dict:
    """What changed on the board since ``looked`` (``{"at": ISO, "rows": {row_id: customers}}``,
    what this browser's user last marked as seen): counts of new, restored (gone from the
    board) and changed-customers outages, and the change in customers out."""
    before = (looked or {}).get("rows") or {}
    now = {r["row_id"]: r["customers"] for r in rows}
    new = [k for k in now if k not in before]
    restored = [k for k in before if k not in now]
    changed = [k for k in now if k in before and before[k] != now[k]]
    customers = sum(customers_count(v) for v in now.values()) - sum(
        customers_count(v) for v in before.values()
    )
    return {
        "new": len(new),
        "restored": len(restored),
        "changed": len(changed),
        "customers_delta": customers,
    }


def snapshot(rows: list[dict], now) -> dict:
    """What a browser keeps when its user marks the board as seen."""
    return {
        "at": pd.Timestamp(now).tz_convert("UTC").isoformat(),
        "rows": {r["row_id"]: r["customers"] for r in rows},
    }


def outage_towns(active: pd.DataFrame, network: dict[str, pd.DataFrame]) -> pd.Series:
    """The town of each active outage: its transformer area's town; else the town where most of
    its feeder's customers live; else its substation's town; else "?"."""
    tf = network["transformers"]
    by_tf = tf.set_index("transformer")["town"]
    main = (
        tf.dropna(subset=["town"])
        .assign(customers=pd.to_numeric(tf["customers"]).fillna(0))
        .groupby(["feeder", "town"])["customers"]
        .sum()
        .reset_index()
        .sort_values(["feeder", "customers"], ascending=[True, False])
        .drop_duplicates("feeder")
        .set_index("feeder")["town"]
    )
    by_sub = network["substations"].set_index("substation")["town"]
    town = active["transformer"].map(by_tf)
    town = town.fillna(active["feeder"].map(main)).fillna(active["substation"].map(by_sub))
    return town.fillna("?").astype(str)


def trend_figure(series: pd.DataFrame, lang: str, tz: str, height: int = 260) -> go.Figure:
    if series.empty:
        return empty_figure(tr("shell.no_data", lang), height)
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
    return figure_layout(fig, height, showlegend=False)


def by_substation_figure(
    active: pd.DataFrame, lang: str, group: str = "substation", height: int = 260
) -> go.Figure:
    """Active outages and customers out per substation, or per town (``group="town"``, a
    ``town`` column in ``active``)."""
    if active.empty:
        return empty_figure(tr("shell.no_data", lang), height)
    g = (
        active.assign(**{group: active[group].fillna("?")})
        .groupby(group)
        .agg(outages=("outage_id", "size"), customers=("customers", "sum"))
        .reset_index()
        .sort_values("customers", ascending=False)
    )
    fig = go.Figure(
        [
            go.Bar(
                x=g[group],
                y=g["outages"],
                name=tr("live.active", lang),
                marker_color=SERIES[0],
                offsetgroup="outages",
            ),
            go.Bar(
                x=g[group],
                y=g["customers"],
                name=tr("live.customers", lang),
                marker_color=SERIES[1],
                yaxis="y2",
                offsetgroup="customers",
            ),
        ]
    )
    return figure_layout(fig, height, barmode="group", yaxis2=SECOND_AXIS)
