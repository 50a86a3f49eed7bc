"""95598 complaint classification and matching: where a ticket is, whether it repeats an earlier
one, whether it is reasonable for grid analysis, and whether an outage or a low-voltage period
matches it. (Frequent outages, complaint attribution and outage rates live in
:mod:`analytics.frequent_outages`, :mod:`analytics.attribution` and :mod:`analytics.fault_rates`;
their public names are importable from here too.)

Rules follow DESIGN.md (Definitions, Complaints): sustained outages (> 5 min, IEEE 1366), planned
ones included, count towards 频繁停电: a feeder with ``frequent_feeder_count`` (3) or more in a
rolling ``frequent_feeder_days`` (60) days; an area with more than ``frequent_area_count_window``
(3) in ``frequent_area_window_days`` (60) days or more than ``frequent_area_count_year`` (5) in a
year (rolling 365 days). Repeated calls about one event are merged into the first ticket;
customer-side faults, power theft, billing and attitude complaints are unreasonable for grid
analysis: counted and shown, never used for attribution or ranking.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analytics.areas import areas_table, text
from analytics.attribution import attribute, fit_nonnegative_poisson, goodness_of_fit
from analytics.fault_rates import shrink_rates
from analytics.frequent_outages import frequent_outages
from analytics.interruptions import InterruptionModel, as_bool, interruption_table
from analytics.settings import (
    DEFAULT_SETTINGS,
    OUTAGE_CATEGORIES,
    VOLTAGE_CATEGORIES,
    AnalyticsSettings,
)
from analytics.times import NS_PER_DAY, NS_PER_HOUR, local_floor, to_ns

__all__ = [
    "attribute",
    "classify_complaints",
    "complaint_summary",
    "fit_nonnegative_poisson",
    "frequent_outages",
    "goodness_of_fit",
    "shrink_rates",
]


def _match_location(c: pd.DataFrame, areas: pd.DataFrame) -> tuple[list, list, list]:
    """(transformer, feeder, how) per complaint: given transformer, given feeder, address match
    within the town (area address contained in the ticket address, or the reverse), a town with
    a single area, else unmatched."""
    known_t = set(areas["transformer"])
    t2f = dict(zip(areas["transformer"], areas["feeder"]))
    known_f = set(areas["feeder"])
    by_town: dict[str, list[tuple[str, str]]] = {}
    for t, town, addr in zip(areas["transformer"], areas["town"], areas["address"]):
        if town:
            by_town.setdefault(town, []).append((t, addr or ""))
    all_addr = [(t, addr or "") for t, addr in zip(areas["transformer"], areas["address"])]
    tr = text(c["transformer"]) if "transformer" in c else pd.Series([None] * len(c), dtype=object)
    fd = text(c["feeder"]) if "feeder" in c else pd.Series([None] * len(c), dtype=object)
    tw = text(c["town"]) if "town" in c else pd.Series([None] * len(c), dtype=object)
    ad = text(c["address"]) if "address" in c else pd.Series([None] * len(c), dtype=object)
    out_t, out_f, how = [], [], []
    for t, f, town, addr in zip(tr, fd, tw, ad):
        if t in known_t:
            out_t.append(t), out_f.append(t2f[t]), how.append("transformer")
            continue
        if f in known_f:
            out_t.append(None), out_f.append(f), how.append("feeder")
            continue
        cands = by_town.get(town, all_addr) if town else all_addr
        hit = None
        if addr:
            full = [x for x in cands if x[1] and (x[1] in addr or addr in x[1])]
            if len(full) == 1:
                hit = full[0][0]
            elif town and len(full) > 1 and len({t2f[x[0]] for x in full}) == 1:
                out_t.append(None), out_f.append(t2f[full[0][0]]), how.append("address_feeder")
                continue
        if hit is None and town and len(by_town.get(town, [])) == 1:
            hit = by_town[town][0][0]
        if hit is not None:
            out_t.append(hit), out_f.append(t2f[hit]), how.append("address")
        else:
            out_t.append(None), out_f.append(None), how.append("unmatched")
    return out_t, out_f, how


def classify_complaints(
    complaints: pd.DataFrame,
    *,
    network: dict,
    outages: pd.DataFrame | None = None,
    voltage_daily: pd.DataFrame | None = None,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """Classify 95598 tickets for grid analysis (DESIGN.md, Complaints).

    Adds: ``area`` / ``feeder_matched`` / ``substation_matched`` and ``match`` (transformer,
    feeder, address, address_feeder or unmatched: unmatched tickets stay in the table and are
    counted, never dropped); ``repeat`` (a repeated call merged into an earlier ticket);
    ``outage_match`` (outage-type tickets: an outage on the area, or its feeder when the area is
    unknown, from ``complaint_match_before_hours`` before its start to
    ``complaint_match_after_hours`` after its end; NaN for other categories or without outage
    data); ``low_voltage_match`` (voltage tickets: X-phase minutes below on the area's local day
    or the day before; NaN without readings for the area); ``reason`` for unreasonable tickets
    (category, keyword, no_matching_outage, no_matching_low_voltage - the last two only with
    ``require_matching_event``); ``reasonable`` (the source's flag when given, else the rules) and
    ``counted`` = reasonable and not a repeat: only counted tickets drive attribution and ranking.
    """
    s = settings
    c = complaints.reset_index(drop=True).copy()
    areas = areas_table(network)
    t, f, how = _match_location(c, areas)
    c["area"] = pd.Series(t, dtype=object)
    c["feeder_matched"] = pd.Series(f, dtype=object)
    f2s = dict(zip(text(network["feeders"]["feeder"]), text(network["feeders"]["substation"])))
    c["substation_matched"] = pd.Series([f2s.get(x) for x in f], dtype=object)
    c["match"] = pd.Series(how, dtype=object)
    c["repeat"] = _repeats(c)
    cat = (
        text(c["category"]).map(lambda v: (v or "other").lower())
        if "category" in c
        else pd.Series(["other"] * len(c), dtype=object)
    )
    txt = (
        text(c["text"]).map(lambda v: v or "")
        if "text" in c
        else pd.Series([""] * len(c), dtype=object)
    )
    time_ns = to_ns(c["time"], s.tz)

    reason = np.array([""] * len(c), dtype=object)
    bad_cat = cat.isin(list(s.unreasonable_categories)).to_numpy()
    reason[bad_cat] = "category"
    keywords = [str(k) for k in s.unreasonable_keywords]
    kw = (
        txt.str.contains("|".join(re.escape(k) for k in keywords), regex=True).to_numpy(bool)
        if keywords and len(txt)
        else np.zeros(len(txt), bool)
    )
    reason[(reason == "") & kw] = "keyword"

    is_out = cat.isin(list(OUTAGE_CATEGORIES)).to_numpy()
    is_volt = cat.isin(list(VOLTAGE_CATEGORIES)).to_numpy()
    outage_match = np.full(len(c), np.nan)
    if outages is not None and len(outages):
        outage_match = _outage_match(c, time_ns, is_out, network, outages, s)
    lv_match = np.full(len(c), np.nan)
    if voltage_daily is not None and len(voltage_daily):
        lv_match = _lv_match(c, time_ns, is_volt, voltage_daily, s)
    if s.require_matching_event:
        reason[(reason == "") & is_out & (outage_match == 0)] = "no_matching_outage"
        reason[(reason == "") & is_volt & (lv_match == 0)] = "no_matching_low_voltage"
    c["outage_match"] = outage_match
    c["low_voltage_match"] = lv_match
    c["reason"] = pd.Series(reason, dtype=object)
    c["reasonable"] = _reasonable(c, reason == "")
    c["counted"] = c["reasonable"].to_numpy() & ~c["repeat"].to_numpy()
    c["category"] = cat.to_numpy(object)
    return c


def _repeats(c: pd.DataFrame) -> np.ndarray:
    """Whether each ticket is a repeated call merged into another ticket."""
    tid = text(c["ticket_id"]) if "ticket_id" in c else pd.Series([None] * len(c), dtype=object)
    merged = (
        text(c["merged_into"]) if "merged_into" in c else pd.Series([None] * len(c), dtype=object)
    )
    return np.array([m is not None and m != i for m, i in zip(merged, tid)], dtype=bool)


def _reasonable(c: pd.DataFrame, by_rule: np.ndarray) -> np.ndarray:
    """The source's ``reasonable`` flag where it gives one, else the rules' verdict."""
    if "reasonable" not in c:
        return by_rule.astype(bool)
    given = c["reasonable"].astype("object")
    has = given.notna().to_numpy() & (given.astype(str).str.strip() != "").to_numpy()
    vals = np.array([as_bool(v) for v in given], dtype=bool)
    return np.where(has, vals, by_rule).astype(bool)


def _outage_match(c, time_ns, is_out, network, outages, s) -> np.ndarray:
    model = InterruptionModel(network, outages, s, None, int(time_ns.max()) if len(time_ns) else 0)
    it = interruption_table(model)
    before = s.complaint_match_before_hours * NS_PER_HOUR
    after = s.complaint_match_after_hours * NS_PER_HOUR
    by_area = {
        k: (g["start_ns"].to_numpy(), g["end_ns"].to_numpy())
        for k, g in it[it["transformer"].notna()].groupby("transformer")
    }
    by_feeder = {
        k: (g["start_ns"].to_numpy(), g["end_ns"].to_numpy())
        for k, g in it[it["feeder"].notna()].groupby("feeder")
    }
    out = np.full(len(c), np.nan)
    for i in np.flatnonzero(is_out):
        a, f = c.at[i, "area"], c.at[i, "feeder_matched"]
        iv = by_area.get(a) if a is not None else by_feeder.get(f) if f is not None else None
        if a is None and f is None:
            continue
        if iv is None:
            out[i] = 0.0
            continue
        st, en = iv
        out[i] = float(np.any((time_ns[i] >= st - before) & (time_ns[i] <= en + after)))
    return out


def _lv_match(c, time_ns, is_volt, voltage_daily, s) -> np.ndarray:
    x = voltage_daily[voltage_daily["phase"].astype(str) == "X"]
    ps = to_ns(x["period_start"], "UTC")
    day = local_floor(ps, s.tz, "D")
    bad = {}
    for t, d, b in zip(text(x["transformer"]), day, x["minutes_below"].to_numpy(float)):
        bad.setdefault(t, {})[int(d)] = bad.get(t, {}).get(int(d), 0.0) + b
    out = np.full(len(c), np.nan)
    cd = local_floor(time_ns, s.tz, "D") if len(time_ns) else time_ns
    for i in np.flatnonzero(is_volt):
        a = c.at[i, "area"]
        if a is None or a not in bad:
            continue
        days = bad[a]
        d = int(cd[i])
        out[i] = float(any(days.get(d + k * NS_PER_DAY, 0.0) > 0 for k in (0, -1)))
    return out


def complaint_summary(classified: pd.DataFrame, by: str = "feeder") -> pd.DataFrame:
    """Ticket counts per feeder (or area / substation): total, repeats, unreasonable, counted,
    and per category of counted tickets. Unmatched tickets form the row with a missing key."""
    key = {"feeder": "feeder_matched", "area": "area", "substation": "substation_matched"}[by]
    c = classified.copy()
    c["_key"] = c[key].astype(object).where(c[key].notna(), "(unmatched)")
    g = c.groupby("_key", sort=True)
    out = pd.DataFrame(
        {
            "tickets": g.size(),
            "repeats": g["repeat"].sum(),
            "unreasonable": g["reasonable"].apply(lambda x: int((~x.astype(bool)).sum())),
            "counted": g["counted"].sum(),
        }
    )
    per_cat = c[c["counted"]].pivot_table(
        index="_key", columns="category", values="counted", aggfunc="count", fill_value=0
    )
    out = out.join(per_cat, how="left").fillna(0)
    return out.reset_index().rename(columns={"_key": by})
