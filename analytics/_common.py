"""Small helpers shared by the analytics modules: times, windows and the network's areas."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

NS_PER_MIN = 60_000_000_000
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
    s = to_utc(values, tz)
    arr = s.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view("int64")
    return arr.copy()


def ts_ns(value: Any, tz: str) -> int:
    """One time (date, string or Timestamp; naive = local) as int64 ns UTC."""
    t = pd.Timestamp(value)
    if t.tzinfo is None:
        t = t.tz_localize(tz)
    return int(t.tz_convert("UTC").as_unit("ns").value)


def ns_to_utc(ns: np.ndarray) -> pd.DatetimeIndex:
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


def text(series: pd.Series) -> pd.Series:
    """Ids as trimmed Python-object strings with missing values as None (simple to compare)."""
    vals = [
        (str(v).strip() or None)
        if isinstance(v, str) or (v is not None and not pd.isna(v))
        else None
        for v in series.astype("object").tolist()
    ]
    return pd.Series(vals, dtype=object)


def factor_text(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, labels)`` of an id column, ids trimmed as :func:`text` does; missing ids get
    code -1. Cleans only the distinct values, so it is fast on long columns."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if isinstance(uniques, pd.CategoricalIndex) or hasattr(uniques, "categories"):
        uniques = np.asarray(uniques, dtype=object)
    cleaned = text(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    ok = cleaned.notna().to_numpy()
    labels, relabel = pd.factorize(cleaned[ok])
    mapping = np.full(len(cleaned) + 1, -1, dtype=np.int64)
    mapping[np.flatnonzero(ok)] = labels
    out = mapping[np.where(codes >= 0, codes, len(cleaned))]
    return out, np.asarray(relabel, dtype=object)


def areas_table(network: dict, basis: str = "households") -> pd.DataFrame:
    """One row per transformer area: transformer, feeder, substation, kind, kva, households,
    users_10kv and ``customers`` on the chosen basis.

    Households are the ``customers`` column (IEEE 1366 counts customers); 10 kV users count a
    public transformer as one user and a dedicated transformer by its customers (DL/T 836).
    """
    tr = network["transformers"]
    fd = network["feeders"]
    out = pd.DataFrame({"transformer": text(tr["transformer"]), "feeder": text(tr["feeder"])})
    kind = (
        text(tr["kind"]).str.lower().to_numpy() if "kind" in tr else np.array(["public"] * len(tr))
    )
    out["kind"] = np.where(
        pd.Series(kind).fillna("public").to_numpy() == "dedicated", "dedicated", "public"
    )
    hh = (
        pd.to_numeric(tr["customers"], errors="coerce").fillna(0).to_numpy(dtype=float)
        if "customers" in tr
        else np.ones(len(tr))
    )
    out["households"] = hh
    out["users_10kv"] = np.where(out["kind"].to_numpy() == "dedicated", np.maximum(hh, 1.0), 1.0)
    out["kva"] = (
        pd.to_numeric(tr["kva"], errors="coerce").to_numpy(dtype=float) if "kva" in tr else np.nan
    )
    for col in ("town", "address"):
        out[col] = text(tr[col]).to_numpy() if col in tr else None
    f2s = dict(zip(text(fd["feeder"]), text(fd["substation"])))
    out["substation"] = pd.Series([f2s.get(f) for f in out["feeder"]], dtype=object)
    out["customers"] = out["users_10kv"] if basis == "users_10kv" else out["households"]
    return out
