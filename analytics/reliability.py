"""Reliability indices: SAIFI, SAIDI, CAIDI, CAIFI, ASAI, MAIFI, CEMI-n, CELID-t (IEEE 1366-2022),
AIHC, RS-1, RS-3 (DL/T 836-2016), Major Event Days by the 2.5β method (IEEE 1366-2022 §4.5).

Counting rules (DESIGN.md, Definitions):

- Customers are counted per transformer area (台区). An outage at transformer level interrupts
  its area; at feeder level every area on the feeder; at substation level (a 35 kV event, one row
  per feeder) every area on the named feeder, or on all the substation's feeders when the row
  names none. Overlapping outages on one area are merged into one interruption (union of time;
  intervals that merely touch stay separate).
- An interruption is sustained when it lasts more than ``momentary_minutes`` (5 min) and
  momentary otherwise (IEEE 1366), judged on the merged interval's whole duration. An active
  outage (``end`` missing) is taken to end at ``now`` (default: the window end).
- In a window or month, an interruption is *counted* (SAIFI, MAIFI, CAIFI, CEMI-n) in the period
  where it starts. Its minutes (SAIDI, AIHC, CELID-t) follow ``settings.period_rule``: ``start``
  (default) charges them whole to the period it starts in, as IEEE 1366's daily accounting does;
  ``clip`` takes only the minutes inside the period. Daily SAIDI for Major Event Days follows the
  same rule. An active outage ends at the window end (or ``now``, when earlier) and is counted in
  ``open_outages``.
- Customers served: the network's; where it has none, ``settings.customers_served`` (system) and
  ``customers_served_feeders`` / ``_substations``; ``attrs["customer_base"]`` says which.
- Major Event Days: 2.5β over up to ``med_years`` of history; with less than
  ``med_min_history_days`` of it, a provisional T_MED from the window's own days
  (``info["provisional"]``); none from fewer than ``med_min_days`` days with interruptions.
- Two customer bases: ``households`` (the transformers' ``customers``; IEEE 1366) and
  ``users_10kv`` (one per public transformer plus the customers of dedicated transformers;
  DL/T 836).
- Outages that cannot be placed in the network (feeder empty or unknown, transformer unknown)
  count with their own ``customers`` (on the users basis scaled by the network's
  users/households ratio) in the system totals, and in their substation's when it is known; they
  add to the numerators only, never to the customers served.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics._common import (
    NAT,
    NS_PER_DAY,
    NS_PER_MIN,
    areas_table,
    local_floor,
    local_periods,
    ns_to_utc,
    text,
    to_ns,
    window_ns,
)
from analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings

LEVELS = ("substation", "feeder", "transformer")
BY_KEYS = {
    "system": None,
    "substation": "substation",
    "feeder": "feeder",
    "area": "transformer",
    "transformer": "transformer",
}


# --------------------------------------------------------------------------------------------
# Outages -> merged interruptions per area
# --------------------------------------------------------------------------------------------
def _outage_frame(outages: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Canonical outage columns with derived level, bools and int64-ns times."""
    n = len(outages)
    o = pd.DataFrame(index=range(n))
    for col in ("outage_id", "event_id", "substation", "feeder", "transformer", "cause"):
        o[col] = text(outages[col]) if col in outages else pd.Series([None] * n, dtype=object)
    o["event_id"] = pd.Series(
        [e if e is not None else i for e, i in zip(o["event_id"], o["outage_id"])], dtype=object
    )
    given = text(outages["level"]).str.lower().tolist() if "level" in outages else [None] * n
    o["level"] = pd.Series(
        [
            g
            if g in LEVELS
            else ("transformer" if t is not None else "feeder" if f is not None else "substation")
            for g, t, f in zip(given, o["transformer"], o["feeder"])
        ],
        dtype=object,
    )
    for col in ("planned", "supply_shortage"):
        if col in outages:
            o[col] = outages[col].astype("object").map(_as_bool).to_numpy(dtype=bool)
        else:
            o[col] = False
    if "cause" in outages:
        cause = pd.Series([(c or "").lower() for c in o["cause"]])
        o["planned"] = o["planned"].to_numpy() | (cause == "planned").to_numpy()
        o["supply_shortage"] = (
            o["supply_shortage"].to_numpy() | (cause == "supply_shortage").to_numpy()
        )
    o["start"] = to_ns(outages["start"], tz) if n else np.zeros(0, "int64")
    o["end"] = to_ns(outages["end"], tz) if (n and "end" in outages) else np.full(n, NAT)
    o["own_customers"] = (
        pd.to_numeric(outages["customers"], errors="coerce").fillna(0).to_numpy(float)
        if "customers" in outages
        else np.zeros(n)
    )
    keep = o["start"].to_numpy() != NAT
    return o if keep.all() else o[keep].reset_index(drop=True)


def _as_bool(v: Any) -> bool:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "是", "t")
    return bool(v)


class _Areas:
    """The network's areas as integer slots plus lookups from ids to slot arrays."""

    def __init__(self, network: dict, basis: str):
        a = areas_table(network, basis)
        self.table = a
        self.n = len(a)
        self.index = {t: i for i, t in enumerate(a["transformer"])}
        self.by_feeder = {
            k: np.asarray(v, dtype=np.int64)
            for k, v in a.groupby("feeder", sort=False).indices.items()
        }
        self.by_substation = {
            k: np.asarray(v, dtype=np.int64)
            for k, v in a.groupby("substation", sort=False).indices.items()
        }
        self.served = a["customers"].to_numpy(float)
        hh = a["households"].sum()
        self.users_per_household = (a["users_10kv"].sum() / hh) if hh > 0 else 1.0
        self.basis = basis
        fd = network["feeders"]
        self.feeder_substation = dict(zip(text(fd["feeder"]), text(fd["substation"])))
        self.feeders = set(self.feeder_substation)
        self.substations = (
            set(text(network["substations"]["substation"]))
            if "substations" in network
            else set(self.feeder_substation.values())
        )


def _expand(areas: _Areas, o: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Rows (slot, outage row) for every area each outage interrupts; unlocated outages get
    pseudo-slots numbered from ``areas.n`` upwards. Returns slots, outage rows, pseudo table."""
    slots: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    pseudo_rows: list[int] = []
    empty = np.zeros(0, np.int64)
    lv, fd, ss, tr = (o[c].to_numpy() for c in ("level", "feeder", "substation", "transformer"))
    for i in range(len(o)):
        hit = empty
        if lv[i] == "transformer" and tr[i] in areas.index:
            hit = np.array([areas.index[tr[i]]], dtype=np.int64)
        elif lv[i] != "transformer" and fd[i] is not None and fd[i] in areas.by_feeder:
            hit = areas.by_feeder[fd[i]]
        elif lv[i] == "substation" and fd[i] is None and ss[i] in areas.by_substation:
            hit = areas.by_substation[ss[i]]
        if len(hit):
            slots.append(hit)
            rows.append(np.full(len(hit), i, dtype=np.int64))
        else:
            pseudo_rows.append(i)
    pseudo_slot = areas.n + np.arange(len(pseudo_rows), dtype=np.int64)
    slots.append(pseudo_slot)
    rows.append(np.asarray(pseudo_rows, dtype=np.int64))
    pr = o.iloc[pseudo_rows]
    factor = areas.users_per_household if areas.basis == "users_10kv" else 1.0
    sub = [
        s if s is not None else areas.feeder_substation.get(f)
        for s, f in zip(pr["substation"], pr["feeder"])
    ]
    pseudo = pd.DataFrame(
        {
            "transformer": pd.Series([None] * len(pr), dtype=object),
            "feeder": pd.Series(
                [f if f in areas.feeders else None for f in pr["feeder"]], dtype=object
            ),
            "substation": pd.Series(
                [s if s in areas.substations else None for s in sub], dtype=object
            ),
            "customers": pr["own_customers"].to_numpy(float) * factor,
        }
    )
    return np.concatenate(slots), np.concatenate(rows), pseudo


def _merge(
    slot: np.ndarray, row: np.ndarray, o: pd.DataFrame, now: int, momentary_min: float
) -> pd.DataFrame:
    """Union of time per slot: overlapping outage rows on one area become one interruption."""
    start = o["start"].to_numpy()[row]
    end = o["end"].to_numpy()[row]
    is_open = end == NAT
    end = np.where(is_open, np.maximum(now, start), end)
    order = np.lexsort((start, slot))
    slot, row, start, end = slot[order], row[order], start[order], end[order]
    is_open = is_open[order]
    n = len(slot)
    if n == 0:
        cols = [
            "slot",
            "start",
            "end",
            "row",
            "planned",
            "supply_shortage",
            "n_outages",
            "minutes",
            "momentary",
            "open",
        ]
        kinds = {
            "planned": bool,
            "supply_shortage": bool,
            "momentary": bool,
            "open": bool,
            "minutes": float,
        }
        return pd.DataFrame({c: np.zeros(0, kinds.get(c, "int64")) for c in cols})
    new_slot = np.r_[True, slot[1:] != slot[:-1]]
    # running max of end within each slot
    seg = np.cumsum(new_slot) - 1
    run = pd.Series(end).groupby(seg).cummax().to_numpy()
    prev_run = np.r_[NAT, run[:-1]]
    new_block = new_slot | (start >= prev_run)
    first = np.flatnonzero(new_block)
    b_end = np.maximum.reduceat(end, first)
    planned = o["planned"].to_numpy()[row]
    short = o["supply_shortage"].to_numpy()[row]
    m = pd.DataFrame(
        {
            "slot": slot[first],
            "start": start[first],
            "end": b_end,
            "row": row[first],
            "planned": np.minimum.reduceat(planned.astype(np.int8), first).astype(bool),
            "supply_shortage": np.minimum.reduceat(short.astype(np.int8), first).astype(bool),
            "n_outages": np.diff(np.r_[first, n]),
            # an outage without a restoration time is in it (its end is ``now``)
            "open": np.maximum.reduceat(is_open.astype(np.int8), first).astype(bool),
        }
    )
    m["minutes"] = (m["end"] - m["start"]) / NS_PER_MIN
    m["momentary"] = m["minutes"].to_numpy() <= momentary_min
    return m


class _Model:
    """Outages placed on the network and merged, for one customer basis."""

    def __init__(
        self,
        network: dict,
        outages: pd.DataFrame,
        settings: AnalyticsSettings,
        basis: str | None,
        now: int,
    ):
        self.settings = settings
        self.tz = settings.tz
        self.areas = _Areas(network, basis or settings.customer_basis)
        self.o = _outage_frame(outages, self.tz)
        self.slot, self.row, self.pseudo = _expand(self.areas, self.o)
        self.now = now
        self.n_slots = self.areas.n + len(self.pseudo)
        self.customers = np.r_[self.areas.served, self.pseudo["customers"].to_numpy(float)]
        self.served = np.r_[self.areas.served, np.zeros(len(self.pseudo))]
        self._merged: dict[str, pd.DataFrame] = {}

    def merged(self, kind: str = "all") -> pd.DataFrame:
        """Merged interruptions of one class: all, planned, fault, no_shortage."""
        if kind not in self._merged:
            o = self.o
            mask = {
                "all": np.ones(len(o), bool),
                "planned": o["planned"].to_numpy(),
                "fault": ~o["planned"].to_numpy(),
                "no_shortage": ~o["supply_shortage"].to_numpy(),
            }[kind]
            keep = mask[self.row]
            self._merged[kind] = _merge(
                self.slot[keep], self.row[keep], o, self.now, self.settings.momentary_minutes
            )
        return self._merged[kind]

    def configured_served(self, by: str) -> dict:
        """Customers served from config for ``by``'s groups (used where the network has none)."""
        s = self.settings
        if by == "system":
            return {"system": s.customers_served} if s.customers_served > 0 else {}
        if by == "feeder":
            return dict(s.customers_served_feeders)
        if by == "substation":
            return dict(s.customers_served_substations)
        return {}

    def system_served(self) -> float:
        """The system's customers served: the network's, else ``customers_served`` from config."""
        served = float(self.served.sum())
        return served if served > 0 else float(self.settings.customers_served)

    def group_codes(self, by: str) -> tuple[np.ndarray, list]:
        """Slot -> group code (-1 = not in any group) and the group labels."""
        if by == "system":
            return np.zeros(self.n_slots, np.int64), ["system"]
        a = self.areas.table
        if by in ("area", "transformer"):
            labels = list(a["transformer"])
            return np.r_[np.arange(self.areas.n), np.full(len(self.pseudo), -1)].astype(
                np.int64
            ), labels
        col = BY_KEYS[by]
        values = list(a[col]) + list(self.pseudo[col])
        # ids whose customers served come from config (a network entry without counts)
        extra = self.configured_served(by)
        labels = sorted({v for v in a[col] if v is not None} | set(extra))
        lookup = {v: i for i, v in enumerate(labels)}
        return np.array([lookup.get(v, -1) for v in values], dtype=np.int64), labels


# --------------------------------------------------------------------------------------------
# Indices
# --------------------------------------------------------------------------------------------
def _overlap_minutes(start, end, lo, hi) -> np.ndarray:
    """Minutes of each [start, end) inside [lo, hi) (ns)."""
    return np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0, None) / NS_PER_MIN


def _slot_stats(
    m: pd.DataFrame,
    n_slots: int,
    ps: int,
    pe: int,
    rule: str = "start",
    med: list[tuple[int, int]] | None = None,
    tz: str = "UTC",
):
    """Per slot: sustained interruptions counted, momentary counted, sustained minutes.

    An interruption is counted in the period it starts in. Its minutes are, by ``rule``:
    ``start``, all of them, charged to the period it starts in (IEEE 1366 daily accounting);
    ``clip``, those inside the period. ``med``: the local Major Event Days as (start, end) ns;
    given, the figures leave them out (interruptions starting on one; with ``clip`` also the
    minutes inside one)."""
    start, end = m["start"].to_numpy(), m["end"].to_numpy()
    slot = m["slot"].to_numpy()
    momentary = m["momentary"].to_numpy()
    sus = ~momentary
    counted = (start >= ps) & (start < pe)
    if med is not None and len(med):
        on_med = np.isin(local_floor(start, tz, "D"), np.array([d for d, _ in med], np.int64))
        counted = counted & ~on_med
    if rule == "start":
        minutes = np.where(counted, m["minutes"].to_numpy(), 0.0)
    else:
        minutes = _overlap_minutes(start, end, ps, pe)
        for d0, d1 in med or ():
            minutes = minutes - _overlap_minutes(start, end, max(d0, ps), min(d1, pe))
        minutes = np.clip(minutes, 0, None)
    cnt = np.bincount(slot[counted & sus], minlength=n_slots).astype(float)
    mom = np.bincount(slot[counted & momentary], minlength=n_slots).astype(float)
    mins = np.bincount(slot[sus], weights=minutes[sus], minlength=n_slots)
    return cnt, mom, mins


def _aggregate(
    model: _Model, codes: np.ndarray, n_groups: int, cnt, mom, mins
) -> dict[str, np.ndarray]:
    s = model.settings
    ok = codes >= 0
    c = codes[ok]
    N = model.customers[ok]

    served = np.bincount(c, weights=model.served[ok], minlength=n_groups)
    ci = np.bincount(c, weights=N * cnt[ok], minlength=n_groups)
    cmi = np.bincount(c, weights=N * mins[ok], minlength=n_groups)
    distinct = np.bincount(c, weights=N * (cnt[ok] >= 1), minlength=n_groups)
    momci = np.bincount(c, weights=N * mom[ok], minlength=n_groups)
    cemi = np.bincount(c, weights=N * (cnt[ok] > s.cemi_n), minlength=n_groups)
    celid = np.bincount(c, weights=N * (mins[ok] >= s.celid_t_hours * 60.0), minlength=n_groups)
    return {
        "served": served,
        "ci": ci,
        "cmi": cmi,
        "distinct": distinct,
        "momci": momci,
        "cemi": cemi,
        "celid": celid,
    }


def _div(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _period_frame(
    model: _Model, by: str, ps: int, pe: int, med: list[tuple[int, int]]
) -> pd.DataFrame:
    codes, labels = model.group_codes(by)
    g = len(labels)
    rule = model.settings.period_rule
    tz = model.tz
    minutes_in_period = (pe - ps) / NS_PER_MIN
    hours = minutes_in_period / 60.0

    def stats(kind: str, drop_med: bool = False) -> dict[str, np.ndarray]:
        m = model.merged(kind)
        return _aggregate(
            model,
            codes,
            g,
            *_slot_stats(m, model.n_slots, ps, pe, rule, med if drop_med else None, tz),
        )

    base = stats("all")
    served = base["served"]
    # where the network gives no customers, the configured count (issue 15)
    configured = model.configured_served(by)
    if configured:
        fill = np.array([float(configured.get(label, 0.0)) for label in labels])
        served = np.where(served > 0, served, fill)
    saifi = _div(base["ci"], served)
    saidi = _div(base["cmi"], served)
    out = {
        "customers_served": served,
        "customers_interrupted": base["ci"],
        "customer_minutes": base["cmi"],
        "customer_hours": base["cmi"] / 60.0,
        "saifi": saifi,
        "saidi": saidi,
        "caidi": _div(saidi, saifi),
        "caifi": _div(base["ci"], base["distinct"]),
        "asai": 1.0 - saidi / minutes_in_period,
        "maifi": _div(base["momci"], served),
        "cemi_n": _div(base["cemi"], served),
        "celid_t": _div(base["celid"], served),
        "aihc": saidi / 60.0,
        "rs1": (1.0 - (saidi / 60.0) / hours) * 100.0,
    }
    ns = stats("no_shortage")
    out["rs3"] = (1.0 - _div(ns["cmi"], served) / 60.0 / hours) * 100.0
    for kind in ("planned", "fault"):
        k = stats(kind)
        out[f"saifi_{kind}"] = _div(k["ci"], served)
        out[f"saidi_{kind}"] = _div(k["cmi"], served)
        out[f"caidi_{kind}"] = _div(out[f"saidi_{kind}"], out[f"saifi_{kind}"])
        out[f"aihc_{kind}"] = out[f"saidi_{kind}"] / 60.0
    # without Major Event Days (IEEE 1366 2.5β): all, planned and fault (unplanned)
    for kind, suffix in (("all", ""), ("planned", "_planned"), ("fault", "_fault")):
        ex = stats(kind, drop_med=True)
        out[f"saifi{suffix}_ex_med"] = _div(ex["ci"], served)
        out[f"saidi{suffix}_ex_med"] = _div(ex["cmi"], served)
        out[f"caidi{suffix}_ex_med"] = _div(
            out[f"saidi{suffix}_ex_med"], out[f"saifi{suffix}_ex_med"]
        )
    budget = model.settings.aihc_budget_hours
    out["budget_use"] = (
        _div(out["aihc"], np.full(g, budget * 1.0)) if budget > 0 else np.full(g, np.nan)
    )
    out["open_outages"] = _open_outages(model, by, labels, ps, pe)
    frame = pd.DataFrame(out)
    key = BY_KEYS[by]
    if key is not None:
        frame.insert(0, key, labels)
    return frame


def _open_outages(model: _Model, by: str, labels: list, ps: int, pe: int) -> np.ndarray:
    """Outage records without a restoration time that count in [ps, pe) (started in it; with
    ``clip``, also those that started before and are still open), per group."""
    o = model.o
    start, end = o["start"].to_numpy(), o["end"].to_numpy()
    sel = (end == NAT) & (start < pe)
    if model.settings.period_rule == "start":
        sel &= start >= ps
    if by == "system":
        return np.array([float(sel.sum())])
    if by in ("area", "transformer"):
        keys = o["transformer"].to_numpy(object)
    elif by == "feeder":
        keys = o["feeder"].to_numpy(object)
    else:
        f2s = model.areas.feeder_substation
        keys = np.array(
            [s if s is not None else f2s.get(f) for s, f in zip(o["substation"], o["feeder"])],
            dtype=object,
        )
    counts = pd.Series(keys[sel]).value_counts()
    return np.array([float(counts.get(label, 0)) for label in labels])


def med_threshold(
    daily_saidi: pd.Series | np.ndarray, beta_multiplier: float = 2.5
) -> dict[str, float]:
    """IEEE 1366-2022 2.5β method: drop zero days, α = mean(ln SAIDI), β = sample standard
    deviation (ddof=1) of ln SAIDI, T_MED = exp(α + 2.5β). Returns alpha, beta, threshold and
    the number of non-zero days used (threshold is NaN with fewer than two)."""
    x = np.asarray(daily_saidi, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    if len(x) < 2:
        return {"alpha": np.nan, "beta": np.nan, "threshold": np.nan, "n_days": float(len(x))}
    lx = np.log(x)
    alpha, beta = float(lx.mean()), float(lx.std(ddof=1))
    return {
        "alpha": alpha,
        "beta": beta,
        "threshold": float(np.exp(alpha + beta_multiplier * beta)),
        "n_days": float(len(x)),
    }


def _daily_saidi(model: _Model, lo: int, hi: int) -> pd.Series:
    """Daily system SAIDI (minutes) for the local days in [lo, hi); days without interruptions
    are 0. By the period rule: ``start``, each sustained interruption accrues whole to the local
    day it begins (IEEE 1366-2022); ``clip``, each day gets the minutes inside it."""
    m = model.merged("all")
    sus = ~m["momentary"].to_numpy()
    start, end = m["start"].to_numpy()[sus], m["end"].to_numpy()[sus]
    w = model.customers[m["slot"].to_numpy()[sus]]
    served = model.system_served()
    edges = (
        np.array([p[0] for p in local_periods(lo, hi, model.tz, "D")] + [hi], dtype=np.int64)
        if hi > lo
        else np.zeros(0, np.int64)
    )
    if len(edges) < 2:
        return pd.Series(dtype=float)
    all_days = edges[:-1]
    if model.settings.period_rule == "start":
        sel = (start >= lo) & (start < hi)
        days = local_floor(start[sel], model.tz, "D")
        cmi = w[sel] * (end[sel] - start[sel]) / NS_PER_MIN
        s = pd.Series(cmi, index=days).groupby(level=0).sum()
        s = s.reindex(all_days, fill_value=0.0)
    else:
        # customer-minutes inside each day: F(edge[k+1]) - F(edge[k]) with
        # F(t) = Σ w (min(max(t, start), end) - start) = Σ_{start<t} w (t - start) - Σ_{end<t} w (t - end),
        # in minutes from ``lo`` so that the sums keep their precision
        sm, em, tm = ((x - lo) / NS_PER_MIN for x in (start, end, edges))
        F = np.zeros(len(tm))
        for pts, sign in ((sm, 1.0), (em, -1.0)):
            order = np.argsort(pts)
            p, ww = pts[order], w[order]
            cw, cwp = np.r_[0.0, np.cumsum(ww)], np.r_[0.0, np.cumsum(ww * p)]
            k = np.searchsorted(p, tm, side="left")
            F += sign * (cw[k] * tm - cwp[k])
        s = pd.Series(np.diff(F), index=all_days)
    return s / (served if served > 0 else np.nan)


def _med(model: _Model, ws: int, we: int, history_start: Any = None) -> tuple[pd.DataFrame, dict]:
    """IEEE 1366-2022 2.5β with a floor (issue 15): daily SAIDI of the ``med_years`` before the
    window, or all there is of it; with less than ``med_min_history_days`` of it, a provisional
    T_MED from the window's own days; with fewer than ``med_min_days`` days with interruptions
    in the sample, none."""
    s = model.settings
    local_ws = pd.Timestamp(ws, tz="UTC").tz_convert(s.tz).tz_localize(None)
    lo_limit = int(
        (local_ws - pd.DateOffset(years=s.med_years))
        .tz_localize(s.tz)
        .tz_convert("UTC")
        .as_unit("ns")
        .value
    )
    if history_start is not None:
        first = (
            int(pd.Timestamp(history_start).tz_localize(s.tz).tz_convert("UTC").value)
            if pd.Timestamp(history_start).tzinfo is None
            else int(pd.Timestamp(history_start).tz_convert("UTC").value)
        )
    else:
        st = model.o["start"].to_numpy()
        st = st[st < ws]
        first = int(local_floor(np.array([st.min()]), s.tz, "D")[0]) if len(st) else ws
    lo = min(max(lo_limit, first), ws)
    history_days = (ws - lo) / NS_PER_DAY
    cur = _daily_saidi(model, ws, we)
    provisional = history_days < s.med_min_history_days
    sample = cur if provisional else _daily_saidi(model, lo, ws)
    info: dict[str, Any] = med_threshold(sample.to_numpy(), s.med_beta_multiplier)
    enough = info["n_days"] >= max(2, s.med_min_days)
    if not enough:
        info.update(alpha=np.nan, beta=np.nan, threshold=np.nan)
    info["years_available"] = round(history_days / 365.25, 2)
    info["history_days"] = int(round(history_days))
    info["provisional"] = bool(provisional and enough)
    info["status"] = "too_few_days" if not enough else "provisional" if provisional else "history"
    info["period_rule"] = s.period_rule
    t = info["threshold"]
    is_med = (cur.to_numpy() > t) if np.isfinite(t) else np.zeros(len(cur), bool)
    days = pd.DataFrame(
        {
            "day": ns_to_utc(cur.index.to_numpy()).tz_convert(s.tz).tz_localize(None).normalize(),
            "day_start": ns_to_utc(cur.index.to_numpy()),
            "saidi": cur.to_numpy(),
            "is_med": is_med,
        }
    )
    info["med_days"] = [d.date().isoformat() for d in days.loc[days["is_med"], "day"]]
    return days, info


def _now(now: Any, we: int, tz: str) -> int:
    if now is None:
        return we
    t = pd.Timestamp(now)
    t = t.tz_localize(tz) if t.tzinfo is None else t
    return int(t.tz_convert("UTC").as_unit("ns").value)


def _prepared(
    network: dict,
    outages: pd.DataFrame,
    settings: AnalyticsSettings,
    basis: str | None,
    now: int,
    cache: dict | None,
) -> _Model:
    """The outages placed and merged on the network; memoised in ``cache`` when given."""
    if cache is None:
        return _Model(network, outages, settings, basis, now)
    key = ("model", basis or settings.customer_basis, now)
    if key not in cache:
        cache[key] = _Model(network, outages, settings, basis, now)
    return cache[key]


def _med_cached(
    model: _Model, ws: int, we: int, history_start: Any, cache: dict | None
) -> tuple[pd.DataFrame, dict]:
    if cache is None:
        return _med(model, ws, we, history_start)
    key = ("med", model.areas.basis, model.now, ws, we, str(history_start))
    if key not in cache:
        cache[key] = _med(model, ws, we, history_start)
    table, info = cache[key]
    return table.copy(), dict(info)


def major_event_days(
    network: dict,
    outages: pd.DataFrame,
    *,
    window: tuple,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    basis: str | None = None,
    history_start: Any = None,
    now: Any = None,
    cache: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Major Event Days of the window by the IEEE 1366-2022 2.5β method.

    The threshold comes from daily system SAIDI over the ``med_years`` (5) years before the window
    (or what the outage history covers, from its first outage or ``history_start``; the number of
    years used is reported as ``years_available``; with less than ``med_min_history_days`` of
    it, a provisional threshold from the window's own days, see :func:`_med`; open outages end
    at ``now`` or the window end, whichever is earlier). Returns a table of the window's local days
    (day, day_start UTC, saidi, is_med) and a dict: alpha, beta, threshold, n_days,
    years_available, med_days (ISO dates)."""
    ws, we = window_ns(window, settings.tz)
    model = _prepared(network, outages, settings, basis, min(_now(now, we, settings.tz), we), cache)
    return _med_cached(model, ws, we, history_start, cache)


def indices(
    by: str,
    network: dict,
    outages: pd.DataFrame,
    *,
    window: tuple,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    basis: str | None = None,
    freq: str | None = None,
    now: Any = None,
    history_start: Any = None,
    cache: dict | None = None,
) -> pd.DataFrame:
    """Reliability indices per ``by`` ("system", "substation", "feeder" or "area") over a window,
    or per local month inside it with ``freq="M"``.

    Columns: the group key (substation / feeder / transformer; none for system), ``period_start``
    and ``month`` with ``freq``, customers_served, customers_interrupted, customer_minutes,
    customer_hours, SAIFI, SAIDI (minutes), CAIDI, CAIFI, ASAI, MAIFI, CEMI-n, CELID-t
    (IEEE 1366-2022; n and t from settings, CELID-t on total duration), AIHC (hours), RS-1 and
    RS-3 (%; DL/T 836, RS-3 leaves supply-shortage outages out), SAIFI/SAIDI/CAIDI/AIHC split
    into planned and fault (unplanned), SAIFI/SAIDI/CAIDI without Major Event Days, all, planned
    and fault (``*_ex_med``, ``*_planned_ex_med``, ``*_fault_ex_med``; IEEE 1366 2.5β, see
    :func:`major_event_days`), ``budget_use`` = AIHC / yearly ``aihc_budget_hours``, and
    ``open_outages`` (records without a restoration time counted in the period). Minutes follow
    ``settings.period_rule``; ``attrs`` carry ``med`` (T_MED, provisional or not, MED days),
    ``period_rule`` and ``customer_base`` (network, config or none).
    ``window`` is (start, end), end exclusive; dates and naive times are local. ``cache``: a dict
    shared by calls on the same network, outages and settings (the window may differ), in which
    the placed and merged outages and the MED analysis are kept, so that they are built once.
    """
    if by not in BY_KEYS:
        raise ValueError(f"by must be one of system, substation, feeder, area: {by!r}")
    ws, we = window_ns(window, settings.tz)
    # open outages end at the window end, or at ``now`` when that is earlier
    model = _prepared(network, outages, settings, basis, min(_now(now, we, settings.tz), we), cache)
    _, info = _med_cached(model, ws, we, history_start, cache)
    med = _med_day_spans(info, settings.tz)
    if freq is None:
        frame = _period_frame(model, by, ws, we, med)
    elif freq in ("M", "MS", "month"):
        parts = []
        for ps, pe in local_periods(ws, we, settings.tz, "M"):
            f = _period_frame(model, by, ps, pe, med)
            local = pd.Timestamp(ps, tz="UTC").tz_convert(settings.tz)
            f.insert(0, "month", local.strftime("%Y-%m"))
            f.insert(1, "period_start", pd.Timestamp(ps, tz="UTC"))
            parts.append(f)
        frame = pd.concat(parts, ignore_index=True)
    else:
        raise ValueError(f"freq must be None or 'M': {freq!r}")
    frame.attrs.update(
        {
            "med": info,
            "basis": model.areas.basis,
            "period_rule": settings.period_rule,
            # where customers served come from: the network, config, or nowhere (issue 15)
            "customer_base": (
                "network"
                if model.served.sum() > 0
                else "config"
                if (settings.customers_served > 0 or model.configured_served(by))
                else "none"
            ),
            "cemi_n": settings.cemi_n,
            "celid_t_hours": settings.celid_t_hours,
            # outages in the window whose source gave no customer count (counted as 0)
            "outages_without_customers": outages_without_customers(
                outages, window=window, tz=settings.tz
            ),
        }
    )
    return frame


def outages_without_customers(
    outages: pd.DataFrame, *, window: tuple | None = None, tz: str = "UTC"
) -> int:
    """How many outages (overlapping ``window`` when given) have no customer count (NULL,
    blank: unknown, which the indices count as 0 customers interrupted)."""
    if outages.empty:
        return 0
    if "customers" not in outages:
        unknown = np.ones(len(outages), bool)
    else:
        unknown = pd.to_numeric(outages["customers"], errors="coerce").isna().to_numpy(copy=True)
    if window is not None and "start" in outages:
        ws, we = window_ns(window, tz)
        start = to_ns(outages["start"], tz)
        end = to_ns(outages["end"], tz) if "end" in outages else np.full(len(outages), NAT)
        unknown &= (start != NAT) & (start < we) & ((end == NAT) | (end > ws))
    return int(unknown.sum())


def _med_day_spans(info: dict, tz: str) -> list[tuple[int, int]]:
    """The Major Event Days as local-day (start, end) UTC ns."""
    spans = []
    for d in info.get("med_days", []):
        day = pd.Timestamp(d)
        a, b = (
            int(x.tz_localize(tz).tz_convert("UTC").as_unit("ns").value)
            for x in (day, day + pd.Timedelta(days=1))
        )
        spans.append((a, b))
    return spans


def system_indices(
    network: dict,
    outages: pd.DataFrame,
    *,
    window: tuple,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    basis: str | None = None,
    now: Any = None,
    history_start: Any = None,
    cache: dict | None = None,
) -> pd.DataFrame:
    """System indices for the window: one row as :func:`indices` with ``by="system"``, plus the
    MED figures (IEEE 1366-2022 2.5β): med_threshold, med_alpha, med_beta, med_count,
    med_years_available, and the budget figures budget_hours_per_customer and budget_use."""
    frame = indices(
        "system",
        network,
        outages,
        window=window,
        settings=settings,
        basis=basis,
        now=now,
        history_start=history_start,
        cache=cache,
    )
    info = frame.attrs["med"]
    frame["med_threshold"] = info["threshold"]
    frame["med_alpha"] = info["alpha"]
    frame["med_beta"] = info["beta"]
    frame["med_count"] = len(info["med_days"])
    frame["med_years_available"] = info["years_available"]
    frame["med_history_days"] = info["history_days"]
    frame["med_provisional"] = info["provisional"]
    frame["med_days"] = " ".join(info["med_days"])
    frame["period_rule"] = settings.period_rule
    frame["budget_hours_per_customer"] = settings.aihc_budget_hours
    return frame


def area_interruptions(
    network: dict,
    outages: pd.DataFrame,
    *,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    now: Any = None,
    kind: str = "all",
    basis: str | None = None,
) -> pd.DataFrame:
    """Merged interruptions per transformer area (union of overlapping outages, DESIGN.md).

    One row per interruption: transformer (None for outages not placed in the network), feeder,
    substation, start/end (UTC), minutes, momentary (≤ ``momentary_minutes``, IEEE 1366),
    customers (on the basis), planned / supply_shortage (true when every merged outage was),
    n_outages, and from the earliest merged outage: outage_id, event_id, level, cause.
    ``kind`` restricts the outages first: all, planned, fault or no_shortage. Active outages end
    at ``now`` (default: the latest time in the data)."""
    tmp = _outage_frame(outages, settings.tz)
    if now is None:
        ends = np.r_[tmp["start"].to_numpy(), tmp["end"].to_numpy()[tmp["end"].to_numpy() != NAT]]
        now_ns = int(ends.max()) if len(ends) else 0
    else:
        now_ns = _now(now, 0, settings.tz)
    model = _Model(network, outages, settings, basis, now_ns)
    return _interruption_table(model, kind)


def _interruption_table(model: _Model, kind: str = "all") -> pd.DataFrame:
    m = model.merged(kind)
    slot = m["slot"].to_numpy()
    a = model.areas.table
    tr = np.r_[a["transformer"].to_numpy(object), np.full(len(model.pseudo), None, dtype=object)]
    fd = np.r_[a["feeder"].to_numpy(object), model.pseudo["feeder"].to_numpy(object)]
    ss = np.r_[a["substation"].to_numpy(object), model.pseudo["substation"].to_numpy(object)]
    o = model.o
    r = m["row"].to_numpy()
    return pd.DataFrame(
        {
            "slot": slot,
            "transformer": tr[slot],
            "feeder": fd[slot],
            "substation": ss[slot],
            "start": ns_to_utc(m["start"].to_numpy()),
            "end": ns_to_utc(m["end"].to_numpy()),
            "start_ns": m["start"].to_numpy(),
            "end_ns": m["end"].to_numpy(),
            "minutes": m["minutes"].to_numpy(),
            "momentary": m["momentary"].to_numpy(),
            "customers": model.customers[slot],
            "planned": m["planned"].to_numpy(),
            "supply_shortage": m["supply_shortage"].to_numpy(),
            "n_outages": m["n_outages"].to_numpy(),
            "outage_id": o["outage_id"].to_numpy(object)[r],
            "event_id": o["event_id"].to_numpy(object)[r],
            "level": o["level"].to_numpy(object)[r],
            "cause": o["cause"].to_numpy(object)[r],
        }
    )
