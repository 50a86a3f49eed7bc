"""Low-voltage uplift: which low-voltage hours and days of each area a sound feeder, or a sound
35 kV substation, would remove (part of step 4 of :mod:`analytics.priorities`).

From the daily X-phase rollups: each area's mean daily minimum voltage is fitted per feeder as
c_f − k_f·shape(d/d_max), shape(x) = x(2 − x) (the voltage profile of a uniformly loaded radial
line, DL/T 5729 / textbook drop), with areas far below the line (local weakness) left out of the
fit. A sound feeder has the ``drop_reference_quantile`` of the drop per km, so its uplift at an
area on a day is (k_f − k_sound)·shape, scaled by the feeder's load that day; a sound substation
lifts each day's bus level (the median minimum voltage of areas near the substation, local
weakness removed) back to its usual level. A low-voltage area-day is removed when the uplift
brings its minimum voltage to the row's own lower limit (GB/T 12325).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.areas import text
from analytics.settings import AnalyticsSettings

REMOVED_KEYS = ("hours_feeder", "days_feeder", "hours_sub", "days_sub")


@dataclass(frozen=True)
class AreaDays:
    """The area-days with a minimum voltage (daily X-phase rows), as parallel arrays."""

    area: np.ndarray  # area slot
    day: np.ndarray  # day code, 0 .. n_days - 1 in time order
    n_days: int
    vmin: np.ndarray  # minimum voltage (V)
    below: np.ndarray  # minutes below the lower limit
    kw: np.ndarray  # peak load (kW)
    low: np.ndarray  # the row's lower limit (V)


@dataclass(frozen=True)
class FeederProfiles:
    """Each feeder's fitted voltage profile along its length."""

    feeder: np.ndarray  # feeder code of each area
    shape: np.ndarray  # x(2 − x) at each area's relative distance x along its feeder
    length: np.ndarray  # per feeder: distance to its farthest area (km)
    drop: np.ndarray  # per feeder: fitted drop k_f at the far end (V)
    local: np.ndarray  # per area: how far it lies below its feeder's line (V, ≤ 0; outliers)


def low_voltage_removed(
    network: dict,
    areas: pd.DataFrame,
    rows: dict[str, np.ndarray] | None,
    s: AnalyticsSettings,
) -> dict[str, np.ndarray]:
    """Low-voltage hours and days per area that a sound feeder (``hours_feeder``,
    ``days_feeder``) or a sound substation (``hours_sub``, ``days_sub``) would remove; ``rows``
    are :func:`analytics.area_drivers.daily_x_rows`. See the module docstring."""
    n = len(areas)
    zero = {k: np.zeros(n) for k in REMOVED_KEYS}
    days = _area_days(rows)
    if days is None:
        return zero
    profiles = feeder_profiles(network, areas, days)
    fa = profiles.feeder[days.area]
    scale = daily_load_scale(fa, days, len(profiles.length))
    # per area-day, gathered once for both uplifts (millions of rows over several years)
    row_scale = scale[fa, days.day]
    row_shape = profiles.shape[days.area]
    uplift_feeder = sound_feeder_uplift(profiles, days, scale, s, fa, row_shape, row_scale)
    uplift_sub = substation_sag_uplift(areas, profiles, days, scale, fa, row_scale, row_shape)
    need = s.low_voltage_min_hours * 60.0
    lv = days.below > 0
    fixed_f = lv & (days.vmin + uplift_feeder >= days.low)
    fixed_s = lv & (days.vmin + uplift_sub >= days.low)
    a, below = days.area, days.below
    return {
        "hours_feeder": np.bincount(a[fixed_f], weights=below[fixed_f], minlength=n) / 60.0,
        "days_feeder": np.bincount(a[fixed_f & (below >= need)], minlength=n).astype(float),
        "hours_sub": np.bincount(a[fixed_s], weights=below[fixed_s], minlength=n) / 60.0,
        "days_sub": np.bincount(a[fixed_s & (below >= need)], minlength=n).astype(float),
    }


def _area_days(rows: dict[str, np.ndarray] | None) -> AreaDays | None:
    if rows is None:
        return None
    good = np.isfinite(rows["vmin"])
    if not good.any():
        return None
    if good.all():  # the usual case: no copies of millions of rows
        pick = {k: rows[k] for k in ("a", "day", "vmin", "below", "kw", "low")}
    else:
        pick = {k: rows[k][good] for k in ("a", "day", "vmin", "below", "kw", "low")}
    dcode, days_u = pd.factorize(pick["day"], sort=True)
    return AreaDays(
        area=pick["a"],
        day=dcode,
        n_days=len(days_u),
        vmin=pick["vmin"],
        below=pick["below"],
        kw=pick["kw"],
        low=pick["low"],
    )


def feeder_profiles(network: dict, areas: pd.DataFrame, days: AreaDays) -> FeederProfiles:
    """Each feeder's voltage profile c_f − k_f·shape fitted to its areas' mean daily minimum
    voltage, robustly (areas far below the line are local weakness, left out of the fit)."""
    n = len(areas)
    tr = network["transformers"]
    dist_map = (
        dict(zip(text(tr["transformer"]), pd.to_numeric(tr["distance_km"], errors="coerce")))
        if "distance_km" in tr
        else {}
    )
    dist = np.array([dist_map.get(t, np.nan) for t in areas["transformer"]], dtype=float)
    f_code, f_names = pd.factorize(areas["feeder"].to_numpy(object))
    n_f = len(f_names)
    dmax = np.zeros(n_f)
    np.maximum.at(dmax, f_code, np.nan_to_num(dist))
    rel = np.where(dmax[f_code] > 0, np.nan_to_num(dist) / np.maximum(dmax[f_code], 1e-9), 0.5)
    shape = rel * (2 - rel)
    a = days.area
    cnt = np.bincount(a, minlength=n)
    vbar = np.where(
        cnt > 0, np.bincount(a, weights=days.vmin, minlength=n) / np.maximum(cnt, 1), np.nan
    )
    has = np.isfinite(vbar)
    drop = np.zeros(n_f)
    local = np.zeros(n)
    for f in range(n_f):
        idx = np.flatnonzero((f_code == f) & has)
        if len(idx) >= 3:
            drop[f], local[idx] = _robust_profile(shape[idx], vbar[idx])
    return FeederProfiles(f_code, shape, dmax, drop, local)


def _robust_profile(shape: np.ndarray, vbar: np.ndarray) -> tuple[float, np.ndarray]:
    """(drop k ≥ 0, each area's shortfall below the line when it is an outlier, else 0) of
    v = c − k·shape by least squares, refitted three times without the areas more than 2.5
    robust standard deviations below the line."""
    keep = np.ones(len(vbar), bool)
    for _ in range(3):
        X = np.column_stack([np.ones(keep.sum()), -shape[keep]])
        coef = np.linalg.lstsq(X, vbar[keep], rcond=None)[0]
        res = vbar - (coef[0] - coef[1] * shape)
        mad = np.median(np.abs(res[keep] - np.median(res[keep]))) * 1.4826 + 0.3
        keep = res > -2.5 * mad
    return max(coef[1], 0.0), np.minimum(res, 0.0) * (res < -2.5 * mad)


def daily_load_scale(row_feeder: np.ndarray, days: AreaDays, n_feeders: int) -> np.ndarray:
    """Feeder × day: the feeder's load that day (sum of its areas' peaks) over its mean."""
    D = days.n_days
    key = row_feeder.astype(np.int64) * D + days.day
    load = np.bincount(key, weights=np.nan_to_num(days.kw), minlength=n_feeders * D).reshape(
        n_feeders, D
    )
    nday = np.bincount(key, minlength=n_feeders * D).reshape(n_feeders, D)
    mean_load = load.sum(axis=1) / np.maximum((nday > 0).sum(axis=1), 1)
    return np.where(mean_load[:, None] > 0, load / np.maximum(mean_load[:, None], 1e-9), 1.0)


def sound_feeder_uplift(
    profiles: FeederProfiles,
    days: AreaDays,
    scale: np.ndarray,
    s: AnalyticsSettings,
    row_feeder: np.ndarray | None = None,
    row_shape: np.ndarray | None = None,
    row_scale: np.ndarray | None = None,
) -> np.ndarray:
    """Per area-day: the volts a feeder with the ``drop_reference_quantile`` of the drops per km
    would add, (k_f − k_sound)·shape scaled by the day's load. ``row_feeder``, ``row_shape``
    and ``row_scale``: each area-day's feeder, shape and scale, if already gathered."""
    k_f, dmax = profiles.drop, profiles.length
    k_per_km = k_f / np.maximum(dmax, 1e-9)
    valid = dmax > 0
    ref_per_km = (
        float(np.quantile(k_per_km[valid], s.drop_reference_quantile)) if valid.any() else 0.0
    )
    k_sound = np.minimum(k_f, ref_per_km * dmax)
    fa = profiles.feeder[days.area] if row_feeder is None else row_feeder
    shape_a = profiles.shape[days.area] if row_shape is None else row_shape
    sc = scale[fa, days.day] if row_scale is None else row_scale
    return (k_f - k_sound)[fa] * shape_a * sc


def substation_sag_uplift(
    areas: pd.DataFrame,
    profiles: FeederProfiles,
    days: AreaDays,
    scale: np.ndarray,
    row_feeder: np.ndarray | None = None,
    row_scale: np.ndarray | None = None,
    row_shape: np.ndarray | None = None,
) -> np.ndarray:
    """Per area-day: the volts by which its substation's bus sags below its own usual level
    that day, beyond what the other substations' buses fall (the common load swing); set points
    differ and are no weakness, so each bus is compared with itself. The bus level of a day is
    the median minimum voltage of the areas near the bus, local weakness and feeder drop
    removed."""
    a, dcode, D = days.area, days.day, days.n_days
    fa = profiles.feeder[a] if row_feeder is None else row_feeder
    s_code, s_names = pd.factorize(areas["substation"].to_numpy(object))
    shape_a = profiles.shape[a] if row_shape is None else row_shape
    sc = scale[fa, dcode] if row_scale is None else row_scale
    near = shape_a <= 0.35
    adj = days.vmin - profiles.local[a] + (profiles.drop[fa] * shape_a * sc)
    sa = s_code[a]
    bus = np.full((len(s_names), D), np.nan)
    kk = sa[near].astype(np.int64) * D + dcode[near]
    keys, med = _group_median(kk, adj[near])
    bus.reshape(-1)[keys] = med
    with np.errstate(all="ignore"):
        dev = bus - np.nanmedian(bus, axis=1, keepdims=True)
        typical = np.nanmedian(dev, axis=0)
    return np.nan_to_num(np.maximum(typical[None, :] - dev, 0.0))[sa, dcode]


def _group_median(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct keys, median of ``values`` per key), values without NaN; one sort
    instead of a pandas groupby (millions of area-days)."""
    order = np.lexsort((values, keys))
    k, v = keys[order], values[order]
    first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    size = np.diff(np.r_[first, len(k)])
    lo = v[first + (size - 1) // 2]
    hi = v[first + size // 2]
    return k[first], (lo + hi) / 2.0
