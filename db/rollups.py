"""Hourly and daily voltage rollups, maintained on ingest and rebuilt on demand.

A reading is stamped at the end of its interval (docs/formats.md): it belongs to the period that
contains ``ts - 1 s``, so 24:00 is the last point of its day and 00:15 the first. Minutes below /
above the limits are the readings below / above times the area's reading interval (GB/T 12325
counts time outside the limits over time monitored). The ``x`` column group is the area as a
whole: a reading is below when any phase is (rule "any") or every present phase is (rule "all").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, func, select

from db.bulk import bulk_upsert
from db.models import (
    HOURLY_PHASES,
    ROLLUP_PHASES,
    Transformer,
    VoltageDaily,
    VoltageHourly,
)
from db.partitions import drop_before
from db.readings import newest_reading_ts, prune_readings, read_readings, reading_span

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RollupLimits:
    """Limits in decivolts and the any/all-phase rule, recorded with every rollup row."""

    low_dv: int = 1980
    high_dv: int = 2354
    rule: str = "any"
    tz: str = "Asia/Shanghai"

    @classmethod
    def from_volts(cls, low: float, high: float, rule: str, tz: str) -> RollupLimits:
        return cls(int(round(low * 10)), int(round(high * 10)), rule, tz)


def _period_start(ts: np.ndarray, freq: str, tz: str) -> np.ndarray:
    inside = ts - 1  # end-of-interval stamps: 01:00 belongs to 00:00-01:00
    if freq == "h":
        return inside - inside % 3600
    zone = ZoneInfo(tz)
    lo, hi = int(inside.min()), int(inside.max())
    off_lo = pd.Timestamp(lo, unit="s", tz="UTC").tz_convert(zone).utcoffset().total_seconds()
    off_hi = pd.Timestamp(hi, unit="s", tz="UTC").tz_convert(zone).utcoffset().total_seconds()
    if off_lo == off_hi and hi - lo < 40 * 86400:
        # No offset change inside the batch (always so in Asia/Shanghai): plain arithmetic.
        local = inside + int(off_lo)
        return local - local % 86400 - int(off_lo)
    stamps = (
        pd.to_datetime(inside, unit="s", utc=True)
        .tz_convert(zone)
        .floor("D", ambiguous=False, nonexistent="shift_forward")
    )
    return (stamps.tz_convert("UTC").as_unit("ns").asi8 // 10**9).astype("int64")


_STATS = ("n", "min", "max", "sum", "below_min", "above_min")


def _reduce(
    tid: np.ndarray, period: np.ndarray, cols: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Group rows by (tid, period) and reduce each column by the rule its name ends with:
    ``_min`` -> fmin, ``_max`` -> fmax (NaN ignored), anything else -> sum. Sorted output, as
    plain arrays (a DataFrame of every column would copy them all into one block)."""
    in_order = (tid[1:] > tid[:-1]) | ((tid[1:] == tid[:-1]) & (period[1:] >= period[:-1]))
    if not in_order.all():
        order = np.lexsort((period, tid))
        tid, period = tid[order], period[order]
        cols = {k: v[order] for k, v in cols.items()}
    change = np.empty(len(tid), dtype=bool)
    change[0] = True
    np.not_equal(tid[1:], tid[:-1], out=change[1:])
    change[1:] |= period[1:] != period[:-1]
    starts = np.flatnonzero(change)
    out = {"transformer_id": tid[starts], "period_start": period[starts]}
    for name, values in cols.items():
        if (
            name.endswith("_min")
            and not name.endswith("below_min")
            and not name.endswith("above_min")
        ):
            out[name] = np.fmin.reduceat(values, starts)
        elif name.endswith("_max"):
            out[name] = np.fmax.reduceat(values, starts)
        else:
            out[name] = np.add.reduceat(values, starts)
    return out


def both_rollups(
    readings: pd.DataFrame,
    interval_min: pd.Series | int,
    limits: RollupLimits,
    area_limits: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Hourly and daily rollups at once; daily rows are the hourly rows summed up (a local
    day is made of whole hours), so the raw readings are reduced only once.

    ``area_limits`` (index transformer id, columns ``low_dv`` / ``high_dv``) gives the limits
    of areas of another nominal level (a 10 kV bus: ±7 % on the 220 V storage base); the other
    areas use ``limits``. Each rollup row records the limits it was computed under."""
    if readings.empty:
        return {freq: pd.DataFrame(columns=[c.name for c in _table(freq).c]) for freq in ("h", "D")}
    hourly = _hourly(readings, interval_min, limits, area_limits)
    daily = _daily_from_hourly(hourly, limits.tz)
    return {
        "h": _finish(hourly, limits, area_limits, HOURLY_PHASES),
        "D": _finish(daily, limits, area_limits, ROLLUP_PHASES),
    }


def _limits_per_row(
    tid: np.ndarray, limits: RollupLimits, area_limits: pd.DataFrame | None
) -> tuple[np.ndarray | int, np.ndarray | int]:
    if area_limits is None or area_limits.empty:
        return limits.low_dv, limits.high_dv
    low = area_limits["low_dv"].reindex(tid).fillna(limits.low_dv).to_numpy(np.float64)
    high = area_limits["high_dv"].reindex(tid).fillna(limits.high_dv).to_numpy(np.float64)
    return low, high


def _hourly(
    readings: pd.DataFrame,
    interval_min: pd.Series | int,
    limits: RollupLimits,
    area_limits: pd.DataFrame | None = None,
) -> dict[str, np.ndarray]:
    tid = readings["transformer_id"].to_numpy(np.int64)
    ts = readings["ts"].to_numpy(np.int64)
    values = {
        c: readings[c].to_numpy(np.float64, na_value=np.nan)
        for c in ("va_dv", "vb_dv", "vc_dv", "kw_dw")
    }
    if not ((tid[1:] > tid[:-1]) | ((tid[1:] == tid[:-1]) & (ts[1:] >= ts[:-1]))).all():
        # area-major order here, on the few input columns (readings are stored time first;
        # _reduce would otherwise reorder every derived column)
        order = np.lexsort((ts, tid))
        tid, ts = tid[order], ts[order]
        values = {c: v[order] for c, v in values.items()}
    period = _period_start(ts, "h", limits.tz)
    if isinstance(interval_min, pd.Series):
        minutes = interval_min.reindex(tid).fillna(15).to_numpy(np.float64)
    else:
        minutes = np.full(len(ts), float(interval_min))
    phases = {p: values[f"v{p}_dv"] for p in "abc"}
    stack = np.vstack([phases["a"], phases["b"], phases["c"]])
    present = ~np.isnan(stack)
    any_present = present.any(axis=0)
    low_dv, high_dv = _limits_per_row(tid, limits, area_limits)
    with np.errstate(all="ignore"):
        x_min = np.fmin(np.fmin(phases["a"], phases["b"]), phases["c"])
        x_max = np.fmax(np.fmax(phases["a"], phases["b"]), phases["c"])
        x_mean = np.nansum(stack, axis=0) / present.sum(axis=0)
    if limits.rule == "all":
        x_below, x_above = x_max < low_dv, x_min > high_dv
    else:
        x_below, x_above = x_min < low_dv, x_max > high_dv
    cols: dict[str, np.ndarray] = {
        "n": any_present.astype(np.float64),
        "minutes_monitored": np.where(any_present, minutes, 0.0),
        "kw_max_dw": values["kw_dw"],
    }
    for p in "abc":
        v = phases[p]
        ok = ~np.isnan(v)
        cols |= {
            f"{p}_n": ok.astype(np.float64),
            f"{p}_min": v,
            f"{p}_max": v,
            f"{p}_sum": np.where(ok, v, 0.0),
            f"{p}_below_min": np.where(ok & (v < low_dv), minutes, 0.0),
            f"{p}_above_min": np.where(ok & (v > high_dv), minutes, 0.0),
        }
    cols |= {
        "x_n": any_present.astype(np.float64),
        "x_min": x_min,
        "x_max": x_max,
        "x_sum": np.where(any_present, x_mean, 0.0),
        "x_below_min": np.where(x_below, minutes, 0.0),
        "x_above_min": np.where(x_above, minutes, 0.0),
    }
    return _reduce(tid, period, cols)


def _daily_from_hourly(hourly: dict[str, np.ndarray], tz: str) -> dict[str, np.ndarray]:
    # An hour starting at h covers (h, h + 1 h]; its day is the local day of h.
    day = _period_start(hourly["period_start"].astype(np.int64) + 1, "D", tz)
    cols = {c: v for c, v in hourly.items() if c not in ("transformer_id", "period_start")}
    return _reduce(hourly["transformer_id"].astype(np.int64), day, cols)


def _finish(
    rows: dict[str, np.ndarray],
    limits: RollupLimits,
    area_limits: pd.DataFrame | None,
    phases: tuple[str, ...],
) -> pd.DataFrame:
    """The rows of a rollup table: its columns only (hourly: X alone), NULL for a phase never
    seen in the period, with the limits they were judged under."""
    daily = phases != HOURLY_PHASES  # hourly rows: x_n, and their day's limits
    out = {
        "transformer_id": rows["transformer_id"],
        "period_start": rows["period_start"],
        "minutes_monitored": rows["minutes_monitored"],
        "kw_max_dw": rows["kw_max_dw"],
    }
    if daily:
        out["n"] = rows["n"]
    for p in phases:
        # A phase never seen in the period has no min/max/sum (NULL), not 0.
        missing = rows[f"{p}_n"] == 0
        out[f"{p}_n"] = rows[f"{p}_n"]
        for stat in ("min", "max", "sum"):
            values = np.where(missing, np.nan, rows[f"{p}_{stat}"])
            out[f"{p}_{stat}"] = np.round(values) if f"{p}_{stat}" == "x_sum" else values
        out[f"{p}_below_min"] = rows[f"{p}_below_min"]
        out[f"{p}_above_min"] = rows[f"{p}_above_min"]
    frame = pd.DataFrame(out)
    if daily:
        low_dv, high_dv = _limits_per_row(
            rows["transformer_id"].astype(np.int64), limits, area_limits
        )
        frame["low_dv"], frame["high_dv"], frame["rule"] = low_dv, high_dv, limits.rule
    return frame


def _table(freq: str) -> Table:
    return (VoltageHourly if freq == "h" else VoltageDaily).__table__


def write_rollups(conn: Connection, rows: pd.DataFrame, freq: str) -> int:
    """Insert or replace rollup rows in the caller's transaction (bulk path, for volume)."""
    if rows.empty:
        return 0
    table = _table(freq)
    numeric = [c.name for c in table.c if c.name != "rule"]
    text = tuple(c.name for c in table.c if c.name == "rule")
    return bulk_upsert(conn, table.name, rows, numeric, ("transformer_id", "period_start"), text)


def _existing_keys(conn: Connection, freq: str, keys: pd.DataFrame) -> pd.DataFrame:
    """The (transformer_id, period_start) of ``keys`` already stored: per chunk of the batch's
    areas, a range of the primary key each (no period index needed)."""
    if keys.empty:  # every hour of the batch beyond the hourly retention
        return keys.iloc[0:0]
    table = _table(freq)
    lo, hi = int(keys["period_start"].min()), int(keys["period_start"].max())
    tids = np.unique(keys["transformer_id"].to_numpy(np.int64)).tolist()
    found = []
    for i in range(0, len(tids), 2000):
        rows = conn.execute(
            select(table.c.transformer_id, table.c.period_start).where(
                table.c.transformer_id.in_(tids[i : i + 2000]),
                table.c.period_start.between(lo, hi),
            )
        )
        # plain tuples: a DataFrame built from Row objects took ~1.3 s per county transaction
        found += [tuple(r) for r in rows]
    stored = pd.DataFrame(found, columns=["transformer_id", "period_start"])
    if stored.empty:
        return stored
    return keys.merge(stored, on=["transformer_id", "period_start"])


def _read_raw(conn: Connection, transformer_ids: list[int], ts_lo: int, ts_hi: int) -> pd.DataFrame:
    """Raw readings of these areas with ts_lo < ts <= ts_hi, in (transformer_id, ts) order
    (rows and blocks, db/readings.py)."""
    return read_readings(conn, ts_lo, ts_hi, transformer_ids)


LONGEST_DAY_SECONDS = 86400 + 3600  # a local day is at most 25 h long


def update_rollups(
    conn: Connection,
    readings: pd.DataFrame,
    interval_min: pd.Series | int,
    limits: RollupLimits,
    area_limits: pd.DataFrame | None = None,
    hourly_days: int | None = None,
) -> dict[str, int]:
    """Bring hourly and daily rollups up to date after ``readings`` were upserted.

    Periods seen for the first time are computed from the batch itself (the common case: no
    read-back). Periods that already had rollups (late, corrected or re-sent readings) are
    recomputed from the raw readings now stored, so they always equal a fresh computation.

    ``hourly_days``: hourly rows are kept for the newest that many days of data only (see
    :func:`hourly_cutoff`); older hours of a backfill are not written at all."""
    if readings.empty:
        return {"h": 0, "D": 0}
    fresh = both_rollups(readings, interval_min, limits, area_limits)
    if hourly_days is not None:
        cutoff = hourly_cutoff(conn, hourly_days, fresh["h"])
        fresh["h"] = fresh["h"][fresh["h"]["period_start"] >= cutoff]
    seen = {
        freq: _existing_keys(conn, freq, fresh[freq][["transformer_id", "period_start"]])
        for freq in ("h", "D")
    }
    if not (seen["h"].empty and seen["D"].empty):
        both = pd.concat([seen["h"], seen["D"]])
        tids = sorted(both["transformer_id"].unique().tolist())
        raw = _read_raw(
            conn,
            tids,
            int(both["period_start"].min()),
            int(both["period_start"].max()) + LONGEST_DAY_SECONDS,
        )
        redo = both_rollups(raw, interval_min, limits, area_limits)
        key = ["transformer_id", "period_start"]
        for freq in ("h", "D"):
            if seen[freq].empty:
                continue
            kept = fresh[freq].merge(seen[freq], on=key, how="left", indicator=True)
            fresh[freq] = pd.concat(
                [
                    kept[kept["_merge"] == "left_only"].drop(columns="_merge"),
                    redo[freq].merge(seen[freq], on=key),
                ],
                ignore_index=True,
            )
    return {freq: write_rollups(conn, fresh[freq], freq) for freq in ("h", "D")}


def hourly_cutoff(
    conn: Connection, hourly_days: int, batch_hours: pd.DataFrame | None = None
) -> int:
    """The oldest hour kept: ``hourly_days`` before the newest hour of data stored or in the
    batch.

    Counted from the newest data rather than the clock, so an old export loaded today still
    gets its recent hours (the detail pages' heat maps show the last 21 days of data). The
    newest hour stored is the hour of the newest raw reading: one step down the readings' time
    key (the hourly table has no period index to find its own newest row cheaply), and every
    hourly row comes from readings written with it."""
    newest_ts = newest_reading_ts(conn)
    newest = None
    if newest_ts is not None:
        newest = int(_period_start(np.array([int(newest_ts)], dtype=np.int64), "h", "UTC")[0])
    if batch_hours is not None and not batch_hours.empty:
        batch_newest = int(batch_hours["period_start"].max())
        newest = batch_newest if newest is None else max(newest, batch_newest)
    if newest is None:
        return -(2**62)
    return newest - hourly_days * 86400


def prune_hourly(conn: Connection, hourly_days: int) -> int:
    """Delete hourly rollups older than :func:`hourly_cutoff` (daily rollups stay).

    PostgreSQL drops the whole months first; the rest goes area by area through the key."""
    cutoff = hourly_cutoff(conn, hourly_days)
    dropped = drop_before(conn, "voltage_hourly", cutoff)
    if dropped:
        log.info("dropped hourly-rollup partitions %s", ", ".join(dropped))
    h = VoltageHourly.__table__
    result = conn.execute(
        delete(h).where(h.c.transformer_id.in_(select(Transformer.id)), h.c.period_start < cutoff)
    )
    return result.rowcount or 0


def rebuild_all(
    conn: Connection,
    interval_min: pd.Series | int,
    limits: RollupLimits,
    batch_readings: int = 4_000_000,
    area_limits: pd.DataFrame | None = None,
    hourly_days: int | None = None,
) -> dict[str, int]:
    """Recompute the rollups covered by the raw readings kept (after a change of limits);
    hourly rows only for the newest ``hourly_days`` days when given.

    The readings are read window by window of whole local days (one range of their time-first
    key each), about ``batch_readings`` readings a window. Rollups of periods whose raw
    readings were already pruned (older than the retention) are kept as they are: there is
    nothing to recompute them from."""
    oldest, newest = reading_span(conn)
    if oldest is None:
        return {"h": 0, "D": 0}
    # The first day may be partly pruned; it is recomputed from what is left of it.
    first_day = int(_period_start(np.array([oldest], dtype=np.int64), "D", limits.tz)[0])
    last_day = int(_period_start(np.array([newest], dtype=np.int64), "D", limits.tz)[0])
    cutoff = -(2**62) if hourly_days is None else hourly_cutoff(conn, hourly_days)
    conn.execute(delete(VoltageHourly).where(VoltageHourly.period_start >= first_day))
    conn.execute(delete(VoltageDaily).where(VoltageDaily.period_start >= first_day))
    # readings a day, from each area's reading interval (1440 a day at one a minute)
    per_day = conn.execute(
        select(func.sum(1440 / func.coalesce(func.nullif(Transformer.reading_interval_min, 0), 15)))
    ).scalar_one()
    per_day = max(1, int(per_day or 0))
    window_days = max(1, batch_readings // per_day)
    totals = {"h": 0, "D": 0}
    day = first_day
    while day <= last_day:
        # a window ends on a local midnight: the readings of (day, end] make whole days
        end = _local_midnight_after(day + window_days * 86400 - 3600, limits.tz)
        raw = _read_raw_window(conn, day, end)
        if not raw.empty:
            for freq, rows in both_rollups(raw, interval_min, limits, area_limits).items():
                if freq == "h":
                    rows = rows[rows["period_start"] >= cutoff]
                totals[freq] += write_rollups(conn, rows, freq)
        day = end
    return totals


def _local_midnight_after(ts: int, tz: str) -> int:
    """The first local midnight after ``ts`` (epoch seconds)."""
    start = int(_period_start(np.array([ts + 1], dtype=np.int64), "D", tz)[0])
    return int(
        _period_start(np.array([start + LONGEST_DAY_SECONDS + 1], dtype=np.int64), "D", tz)[0]
    )


def _read_raw_window(conn: Connection, ts_lo: int, ts_hi: int) -> pd.DataFrame:
    """Every area's raw readings with ts_lo < ts <= ts_hi, in (transformer_id, ts) order."""
    return read_readings(conn, ts_lo, ts_hi)


def prune_raw(conn: Connection, retention_days: int, now_ts: int) -> int:
    """Delete raw readings older than the retention; hourly and daily rollups stay.

    PostgreSQL drops whole months first (no row-by-row DELETE); blocks go by whole days.
    Returns the rows and blocks deleted one by one."""
    return prune_readings(conn, now_ts - retention_days * 86400)
