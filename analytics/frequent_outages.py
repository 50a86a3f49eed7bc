"""Frequent outages (频繁停电), after the provincial rules of DESIGN.md (Definitions): sustained
outages (> 5 min, IEEE 1366), planned ones included, count; a feeder with
``frequent_feeder_count`` (3) or more in a rolling ``frequent_feeder_days`` (60) days; an area
with more than ``frequent_area_count_window`` (3) in ``frequent_area_window_days`` (60) days or
more than ``frequent_area_count_year`` (5) in a year (rolling 365 days)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.areas import text
from analytics.interruptions import InterruptionModel, interruption_table, outage_frame
from analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from analytics.times import NS_PER_DAY, NS_PER_MIN, ts_ns


def _age_out(starts: np.ndarray, days: int, tz: str) -> list[str]:
    ends = np.sort(starts) + days * NS_PER_DAY
    return [
        d.date().isoformat()
        for d in pd.DatetimeIndex(ends.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    ]


def frequent_outages(
    network: dict,
    outages: pd.DataFrame,
    *,
    asof: Any,
    level: str = "feeder",
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """Frequent-outage (频繁停电) status of every feeder or area as of ``asof``.

    ``level="feeder"``: sustained feeder- and 35 kV-level outages on the feeder (one per event),
    planned included, momentary not, started in (asof − 60 days, asof]; frequent at ≥ 3.
    ``level="area"``: sustained interruptions of the area (transformer-, feeder- and 35 kV-level
    outages merged per area as for the indices), frequent at > 3 in 60 days or > 5 in 365 days.
    Columns: id, feeder/substation, counts, ``frequent``, ``outages_until_frequent`` (how many
    more sustained outages make it frequent; 0 when it already is) and ``age_out_dates`` (local
    dates on which each counted outage leaves the rolling window, earliest first) with
    ``next_age_out``.
    """
    s = settings
    now = ts_ns(asof, s.tz)
    if level == "feeder":
        return _frequent_feeders(network, outages, now, s)
    if level in ("area", "transformer"):
        return _frequent_areas(network, outages, now, s)
    raise ValueError(f"level must be feeder or area: {level!r}")


def _frequent_feeders(
    network: dict, outages: pd.DataFrame, now: int, s: AnalyticsSettings
) -> pd.DataFrame:
    o = outage_frame(outages, s.tz)
    end = o["end"].to_numpy()
    start = o["start"].to_numpy()
    end = np.where(end == np.iinfo(np.int64).min, np.maximum(now, start), end)
    sustained = (end - start) / NS_PER_MIN > s.momentary_minutes
    lo = now - s.frequent_feeder_days * NS_PER_DAY
    sel = sustained & (o["level"].to_numpy() != "transformer") & (start > lo) & (start <= now)
    sub = o[sel].assign(start_ns=start[sel])
    sub = sub[sub["feeder"].notna()].drop_duplicates(["feeder", "event_id"])
    groups = {f: g["start_ns"].to_numpy() for f, g in sub.groupby("feeder")}
    fd = network["feeders"]
    rows = []
    for f, ss in zip(text(fd["feeder"]), text(fd["substation"])):
        st = groups.get(f, np.zeros(0, np.int64))
        n = len(st)
        dates = _age_out(st, s.frequent_feeder_days, s.tz)
        rows.append(
            {
                "feeder": f,
                "substation": ss,
                "outages_window": n,
                "frequent": n >= s.frequent_feeder_count,
                "outages_until_frequent": max(0, s.frequent_feeder_count - n),
                "age_out_dates": dates,
                "next_age_out": dates[0] if dates else None,
            }
        )
    return pd.DataFrame(rows)


def _frequent_areas(
    network: dict, outages: pd.DataFrame, now: int, s: AnalyticsSettings
) -> pd.DataFrame:
    model = InterruptionModel(network, outages, s, None, now)
    it = interruption_table(model)
    it = it[(~it["momentary"]) & it["transformer"].notna()]
    start = it["start_ns"].to_numpy()
    lo60 = now - s.frequent_area_window_days * NS_PER_DAY
    lo365 = now - 365 * NS_PER_DAY
    in365 = (start > lo365) & (start <= now)
    it = it[in365]
    start = start[in365]
    in60 = start > lo60
    a = model.areas.table
    idx = {t: i for i, t in enumerate(a["transformer"])}
    code = np.array([idx[t] for t in it["transformer"]], dtype=np.int64)
    c60 = np.bincount(code[in60], minlength=len(a))
    c365 = np.bincount(code, minlength=len(a))
    by_area60: dict[int, np.ndarray] = {}
    by_area365: dict[int, np.ndarray] = {}
    for k in np.unique(code):
        m = code == k
        by_area60[int(k)] = start[m & in60]
        by_area365[int(k)] = start[m]
    need60 = s.frequent_area_count_window + 1 - c60
    need365 = s.frequent_area_count_year + 1 - c365
    frequent = (c60 > s.frequent_area_count_window) | (c365 > s.frequent_area_count_year)
    until = np.where(frequent, 0, np.minimum(need60, need365))
    rows = []
    empty = np.zeros(0, np.int64)
    for i in range(len(a)):
        d60 = _age_out(by_area60.get(i, empty), s.frequent_area_window_days, s.tz)
        d365 = _age_out(by_area365.get(i, empty), 365, s.tz)
        rows.append(
            {
                "age_out_dates": d60,
                "age_out_dates_year": d365,
                "next_age_out": d60[0] if d60 else (d365[0] if d365 else None),
            }
        )
    out = pd.DataFrame(
        {
            "transformer": a["transformer"],
            "feeder": a["feeder"],
            "substation": a["substation"],
            "outages_window": c60,
            "outages_year": c365,
            "frequent": frequent,
            "outages_until_frequent": np.maximum(until, 0),
        }
    )
    return pd.concat([out, pd.DataFrame(rows)], axis=1)
