"""Calendar bookkeeping shared by the simulator's tables: numbering within a day and splitting
the period into local calendar spans (months by default)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd


def seq_within(day: np.ndarray) -> np.ndarray:
    """1-based sequence number within runs of equal values (input sorted or not)."""
    order = np.argsort(day, kind="stable")
    ds = day[order]
    start_idx = np.concatenate([[0], np.flatnonzero(ds[1:] != ds[:-1]) + 1])
    run = np.repeat(start_idx, np.diff(np.concatenate([start_idx, [len(ds)]])))
    seq = np.empty(len(day), int)
    seq[order] = np.arange(len(ds)) - run + 1
    return seq


def day_stamps(start: date, day: np.ndarray) -> np.ndarray:
    """``yyyymmdd`` of each simulation day (day 0 = ``start``), the date part of ids."""
    return np.array([(start + timedelta(days=int(d))).strftime("%Y%m%d") for d in day])


def calendar_spans(start: date, d0: int, d1: int, freq: str = "MS") -> list[tuple[int, int]]:
    """Simulation days [d0, d1) cut at the local calendar boundaries of ``freq`` (default
    month starts), as (first, end) day pairs."""
    if d1 <= d0:
        return []
    first = pd.Timestamp(start)
    bounds = pd.date_range(first, first + pd.Timedelta(days=d1), freq=freq)
    cuts = sorted({d0, d1} | {int((b - first).days) for b in bounds if d0 < (b - first).days < d1})
    return list(zip(cuts[:-1], cuts[1:]))
