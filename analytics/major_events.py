"""Major Event Days by the 2.5β method (IEEE 1366-2022 §4.5): daily system SAIDI, the
threshold T_MED and the days above it, with the history floor of issue 15."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.interruptions import InterruptionModel
from analytics.times import (
    NS_PER_DAY,
    NS_PER_MIN,
    local_floor,
    local_periods,
    ns_to_utc,
)


def med_threshold(
    daily_saidi: pd.Series | np.ndarray, beta_multiplier: float = 2.5
) -> dict[str, float]:
    """IEEE 1366-2022 2.5β method: drop zero days, α = mean(ln SAIDI), β = sample standard
    deviation (ddof=1) of ln SAIDI, T_MED = exp(α + 2.5β). Returns alpha, beta, threshold and
    the number of non-zero days used (threshold is NaN with fewer than two)."""
    x = np.asarray(daily_saidi, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    if len(x) < 2:
        return {"alpha": np.nan, "beta": np.nan, "threshold": np.nan, "n_days": float(len(x))}
    lx = np.log(x)
    alpha, beta = float(lx.mean()), float(lx.std(ddof=1))
    return {
        "alpha": alpha,
        "beta": beta,
        "threshold": float(np.exp(alpha + beta_multiplier * beta)),
        "n_days": float(len(x)),
    }


def daily_saidi(model: InterruptionModel, lo: int, hi: int) -> pd.Series:
    """Daily system SAIDI (minutes) for the local days in [lo, hi); days without interruptions
    are 0. By the period rule: ``start``, each sustained interruption accrues whole to the local
    day it begins (IEEE 1366-2022); ``clip``, each day gets the minutes inside it."""
    m = model.merged("all")
    sus = ~m["momentary"].to_numpy()
    start, end = m["start"].to_numpy()[sus], m["end"].to_numpy()[sus]
    w = model.customers[m["slot"].to_numpy()[sus]]
    served = model.system_served()
    edges = (
        np.array([p[0] for p in local_periods(lo, hi, model.tz, "D")] + [hi], dtype=np.int64)
        if hi > lo
        else np.zeros(0, np.int64)
    )
    if len(edges) < 2:
        return pd.Series(dtype=float)
    all_days = edges[:-1]
    if model.settings.period_rule == "start":
        sel = (start >= lo) & (start < hi)
        days = local_floor(start[sel], model.tz, "D")
        cmi = w[sel] * (end[sel] - start[sel]) / NS_PER_MIN
        s = pd.Series(cmi, index=days).groupby(level=0).sum()
        s = s.reindex(all_days, fill_value=0.0)
    else:
        # customer-minutes inside each day: F(edge[k+1]) - F(edge[k]) with
        # F(t) = Σ w (min(max(t, start), end) - start) = Σ_{start<t} w (t - start) - Σ_{end<t} w (t - end),
        # in minutes from ``lo`` so that the sums keep their precision
        sm, em, tm = ((x - lo) / NS_PER_MIN for x in (start, end, edges))
        F = np.zeros(len(tm))
        for pts, sign in ((sm, 1.0), (em, -1.0)):
            order = np.argsort(pts)
            p, ww = pts[order], w[order]
            cw, cwp = np.r_[0.0, np.cumsum(ww)], np.r_[0.0, np.cumsum(ww * p)]
            k = np.searchsorted(p, tm, side="left")
            F += sign * (cw[k] * tm - cwp[k])
        s = pd.Series(np.diff(F), index=all_days)
    return s / (served if served > 0 else np.nan)


def major_event_analysis(
    model: InterruptionModel, ws: int, we: int, history_start: Any = None
) -> tuple[pd.DataFrame, dict]:
    """IEEE 1366-2022 2.5β with a floor (issue 15): daily SAIDI of the ``med_years`` before the
    window, or all there is of it; with less than ``med_min_history_days`` of it, a provisional
    T_MED from the window's own days; with fewer than ``med_min_days`` days with interruptions
    in the sample, none."""
    s = model.settings
    local_ws = pd.Timestamp(ws, tz="UTC").tz_convert(s.tz).tz_localize(None)
    lo_limit = int(
        (local_ws - pd.DateOffset(years=s.med_years))
        .tz_localize(s.tz)
        .tz_convert("UTC")
        .as_unit("ns")
        .value
    )
    if history_start is not None:
        first = (
            int(pd.Timestamp(history_start).tz_localize(s.tz).tz_convert("UTC").value)
            if pd.Timestamp(history_start).tzinfo is None
            else int(pd.Timestamp(history_start).tz_convert("UTC").value)
        )
    else:
        st = model.o["start"].to_numpy()
        st = st[st < ws]
        first = int(local_floor(np.array([st.min()]), s.tz, "D")[0]) if len(st) else ws
    lo = min(max(lo_limit, first), ws)
    history_days = (ws - lo) / NS_PER_DAY
    cur = daily_saidi(model, ws, we)
    provisional = history_days < s.med_min_history_days
    sample = cur if provisional else daily_saidi(model, lo, ws)
    info: dict[str, Any] = med_threshold(sample.to_numpy(), s.med_beta_multiplier)
    enough = info["n_days"] >= max(2, s.med_min_days)
    if not enough:
        info.update(alpha=np.nan, beta=np.nan, threshold=np.nan)
    info["years_available"] = round(history_days / 365.25, 2)
    info["history_days"] = int(round(history_days))
    info["provisional"] = bool(provisional and enough)
    info["status"] = "too_few_days" if not enough else "provisional" if provisional else "history"
    info["period_rule"] = s.period_rule
    t = info["threshold"]
    is_med = (cur.to_numpy() > t) if np.isfinite(t) else np.zeros(len(cur), bool)
    days = pd.DataFrame(
        {
            "day": ns_to_utc(cur.index.to_numpy()).tz_convert(s.tz).tz_localize(None).normalize(),
            "day_start": ns_to_utc(cur.index.to_numpy()),
            "saidi": cur.to_numpy(),
            "is_med": is_med,
        }
    )
    info["med_days"] = [d.date().isoformat() for d in days.loc[days["is_med"], "day"]]
    return days, info


def med_day_spans(info: dict, tz: str) -> list[tuple[int, int]]:
    """The Major Event Days as local-day (start, end) UTC ns."""
    spans = []
    for d in info.get("med_days", []):
        day = pd.Timestamp(d)
        a, b = (
            int(x.tz_localize(tz).tz_convert("UTC").as_unit("ns").value)
            for x in (day, day + pd.Timedelta(days=1))
        )
        spans.append((a, b))
    return spans
