"""Times in the analytics: int64 nanoseconds UTC, local calendar days and months, windows
(DESIGN.md, Times: naive times and dates are local)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

NS_PER_MIN = 60_000_000_000
NS_PER_HOUR = 3_600_000_000_000
NS_PER_DAY = 86_400_000_000_000
NAT = np.iinfo(np.int64).min


def to_utc(values: Any, tz: str) -> pd.Series:
    """Parse times to tz-aware UTC; naive input is read in the local ``tz`` (DESIGN.md, Times)."""
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if len(s) == 0:
        return pd.Series(pd.DatetimeIndex([], tz="UTC"), index=s.index)
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s)
        if not isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_localize(tz)
    return s.dt.tz_convert("UTC")


def to_ns(values: Any, tz: str) -> np.ndarray:
    """Times as int64 nanoseconds since the epoch (UTC); missing times become ``NAT``."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        # already tz-aware: its int64 values are UTC (NaT is NAT); one copy instead of three
        # (a county's three years of daily rollups: 26 million rows)
        return ns_view(values, tz).copy()
    s = to_utc(values, tz)
    arr = s.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view("int64")
    return arr.copy()


def ns_view(values: Any, tz: str) -> np.ndarray:
    """As :func:`to_ns`, but a read-only view of a tz-aware nanosecond column's own values
    when it is one (no copy: fresh copies of tens of millions of rows cost a second on a
    loaded machine); a converted copy otherwise."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        arr = values.array
        if arr.unit != "ns":
            arr = arr.as_unit("ns")
        view = np.asarray(arr.asi8).view()
        view.flags.writeable = False
        return view
    return to_ns(values, tz)


def ts_ns(value: Any, tz: str) -> int:
    """One time (date, string or Timestamp; naive = local) as int64 ns UTC."""
    t = pd.Timestamp(value)
    if t.tzinfo is None:
        t = t.tz_localize(tz)
    return int(t.tz_convert("UTC").as_unit("ns").value)


def ns_to_utc(ns: np.ndarray) -> pd.DatetimeIndex:
    """int64 ns since the epoch as a tz-aware UTC index."""
    return pd.DatetimeIndex(np.asarray(ns, dtype="int64").view("datetime64[ns]")).tz_localize("UTC")


def local_floor(ns: np.ndarray, tz: str, freq: str) -> np.ndarray:
    """Start (UTC ns) of the local calendar ``freq`` ("D", "h" or "M") that contains each time."""
    ns = np.asarray(ns, dtype="int64")
    if len(ns) == 0:
        return ns.copy()
    local = ns_to_utc(ns).tz_convert(tz)
    naive = local.tz_localize(None)
    if freq == "D":
        floored = naive.normalize()
    elif freq == "h":
        floored = naive.floor("h")
    elif freq == "M":
        floored = naive.to_period("M").to_timestamp()
    else:
        raise ValueError(f"freq must be D, h or M: {freq!r}")
    back = floored.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC")
    out = back.as_unit("ns").asi8.copy()
    bad = back.isna()
    if bad.any():  # ambiguous local midnight (DST fall-back): take the earlier instant
        out[bad] = floored[bad].tz_localize(tz, ambiguous=True).tz_convert("UTC").as_unit("ns").asi8
    return out


def window_ns(window: Any, tz: str) -> tuple[int, int]:
    """``(start, end)`` as UTC ns; dates and naive times are local; the end is exclusive."""
    if window is None or len(window) != 2:
        raise ValueError("window must be (start, end)")
    start, end = ts_ns(window[0], tz), ts_ns(window[1], tz)
    if end <= start:
        raise ValueError(f"window end {window[1]!r} is not after its start {window[0]!r}")
    return start, end


def local_periods(start: int, end: int, tz: str, freq: str) -> list[tuple[int, int]]:
    """Local calendar periods (``"M"`` months or ``"D"`` days) covering [start, end), clipped."""
    first = local_floor(np.array([start]), tz, freq)[0]
    t0 = pd.Timestamp(first, tz="UTC").tz_convert(tz).tz_localize(None)
    t1 = pd.Timestamp(end, tz="UTC").tz_convert(tz).tz_localize(None)
    step = "MS" if freq == "M" else "D"
    edges = pd.date_range(
        t0, t1 + (pd.offsets.MonthBegin(1) if freq == "M" else pd.Timedelta(days=1)), freq=step
    )
    edges_ns = (
        edges.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
        .tz_convert("UTC")
        .as_unit("ns")
        .asi8
    )
    out = []
    for a, b in pairwise(edges_ns):
        a2, b2 = max(int(a), start), min(int(b), end)
        if b2 > a2:
            out.append((a2, b2))
    return out


def fast_local_floor(ns: np.ndarray, tz: str, freq: str) -> np.ndarray:
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
