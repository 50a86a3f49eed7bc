"""Frequent outages (频繁停电), 95598 complaint classification and matching, complaint attribution
to drivers, and empirical-Bayes outage rates.

Rules follow DESIGN.md (Definitions, Complaints): sustained outages (> 5 min, IEEE 1366), planned
ones included, count towards 频繁停电: a feeder with ``frequent_feeder_count`` (3) or more in a
rolling ``frequent_feeder_days`` (60) days; an area with more than ``frequent_area_count_window``
(3) in ``frequent_area_window_days`` (60) days or more than ``frequent_area_count_year`` (5) in a
year (rolling 365 days). Repeated calls about one event are merged into the first ticket;
customer-side faults, power theft, billing and attitude complaints are unreasonable for grid
analysis: counted and shown, never used for attribution or ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.areas import areas_table, text
from analytics.interruptions import InterruptionModel, as_bool, interruption_table, outage_frame
from analytics.settings import (
    DEFAULT_SETTINGS,
    OUTAGE_CATEGORIES,
    VOLTAGE_CATEGORIES,
    AnalyticsSettings,
)
from analytics.times import NS_PER_DAY, NS_PER_MIN, local_floor, to_ns, ts_ns

NS_PER_HOUR = 3_600_000_000_000


# --------------------------------------------------------------------------------------------
# Frequent outages
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# Complaint classification and matching
# --------------------------------------------------------------------------------------------
def _match_location(c: pd.DataFrame, areas: pd.DataFrame) -> tuple[list, list, list]:
    """(transformer, feeder, how) per complaint: given transformer, given feeder, address match
    within the town (area address contained in the ticket address, or the reverse), a town with
    a single area, else unmatched."""
    known_t = set(areas["transformer"])
    t2f = dict(zip(areas["transformer"], areas["feeder"]))
    known_f = set(areas["feeder"])
    by_town: dict[str, list[tuple[str, str]]] = {}
    for t, town, addr in zip(areas["transformer"], areas["town"], areas["address"]):
        if town:
            by_town.setdefault(town, []).append((t, addr or ""))
    all_addr = [(t, addr or "") for t, addr in zip(areas["transformer"], areas["address"])]
    tr = text(c["transformer"]) if "transformer" in c else pd.Series([None] * len(c), dtype=object)
    fd = text(c["feeder"]) if "feeder" in c else pd.Series([None] * len(c), dtype=object)
    tw = text(c["town"]) if "town" in c else pd.Series([None] * len(c), dtype=object)
    ad = text(c["address"]) if "address" in c else pd.Series([None] * len(c), dtype=object)
    out_t, out_f, how = [], [], []
    for t, f, town, addr in zip(tr, fd, tw, ad):
        if t in known_t:
            out_t.append(t), out_f.append(t2f[t]), how.append("transformer")
            continue
        if f in known_f:
            out_t.append(None), out_f.append(f), how.append("feeder")
            continue
        cands = by_town.get(town, all_addr) if town else all_addr
        hit = None
        if addr:
            full = [x for x in cands if x[1] and (x[1] in addr or addr in x[1])]
            if len(full) == 1:
                hit = full[0][0]
            elif town and len(full) > 1 and len({t2f[x[0]] for x in full}) == 1:
                out_t.append(None), out_f.append(t2f[full[0][0]]), how.append("address_feeder")
                continue
        if hit is None and town and len(by_town.get(town, [])) == 1:
            hit = by_town[town][0][0]
        if hit is not None:
            out_t.append(hit), out_f.append(t2f[hit]), how.append("address")
        else:
            out_t.append(None), out_f.append(None), how.append("unmatched")
    return out_t, out_f, how


def classify_complaints(
    complaints: pd.DataFrame,
    *,
    network: dict,
    outages: pd.DataFrame | None = None,
    voltage_daily: pd.DataFrame | None = None,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """Classify 95598 tickets for grid analysis (DESIGN.md, Complaints).

    Adds: ``area`` / ``feeder_matched`` / ``substation_matched`` and ``match`` (transformer,
    feeder, address, address_feeder or unmatched: unmatched tickets stay in the table and are
    counted, never dropped); ``repeat`` (a repeated call merged into an earlier ticket);
    ``outage_match`` (outage-type tickets: an outage on the area, or its feeder when the area is
    unknown, from ``complaint_match_before_hours`` before its start to
    ``complaint_match_after_hours`` after its end; NaN for other categories or without outage
    data); ``low_voltage_match`` (voltage tickets: X-phase minutes below on the area's local day
    or the day before; NaN without readings for the area); ``reason`` for unreasonable tickets
    (category, keyword, no_matching_outage, no_matching_low_voltage - the last two only with
    ``require_matching_event``); ``reasonable`` (the source's flag when given, else the rules) and
    ``counted`` = reasonable and not a repeat: only counted tickets drive attribution and ranking.
    """
    s = settings
    c = complaints.reset_index(drop=True).copy()
    areas = areas_table(network)
    t, f, how = _match_location(c, areas)
    c["area"] = pd.Series(t, dtype=object)
    c["feeder_matched"] = pd.Series(f, dtype=object)
    f2s = dict(zip(text(network["feeders"]["feeder"]), text(network["feeders"]["substation"])))
    c["substation_matched"] = pd.Series([f2s.get(x) for x in f], dtype=object)
    c["match"] = pd.Series(how, dtype=object)
    tid = text(c["ticket_id"]) if "ticket_id" in c else pd.Series([None] * len(c), dtype=object)
    merged = (
        text(c["merged_into"]) if "merged_into" in c else pd.Series([None] * len(c), dtype=object)
    )
    c["repeat"] = np.array([m is not None and m != i for m, i in zip(merged, tid)], dtype=bool)
    cat = (
        text(c["category"]).map(lambda v: (v or "other").lower())
        if "category" in c
        else pd.Series(["other"] * len(c), dtype=object)
    )
    txt = (
        text(c["text"]).map(lambda v: v or "")
        if "text" in c
        else pd.Series([""] * len(c), dtype=object)
    )
    time_ns = to_ns(c["time"], s.tz)

    reason = np.array([""] * len(c), dtype=object)
    bad_cat = cat.isin(list(s.unreasonable_categories)).to_numpy()
    reason[bad_cat] = "category"
    kw = np.array([any(k in x for k in s.unreasonable_keywords) for x in txt], dtype=bool)
    reason[(reason == "") & kw] = "keyword"

    is_out = cat.isin(list(OUTAGE_CATEGORIES)).to_numpy()
    is_volt = cat.isin(list(VOLTAGE_CATEGORIES)).to_numpy()
    outage_match = np.full(len(c), np.nan)
    if outages is not None and len(outages):
        outage_match = _outage_match(c, time_ns, is_out, network, outages, s)
    lv_match = np.full(len(c), np.nan)
    if voltage_daily is not None and len(voltage_daily):
        lv_match = _lv_match(c, time_ns, is_volt, voltage_daily, s)
    if s.require_matching_event:
        reason[(reason == "") & is_out & (outage_match == 0)] = "no_matching_outage"
        reason[(reason == "") & is_volt & (lv_match == 0)] = "no_matching_low_voltage"
    c["outage_match"] = outage_match
    c["low_voltage_match"] = lv_match
    c["reason"] = pd.Series(reason, dtype=object)
    rule = reason == ""
    if "reasonable" in c:
        given = c["reasonable"].astype("object")
        has = given.notna().to_numpy() & (given.astype(str).str.strip() != "").to_numpy()
        vals = np.array([as_bool(v) for v in given], dtype=bool)
        reasonable = np.where(has, vals, rule)
    else:
        reasonable = rule
    c["reasonable"] = reasonable.astype(bool)
    c["counted"] = c["reasonable"].to_numpy() & ~c["repeat"].to_numpy()
    c["category"] = cat.to_numpy(object)
    return c


def _outage_match(c, time_ns, is_out, network, outages, s) -> np.ndarray:
    model = InterruptionModel(network, outages, s, None, int(time_ns.max()) if len(time_ns) else 0)
    it = interruption_table(model)
    before = s.complaint_match_before_hours * NS_PER_HOUR
    after = s.complaint_match_after_hours * NS_PER_HOUR
    by_area = {
        k: (g["start_ns"].to_numpy(), g["end_ns"].to_numpy())
        for k, g in it[it["transformer"].notna()].groupby("transformer")
    }
    by_feeder = {
        k: (g["start_ns"].to_numpy(), g["end_ns"].to_numpy())
        for k, g in it[it["feeder"].notna()].groupby("feeder")
    }
    out = np.full(len(c), np.nan)
    for i in np.flatnonzero(is_out):
        a, f = c.at[i, "area"], c.at[i, "feeder_matched"]
        iv = by_area.get(a) if a is not None else by_feeder.get(f) if f is not None else None
        if a is None and f is None:
            continue
        if iv is None:
            out[i] = 0.0
            continue
        st, en = iv
        out[i] = float(np.any((time_ns[i] >= st - before) & (time_ns[i] <= en + after)))
    return out


def _lv_match(c, time_ns, is_volt, voltage_daily, s) -> np.ndarray:
    x = voltage_daily[voltage_daily["phase"].astype(str) == "X"]
    ps = to_ns(x["period_start"], "UTC")
    day = local_floor(ps, s.tz, "D")
    bad = {}
    for t, d, b in zip(text(x["transformer"]), day, x["minutes_below"].to_numpy(float)):
        bad.setdefault(t, {})[int(d)] = bad.get(t, {}).get(int(d), 0.0) + b
    out = np.full(len(c), np.nan)
    cd = local_floor(time_ns, s.tz, "D") if len(time_ns) else time_ns
    for i in np.flatnonzero(is_volt):
        a = c.at[i, "area"]
        if a is None or a not in bad:
            continue
        days = bad[a]
        d = int(cd[i])
        out[i] = float(any(days.get(d + k * NS_PER_DAY, 0.0) > 0 for k in (0, -1)))
    return out


def complaint_summary(classified: pd.DataFrame, by: str = "feeder") -> pd.DataFrame:
    """Ticket counts per feeder (or area / substation): total, repeats, unreasonable, counted,
    and per category of counted tickets. Unmatched tickets form the row with a missing key."""
    key = {"feeder": "feeder_matched", "area": "area", "substation": "substation_matched"}[by]
    c = classified.copy()
    c["_key"] = c[key].astype(object).where(c[key].notna(), "(unmatched)")
    g = c.groupby("_key", sort=True)
    out = pd.DataFrame(
        {
            "tickets": g.size(),
            "repeats": g["repeat"].sum(),
            "unreasonable": g["reasonable"].apply(lambda x: int((~x.astype(bool)).sum())),
            "counted": g["counted"].sum(),
        }
    )
    per_cat = c[c["counted"]].pivot_table(
        index="_key", columns="category", values="counted", aggfunc="count", fill_value=0
    )
    out = out.join(per_cat, how="left").fillna(0)
    return out.reset_index().rename(columns={"_key": by})


# --------------------------------------------------------------------------------------------
# Attribution: non-negative additive Poisson model
# --------------------------------------------------------------------------------------------
def fit_nonnegative_poisson(
    X: np.ndarray,
    y: np.ndarray,
    *,
    iters: int = 3000,
    tol: float = 1e-10,
    exposure: np.ndarray | None = None,
) -> np.ndarray:
    """Coefficients b ≥ 0 of E[y] = X b maximising the Poisson likelihood (identity link), by
    the EM / multiplicative update of Shepp & Vardi (1982): b_k ← b_k Σ_i x_ik y_i/μ_i / Σ_i x_ik.
    Each iteration raises the likelihood and keeps b non-negative. ``X`` must be ≥ 0."""
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    colsum = X.sum(axis=0)
    ok = colsum > 0
    b = np.zeros(X.shape[1])
    if not ok.any() or y.sum() <= 0:
        return b
    Xo = X[:, ok]
    cs = colsum[ok]
    # start: every driver explains the same share of the total
    bo = np.full(ok.sum(), y.sum() / ok.sum()) / cs
    prev = -np.inf
    for it in range(iters):
        mu = Xo @ bo
        mu = np.maximum(mu, 1e-300)
        bo = bo * (Xo.T @ (y / mu)) / cs
        if it % 25 == 0:
            ll = float(np.sum(y * np.log(np.maximum(Xo @ bo, 1e-300)) - Xo @ bo))
            if abs(ll - prev) <= tol * max(1.0, abs(ll)):
                break
            prev = ll
    bo = _newton_polish(Xo, y, bo)
    b[ok] = bo
    return b


def _newton_polish(X: np.ndarray, y: np.ndarray, b: np.ndarray, iters: int = 30) -> np.ndarray:
    """Projected Newton steps on the Poisson log-likelihood over the coefficients not at zero,
    so the slow tail of EM near the boundary converges (Bertsekas 1982, projected Newton)."""

    def loglik(v):
        mu = X @ v
        if np.any(mu <= 0) and np.any(y[mu <= 0] > 0):
            return -np.inf
        return float(np.sum(y * np.log(np.maximum(mu, 1e-300)) - mu))

    ll = loglik(b)
    for _ in range(iters):
        free = b > 1e-12 * max(1.0, b.max())
        if not free.any():
            break
        mu = np.maximum(X @ b, 1e-300)
        g = X.T @ (y / mu - 1.0)
        Xf = X[:, free]
        H = Xf.T @ (Xf * (y / mu**2)[:, None]) + 1e-12 * np.eye(free.sum())
        try:
            step = np.linalg.solve(H, g[free])
        except np.linalg.LinAlgError:
            break
        t = 1.0
        improved = False
        for _ in range(30):
            cand = b.copy()
            cand[free] = np.maximum(b[free] + t * step, 0.0)
            lc = loglik(cand)
            if lc >= ll:
                improved = lc > ll + 1e-12 * max(1.0, abs(ll))
                b, ll = cand, lc
                break
            t *= 0.5
        if not improved:
            break
    return b


def goodness_of_fit(y: np.ndarray, mu: np.ndarray) -> dict[str, float]:
    """R² (1 − SSE/SST), Poisson deviance explained (1 − D/D_null, McCullagh & Nelder) and the
    Pearson dispersion Σ (y−μ)²/μ / (n − 1)."""
    y = np.asarray(y, float)
    mu = np.maximum(np.asarray(mu, float), 1e-12)
    sst = float(((y - y.mean()) ** 2).sum())
    sse = float(((y - mu) ** 2).sum())

    def dev(m):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(y > 0, y * np.log(y / m), 0.0)
        return float(2 * np.sum(t - (y - m)))

    d, d0 = dev(mu), dev(np.full_like(y, max(y.mean(), 1e-12)))
    return {
        "r2": 1 - sse / sst if sst > 0 else np.nan,
        "deviance_explained": 1 - d / d0 if d0 > 0 else np.nan,
        "dispersion": float(np.sum((y - mu) ** 2 / mu) / max(len(y) - 1, 1)),
        "n": float(len(y)),
    }


def attribute(
    drivers: pd.DataFrame,
    complaints: pd.Series | np.ndarray,
    driver_columns: Sequence[str],
    *,
    key: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Fit expected complaints = Σ_k b_k · driver_k with b_k ≥ 0 (Poisson likelihood,
    :func:`fit_nonnegative_poisson`) and attribute each row's expected complaints to its drivers:
    the term b_k · driver_k is the number of complaints attributable to driver k.

    Returns (per-row table with ``expected`` and one ``from_<driver>`` column per driver,
    coefficient table, goodness of fit from :func:`goodness_of_fit`)."""
    X = drivers[list(driver_columns)].to_numpy(float)
    X = np.where(np.isfinite(X), np.maximum(X, 0.0), 0.0)
    y = np.asarray(complaints, float)
    # scale columns so that the EM start is balanced
    scale = X.mean(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    b = fit_nonnegative_poisson(X / scale, y) / scale
    terms = X * b
    mu = terms.sum(axis=1)
    rows = pd.DataFrame(
        {f"from_{k}": terms[:, j] for j, k in enumerate(driver_columns)}, index=drivers.index
    )
    rows.insert(0, "expected", mu)
    rows.insert(0, "observed", y)
    if key is not None:
        rows.insert(0, key, drivers[key].to_numpy())
    coef = pd.DataFrame(
        {
            "driver": list(driver_columns),
            "coefficient": b,
            "attributable": terms.sum(axis=0),
            "share": terms.sum(axis=0) / mu.sum() if mu.sum() > 0 else np.nan,
        }
    )
    return rows, coef, goodness_of_fit(y, mu)


# --------------------------------------------------------------------------------------------
# Empirical Bayes outage rates
# --------------------------------------------------------------------------------------------
def _poisson_glm(
    X: np.ndarray, y: np.ndarray, offset: np.ndarray, iters: int = 50, ridge: float = 1e-3
) -> np.ndarray:
    """log E[y] = offset + X β by IRLS with a small ridge (numpy only)."""
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(max(y.sum(), 1e-3) / np.exp(offset).sum())
    for _ in range(iters):
        eta = np.clip(offset + X @ beta, -30, 30)
        mu = np.exp(eta)
        z = eta - offset + (y - mu) / mu
        W = mu
        R = ridge * np.eye(X.shape[1])
        R[0, 0] = 0.0  # no penalty on the intercept
        A = X.T @ (X * W[:, None]) + R
        new = np.linalg.solve(A, X.T @ (W * z))
        if np.max(np.abs(new - beta)) < 1e-8:
            beta = new
            break
        beta = new
    return beta


def shrink_rates(
    counts: np.ndarray,
    exposure: np.ndarray,
    covariates: np.ndarray | None = None,
    min_dispersion: float = 0.0,
    max_dispersion: float = np.inf,
    ridge: float = 1e-3,
) -> dict[str, np.ndarray]:
    """Empirical-Bayes (Poisson–Gamma) estimate of each unit's event rate per unit exposure.

    Prior: rate_i ~ Gamma(shape a, mean m_i) with log m_i = X_i β fitted by Poisson regression
    on the asset attributes (e.g. log length, conductor section, age, load) and a estimated by
    the method of moments from the over-dispersion; posterior mean
    (y_i + a) / (E_i + a / m_i) (Clayton & Kaldor 1987; the approach predictive reliability
    tools use to blend a feeder's short record with its asset class). Returns dict with
    ``rate`` (posterior mean), ``prior`` (m_i), ``weight`` (credibility of the own record) and
    ``shape`` (a). ``min_dispersion`` / ``max_dispersion`` bound 1/a (the squared coefficient of variation
    of the rates around the regression), for when one period is too short to measure it.
    ``predict`` gives the prior mean rate for other attribute values."""
    y = np.asarray(counts, float)
    E = np.maximum(np.asarray(exposure, float), 1e-12)
    n = len(y)
    if n == 0:  # nothing to rate (a network without substations, say): nothing to fit
        empty = np.zeros(0)
        return {
            "rate": empty,
            "prior": empty,
            "weight": empty,
            "shape": empty,
            "predict": lambda new: np.full(len(new), np.nan),
        }
    if covariates is None or np.size(covariates) == 0:
        X = np.ones((n, 1))
    else:
        C = np.asarray(covariates, float).reshape(n, -1)
        mu_c, sd_c = C.mean(axis=0), C.std(axis=0)
        C = (C - mu_c) / np.where(sd_c > 0, sd_c, 1.0)
        X = np.column_stack([np.ones(n), C])
    beta = _poisson_glm(X, y, np.log(E), ridge=ridge)
    m = np.exp(np.clip(X @ beta, -30, 30))  # prior mean rate
    fitted = m * E
    # method of moments: Var(y) = μ + μ²/a
    excess = np.sum((y - fitted) ** 2 - fitted)
    denom = np.sum(fitted**2)
    inv_a = max(excess / denom, 1e-6, min_dispersion) if denom > 0 else max(1e-6, min_dispersion)
    inv_a = min(inv_a, max_dispersion)
    a = 1.0 / inv_a
    rate = (y + a) / (E + a / m)
    weight = E / (E + a / m)

    def predict(new_covariates: np.ndarray) -> np.ndarray:
        """Prior mean rate for other attribute values (e.g. the asset rebuilt to standard)."""
        if covariates is None or np.size(covariates) == 0:
            return np.full(len(new_covariates), m[0])
        Cn = (np.asarray(new_covariates, float).reshape(len(new_covariates), -1) - mu_c) / np.where(
            sd_c > 0, sd_c, 1.0
        )
        return np.exp(np.clip(np.column_stack([np.ones(len(Cn)), Cn]) @ beta, -30, 30))

    return {"rate": rate, "prior": m, "weight": weight, "shape": np.full(n, a), "predict": predict}
