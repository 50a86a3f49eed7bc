"""Shift handover figures (issue 17): what happened between ``start`` and ``end``. Pure:
DataFrames in, a dict of figures and DataFrames out (rendered by dashboard/handover.py).

Definitions (DESIGN.md):
- started: outages whose start is in [start, end); restored: whose end is in [start, end);
  still open: started before ``end`` and not ended by it (at ``end`` = now: the live board's
  active outages, and their customers its "customers out");
- customer-hours: customers x hours of each outage inside [start, end) (clipped to the shift);
- longest: the outages of the shift by minutes inside it (open ones up to ``end``);
- frequent-outage feeders that crossed the threshold: ``frequent_count`` or more sustained
  outages (planned included, momentary not) in the ``frequent_days`` before ``end``, but fewer
  in the ``frequent_days`` before ``start``;
- complaints: tickets received in [start, end) by category (merged repeats not counted again).
"""

from __future__ import annotations

import pandas as pd


def _utc(ts) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _frequent_at(outages: pd.DataFrame, at, days: int, count: int, momentary: float) -> set:
    lo = at - pd.Timedelta(days=days)
    o = outages[outages["feeder"].notna() & (outages["start"] >= lo) & (outages["start"] < at)]
    end = o["end"].where(o["end"].notna() & (o["end"] <= at), at)
    o = o[(end - o["start"]).dt.total_seconds() / 60.0 > momentary]
    n = o.groupby("feeder").size()
    return set(n[n >= count].index)


def shift_summary(
    outages: pd.DataFrame,
    complaints: pd.DataFrame,
    alerts: pd.DataFrame,
    quarantine: pd.DataFrame,
    stale_sources: list[str],
    start,
    end,
    frequent_days: int = 60,
    frequent_count: int = 3,
    momentary_minutes: float = 5.0,
    longest: int = 5,
) -> dict:
    """The handover's figures for [start, end). ``outages`` must cover ``frequent_days`` before
    ``start`` (canonical columns, UTC); ``complaints`` canonical; ``alerts`` as
    ``db.alerts.alerts_sent``; ``quarantine`` with ``created_at``, ``source``, ``reason_code``."""
    start, end = _utc(start), _utc(end)
    o = outages.copy()
    o_end = o["end"]
    in_shift = (o["start"] < end) & (o_end.isna() | (o_end > start))
    shift = o[in_shift].copy()
    started = shift[(shift["start"] >= start) & (shift["start"] < end)]
    restored = shift[shift["end"].notna() & (shift["end"] >= start) & (shift["end"] < end)]
    still_open = shift[shift["end"].isna() | (shift["end"] >= end)]
    cust = pd.to_numeric(shift["customers"]).fillna(0)
    lo = shift["start"].where(shift["start"] > start, start)
    hi = shift["end"].where(shift["end"].notna() & (shift["end"] < end), end)
    minutes = ((hi - lo).dt.total_seconds() / 60.0).clip(lower=0)
    shift = shift.assign(minutes_in_shift=minutes, customer_hours=cust * minutes / 60.0)
    top = shift.sort_values(["minutes_in_shift", "customers"], ascending=False).head(longest)
    before = _frequent_at(o, start, frequent_days, frequent_count, momentary_minutes)
    after = _frequent_at(o, end, frequent_days, frequent_count, momentary_minutes)
    c = complaints
    if len(c):
        c = c[(c["time"] >= start) & (c["time"] < end)]
        if "merged_into" in c:
            c = c[c["merged_into"].isna()]
    by_cat = c.groupby("category").size().sort_values(ascending=False) if len(c) else pd.Series()
    a = alerts[(alerts["sent_at"] >= start) & (alerts["sent_at"] < end)] if len(alerts) else alerts
    q = quarantine
    if len(q):
        created = pd.to_datetime(q["created_at"], utc=True)
        q = q[(created >= start) & (created < end)]
    return {
        "start": start,
        "end": end,
        "started": len(started),
        "restored": len(restored),
        "still_open": len(still_open),
        "customers_started": int(pd.to_numeric(started["customers"]).fillna(0).sum()),
        "customers_restored": int(pd.to_numeric(restored["customers"]).fillna(0).sum()),
        "customers_out_at_end": int(pd.to_numeric(still_open["customers"]).fillna(0).sum()),
        "customer_hours": float(shift["customer_hours"].sum()),
        "longest": top[
            ["outage_id", "feeder", "substation", "start", "end", "customers", "cause"]
        ].assign(minutes=top["minutes_in_shift"].round(0)),
        "frequent_crossed": sorted(after - before),
        "complaints_total": int(len(c)),
        "complaints_by_category": by_cat,
        "alerts_sent": int(len(a)),
        "alerts": a,
        "stale_sources": list(stale_sources),
        "quarantined": int(len(q)),
        "quarantine_by_reason": q.groupby("reason_code").size() if len(q) else pd.Series(),
        "outages": shift,
    }
