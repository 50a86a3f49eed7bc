"""Voltage levels: how readings of any nominal voltage are stored and judged (issue 13;
docs/formats.md "Voltage at any level"): the storage base, the GB/T 12325-2008 limits per level,
and the cleaning of phase voltages the ingestion pipeline applies."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
