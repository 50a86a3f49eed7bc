"""The ranked tables of the upgrade priorities (step 4 of :mod:`analytics.priorities`): what
the feeder and substation tables are computed from, the score, the rank and the project kind
each row recommends. The tables themselves: :mod:`analytics.feeder_ranking` and
:mod:`analytics.substation_ranking`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.settings import AnalyticsSettings

PROJECTS = {
    "35kv_capacity_upgrade": "35 kV capacity upgrade (主变增容)",
    "new_substation_point": "new 35 kV substation point (新建变电站布点)",
    "reconductoring": "10 kV reconductoring (导线改造)",
    "feeder_split": "10 kV feeder split (线路切改/分割)",
    "new_tie": "10 kV new tie line (新建联络)",
    "insulation_or_automation": "insulation or distribution automation (绝缘化/配电自动化)",
    "area_split_or_capacity": "area split or transformer capacity (台区切改/增容)",
    "none": "no upgrade indicated (暂无)",
}
COST_ALIASES = {
    "reconductor": "reconductoring",
    "split": "feeder_split",
    "tie": "new_tie",
    "automation": "insulation_or_automation",
    "insulation": "insulation_or_automation",
    "capacity_35kv": "35kv_capacity_upgrade",
    "substation": "new_substation_point",
    "area": "area_split_or_capacity",
}


@dataclass(frozen=True)
class RankingInputs:
    """What the feeder and substation tables of one window are computed from."""

    network: dict
    #: the network's areas (:func:`analytics.areas.areas_table`, households basis)
    areas: pd.DataFrame
    #: per area: drivers and what each causes (:func:`analytics.attribution.attributed_areas`)
    #: with the low-voltage hours and days a sound feeder / substation removes (``lv_*``)
    area_drivers: pd.DataFrame
    #: sustained interruptions of the window (:class:`analytics.area_drivers.InterruptionDrivers`)
    interruptions: pd.DataFrame
    #: the complaint model's coefficient per driver
    b: dict[str, float]
    #: the complaint model's weight per area
    weights: np.ndarray
    #: the window's length in years
    years: float
    #: classified complaints of the window
    complaints: pd.DataFrame
    #: momentary feeder events per feeder in the window
    momentary_events: pd.Series
    window: tuple
    settings: AnalyticsSettings


@dataclass(frozen=True)
class AreaGrouping:
    """Areas grouped by feeder or substation (``codes``: the group of each area, -1 none)."""

    codes: np.ndarray
    n_groups: int

    @classmethod
    def of(cls, ids: pd.Index, area_ids: pd.Series) -> AreaGrouping:
        """Areas grouped by their id in ``area_ids`` among ``ids``."""
        return cls(ids.get_indexer(area_ids), len(ids))

    def sum(self, values) -> np.ndarray:
        """Per group, the sum of a per-area value."""
        ok = self.codes >= 0
        return np.bincount(
            self.codes[ok], weights=np.asarray(values, float)[ok], minlength=self.n_groups
        )


def counted_per(complaints: pd.DataFrame, column: str, ids: pd.Series) -> np.ndarray:
    """Counted complaints per id of ``column`` (feeder_matched, substation_matched)."""
    counted = complaints[complaints["counted"].to_numpy(bool)]
    return counted.groupby(column).size().reindex(ids).fillna(0).to_numpy()


def score_and_rank(level: str, out: pd.DataFrame, s: AnalyticsSettings) -> pd.DataFrame:
    """The table of ``level`` with its score, rank, project kind and cost figures: score =
    avoidable complaints + weighted customer-hours avoided and low-voltage customer-hours
    removed (per 1000); rank 1 = the highest score."""
    out["score"] = (
        s.weight_complaints * out["avoidable_complaints"]
        + s.weight_customer_hours * out["customer_hours_avoided"] / 1000.0
        + s.weight_low_voltage_hours * out["lv_customer_hours_removed"] / 1000.0
    )
    cpk = np.where(
        out["customers"] > 0,
        out["observed_complaints"] / np.maximum(out["customers"], 1) * 1000,
        np.nan,
    )
    out["complaints_per_1000"] = cpk
    out["project"] = [project_kind(level, r) for r in out.itertuples(index=False)]
    out["project_label"] = out["project"].map(PROJECTS)
    costs = {COST_ALIASES.get(k, k): float(v) for k, v in dict(s.costs).items()}
    out["cost_10k_yuan"] = out["project"].map(lambda p: costs.get(p, np.nan)).astype(float)
    out["avoided_per_10k_yuan"] = out["avoidable_complaints"] / out["cost_10k_yuan"]
    out = out.sort_values(["score", level], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def project_kind(level: str, r) -> str:
    """The project that removes most of a row's avoidable complaints (one of :data:`PROJECTS`)."""
    parts = {
        "interruptions": r.from_interruptions,
        "duration": r.from_duration,
        "repeated": r.from_repeated_outages,
        "low_voltage": r.from_low_voltage,
    }
    outage = parts["interruptions"] + parts["duration"] + parts["repeated"]
    local = getattr(r, "local_low_voltage_complaints", 0.0)
    if outage + parts["low_voltage"] + local < 1e-6:
        return "none"
    if level == "substation":
        loaded = (
            np.isfinite(r.load_ratio) and r.load_ratio >= 0.9
        ) or r.overload_or_shortage_events > 0
        return (
            "35kv_capacity_upgrade"
            if loaded or r.from_low_voltage > outage
            else "new_substation_point"
        )
    if local > max(outage, r.from_low_voltage):
        return "area_split_or_capacity"
    if r.from_low_voltage > outage:
        lr = r.load_ratio if np.isfinite(r.load_ratio) else 0.0
        return "feeder_split" if lr >= 0.8 or r.length_km >= 15 else "reconductoring"
    if parts["duration"] > parts["interruptions"] + parts["repeated"]:
        return "new_tie"
    return "insulation_or_automation"


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------
