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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.areas import areas_table, factor_text, text
from analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from analytics.times import NS_PER_HOUR, fast_local_floor, to_ns, window_ns
from analytics.voltage_levels import (
    LV_MAX_NOMINAL_V,
    SPLIT_35KV_PCT,
    STORAGE_BASE_V,
    clean_readings,
    level_limits_pu,
    level_limits_stored,
    storage_base_v,
)
from analytics.voltage_rollups import (
    PHASES,
    ROLLUP_COLUMNS,
    CombinedPhase,
    combined_phase,
    interval_per_row,
    phase_voltages,
    rollup_daily_from_hourly,
    rollup_readings,
)

__all__ = [
    "FIGURE_COLUMNS",
    "LV_MAX_NOMINAL_V",
    "PHASES",
    "ROLLUP_COLUMNS",
    "SPLIT_35KV_PCT",
    "STORAGE_BASE_V",
    "area_voltage",
    "area_voltage_from_readings",
    "clean_readings",
    "feeder_voltage",
    "level_limits_pu",
    "level_limits_stored",
    "rollup_daily_from_hourly",
    "rollup_readings",
    "storage_base_v",
]

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
    return "D" if np.array_equal(fast_local_floor(period_ns, tz, "D"), period_ns) else "h"


def _window_mask(ns: np.ndarray, window: Any, tz: str) -> np.ndarray:
    if window is None:
        return np.ones(len(ns), bool)
    ws, we = window_ns(window, tz)
    return (ns >= ws) & (ns < we)


@dataclass(frozen=True)
class AreaFigures:
    """The voltage figures of each area, before they become a table (:meth:`frame`)."""

    names: np.ndarray  # transformer of each area
    minutes_monitored: np.ndarray  # phase-minutes monitored (A, B, C)
    minutes_within: np.ndarray  # phase-minutes within the limits
    minutes_below: np.ndarray  # X minutes below the lower limit
    minutes_above: np.ndarray  # X minutes above the upper limit
    low_voltage_days: np.ndarray
    households: np.ndarray
    worst_phase: np.ndarray
    imbalance_pct: np.ndarray
    v_min: np.ndarray
    v_max: np.ndarray
    evening_peak_min: np.ndarray
    kw_max: np.ndarray
    kva: np.ndarray
    overloaded_hours: np.ndarray
    overloaded_days: np.ndarray

    def frame(self) -> pd.DataFrame:
        """One row per area, the columns of :data:`FIGURE_COLUMNS`."""

        def fin(x):
            x = np.asarray(x, float)
            return np.where(np.isfinite(x), x, np.nan)

        mon_p, ok_p, hb = self.minutes_monitored, self.minutes_within, self.minutes_below
        with np.errstate(invalid="ignore", divide="ignore"):
            compliance = np.where(mon_p > 0, ok_p / np.where(mon_p > 0, mon_p, 1), np.nan)
            load = fin(self.kw_max) / self.kva
        return pd.DataFrame(
            {
                "transformer": pd.Series(list(self.names), dtype=object),
                "minutes_monitored": mon_p,
                "compliance_rate": compliance,
                "hours_below": hb / 60.0,
                "hours_above": self.minutes_above / 60.0,
                "low_voltage_days": self.low_voltage_days,
                "low_voltage_customer_hours": hb / 60.0 * self.households,
                "worst_phase": pd.Series(self.worst_phase, dtype=object),
                "imbalance_pct": self.imbalance_pct,
                "v_min": fin(self.v_min),
                "v_max": fin(self.v_max),
                "evening_peak_min": fin(self.evening_peak_min),
                "kw_max": fin(self.kw_max),
                "load_ratio": load,
                "overloaded_hours": self.overloaded_hours,
                "overloaded_days": self.overloaded_days,
            }
        )


@dataclass(frozen=True)
class _Rollups:
    """Rollup rows in the window as arrays, areas coded 0 .. n_areas - 1 in name order."""

    names: np.ndarray
    area: np.ndarray
    phase: np.ndarray
    period: np.ndarray  # period start, UTC ns
    freq: str
    columns: dict[str, np.ndarray]  # the rollup's numeric columns

    @property
    def n_areas(self) -> int:
        return len(self.names)

    @classmethod
    def of(cls, rollups: pd.DataFrame, window: Any, tz: str, freq: str | None) -> _Rollups:
        r = rollups
        ps = to_ns(r["period_start"], "UTC")
        m = _window_mask(ps, window, tz)
        if not m.all():
            r, ps = r[m], ps[m]
        freq = freq or _infer_freq(ps, tz)
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
        numeric = ROLLUP_COLUMNS[3:]
        columns = {c: r[c].to_numpy(float) for c in numeric}
        return cls(names, tcode, plabels[pcode], ps, freq, columns)


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
    r = _Rollups.of(rollups, window, s.tz, freq)
    return AreaFigures(
        names=r.names,
        households=np.nan_to_num(_by_transformer(transformers, r.names, "customers")),
        **_phase_figures_from_rollups(r),
        **_combined_figures_from_rollups(r, s),
        **_load_figures_from_rollups(r, _by_transformer(transformers, r.names, "kva"), s),
    ).frame()


def _phase_figures_from_rollups(rollups: _Rollups) -> dict[str, np.ndarray]:
    """Compliance minutes over phases A, B, C; the worst phase; the imbalance."""
    r = rollups
    T, tcode, c = r.n_areas, r.area, r.columns
    mon, bel, abv = c["minutes_monitored"], c["minutes_below"], c["minutes_above"]
    isp = r.phase != "X"
    ph_below = np.zeros((T, 3))
    ph_min = np.full((T, 3), np.inf)
    ph_mean = np.full((T, 3), np.nan)
    for j, p in enumerate(PHASES):
        sel = r.phase == p
        ph_below[:, j] = np.bincount(tcode[sel], weights=bel[sel], minlength=T)
        ph_min[:, j] = _group_min(tcode[sel], c["v_min"][sel], T)
        cnt = np.bincount(tcode[sel], weights=c["n"][sel], minlength=T)
        tot = np.bincount(tcode[sel], weights=c["v_sum"][sel], minlength=T)
        with np.errstate(invalid="ignore", divide="ignore"):
            ph_mean[:, j] = np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1), np.nan)
    return {
        "minutes_monitored": np.bincount(tcode[isp], weights=mon[isp], minlength=T),
        "minutes_within": np.bincount(tcode[isp], weights=(mon - bel - abv)[isp], minlength=T),
        "worst_phase": _worst_phase(ph_below, ph_min),
        "imbalance_pct": _imbalance(ph_mean),
    }


def _combined_figures_from_rollups(
    rollups: _Rollups, s: AnalyticsSettings
) -> dict[str, np.ndarray]:
    """From the X rows: minutes below and above, the extremes, the low-voltage days."""
    r = rollups
    T, c = r.n_areas, r.columns
    isx = r.phase == "X"
    tx = r.area[isx]
    bel = c["minutes_below"][isx]
    # low-voltage days: X minutes below per (area, local day)
    day = fast_local_floor(r.period[isx], s.tz, "D") if r.freq == "h" else r.period[isx]
    return {
        "minutes_below": np.bincount(tx, weights=bel, minlength=T),
        "minutes_above": np.bincount(tx, weights=c["minutes_above"][isx], minlength=T),
        "v_min": _group_min(tx, c["v_min"][isx], T),
        "v_max": -_group_min(tx, -c["v_max"][isx], T),
        "low_voltage_days": _count_days(tx, day, bel, s.low_voltage_min_hours * 60.0, T),
    }


def _load_figures_from_rollups(
    rollups: _Rollups, kva: np.ndarray, s: AnalyticsSettings
) -> dict[str, np.ndarray]:
    """The evening-peak minimum and the load figures, from the X rows (kw_max is repeated on
    every phase row); clock-hour figures only from hourly rollups."""
    r = rollups
    T, c = r.n_areas, r.columns
    isx = r.phase == "X"
    tx, px = r.area[isx], r.period[isx]
    if r.freq == "h":
        hour = ((px - fast_local_floor(px, s.tz, "D")) // NS_PER_HOUR).astype(int)
        h0, h1 = s.evening_peak_hours
        ev = (hour >= h0) & (hour < h1)
        evening = _group_min(tx[ev], c["v_min"][isx][ev], T)
    else:
        evening = np.full(T, np.inf)
    kw_x = c["kw_max"][isx]
    over = kw_x > s.overload_ratio * kva[tx]
    if r.freq == "h":
        over_hours = np.bincount(tx[over], minlength=T).astype(float)
        over_days = _count_distinct_days(tx[over], fast_local_floor(px[over], s.tz, "D"), T)
    else:
        over_hours = np.full(T, np.nan)
        over_days = np.bincount(tx[over], minlength=T).astype(float)
    return {
        "evening_peak_min": evening,
        "kw_max": -_group_min(tx[~np.isnan(kw_x)], -kw_x[~np.isnan(kw_x)], T),
        "kva": kva,
        "overloaded_hours": over_hours,
        "overloaded_days": over_days,
    }


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
    tcode, names = pd.factorize(text(rd["transformer"]).to_numpy(object), sort=True)
    T = len(names)
    iv = interval_per_row(interval_min, names[tcode])
    V = phase_voltages(rd)
    valid = ~np.isnan(V)
    below = valid & (V < s.voltage_low)
    above = valid & (V > s.voltage_high)
    x = combined_phase(V, valid, below, above, s.low_voltage_rule)
    day = fast_local_floor(t_ns, s.tz, "D")
    within = valid & ~below & ~above
    kva = _by_transformer(transformers, names, "kva")
    return AreaFigures(
        names=names,
        households=np.nan_to_num(_by_transformer(transformers, names, "customers")),
        minutes_monitored=np.bincount(
            tcode, weights=(valid * iv[:, None]).sum(axis=1), minlength=T
        ),
        minutes_within=np.bincount(tcode, weights=(within * iv[:, None]).sum(axis=1), minlength=T),
        minutes_below=np.bincount(tcode[x.below], weights=iv[x.below], minlength=T),
        minutes_above=np.bincount(tcode[x.above], weights=iv[x.above], minlength=T),
        low_voltage_days=_count_days(
            tcode, day, np.where(x.below, iv, 0.0), s.low_voltage_min_hours * 60.0, T
        ),
        v_min=_group_min(tcode[x.present], x.v_min[x.present], T),
        v_max=-_group_min(tcode[x.present], -x.v_max[x.present], T),
        **_phase_figures_from_readings(tcode, T, V, valid, below, iv),
        **_load_figures_from_readings(rd, tcode, T, t_ns, day, x, kva, s),
    ).frame()


def _phase_figures_from_readings(
    area: np.ndarray,
    n_areas: int,
    V: np.ndarray,
    valid: np.ndarray,
    below: np.ndarray,
    minutes: np.ndarray,
) -> dict[str, np.ndarray]:
    """The worst phase and the imbalance, from the readings (``area``: each reading's area
    code; ``V``, ``valid``, ``below``: readings × phases; ``minutes``: what each stands for)."""
    ph_below = np.stack(
        [
            np.bincount(area[below[:, j]], weights=minutes[below[:, j]], minlength=n_areas)
            for j in range(3)
        ],
        axis=1,
    )
    ph_min = np.stack(
        [_group_min(area[valid[:, j]], V[valid[:, j], j], n_areas) for j in range(3)], axis=1
    )
    ph_mean = np.full((n_areas, 3), np.nan)
    for j in range(3):
        c = np.bincount(area[valid[:, j]], minlength=n_areas)
        tot = np.bincount(area[valid[:, j]], weights=V[valid[:, j], j], minlength=n_areas)
        with np.errstate(invalid="ignore", divide="ignore"):
            ph_mean[:, j] = np.where(c > 0, tot / np.where(c > 0, c, 1), np.nan)
    return {"worst_phase": _worst_phase(ph_below, ph_min), "imbalance_pct": _imbalance(ph_mean)}


def _load_figures_from_readings(
    readings: pd.DataFrame,
    area: np.ndarray,
    n_areas: int,
    times: np.ndarray,
    day: np.ndarray,
    combined: CombinedPhase,
    kva: np.ndarray,
    s: AnalyticsSettings,
) -> dict[str, np.ndarray]:
    """The evening-peak minimum and the load figures, from the readings (``area``: each
    reading's area code; ``times``: its UTC ns minus 1; ``day``: its local day)."""
    hour = (times - day) // NS_PER_HOUR
    h0, h1 = s.evening_peak_hours
    evening = combined.present & (hour >= h0) & (hour < h1)
    kw = (
        pd.to_numeric(readings["kw"], errors="coerce").to_numpy(float)
        if "kw" in readings
        else np.full(len(readings), np.nan)
    )
    okw = ~np.isnan(kw)
    over = okw & (kw > s.overload_ratio * kva[area])
    over_hour = fast_local_floor(times[over], s.tz, "h")
    return {
        "evening_peak_min": _group_min(area[evening], combined.v_min[evening], n_areas),
        "kw_max": -_group_min(area[okw], -kw[okw], n_areas),
        "kva": kva,
        "overloaded_hours": _count_distinct_days(area[over], over_hour, n_areas),
        "overloaded_days": _count_distinct_days(area[over], day[over], n_areas),
    }


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


def _by_transformer(transformers: pd.DataFrame, names, column: str) -> np.ndarray:
    """``column`` of the transformer table for each of ``names`` (NaN where unknown)."""
    if column not in transformers:
        return np.full(len(names), np.nan)
    values = pd.to_numeric(transformers[column], errors="coerce")
    lookup = dict(zip(text(transformers["transformer"]), values))
    return np.array([lookup.get(t, np.nan) for t in names], dtype=float)
