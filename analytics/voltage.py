"""Voltage quality of transformer areas (台区): rollups of terminal readings and the figures
planners use, after GB/T 12325-2008 (supply voltage deviation limits: 220 V single phase +7 % /
−10 %, i.e. 198.0 V to 235.4 V) and the State Grid low-voltage (低电压) rule: an area is low
voltage on a local day when it is below 198 V for at least one hour in total, on any phase
(configurable: all phases).

Readings are long form (transformer, time, va, vb, vc, kw); ``time`` is the end of the sampling
interval (docs/formats.md), so a reading belongs to the period containing ``time − 1 ns`` and
stands for ``interval_min`` minutes of monitoring. Rollups (:func:`rollup_readings`) keep per
transformer, period and phase only sums, counts, minima and maxima, so every figure here is the
same whether computed from raw readings (:func:`area_voltage_from_readings`) or from rollups
(:func:`area_voltage`), and daily rollups are the same whether built from readings or from
hourly rollups (:func:`rollup_daily_from_hourly`).

Other levels (issue 13): an area whose readings carry another nominal voltage (a 230 V supply,
a 10 kV bus) is judged by :func:`level_limits_pu` for its level; its stored rollups carry those
limits, so :func:`area_voltage` needs nothing more. Medium-voltage readings are stored per-unit
on a 220 V base (:func:`storage_base_v`).

Phase ``X`` is the combined phase: a reading is below (above) when any (``rule="any"``) or all
(``rule="all"``) of its present phases are below (above); X's v_min / v_max are the min / max
across phases, X's v_sum sums the per-reading mean of the present phases.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.areas import areas_table, factor_text, text
from analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from analytics.times import NS_PER_DAY, NS_PER_HOUR, local_floor, ns_to_utc, to_ns, window_ns

ROLLUP_COLUMNS = [
    "transformer",
    "period_start",
    "phase",
    "n",
    "v_min",
    "v_max",
    "v_sum",
    "minutes_monitored",
    "minutes_below",
    "minutes_above",
    "kw_max",
]
PHASES = ("A", "B", "C")


#: Readings are stored in decivolts (16-bit). Low-voltage levels (nominal up to 1 kV) are
#: stored as measured; medium and high voltage, which would not fit, on a 220 V base
#: (stored volts = per-unit × 220; docs/formats.md "Voltage at any level").
STORAGE_BASE_V = 220.0
LV_MAX_NOMINAL_V = 1000.0


def storage_base_v(nominal_v: float) -> float:
    """The volts that stand for 1 per-unit in storage for an area of nominal ``nominal_v``:
    the nominal itself up to 1 kV, else 220 (a 10 kV bus at 10.3 kV is stored as 226.6)."""
    return float(nominal_v) if nominal_v <= LV_MAX_NOMINAL_V else STORAGE_BASE_V


#: 35 kV and above, GB/T 12325 bounds the sum of the absolute deviations by 10 %; it does not
#: say how to split it. FeederWatch splits it evenly (−5 % / +5 %) unless told otherwise.
SPLIT_35KV_PCT = (-5.0, 5.0)


def level_limits_pu(
    nominal_v: float,
    *,
    low_220: float = 198.0,
    high_220: float = 235.4,
    split_35kv_pct: tuple[float, float] = SPLIT_35KV_PCT,
) -> tuple[float, float]:
    """Lower and upper supply-voltage limits, per unit of ``nominal_v`` (volts), after
    GB/T 12325-2008: 220 V single phase +7 % / −10 % (``low_220`` / ``high_220``, configurable,
    198.0 V to 235.4 V by default); three phase 20 kV and below (380 V, 10 kV, 20 kV) ±7 %;
    35 kV and above the absolute deviations sum to at most 10 %, split by ``split_35kv_pct``
    (default −5 % / +5 %; a split whose absolute values sum above 10 % is refused)."""
    if not nominal_v > 0:
        raise ValueError(f"nominal voltage must be positive: {nominal_v!r}")
    if nominal_v <= 250.0:
        # Single phase (phase-to-neutral) low voltage: the 220 V rule, scaled to the nominal.
        return low_220 / 220.0, high_220 / 220.0
    if nominal_v < 35_000.0:
        return 0.93, 1.07
    low_pct, high_pct = split_35kv_pct
    if abs(low_pct) + abs(high_pct) > 10.0 + 1e-9:
        raise ValueError(f"35 kV deviations must sum to at most 10 %: {split_35kv_pct}")
    return 1.0 + low_pct / 100.0, 1.0 + high_pct / 100.0


def level_limits_stored(
    nominal_v: pd.Series, *, low_220: float = 198.0, high_220: float = 235.4
) -> pd.DataFrame:
    """Per area, the limits in stored volts (:func:`storage_base_v`): ``low`` and ``high``,
    indexed like ``nominal_v`` (NaN nominal = a 220 V area: ``low_220`` / ``high_220``)."""
    low, high = [], []
    for value in nominal_v.to_numpy(float):
        if np.isnan(value) or value == STORAGE_BASE_V:
            low.append(low_220)
            high.append(high_220)
            continue
        lo, hi = level_limits_pu(value, low_220=low_220, high_220=high_220)
        low.append(lo * storage_base_v(value))
        high.append(hi * storage_base_v(value))
    return pd.DataFrame({"low": low, "high": high}, index=nominal_v.index, dtype=float)


def clean_readings(
    readings: pd.DataFrame, *, plausible: tuple[float, float] = (100.0, 300.0)
) -> pd.DataFrame:
    """Phase voltages as the ingestion pipeline stores them (docs/formats.md): values in kV
    (0.1–0.3) × 1000, line-to-line values (330–460 V) / √3, anything else outside 100–300 V set
    missing. For feeding source frames (e.g. the simulator's) straight into the analytics."""
    out = readings.copy()
    for c in ("va", "vb", "vc"):
        if c not in out:
            continue
        v = pd.to_numeric(out[c], errors="coerce").to_numpy(float)
        v = np.where((v >= 0.1) & (v <= 0.3), v * 1000.0, v)
        v = np.where((v >= 330.0) & (v <= 460.0), v / np.sqrt(3.0), v)
        v = np.where((v >= plausible[0]) & (v <= plausible[1]), v, np.nan)
        out[c] = v
    return out


def _fast_floor(ns: np.ndarray, tz: str, freq: str) -> np.ndarray:
    """Local floor; integer arithmetic when the zone keeps one UTC offset over the data."""
    if len(ns) == 0:
        return ns.copy()
    lo, hi = int(ns.min()), int(ns.max())
    probe = np.arange(lo, hi + NS_PER_DAY, NS_PER_DAY // 4, dtype=np.int64)
    offs = ns_to_utc(probe).tz_convert(tz)
    offsets = (
        {o.utcoffset() for o in offs[:: max(1, len(offs) // 2000)]}
        if len(offs) > 4000
        else {o.utcoffset() for o in offs}
    )
    if len(offsets) == 1:
        off = int(next(iter(offsets)).total_seconds() * 1e9)
        step = NS_PER_HOUR if freq == "h" else NS_PER_DAY
        return (ns + off) // step * step - off
    return local_floor(ns, tz, freq)


def _interval_per_row(interval_min: Any, transformers: pd.Series) -> np.ndarray:
    if isinstance(interval_min, pd.Series):
        lookup = {str(k).strip(): float(v) for k, v in interval_min.items()}
        vals = np.array([lookup.get(t, np.nan) for t in transformers], dtype=float)
        if np.isnan(vals).any():
            missing = sorted({t for t, v in zip(transformers, vals) if np.isnan(v)})[:5]
            raise ValueError(f"interval_min has no value for transformer(s) {missing}")
        return vals
    return np.full(len(transformers), float(interval_min))


def rollup_readings(
    readings: pd.DataFrame,
    *,
    freq: str = "h",
    interval_min: float | pd.Series = 60.0,
    low: float = 198.0,
    high: float = 235.4,
    rule: str = "any",
    tz: str = "Asia/Shanghai",
) -> pd.DataFrame:
    """Hourly (``freq="h"``) or local-daily (``freq="D"``) voltage rollups of long-form readings.

    One row per transformer, period and phase (A, B, C where present, and the combined X):
    transformer, period_start (UTC; for "D" the local midnight), phase, n (readings), v_min,
    v_max, v_sum, minutes_monitored (n × interval_min), minutes_below (< ``low``), minutes_above
    (> ``high``), kw_max (same on every phase row; NaN without kW). Limits after GB/T 12325-2008;
    X follows ``rule`` ("any"/"all") as the module docstring says. ``interval_min`` is one number
    or a Series indexed by transformer.
    """
    if freq not in ("h", "D"):
        raise ValueError(f"freq must be 'h' or 'D': {freq!r}")
    if rule not in ("any", "all"):
        raise ValueError(f"rule must be 'any' or 'all': {rule!r}")
    if len(readings) == 0:
        return _empty_rollup()
    tcode, tnames = pd.factorize(readings["transformer"].astype(str).str.strip(), sort=True)
    t_ns = to_ns(readings["time"], tz) - 1
    period = _fast_floor(t_ns, tz, freq)
    step = NS_PER_HOUR if freq == "h" else NS_PER_DAY
    base = int(period.min())
    pidx = np.rint((period - base) / step).astype(np.int64)
    key = tcode.astype(np.int64) * (int(pidx.max()) + 1) + pidx
    g, uniq = pd.factorize(key)
    G = len(uniq)
    first = np.zeros(G, dtype=np.int64)
    first[g[::-1]] = np.arange(len(g))[::-1]  # a row of each group, for its transformer and period
    iv = _interval_per_row(interval_min, tnames[tcode])
    V = np.column_stack(
        [
            pd.to_numeric(readings[c], errors="coerce").to_numpy(float)
            if c in readings
            else np.full(len(readings), np.nan)
            for c in ("va", "vb", "vc")
        ]
    )
    valid = ~np.isnan(V)
    below = valid & (V < low)
    above = valid & (V > high)
    kw = (
        pd.to_numeric(readings["kw"], errors="coerce").to_numpy(float)
        if "kw" in readings
        else np.full(len(readings), np.nan)
    )
    kw_max = np.full(G, -np.inf)
    okw = ~np.isnan(kw)
    np.maximum.at(kw_max, g[okw], kw[okw])
    kw_max[np.isneginf(kw_max)] = np.nan

    def stats(mask, vmin_row, vmax_row, vsum_row, b, a):
        gm = g[mask]
        n = np.bincount(gm, minlength=G)
        vmin = np.full(G, np.inf)
        vmax = np.full(G, -np.inf)
        np.minimum.at(vmin, gm, vmin_row[mask])
        np.maximum.at(vmax, gm, vmax_row[mask])
        return {
            "n": n,
            "v_min": vmin,
            "v_max": vmax,
            "v_sum": np.bincount(gm, weights=vsum_row[mask], minlength=G),
            "minutes_monitored": np.bincount(gm, weights=iv[mask], minlength=G),
            "minutes_below": np.bincount(g[b], weights=iv[b], minlength=G),
            "minutes_above": np.bincount(g[a], weights=iv[a], minlength=G),
        }

    parts = []
    for j, ph in enumerate(PHASES):
        v = V[:, j]
        parts.append((ph, stats(valid[:, j], v, v, v, below[:, j], above[:, j])))
    present = valid.any(axis=1)
    cnt = valid.sum(axis=1)
    if rule == "any":
        xb, xa = below.any(axis=1), above.any(axis=1)
    else:
        xb = present & (below | ~valid).all(axis=1)
        xa = present & (above | ~valid).all(axis=1)
    vmin_row = np.where(valid, V, np.inf).min(axis=1)
    vmax_row = np.where(valid, V, -np.inf).max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        vmean_row = np.where(present, np.where(valid, V, 0.0).sum(axis=1) / np.maximum(cnt, 1), 0.0)
    parts.append(("X", stats(present, vmin_row, vmax_row, vmean_row, xb, xa)))

    frames = []
    tr_of_group = tnames[tcode[first]]
    ps_of_group = period[first]
    for ph, st in parts:
        keep = st["n"] > 0
        f = pd.DataFrame(
            {
                "transformer": pd.Series(np.asarray(tr_of_group)[keep], dtype=object),
                "period_start": ns_to_utc(ps_of_group[keep]),
                "phase": ph,
                **{
                    k: st[k][keep]
                    for k in (
                        "n",
                        "v_min",
                        "v_max",
                        "v_sum",
                        "minutes_monitored",
                        "minutes_below",
                        "minutes_above",
                    )
                },
                "kw_max": kw_max[keep],
            }
        )
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out["n"] = out["n"].astype(np.int64)
    out["transformer"] = out["transformer"].astype("str")
    out["phase"] = out["phase"].astype("str")
    return out.sort_values(["transformer", "period_start", "phase"], kind="stable").reset_index(
        drop=True
    )


def _empty_rollup() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transformer": pd.Series([], dtype=object),
            "period_start": pd.DatetimeIndex([], tz="UTC"),
            "phase": pd.Series([], dtype=object),
            "n": pd.Series([], dtype=np.int64),
            **{c: pd.Series([], dtype=float) for c in ROLLUP_COLUMNS[4:]},
        }
    )


def rollup_daily_from_hourly(hourly: pd.DataFrame, *, tz: str = "Asia/Shanghai") -> pd.DataFrame:
    """Local-daily rollups from hourly ones; identical to :func:`rollup_readings` with
    ``freq="D"`` on the same readings (counts and sums add, minima and maxima combine)."""
    if len(hourly) == 0:
        return _empty_rollup()
    h = hourly.copy()
    day = _fast_floor(to_ns(h["period_start"], "UTC"), tz, "D")
    h["period_start"] = ns_to_utc(day)
    agg = (
        h.groupby(["transformer", "period_start", "phase"], sort=True, observed=True)
        .agg(
            n=("n", "sum"),
            v_min=("v_min", "min"),
            v_max=("v_max", "max"),
            v_sum=("v_sum", "sum"),
            minutes_monitored=("minutes_monitored", "sum"),
            minutes_below=("minutes_below", "sum"),
            minutes_above=("minutes_above", "sum"),
            kw_max=("kw_max", "max"),
        )
        .reset_index()
    )
    agg["n"] = agg["n"].astype(np.int64)
    agg["transformer"] = agg["transformer"].astype("str")
    agg["phase"] = agg["phase"].astype("str")
    return agg[ROLLUP_COLUMNS]


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------
FIGURE_COLUMNS = [
    "transformer",
    "minutes_monitored",
    "compliance_rate",
    "hours_below",
    "hours_above",
    "low_voltage_days",
    "low_voltage_customer_hours",
    "worst_phase",
    "imbalance_pct",
    "v_min",
    "v_max",
    "evening_peak_min",
    "kw_max",
    "load_ratio",
    "overloaded_hours",
    "overloaded_days",
]


def _infer_freq(period_ns: np.ndarray, tz: str) -> str:
    if len(period_ns) == 0:
        return "D"
    return "D" if np.array_equal(_fast_floor(period_ns, tz, "D"), period_ns) else "h"


def _window_mask(ns: np.ndarray, window: Any, tz: str) -> np.ndarray:
    if window is None:
        return np.ones(len(ns), bool)
    ws, we = window_ns(window, tz)
    return (ns >= ws) & (ns < we)


def area_voltage(
    rollups: pd.DataFrame,
    transformers: pd.DataFrame,
    *,
    window: Any = None,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    freq: str | None = None,
) -> pd.DataFrame:
    """Voltage figures per transformer area from hourly or daily rollups over a window.

    - compliance_rate (电压合格率, GB/T 12325-2008): phase-time within [low, high] / phase-time
      monitored, over phases A, B, C;
    - hours_below / hours_above: combined phase X time below / above the limits;
    - low_voltage_days: local days with X below for ≥ ``low_voltage_min_hours`` (低电压 rule);
      low_voltage_customer_hours = hours_below × households;
    - worst_phase: the phase with most minutes below (ties: lowest minimum voltage);
    - imbalance_pct: voltage unbalance, max |V_p − V_avg| / V_avg × 100 on the phases' mean
      voltages (NEMA MG 1 definition, the line-voltage approximation GB/T 15543 allows);
    - v_min, v_max; evening_peak_min: lowest voltage in local hours 18–22 (hourly rollups only,
      NaN from daily ones);
    - kw_max, load_ratio = kw_max / kVA; overloaded_hours: clock hours whose peak kW exceeds
      ``overload_ratio`` × kVA (hourly rollups only); overloaded_days likewise per local day.
    Areas without readings are left out. The rollups' limits and rule are the ones used here.
    """
    s = settings
    r = rollups
    ps = to_ns(r["period_start"], "UTC")
    m = _window_mask(ps, window, s.tz)
    if not m.all():
        r, ps = r[m], ps[m]
    freq = freq or _infer_freq(ps, s.tz)
    tcode, names = factor_text(r["transformer"])
    order = np.argsort(names, kind="stable")
    rank_of = np.empty(len(names), dtype=np.int64)
    rank_of[order] = np.arange(len(names))
    names = names[order]
    keep = tcode >= 0
    if not keep.all():
        r, ps, tcode = r[keep], ps[keep], tcode[keep]
    tcode = rank_of[tcode]
    pcode, plabels = pd.factorize(r["phase"])
    plabels = np.array([str(p).strip().upper() for p in plabels], dtype=object)
    phase = plabels[pcode]
    T = len(names)
    mon = r["minutes_monitored"].to_numpy(float)
    bel = r["minutes_below"].to_numpy(float)
    abv = r["minutes_above"].to_numpy(float)
    vmin = r["v_min"].to_numpy(float)
    vmax = r["v_max"].to_numpy(float)
    vsum = r["v_sum"].to_numpy(float)
    n = r["n"].to_numpy(float)
    kwm = r["kw_max"].to_numpy(float)

    isx = phase == "X"
    isp = ~isx
    mon_p = np.bincount(tcode[isp], weights=mon[isp], minlength=T)
    ok_p = np.bincount(tcode[isp], weights=(mon - bel - abv)[isp], minlength=T)
    xb = np.bincount(tcode[isx], weights=bel[isx], minlength=T)
    xa = np.bincount(tcode[isx], weights=abv[isx], minlength=T)
    xmin = _group_min(tcode[isx], vmin[isx], T)
    xmax = -_group_min(tcode[isx], -vmax[isx], T)

    # low-voltage days: X minutes below per (area, local day)
    day = _fast_floor(ps[isx], s.tz, "D") if freq == "h" else ps[isx]
    lv_days = _count_days(tcode[isx], day, bel[isx], s.low_voltage_min_hours * 60.0, T)

    # per phase: minutes below, v_min, mean voltage
    ph_below = np.zeros((T, 3))
    ph_min = np.full((T, 3), np.inf)
    ph_mean = np.full((T, 3), np.nan)
    for j, p in enumerate(PHASES):
        sel = phase == p
        ph_below[:, j] = np.bincount(tcode[sel], weights=bel[sel], minlength=T)
        ph_min[:, j] = _group_min(tcode[sel], vmin[sel], T)
        cnt = np.bincount(tcode[sel], weights=n[sel], minlength=T)
        tot = np.bincount(tcode[sel], weights=vsum[sel], minlength=T)
        with np.errstate(invalid="ignore", divide="ignore"):
            ph_mean[:, j] = np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1), np.nan)
    worst = _worst_phase(ph_below, ph_min)
    imbalance = _imbalance(ph_mean)

    # evening peak and load from X rows (kw_max is repeated on every phase row)
    if freq == "h":
        hour = ((ps[isx] - _fast_floor(ps[isx], s.tz, "D")) // NS_PER_HOUR).astype(int)
        h0, h1 = s.evening_peak_hours
        ev = (hour >= h0) & (hour < h1)
        evening = _group_min(tcode[isx][ev], vmin[isx][ev], T)
    else:
        evening = np.full(T, np.inf)
    kva = _kva_lookup(transformers, names)
    kw_x = kwm[isx]
    kw_max = -_group_min(tcode[isx][~np.isnan(kw_x)], -kw_x[~np.isnan(kw_x)], T)
    over = kw_x > s.overload_ratio * kva[tcode[isx]]
    if freq == "h":
        over_hours = np.bincount(tcode[isx][over], minlength=T).astype(float)
        oday = _fast_floor(ps[isx][over], s.tz, "D")
        over_days = _count_distinct_days(tcode[isx][over], oday, T)
    else:
        over_hours = np.full(T, np.nan)
        over_days = np.bincount(tcode[isx][over], minlength=T).astype(float)
    hh = _households_lookup(transformers, names)
    return _figures_frame(
        names,
        mon_p,
        ok_p,
        xb,
        xa,
        lv_days,
        hh,
        worst,
        imbalance,
        xmin,
        xmax,
        evening,
        kw_max,
        kva,
        over_hours,
        over_days,
    )


def area_voltage_from_readings(
    readings: pd.DataFrame,
    transformers: pd.DataFrame,
    *,
    interval_min: float | pd.Series = 60.0,
    window: Any = None,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """The figures of :func:`area_voltage`, computed straight from long-form readings (the
    reference the rollup path is tested against). ``overloaded_hours`` counts local clock hours
    with any reading above the rating, so it equals the hourly-rollup figure."""
    s = settings
    t_ns = to_ns(readings["time"], s.tz) - 1
    m = _window_mask(t_ns, window, s.tz)
    rd = readings[m]
    t_ns = t_ns[m]
    tr = text(rd["transformer"]).to_numpy(object)
    tcode, names = pd.factorize(tr, sort=True)
    T = len(names)
    iv = _interval_per_row(interval_min, names[tcode])
    V = np.column_stack(
        [
            pd.to_numeric(rd[c], errors="coerce").to_numpy(float)
            if c in rd
            else np.full(len(rd), np.nan)
            for c in ("va", "vb", "vc")
        ]
    )
    valid = ~np.isnan(V)
    below = valid & (V < s.voltage_low)
    above = valid & (V > s.voltage_high)
    within = valid & ~below & ~above
    mon_p = np.bincount(tcode, weights=(valid * iv[:, None]).sum(axis=1), minlength=T)
    ok_p = np.bincount(tcode, weights=(within * iv[:, None]).sum(axis=1), minlength=T)
    present = valid.any(axis=1)
    if s.low_voltage_rule == "any":
        xb, xa = below.any(axis=1), above.any(axis=1)
    else:
        xb = present & (below | ~valid).all(axis=1)
        xa = present & (above | ~valid).all(axis=1)
    hb = np.bincount(tcode[xb], weights=iv[xb], minlength=T)
    ha = np.bincount(tcode[xa], weights=iv[xa], minlength=T)
    day = _fast_floor(t_ns, s.tz, "D")
    lv_days = _count_days(tcode, day, np.where(xb, iv, 0.0), s.low_voltage_min_hours * 60.0, T)
    ph_below = np.stack(
        [np.bincount(tcode[below[:, j]], weights=iv[below[:, j]], minlength=T) for j in range(3)],
        axis=1,
    )
    ph_min = np.stack(
        [_group_min(tcode[valid[:, j]], V[valid[:, j], j], T) for j in range(3)], axis=1
    )
    ph_mean = np.full((T, 3), np.nan)
    for j in range(3):
        c = np.bincount(tcode[valid[:, j]], minlength=T)
        tot = np.bincount(tcode[valid[:, j]], weights=V[valid[:, j], j], minlength=T)
        with np.errstate(invalid="ignore", divide="ignore"):
            ph_mean[:, j] = np.where(c > 0, tot / np.where(c > 0, c, 1), np.nan)
    rmin = np.where(valid, V, np.inf).min(axis=1)
    rmax = np.where(valid, V, -np.inf).max(axis=1)
    vmin = _group_min(tcode[present], rmin[present], T)
    vmax = -_group_min(tcode[present], -rmax[present], T)
    hour = (t_ns - day) // NS_PER_HOUR
    h0, h1 = s.evening_peak_hours
    ev = present & (hour >= h0) & (hour < h1)
    evening = _group_min(tcode[ev], rmin[ev], T)
    kva = _kva_lookup(transformers, names)
    kw = (
        pd.to_numeric(rd["kw"], errors="coerce").to_numpy(float)
        if "kw" in rd
        else np.full(len(rd), np.nan)
    )
    okw = ~np.isnan(kw)
    kw_max = -_group_min(tcode[okw], -kw[okw], T)
    over = okw & (kw > s.overload_ratio * kva[tcode])
    hr = _fast_floor(t_ns[over], s.tz, "h")
    over_hours = _count_distinct_days(tcode[over], hr, T)
    over_days = _count_distinct_days(tcode[over], day[over], T)
    hh = _households_lookup(transformers, names)
    return _figures_frame(
        names,
        mon_p,
        ok_p,
        hb,
        ha,
        lv_days,
        hh,
        _worst_phase(ph_below, ph_min),
        _imbalance(ph_mean),
        vmin,
        vmax,
        evening,
        kw_max,
        kva,
        over_hours,
        over_days,
    )


def feeder_voltage(area_figures: pd.DataFrame, network: dict) -> pd.DataFrame:
    """Voltage figures per feeder from :func:`area_voltage`: monitored and low-voltage areas,
    low-voltage area-days, hours below (area-hours), low-voltage customer-hours, compliance
    rate (time-weighted over the areas), lowest voltage and evening-peak minimum, the largest
    area load ratio and overloaded area-hours."""
    a = areas_table(network)
    f = area_figures.merge(a[["transformer", "feeder"]], on="transformer", how="inner")
    f["ok_minutes"] = f["compliance_rate"] * f["minutes_monitored"]
    f["lv_area"] = f["low_voltage_days"] > 0
    g = f.groupby("feeder", sort=True)
    out = pd.DataFrame(
        {
            "monitored_areas": g.size(),
            "low_voltage_areas": g["lv_area"].sum(),
            "low_voltage_days": g["low_voltage_days"].sum(),
            "hours_below": g["hours_below"].sum(),
            "low_voltage_customer_hours": g["low_voltage_customer_hours"].sum(),
            "compliance_rate": g["ok_minutes"].sum() / g["minutes_monitored"].sum(),
            "v_min": g["v_min"].min(),
            "evening_peak_min": g["evening_peak_min"].min(),
            "load_ratio_max": g["load_ratio"].max(),
            "overloaded_hours": g["overloaded_hours"].sum(min_count=1),
        }
    ).reset_index()
    return out


# --------------------------------------------------------------------------------------------
def _group_min(codes: np.ndarray, values: np.ndarray, T: int) -> np.ndarray:
    out = np.full(T, np.inf)
    ok = ~np.isnan(values)
    if ok.any():
        np.minimum.at(out, codes[ok], values[ok])
    return out


def _count_days(
    codes: np.ndarray, day: np.ndarray, minutes: np.ndarray, need: float, T: int
) -> np.ndarray:
    if len(codes) == 0:
        return np.zeros(T)
    key = codes.astype(np.int64) * (1 << 20) + (day // NS_PER_HOUR - (day.min() // NS_PER_HOUR))
    k, inv = np.unique(key, return_inverse=True)
    tot = np.bincount(inv, weights=minutes)
    area = (k >> 20).astype(np.int64)
    return np.bincount(area[tot >= need - 1e-9], minlength=T).astype(float)


def _count_distinct_days(codes: np.ndarray, stamp: np.ndarray, T: int) -> np.ndarray:
    if len(codes) == 0:
        return np.zeros(T)
    k = np.unique(
        codes.astype(np.int64) * (1 << 24) + (stamp // NS_PER_HOUR - stamp.min() // NS_PER_HOUR)
    )
    return np.bincount((k >> 24).astype(np.int64), minlength=T).astype(float)


def _worst_phase(ph_below: np.ndarray, ph_min: np.ndarray) -> np.ndarray:
    T = len(ph_below)
    out = np.array([None] * T, dtype=object)
    for i in range(T):
        cand = [j for j in range(3) if np.isfinite(ph_min[i, j])]
        if cand:
            j = min(cand, key=lambda j: (-ph_below[i, j], ph_min[i, j], j))
            out[i] = PHASES[j]
    return out


def _imbalance(ph_mean: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(ph_mean).any(axis=1)
    out = np.full(len(ph_mean), np.nan)
    if ok.any():
        pm = ph_mean[ok]
        avg = pm.mean(axis=1)
        out[ok] = np.abs(pm - avg[:, None]).max(axis=1) / avg * 100.0
    return out


def _kva_lookup(transformers: pd.DataFrame, names) -> np.ndarray:
    kva = (
        dict(
            zip(
                text(transformers["transformer"]),
                pd.to_numeric(transformers["kva"], errors="coerce"),
            )
        )
        if "kva" in transformers
        else {}
    )
    return np.array([kva.get(t, np.nan) for t in names], dtype=float)


def _households_lookup(transformers: pd.DataFrame, names) -> np.ndarray:
    hh = dict(
        zip(
            text(transformers["transformer"]),
            pd.to_numeric(transformers["customers"], errors="coerce"),
        )
    )
    return np.nan_to_num(np.array([hh.get(t, np.nan) for t in names], dtype=float))


def _figures_frame(
    names,
    mon_p,
    ok_p,
    hb,
    ha,
    lv_days,
    hh,
    worst,
    imbalance,
    vmin,
    vmax,
    evening,
    kw_max,
    kva,
    over_hours,
    over_days,
) -> pd.DataFrame:
    def fin(x):
        x = np.asarray(x, float)
        return np.where(np.isfinite(x), x, np.nan)

    with np.errstate(invalid="ignore", divide="ignore"):
        compliance = np.where(mon_p > 0, ok_p / np.where(mon_p > 0, mon_p, 1), np.nan)
        load = fin(kw_max) / kva
    return pd.DataFrame(
        {
            "transformer": pd.Series(list(names), dtype=object),
            "minutes_monitored": mon_p,
            "compliance_rate": compliance,
            "hours_below": hb / 60.0,
            "hours_above": ha / 60.0,
            "low_voltage_days": lv_days,
            "low_voltage_customer_hours": hb / 60.0 * hh,
            "worst_phase": pd.Series(worst, dtype=object),
            "imbalance_pct": imbalance,
            "v_min": fin(vmin),
            "v_max": fin(vmax),
            "evening_peak_min": fin(evening),
            "kw_max": fin(kw_max),
            "load_ratio": load,
            "overloaded_hours": over_hours,
            "overloaded_days": over_days,
        }
    )
