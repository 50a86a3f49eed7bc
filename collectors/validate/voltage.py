"""Validation of voltage readings (units, phases, levels, stuck meters) and the reshaping of
daily-curve exports into long-form readings."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from analytics.voltage import LV_MAX_NOMINAL_V, STORAGE_BASE_V
from collectors.parse import blank, clean_text, epoch_seconds, parse_numbers, parse_times

from .checks import Checked, Context, Rejects, check_id, check_time, lookup_ids, values_of
from .reasons import KV_RANGE, LINE_TO_LINE_RANGE, PLAUSIBLE_VOLTS, STUCK_RUN


def _phase_volts(rej: Rejects, frame: pd.DataFrame, notes: Counter) -> dict[str, pd.Series]:
    """Phase voltages in volts phase-to-neutral. A meter reports all its phases in one unit,
    so units are judged per reading on its highest phase: kV (0.1-0.3) are multiplied by 1000,
    line-to-line values (above 300 V, up to 460 V) divided by sqrt(3) — 322 V line-to-line is a
    real 186 V low voltage, not an error."""
    volts = {}
    for p in "abc":
        values, bad = parse_numbers(values_of(frame, f"v{p}"))
        rej.add(bad, "voltage_not_numeric", p.upper())
        volts[p] = values
    highest = pd.concat(volts.values(), axis=1).max(axis=1)
    kv = highest.between(*KV_RANGE)
    line = (highest > PLAUSIBLE_VOLTS[1]) & (highest <= LINE_TO_LINE_RANGE[1])
    for p in "abc":
        present = volts[p].notna()
        notes["converted_kv"] += int((kv & present & rej.ok).sum())
        notes["converted_line_to_line"] += int((line & present & rej.ok).sum())
        volts[p] = volts[p].where(~kv, volts[p] * 1000).where(~line, volts[p] / math.sqrt(3))
    for p in "abc":
        rej.add(volts[p] == 0, "voltage_zero", p.upper())
    for p in "abc":
        rej.add(
            volts[p].notna() & ~volts[p].between(*PLAUSIBLE_VOLTS),
            "voltage_out_of_range",
            values_of(frame, f"v{p}"),
        )
    return volts


LV_NOMINAL = 220.0


def _nominal(rej: Rejects, frame: pd.DataFrame, ctx: Context) -> pd.Series | None:
    """Each reading's nominal voltage (volts): its ``nominal_v`` column (or ``nominal_kv`` ×
    1000), else the source's ``nominal_v``. None when neither is given and the unit is auto:
    a plain 220 V source keeps the long-standing unit rules of ``_phase_volts``."""
    column = None
    for name, scale in (("nominal_v", 1.0), ("nominal_kv", 1000.0)):
        if name in frame:
            values, bad = parse_numbers(frame[name])
            rej.add(bad | (values <= 0), "bad_nominal", frame[name])
            column = values * scale
            break
    if column is None and ctx.nominal_v is None and ctx.voltage_unit == "auto":
        return None
    default = ctx.nominal_v if ctx.nominal_v is not None else LV_NOMINAL
    if column is None:
        return pd.Series(default, index=frame.index, dtype=float)
    return column.fillna(default)


def _phase_levels(
    rej: Rejects, frame: pd.DataFrame, ctx: Context, nominal: pd.Series, notes: Counter
) -> dict[str, pd.Series]:
    """Phase voltages of a source with a declared level, in stored volts (as measured up to
    1 kV nominal, per-unit × 220 above: analytics.voltage.storage_base_v).

    The unit is the source's (V, kV, pu), or with ``auto`` judged per reading on its highest
    phase against the nominal: volts when it lies within ``plausible_pu`` × nominal, else kV
    when ×1000 does, else per-unit when it does itself. A reading outside the band after that
    is refused (voltage_out_of_level_range), never rescaled into it: a 0.19 kV dropout on a
    10 kV bus is 1.9 % of nominal, not 190 V. A 0 is a dropout as for 220 V (voltage_zero)."""
    low, high = ctx.plausible_pu
    volts = {}
    for p in "abc":
        values, bad = parse_numbers(values_of(frame, f"v{p}"))
        rej.add(bad, "voltage_not_numeric", p.upper())
        volts[p] = values
    if ctx.voltage_unit == "auto":
        highest = pd.concat(volts.values(), axis=1).max(axis=1)
        as_volts = (highest / nominal).between(low, high)
        as_kv = ~as_volts & (highest * 1000 / nominal).between(low, high)
        as_pu = ~as_volts & ~as_kv & highest.between(low, high)
        scale = pd.Series(1.0, index=frame.index).where(~as_kv, 1000.0)
        scale = scale.where(~as_pu, nominal)
        live = rej.ok & highest.notna()
        notes["converted_kv"] += int((as_kv & live).sum())
        notes["converted_pu"] += int((as_pu & live).sum())
    else:
        factor = {"V": 1.0, "kV": 1000.0}.get(ctx.voltage_unit)
        scale = nominal if factor is None else pd.Series(factor, index=frame.index)
    for p in "abc":
        rej.add(volts[p] == 0, "voltage_zero", p.upper())
    # Stored as measured up to 1 kV nominal, per-unit × 220 above (analytics.storage_base_v).
    base = nominal.where(nominal <= LV_MAX_NOMINAL_V, STORAGE_BASE_V)
    stored = {}
    for p in "abc":
        pu = volts[p] * scale / nominal
        # The raw value as detail: only offending rows are formatted (Rejects.add).
        rej.add(
            pu.notna() & ~pu.between(low, high),
            "voltage_out_of_level_range",
            values_of(frame, f"v{p}"),
        )
        stored[p] = pu * base
    return stored


def validate_voltage(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Long-form voltage readings -> rows for ``upsert_readings`` (decivolts, epoch seconds)."""
    rej = Rejects(frame.index)
    notes: Counter = Counter()
    new_codes: dict[str, set[str]] = {}
    transformer = check_id(rej, values_of(frame, "transformer"), "transformer")
    time = check_time(rej, values_of(frame, "time"), ctx, "time", required=True)
    nominal = _nominal(rej, frame, ctx)
    if nominal is None:
        phases = _phase_volts(rej, frame, notes)
    else:
        phases = _phase_levels(rej, frame, ctx, nominal, notes)
    rej.add(phases["a"].isna() & phases["b"].isna() & phases["c"].isna(), "voltage_missing")
    kw, bad_kw = parse_numbers(values_of(frame, "kw"))
    rej.add(bad_kw | (kw.abs() > 100_000), "bad_power")
    transformer_id = lookup_ids(
        rej, transformer, ctx.transformers, "unknown_transformer", ctx, new_codes, "transformers"
    )

    dv = {p: (phases[p] * 10).round() for p in "abc"}
    ts = epoch_seconds(time)
    rows = pd.DataFrame(
        {
            "transformer_id": transformer_id,
            "ts": ts,
            "va_dv": dv["a"],
            "vb_dv": dv["b"],
            "vc_dv": dv["c"],
            "kw_dw": (kw * 10).round(),
        }
    )
    if nominal is not None:
        rows["nominal_v"] = nominal.where(nominal != LV_NOMINAL)
    # One integer key per area and time (ids are known for every row still ok).
    key = (transformer_id.fillna(-1).to_numpy(np.int64) << 34) + ts.fillna(0).to_numpy(np.int64)
    rows["_key"] = key
    # Duplicates of one area and time: identical ones are one reading; different ones refused.
    extra = pd.Series(False, index=frame.index)
    keyed = rows[rej.ok]
    dup = keyed["_key"].duplicated(keep=False)
    if dup.any():
        d = keyed[dup]
        distinct = d.drop_duplicates(subset=["_key", *READING_VALUES]).groupby("_key").size()
        clash = d["_key"].isin(distinct[distinct > 1].index)
        rej.add(clash.reindex(frame.index, fill_value=False), "conflicting_duplicate")
        extra = (
            rows.loc[rej.ok, "_key"].duplicated(keep="first").reindex(frame.index, fill_value=False)
        )
        notes["duplicate_identical"] += int(extra.sum())
    _reject_stuck(rej, rows[~extra])
    good = rows[rej.ok & ~extra].drop(columns="_key")
    return Checked(good, rej.frame(), notes, new_codes)


READING_VALUES = ["va_dv", "vb_dv", "vc_dv", "kw_dw"]


def _reject_stuck(rej: Rejects, rows: pd.DataFrame) -> None:
    """A run of STUCK_RUN or more identical readings of one meter is a stuck meter.

    On numpy arrays and row positions throughout: taking the whole frame in key order cost
    more than half of the validation of a county batch."""
    ok = rej.ok.reindex(rows.index).to_numpy(bool)
    if ok.sum() < STUCK_RUN:
        return
    pos = np.flatnonzero(ok)
    key = rows["_key"].to_numpy()[pos]
    if not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
        pos, key = pos[order], key[order]
    same = (key[1:] >> 34) == (key[:-1] >> 34)
    for column in ("va_dv", "vb_dv", "vc_dv"):
        values = rows[column].to_numpy(np.float64, na_value=-1.0)[pos]
        same &= values[1:] == values[:-1]
    run_id = np.cumsum(np.concatenate(([True], ~same)))
    run_len = np.bincount(run_id)[run_id]
    stuck = np.zeros(len(rows), dtype=bool)
    stuck[pos[run_len >= STUCK_RUN]] = True
    rej.add(
        pd.Series(stuck, index=rows.index).reindex(rej.index, fill_value=False), "voltage_stuck"
    )


def wide_to_long(frame: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A 96-point (or 24-point) daily curve export -> long-form readings.

    Point k is the value at local 00:00 + k × (24 h / points): point 1 of a 96-point curve is
    00:15, point 96 is 24:00 (docs/formats.md). Returns (long frame, rejected wide rows)."""
    rej = Rejects(frame.index)
    points = sorted(
        (c for c in frame.columns if str(c).startswith("p") and str(c)[1:].isdigit()),
        key=lambda c: int(str(c)[1:]),
    )
    n_points = len(points)
    if n_points not in (24, 96):
        rej.add(pd.Series(True, index=frame.index), "bad_point_count", f"{n_points} points")
        return pd.DataFrame(columns=["transformer", "time", "va", "vb", "vc", "kw"]), rej.frame()
    transformer = check_id(rej, values_of(frame, "transformer"), "transformer")
    day, bad_day, ambiguous = parse_times(values_of(frame, "date"), ctx.tz)
    rej.add(
        blank(values_of(frame, "date")) | bad_day | ambiguous, "bad_date", values_of(frame, "date")
    )
    phase = clean_text(values_of(frame, "phase")).astype("string").str.upper()
    rej.add(~phase.isin(["A", "B", "C", "P"]).fillna(False), "bad_phase", phase)
    ok = frame[rej.ok]
    step = pd.Timedelta(minutes=24 * 60 // n_points)
    local_midnight = day[rej.ok].dt.tz_convert(ctx.tz).dt.normalize()
    long = ok[points].set_axis(range(1, n_points + 1), axis=1)
    long.insert(0, "_midnight", local_midnight)
    long.insert(1, "transformer", transformer[rej.ok])
    long.insert(2, "phase", phase[rej.ok].map({"A": "va", "B": "vb", "C": "vc", "P": "kw"}))
    melted = long.melt(id_vars=["_midnight", "transformer", "phase"], var_name="k", value_name="v")
    melted["time"] = (melted["_midnight"] + melted["k"].astype(int) * step).dt.tz_convert("UTC")
    # Keep the cell text as is: the long-form checks then apply unchanged (units, zeros...).
    table = melted.pivot_table(
        index=["transformer", "time"], columns="phase", values="v", aggfunc="first", dropna=False
    ).reset_index()
    for column in ("va", "vb", "vc", "kw"):
        if column not in table:
            table[column] = None
    table = table.dropna(subset=["va", "vb", "vc", "kw"], how="all")
    return table[["transformer", "time", "va", "vb", "vc", "kw"]], rej.frame()
