"""Interruptions: outages placed on the network's transformer areas and merged per area
(DESIGN.md, Definitions; the counting rules are in :mod:`analytics.reliability`'s docstring).

An outage at transformer level interrupts its area; at feeder level every area on the feeder;
at substation level every area on the named feeder, or on all the substation's feeders when the
row names none. Overlapping outages on one area merge into one interruption (union of time);
outages that cannot be placed get pseudo-areas of their own ``customers``. The
:class:`InterruptionModel` is what the indices, the frequent-outage rules, complaint matching
and the upgrade priorities all count on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.areas import areas_table, text
from analytics.settings import AnalyticsSettings
from analytics.times import (
    NAT,
    NS_PER_MIN,
    ns_to_utc,
    to_ns,
)

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
def outage_frame(outages: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Outage records in canonical columns: ids and cause as text, ``level`` (given, else
    derived from the most specific id), ``planned`` / ``supply_shortage`` as bools (also from
    the cause), ``start`` / ``end`` as int64 ns UTC (``NAT`` end: still open) and
    ``own_customers``; records without a start are left out."""
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
        if col in outages and pd.api.types.is_bool_dtype(outages[col].dtype):
            # already flags (the database's and the simulator's): as_bool of each is itself;
            # a nullable boolean column's missing values are false, as in as_bool
            o[col] = outages[col].fillna(False).to_numpy(dtype=bool)
        elif col in outages:
            o[col] = outages[col].astype("object").map(as_bool).to_numpy(dtype=bool)
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


def as_bool(v: Any) -> bool:
    """A source's flag as a bool: missing is false; text is true for 1, true, yes, y, t, 是."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "是", "t")
    return bool(v)


class NetworkAreas:
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


def _expand(areas: NetworkAreas, o: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
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


class InterruptionModel:
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
        self.areas = NetworkAreas(network, basis or settings.customer_basis)
        self.o = outage_frame(outages, self.tz)
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


def interruption_table(model: InterruptionModel, kind: str = "all") -> pd.DataFrame:
    """The merged interruptions of one class (:meth:`InterruptionModel.merged`) as a table: the
    area's slot, transformer, feeder and substation; start / end (UTC and ns), minutes,
    momentary, customers, planned, supply_shortage, n_outages; and from the earliest merged
    outage its outage_id, event_id, level and cause (as
    :func:`analytics.reliability.area_interruptions`)."""
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
