"""Drivers of complaints per transformer area over a window (step 1 of the upgrade priorities,
:mod:`analytics.priorities`): sustained interruptions split by the class that owns them, with
their hours and repeats; low-voltage hours and days from the daily X-phase rollups; and the
counted complaints each area received."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.areas import factor_text
from analytics.complaints import classify_complaints
from analytics.interruptions import InterruptionModel, interruption_table
from analytics.settings import AnalyticsSettings
from analytics.times import NS_PER_DAY, ns_view, to_ns, window_ns

#: who owns an interruption (see :func:`owner_class`)
CLASSES = ("feeder", "substation", "area", "planned")


def owner_class(it: pd.DataFrame) -> np.ndarray:
    """feeder: unplanned feeder-level outages; substation: unplanned 35 kV outages (faults,
    overload trips) and supply shortage (限电); area: unplanned area-level outages; planned:
    planned work (announced, so customers complain less: it has its own coefficients)."""
    level = it["level"].to_numpy(object)
    planned = it["planned"].to_numpy(bool)
    short = it["supply_shortage"].to_numpy(bool)
    cls = np.full(len(it), "area", dtype=object)
    cls[(level == "feeder") & ~planned & ~short] = "feeder"
    cls[((level == "substation") & ~planned) | short] = "substation"
    cls[planned & ~short] = "planned"
    return cls


def repeat_counts(slot: np.ndarray, start: np.ndarray, days: int) -> np.ndarray:
    """For each interruption, how many of the area's interruptions started in the preceding
    ``days`` days, itself included (the k in 'k-th outage in 60 days')."""
    order = np.lexsort((start, slot))
    s, t = slot[order].astype(np.float64), start[order].astype(np.float64) / NS_PER_DAY
    key = s * 1e6 + t
    k = np.arange(len(key)) - np.searchsorted(key, key - days, side="right") + 1
    out = np.empty(len(key), dtype=np.int64)
    out[order] = k
    return out


#: per-year estimates that the multi-year ranking averages with recency weights (issue 15)


@dataclass(frozen=True)
class InterruptionDrivers:
    """Sustained interruptions of the window and their drivers per area."""

    #: sustained interruptions that started in the window (the interruption table plus
    #: ``owner``, ``k60`` (repeat count), ``hours`` (inside the window) and ``repeated``)
    interruptions: pd.DataFrame
    #: (driver, owner class) -> per area: "interruptions", "hours" or "repeated"
    per_area: dict[tuple[str, str], np.ndarray]
    #: momentary feeder-level events per feeder in the window
    momentary_events: pd.Series


def interruption_drivers(
    network: dict,
    outages: pd.DataFrame,
    n_areas: int,
    bounds: tuple[int, int],
    s: AnalyticsSettings,
) -> InterruptionDrivers:
    """Interruptions (IEEE 1366, merged per area, households basis) of the window: momentary
    feeder events counted apart; sustained ones by owner class with their hours in the window
    and their repeats beyond the 频繁停电 threshold in the area's rolling 60 days (outages up to
    60 days before the window count towards the repeats). ``bounds``: the window as (start,
    end) UTC ns."""
    ws, we = bounds
    lookback = ws - s.frequent_area_window_days * NS_PER_DAY
    o_start = to_ns(outages["start"], s.tz) if len(outages) else np.zeros(0, np.int64)
    o = outages[(o_start >= lookback) & (o_start < we)] if len(outages) else outages
    model = InterruptionModel(network, o, s, "households", we)
    it = interruption_table(model)
    mom = it[
        it["momentary"].to_numpy()
        & (it["start_ns"].to_numpy() >= ws)
        & (it["level"].to_numpy(object) == "feeder")
    ]
    momentary_events = mom.drop_duplicates(["feeder", "event_id"])["feeder"].value_counts()
    it = it[~it["momentary"].to_numpy()].reset_index(drop=True)
    k60 = repeat_counts(
        it["slot"].to_numpy(), it["start_ns"].to_numpy(), s.frequent_area_window_days
    )
    inwin = (it["start_ns"].to_numpy() >= ws).astype(bool)
    it = it[inwin].reset_index(drop=True)
    k60 = k60[inwin]
    it["owner"] = owner_class(it)
    it["k60"] = k60
    hours = np.minimum(it["end_ns"].to_numpy(), we) - it["start_ns"].to_numpy()
    it["hours"] = hours / 3.6e12
    it["repeated"] = np.maximum(0, k60 - (s.frequent_area_count_window - 1))
    return InterruptionDrivers(it, _per_area(it, n_areas), momentary_events)


def _per_area(it: pd.DataFrame, n_areas: int) -> dict[tuple[str, str], np.ndarray]:
    """Interruptions, hours and repeats per located area and owner class."""
    itl = it[it["slot"].to_numpy() < n_areas]
    slot = itl["slot"].to_numpy()
    raw = {}
    for c in CLASSES:
        m = itl["owner"].to_numpy() == c
        raw[("interruptions", c)] = np.bincount(slot[m], minlength=n_areas).astype(float)
        raw[("hours", c)] = np.bincount(
            slot[m], weights=itl["hours"].to_numpy()[m], minlength=n_areas
        )
        raw[("repeated", c)] = np.bincount(
            slot[m], weights=itl["repeated"].to_numpy(float)[m], minlength=n_areas
        )
    return raw


@dataclass(frozen=True)
class VoltageDrivers:
    """Low voltage per area over the window (GB/T 12325-2008, daily X-phase rollups)."""

    #: the X-phase daily rows in the window (:func:`daily_x_rows`), None without readings
    rows: dict[str, np.ndarray] | None
    #: hours below the lower limit
    hours: np.ndarray
    #: days below it for at least ``low_voltage_min_hours``
    days: np.ndarray
    #: the largest daily peak load (kW)
    kw_max: np.ndarray


def low_voltage_drivers(
    voltage_daily: pd.DataFrame | None,
    areas: pd.DataFrame,
    window: tuple,
    s: AnalyticsSettings,
    x_rows: dict[str, np.ndarray] | None = None,
) -> VoltageDrivers:
    """Low-voltage hours and days and the peak load of each area in the window. ``x_rows``:
    :func:`daily_x_rows` of the same rollups and areas over a span that holds the window
    (several windows of one county then read the rollups once)."""
    n_a = len(areas)
    lv_hours = np.zeros(n_a)
    lv_days = np.zeros(n_a)
    if x_rows is None:
        xv = daily_x_rows(voltage_daily, areas, window, s)
    else:
        ws, we = window_ns(window, s.tz)
        inside = (x_rows["day"] >= ws) & (x_rows["day"] < we)
        # the pooled window holds every row: no copy
        xv = x_rows if inside.all() else {k: v[inside] for k, v in x_rows.items()}
    kw_max = np.zeros(n_a)
    if xv is not None:
        lv_hours = np.bincount(xv["a"], weights=xv["below"], minlength=n_a) / 60.0
        lv_days = np.bincount(
            xv["a"][xv["below"] >= s.low_voltage_min_hours * 60.0 - 1e-9], minlength=n_a
        ).astype(float)
        okw = np.isfinite(xv["kw"])
        np.maximum.at(kw_max, xv["a"][okw], xv["kw"][okw])
    return VoltageDrivers(xv, lv_hours, lv_days, kw_max)


def daily_x_rows(
    voltage_daily: pd.DataFrame | None,
    areas: pd.DataFrame,
    window: tuple | None,
    s: AnalyticsSettings,
    period_starts: np.ndarray | None = None,
) -> dict[str, np.ndarray] | None:
    """The combined-phase (X) daily rollup rows inside the window (``None``: all of them), as
    arrays: area slot ``a``, ``day`` (UTC ns of the local midnight), ``vmin``, ``below``
    (minutes), ``kw`` (kw_max). ``period_starts``: the rollups' period starts as UTC ns, if
    already converted."""
    if voltage_daily is None or len(voltage_daily) == 0:
        return None
    # whole-column comparisons, then one gather of the chosen rows per column: a county's
    # three years hold tens of millions of rows, and hashing every row's phase, or copying the
    # frame to filter it, took seconds (bench/bench_analytics.py)
    # (read only: the column's own values when they are tz-aware nanoseconds)
    ps = ns_view(voltage_daily["period_start"], "UTC") if period_starts is None else period_starts
    phase = voltage_daily["phase"].to_numpy(object)
    is_x = phase == "X"  # rollups carry canonical phases (docs/formats.md)
    if not is_x.any():  # otherwise: any spelling of X (" x")
        pcode, plabels = pd.factorize(phase)
        xcode = [i for i, p in enumerate(plabels) if str(p).strip().upper() == "X"]
        if not xcode:
            return None
        is_x = pcode == xcode[0]
    if window is not None:
        ws, we = window_ns(window, s.tz)
        is_x &= ps >= ws
        is_x &= ps < we
    idx = np.flatnonzero(is_x)
    # object dtype: a Series of strings would infer pandas' string dtype, whose factorize is
    # four times slower on millions of rows
    tcode, tnames = factor_text(
        pd.Series(voltage_daily["transformer"].to_numpy(object)[idx], dtype=object)
    )
    name_pos = pd.Index(areas["transformer"]).get_indexer(tnames)
    pos = np.where(tcode >= 0, name_pos[np.maximum(tcode, 0)], -1)
    ok = pos >= 0
    if not ok.all():  # rows of transformers outside the network: gather only the others
        idx, pos = idx[ok], pos[ok]

    def column(name: str) -> np.ndarray:
        return voltage_daily[name].to_numpy(float)[idx]

    if "v_low" in voltage_daily:
        low = pd.to_numeric(voltage_daily["v_low"], errors="coerce").to_numpy(float)[idx]
        low = np.where(np.isnan(low), float(s.voltage_low), low)
    else:
        low = np.full(len(idx), float(s.voltage_low))
    return {
        "a": pos,
        "day": ps[idx],
        "vmin": column("v_min"),
        # the row's own lower limit (stored rollups carry it: a 10 kV bus is judged at -7 %
        # of its nominal, on the 220 V storage base); the configured limit otherwise
        "low": low,
        "below": np.nan_to_num(column("minutes_below")),
        "kw": column("kw_max"),
    }


def counted_complaints(
    complaints: pd.DataFrame,
    classified: pd.DataFrame | None,
    network: dict,
    areas: pd.DataFrame,
    bounds: tuple[int, int],
    s: AnalyticsSettings,
) -> tuple[pd.DataFrame, np.ndarray]:
    """(the classified complaints of the window, counted complaints per area). ``classified``:
    :func:`analytics.complaints.classify_complaints` of all the complaints, when known."""
    ws, we = bounds
    cc = (
        classified
        if classified is not None
        else classify_complaints(
            complaints, network=network, outages=None, voltage_daily=None, settings=s
        )
    )
    t_c = to_ns(cc["time"], s.tz)
    cc = cc[(t_c >= ws) & (t_c < we)].reset_index(drop=True)
    counted = cc[cc["counted"].to_numpy(bool)]
    a_idx = pd.Index(areas["transformer"]).get_indexer(
        counted["area"].astype(object).where(counted["area"].notna(), "\0")
    )
    y = np.bincount(a_idx[a_idx >= 0], minlength=len(areas)).astype(float)
    return cc, y


def design_matrix(
    raw: dict, lv_hours: np.ndarray, lv_days: np.ndarray, w: np.ndarray
) -> pd.DataFrame:
    """The attribution's design: each driver summed over its owner classes, times the areas'
    weights ``w`` (planned interruptions and hours have their own columns)."""
    X = pd.DataFrame({"base": w})
    for drv in ("interruptions", "hours"):
        X[drv] = sum(raw[(drv, c)] for c in CLASSES if c != "planned") * w
        X[f"{drv}_planned"] = raw[(drv, "planned")] * w
    X["repeated"] = sum(raw[("repeated", c)] for c in CLASSES) * w
    X["lv_hours"] = lv_hours * w
    X["lv_days"] = lv_days * w
    return X
