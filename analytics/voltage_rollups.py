"""Voltage rollups: per transformer, period (clock hour or local day) and phase, only sums,
counts, minima and maxima of the readings, so that every figure of :mod:`analytics.voltage` is
the same from raw readings or from rollups, and daily rollups the same from readings or from
hourly rollups (the module docstring of :mod:`analytics.voltage` has the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.times import NS_PER_DAY, NS_PER_HOUR, fast_local_floor, ns_to_utc, to_ns

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


def interval_per_row(interval_min: Any, transformers: pd.Series) -> np.ndarray:
    """The monitoring minutes each reading stands for: one number, or a Series by transformer."""
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
    X follows ``rule`` ("any"/"all") as :mod:`analytics.voltage` says. ``interval_min`` is one
    number or a Series indexed by transformer.
    """
    if freq not in ("h", "D"):
        raise ValueError(f"freq must be 'h' or 'D': {freq!r}")
    if rule not in ("any", "all"):
        raise ValueError(f"rule must be 'any' or 'all': {rule!r}")
    if len(readings) == 0:
        return empty_rollup()
    groups = _Groups.of(readings, freq, tz)
    iv = interval_per_row(interval_min, groups.names[groups.transformer])
    V = phase_voltages(readings)
    valid = ~np.isnan(V)
    below = valid & (V < low)
    above = valid & (V > high)
    kw = (
        pd.to_numeric(readings["kw"], errors="coerce").to_numpy(float)
        if "kw" in readings
        else np.full(len(readings), np.nan)
    )
    kw_max = np.full(groups.n, -np.inf)
    okw = ~np.isnan(kw)
    np.maximum.at(kw_max, groups.code[okw], kw[okw])
    kw_max[np.isneginf(kw_max)] = np.nan
    parts = []
    for j, ph in enumerate(PHASES):
        v = V[:, j]
        parts.append((ph, groups.stats(iv, valid[:, j], v, v, v, below[:, j], above[:, j])))
    x = combined_phase(V, valid, below, above, rule)
    parts.append(("X", groups.stats(iv, x.present, x.v_min, x.v_max, x.v_mean, x.below, x.above)))
    return _rollup_frame(parts, groups, kw_max)


def phase_voltages(readings: pd.DataFrame) -> np.ndarray:
    """Readings × phases A, B, C: the voltages (NaN where missing)."""
    return np.column_stack(
        [
            pd.to_numeric(readings[c], errors="coerce").to_numpy(float)
            if c in readings
            else np.full(len(readings), np.nan)
            for c in ("va", "vb", "vc")
        ]
    )


@dataclass(frozen=True)
class CombinedPhase:
    """Per reading, the combined phase X: present, below / above by the rule, and the
    minimum, maximum and mean of the present phases."""

    present: np.ndarray
    below: np.ndarray
    above: np.ndarray
    v_min: np.ndarray
    v_max: np.ndarray
    v_mean: np.ndarray


def combined_phase(
    V: np.ndarray, valid: np.ndarray, below: np.ndarray, above: np.ndarray, rule: str
) -> CombinedPhase:
    """X of each reading: below (above) when any (``rule="any"``) or all (``"all"``) of its
    present phases are."""
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
    return CombinedPhase(present, xb, xa, vmin_row, vmax_row, vmean_row)


@dataclass(frozen=True)
class _Groups:
    """Readings grouped by transformer and period."""

    code: np.ndarray  # group of each reading
    n: int
    transformer: np.ndarray  # transformer code of each reading
    names: np.ndarray  # transformer names, sorted
    group_transformer: np.ndarray  # transformer name of each group
    group_period: np.ndarray  # period start (UTC ns) of each group

    @classmethod
    def of(cls, readings: pd.DataFrame, freq: str, tz: str) -> _Groups:
        tcode, tnames = pd.factorize(readings["transformer"].astype(str).str.strip(), sort=True)
        t_ns = to_ns(readings["time"], tz) - 1
        period = fast_local_floor(t_ns, tz, freq)
        step = NS_PER_HOUR if freq == "h" else NS_PER_DAY
        base = int(period.min())
        pidx = np.rint((period - base) / step).astype(np.int64)
        key = tcode.astype(np.int64) * (int(pidx.max()) + 1) + pidx
        g, uniq = pd.factorize(key)
        first = np.zeros(len(uniq), dtype=np.int64)
        first[g[::-1]] = np.arange(len(g))[::-1]  # a row of each group
        return cls(g, len(uniq), tcode, tnames, tnames[tcode[first]], period[first])

    def stats(
        self,
        minutes: np.ndarray,
        present: np.ndarray,
        v_min: np.ndarray,
        v_max: np.ndarray,
        v_sum: np.ndarray,
        below: np.ndarray,
        above: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """One phase's rollup columns per group, from the readings where it is ``present``
        (``minutes``: what each reading stands for; the rest: per reading)."""
        g, G, iv, mask, b, a = self.code, self.n, minutes, present, below, above
        gm = g[mask]
        vmin = np.full(G, np.inf)
        vmax = np.full(G, -np.inf)
        np.minimum.at(vmin, gm, v_min[mask])
        np.maximum.at(vmax, gm, v_max[mask])
        return {
            "n": np.bincount(gm, minlength=G),
            "v_min": vmin,
            "v_max": vmax,
            "v_sum": np.bincount(gm, weights=v_sum[mask], minlength=G),
            "minutes_monitored": np.bincount(gm, weights=iv[mask], minlength=G),
            "minutes_below": np.bincount(g[b], weights=iv[b], minlength=G),
            "minutes_above": np.bincount(g[a], weights=iv[a], minlength=G),
        }


def _rollup_frame(parts: list, groups: _Groups, kw_max: np.ndarray) -> pd.DataFrame:
    frames = []
    for ph, st in parts:
        keep = st["n"] > 0
        f = pd.DataFrame(
            {
                "transformer": pd.Series(np.asarray(groups.group_transformer)[keep], dtype=object),
                "period_start": ns_to_utc(groups.group_period[keep]),
                "phase": ph,
                **{k: st[k][keep] for k in ROLLUP_COLUMNS[3:-1]},
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


def empty_rollup() -> pd.DataFrame:
    """A rollup table without rows, typed as :func:`rollup_readings` types its columns."""
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
        return empty_rollup()
    h = hourly.copy()
    day = fast_local_floor(to_ns(h["period_start"], "UTC"), tz, "D")
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
