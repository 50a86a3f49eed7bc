"""The substation table of the upgrade priorities (steps 3 and 4 of
:mod:`analytics.priorities`): 35 kV-level interruptions belong to the substation, never to its
feeders; its faults are thinned to a sound rate shrunk across substations, while overload trips
and supply shortage (限电) are avoidable in full; a sound substation also lifts the sag of its
bus."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.areas import text
from analytics.fault_rates import excess_rates
from analytics.ranking_tables import AreaGrouping, RankingInputs, counted_per, score_and_rank

DRIVERS = ("interruptions", "hours", "repeated")


@dataclass(frozen=True)
class SubstationOutages:
    """The window's substation-owned interruptions (one row per area) and its 35 kV faults."""

    interruptions: pd.DataFrame
    #: whether each interruption is a 35 kV fault (not an overload trip or supply shortage)
    is_fault: np.ndarray
    #: per substation: fault events
    observed: np.ndarray
    #: per substation: empirical-Bayes and sound fault rates per year
    estimate: np.ndarray
    sound: np.ndarray


def _ids(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "\0")


def substation_table(inputs: RankingInputs) -> pd.DataFrame:
    """Substations with their avoidable complaints per year and its breakdown, fault rates,
    key figures, score, rank and project (see :func:`analytics.priorities.rank`)."""
    areas, ad = inputs.areas, inputs.area_drivers
    ss = (
        inputs.network["substations"].copy()
        if "substations" in inputs.network
        else pd.DataFrame({"substation": sorted(set(areas["substation"].dropna()))})
    )
    sid = text(ss["substation"])
    s_index = pd.Index(sid)
    per_sub = AreaGrouping.of(s_index, _ids(areas["substation"]))
    so = substation_outages(inputs, s_index)
    parts = _outage_parts(inputs, so, per_sub)
    out = pd.DataFrame({"substation": sid})
    if "name" in ss:
        out["name"] = ss["name"].astype(object).to_numpy()
    out["avoidable_complaints"] = (
        parts["interruptions"] + parts["hours"] + parts["repeated"] + parts["low_voltage"]
    )
    out["from_interruptions"] = parts["interruptions"]
    out["from_duration"] = parts["hours"]
    out["from_repeated_outages"] = parts["repeated"]
    out["from_low_voltage"] = parts["low_voltage"]
    out["customer_hours_avoided"] = _customer_hours(so, s_index, len(areas)) / inputs.years
    lv_share_sub = np.where(
        ad["lv_hours"] > 0, ad["lv_hours_sub"] / np.maximum(ad["lv_hours"], 1e-9), 0.0
    )
    out["lv_customer_hours_removed"] = (
        per_sub.sum(ad["lv_hours"].to_numpy() * ad["households"].to_numpy() * lv_share_sub)
        / inputs.years
    )
    out["observed_complaints"] = per_sub.sum(ad["observed_complaints"])
    out["complaints_counted"] = counted_per(inputs.complaints, "substation_matched", sid)
    out["expected_complaints"] = per_sub.sum(ad["expected_complaints"])
    out["customers"] = per_sub.sum(areas["households"])
    out["fault_outages_35kv"] = so.observed
    out["fault_rate_eb"] = so.estimate
    out["fault_rate_sound"] = so.sound
    out["overload_or_shortage_events"] = _overload_or_shortage_events(so, s_index)
    cap = pd.to_numeric(
        ss.get("capacity_mva", pd.Series(np.full(len(ss), np.nan))), errors="coerce"
    ).to_numpy(float)
    peak_mw = per_sub.sum(ad["kw_max"].to_numpy(float)) / 1000.0
    out["load_ratio"] = np.where(cap > 0, peak_mw / np.where(cap > 0, cap, 1), np.nan)
    out["low_voltage_days"] = per_sub.sum(ad["lv_days"])
    return score_and_rank("substation", out, inputs.settings)


def substation_outages(inputs: RankingInputs, s_index: pd.Index) -> SubstationOutages:
    """Substation-owned interruptions, which of them are 35 kV faults, and the substations'
    fault rates (shrunk across substations, the sound one the ``reference_quantile``)."""
    s = inputs.settings
    n_s = len(s_index)
    level_sub = inputs.interruptions[inputs.interruptions["owner"] == "substation"].copy()
    # 35 kV faults (not overload trips or supply shortage) are thinned to a sound rate
    cause = level_sub["cause"].fillna("").astype(str).str.lower().to_numpy()
    is_fault = (~level_sub["supply_shortage"].to_numpy(bool)) & (cause != "overload")
    ev = level_sub[is_fault].drop_duplicates(["event_id"])
    ev_s = s_index.get_indexer(_ids(ev["substation"]))
    n_obs = np.bincount(ev_s[ev_s >= 0], minlength=n_s).astype(float)
    eb, ref = excess_rates(
        n_obs,
        inputs.years,
        None,
        np.ones(n_s),
        s.reference_quantile,
        max_dispersion=s.substation_rate_max_dispersion,
    )
    return SubstationOutages(level_sub, is_fault, n_obs, eb, ref)


def _outage_parts(
    inputs: RankingInputs, so: SubstationOutages, per_sub: AreaGrouping
) -> dict[str, np.ndarray]:
    """Avoidable complaints per substation and year by driver: all those of overload trips and
    supply shortage, the avoidable fraction of those of its faults; and the low-voltage ones a
    sound bus removes."""
    ad, b, w, years = inputs.area_drivers, inputs.b, inputs.weights, inputs.years
    n_areas = len(inputs.areas)
    n_obs = so.observed
    frac = np.where(
        n_obs > 0, np.maximum(so.estimate - so.sound, 0) / np.maximum(n_obs / years, 1e-9), 0.0
    )

    def contrib(mask: np.ndarray, drv: str) -> np.ndarray:
        sub_it = so.interruptions[mask]
        loc = sub_it["slot"].to_numpy() < n_areas
        sl = sub_it["slot"].to_numpy()[loc]
        val = {
            "interruptions": np.ones(loc.sum()),
            "hours": sub_it["hours"].to_numpy()[loc],
            "repeated": sub_it["repeated"].to_numpy(float)[loc],
        }[drv]
        per_area = np.bincount(sl, weights=val, minlength=n_areas) * w * b[drv]
        return per_sub.sum(per_area) / years

    parts = {}
    for drv in DRIVERS:
        always = contrib(~so.is_fault, drv)
        faults = contrib(so.is_fault, drv)
        parts[drv] = always + np.where(n_obs > 0, faults * frac, 0.0)
    parts["low_voltage"] = (
        per_sub.sum((b["lv_hours"] * ad["lv_hours_sub"] + b["lv_days"] * ad["lv_days_sub"]) * w)
        / years
    )
    return parts


def _customer_hours(so: SubstationOutages, s_index: pd.Index, n_areas: int) -> np.ndarray:
    """Customer-hours (households) of the substation-owned interruptions in the window."""
    level_sub = so.interruptions
    loc = level_sub["slot"].to_numpy() < n_areas
    return np.bincount(
        s_index.get_indexer(_ids(level_sub["substation"]))[loc].clip(0),
        weights=(level_sub["customers"] * level_sub["hours"]).to_numpy(float)[loc],
        minlength=len(s_index),
    )


def _overload_or_shortage_events(so: SubstationOutages, s_index: pd.Index) -> np.ndarray:
    """Overload trips and supply-shortage events per substation."""
    other = ~so.is_fault
    if not other.any():
        return np.zeros(len(s_index))
    events = so.interruptions[other].drop_duplicates("event_id")["substation"].astype(object)
    return np.bincount(s_index.get_indexer(events).clip(0), minlength=len(s_index))
