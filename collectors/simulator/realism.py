"""Realism figures of a simulated history (small local helpers; not the analytics package).

Definitions follow DESIGN.md: sustained > 5 min; a feeder or substation row interrupts every
area of its feeder; overlapping outages on an area count once (union of time); a low-voltage
area-day has >= 1 h below 198 V on any phase; MED threshold T_MED = exp(alpha + 2.5 beta).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def area_interruptions(net: dict, outages: pd.DataFrame, exclude_shortage=False) -> pd.DataFrame:
    """Per area merged sustained interruptions: transformer, start, end, customers, day."""
    tr = net["transformers"]
    o = outages[(outages["end"] - outages["start"]) > pd.Timedelta(minutes=5)]
    if exclude_shortage:
        o = o[~o["supply_shortage"]]
    by_feeder = o[o["transformer"].isna()].merge(
        tr[["transformer", "feeder"]], on="feeder", suffixes=("_x", "")
    )
    own = o[o["transformer"].notna()]
    pairs = pd.concat(
        [by_feeder[["transformer", "start", "end"]], own[["transformer", "start", "end"]]],
        ignore_index=True,
    )
    pairs = pairs.sort_values(["transformer", "start"], kind="stable")
    # union of time per area
    prev_end = pairs.groupby("transformer")["end"].transform(lambda s: s.cummax().shift())
    new = prev_end.isna() | (pairs["start"] > prev_end)
    grp = new.cumsum()
    merged = pairs.groupby(grp).agg(
        transformer=("transformer", "first"), start=("start", "min"), end=("end", "max")
    )
    return merged.merge(tr[["transformer", "customers"]], on="transformer")


def realism(sim, voltage_lv_share: float | None = None) -> dict:
    """System SAIFI, AIHC, RS-1/RS-3, outages per feeder, complaints per 1000, MED check."""
    net = sim.network()
    out = sim.outages()
    n_cust = net["transformers"]["customers"].sum()
    years = sim.days / 365.0
    m = area_interruptions(net, out)
    hours = (m["end"] - m["start"]).dt.total_seconds() / 3600
    saifi = m["customers"].sum() / n_cust / years
    aihc = (hours * m["customers"]).sum() / n_cust / years
    m3 = area_interruptions(net, out, exclude_shortage=True)
    aihc3 = (
        (((m3["end"] - m3["start"]).dt.total_seconds() / 3600) * m3["customers"]).sum()
        / n_cust
        / years
    )
    hrs = 8760.0
    fl = out[(out["level"] != "transformer")]
    fl = fl[(fl["end"] - fl["start"]) > pd.Timedelta(minutes=5)]
    per_feeder = fl.groupby("feeder").size().reindex(net["feeders"]["feeder"], fill_value=0)
    per_feeder = per_feeder / years
    c = sim.complaints()
    grid = c[
        c["reasonable"]
        & c["merged_into"].isna()
        & c["category"].isin(
            [
                "outage",
                "frequent_outage",
                "low_voltage",
                "voltage_fluctuation",
                "repair_timeout",
                "repair_quality",
            ]
        )
    ]
    # daily SAIDI by local start day, MED threshold (2.5 beta) on the period itself
    local_day = m["start"].dt.tz_convert(sim.tz).dt.date
    saidi_day = (hours * 60 * m["customers"]).groupby(local_day).sum() / n_cust
    saidi_day = saidi_day[saidi_day > 0]
    ln = np.log(saidi_day)
    t_med = float(np.exp(ln.mean() + 2.5 * ln.std(ddof=1)))
    storm_dates = [sim.start + pd.Timedelta(days=int(d)) for d in sim.weather.storm_days]
    storm_saidi = [float(saidi_day.get(d, 0.0)) for d in storm_dates]
    res = {
        "customers": int(n_cust),
        "saifi": float(saifi),
        "aihc_h": float(aihc),
        "rs1_pct": float((1 - aihc / hrs) * 100),
        "rs3_pct": float((1 - aihc3 / hrs) * 100),
        "feeders_1_12_share": float(((per_feeder >= 1) & (per_feeder <= 12)).mean()),
        "outages_per_feeder_median": float(per_feeder.median()),
        "grid_complaints_per_1000": float(len(grid) / n_cust * 1000 / years),
        "t_med_min": t_med,
        "storm_day_saidi_min": storm_saidi,
        "med_days": int((saidi_day > t_med).sum()),
    }
    if voltage_lv_share is not None:
        res["lv_area_share_peak"] = voltage_lv_share
    return res


class LowVoltageCounter:
    """Accumulates low-voltage area-days from streamed voltage batches (Jun-Aug by default)."""

    def __init__(self, sim, months=(6, 7, 8), exclude=()):
        self.sim, self.months, self.exclude = sim, set(months), set(exclude)
        self.areas_low: set = set()
        self.hours = {}

    def add(self, v: pd.DataFrame):
        """Count one batch of long-form readings (numpy only: batches hold ~18M rows)."""
        if v.empty:
            return
        ids = list(self.sim.net.areas["id"])
        n_a = len(ids)
        if isinstance(v["transformer"].dtype, pd.CategoricalDtype):
            cats = np.asarray(v["transformer"].cat.categories, dtype=object)
            code = v["transformer"].cat.codes.to_numpy()
            if len(cats) != n_a or not (cats == np.asarray(ids, dtype=object)).all():
                pos = {t: i for i, t in enumerate(ids)}
                code = np.array([pos[c] for c in cats])[code]
        else:
            pos = {t: i for i, t in enumerate(ids)}
            code = v["transformer"].map(pos).to_numpy()
        # local time of the start of the sampling interval
        t = pd.DatetimeIndex(v["time"]).as_unit("ns").asi8
        off = int(self.sim.t0.value)
        day = ((t - off - 1) // (86400 * 10**9)).astype(np.int64)
        mon = self.sim.weather.month[np.clip(day, 0, len(self.sim.weather.month) - 1)]
        sel = np.isin(mon, list(self.months)) & (day >= 0)
        vm = np.minimum(np.minimum(v["va"].to_numpy(), v["vb"].to_numpy()), v["vc"].to_numpy())
        low = sel & (vm < 198.0) & (v["va"].to_numpy() > 100)
        if self.exclude:
            bad = np.isin(np.asarray(ids, dtype=object), list(self.exclude))
            low &= ~bad[code]
        step_h = 24.0 / self.sim.points_per_day
        key = day[low] * n_a + code[low]
        uniq, cnt = np.unique(key, return_counts=True)
        hit = uniq[cnt * step_h >= 1.0] % n_a
        self.areas_low |= {ids[i] for i in np.unique(hit)}

    def share(self) -> float:
        """Share of areas with at least one low-voltage day in the months counted."""
        return len(self.areas_low) / len(self.sim.net.areas["id"])
