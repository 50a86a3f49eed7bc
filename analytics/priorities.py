"""Upgrade priorities: rank 10 kV feeders and 35 kV substations by the complaints an upgrade would
avoid per year, and explain each rank (DESIGN.md, "Upgrade priorities").

Method (all fitted on the data passed in; nothing is read from the simulator's truth):

1. **Drivers per transformer area** over the window: sustained interruptions (IEEE 1366-2022,
   merged per area) split by who owns them - the feeder (unplanned 10 kV outages), the
   substation (unplanned 35 kV outages, overload trips, supply shortage / 限电), or no upgrade
   (planned work, area-level outages); for each, the number of interruptions, their hours, and
   repeated outages (each interruption's count beyond the 频繁停电 threshold in the area's
   rolling 60 days); plus low-voltage hours and days (GB/T 12325-2008, daily X-phase rollups).
   Drivers are weighted by customers^γ (calls grow less than proportionally with households;
   γ ∈ {0.5, 0.75, 1} by likelihood) times the town's propensity to call 95598 (empirical-Bayes
   ratio of observed to expected complaints over the town's areas).
2. **Attribution**: counted complaints per area (reasonable, repeats merged, unmatched tickets
   located by address where possible) = Σ b_k · driver_k, b_k ≥ 0, by Poisson maximum
   likelihood (:func:`analytics.attribution.attribute`); b_k · driver_k is what driver k causes.
3. **Underlying fault rates**: one year on one feeder is a handful of events, so each cause's
   rate (storm days apart: days when many feeders fault at once) is an empirical-Bayes estimate
   shrunk towards a Poisson regression on the feeder's attributes (log length, log conductor
   section, age, customer density, load ratio, and the momentary-interruption rate per km,
   itself an empirical-Bayes estimate shrunk towards the same attributes)
   (:func:`analytics.fault_rates.shrink_rates`). The sound rate is the same regression for the
   feeder rebuilt to the best standard in the network (largest section, newest, lowest
   momentary rate), and the excess is the posterior mean of (rate − sound rate)⁺ over the
   rate's Gamma posterior. Storm outages have a second estimate, averaged with that one
   (weight ``storm_hit_weight``): each storm hits a feeder with probability
   1 − exp(−severity·exposure), the exposure fitted over the period's storms with storm fixed
   effects and shrunk per feeder (:func:`analytics.fault_rates.storm_hit_excess`). 35 kV fault
   rates are shrunk across substations, the sound one being the ``reference_quantile`` of
   them; overload trips and supply shortage are avoidable in full.
4. **Avoidable complaints per year** = expected complaints per fault (fitted b at the feeder's
   customers and the causes' mean durations) × (rate − sound rate) + the repeated-outage
   complaints its faults make up, scaled the same way + the low-voltage complaints an upgrade
   removes: a voltage-profile fit per feeder (minimum voltage against electrical distance)
   gives the feeder's drop; a sound feeder drops the ``drop_reference_quantile`` per km; a
   substation owns the sag of its bus below its own usual level; a low-voltage area-day is
   removed when the uplift brings it to 198 V; what neither removes is local to the area
   (recommends an area project). 35 kV-level outages belong to the substation, never to its
   feeders.

The score adds weighted customer-hours avoided and low-voltage customer-hours removed (per 1000,
weights from settings). Measured against the simulator's ground truth: see
tests/analytics/test_an_truth.py and bench/bench_analytics.py.

Where each step lives: drivers in :mod:`analytics.area_drivers`; the complaint model in
:mod:`analytics.complaint_model` (on :mod:`analytics.attribution`); fault rates and storms in
:mod:`analytics.fault_rates`; the low-voltage uplift in :mod:`analytics.lv_uplift`; the tables in
:mod:`analytics.feeder_ranking` and :mod:`analytics.substation_ranking`, scored and ranked by
:mod:`analytics.ranking_tables`. This module runs them per window and combines the years.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analytics import reliability
from analytics.area_drivers import (
    counted_complaints,
    daily_x_rows,
    interruption_drivers,
    low_voltage_drivers,
)
from analytics.areas import areas_table
from analytics.complaint_model import attributed_areas, fit_complaint_model
from analytics.complaints import classify_complaints
from analytics.feeder_ranking import feeder_table
from analytics.lv_uplift import low_voltage_removed
from analytics.ranking_tables import COST_ALIASES, PROJECTS, RankingInputs, score_and_rank
from analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from analytics.substation_ranking import substation_table
from analytics.times import NS_PER_DAY, ns_view, to_ns, window_ns

__all__ = ["COST_ALIASES", "PROJECTS", "Analysis", "analyse", "rank"]


@dataclass
class Analysis:
    """Everything :func:`rank` computes once, reusable for both levels and the indices."""

    network: dict
    settings: AnalyticsSettings
    window: tuple
    areas: pd.DataFrame
    area_drivers: pd.DataFrame
    complaints: pd.DataFrame
    fit: dict
    coefficients: pd.DataFrame
    feeders: pd.DataFrame
    substations: pd.DataFrame
    outages: pd.DataFrame
    #: shared with other calls on the same network and outages (see reliability.indices)
    reliability_cache: dict | None = None
    #: the windows combined, latest first (one unless several years were used)
    years: list | None = None

    def rank(self, level: str) -> pd.DataFrame:
        """The ranked table of ``level`` ("feeder" or "substation"), as :func:`rank` returns it."""
        if level not in ("feeder", "substation"):
            raise ValueError(f"level must be feeder or substation: {level!r}")
        table = self.feeders if level == "feeder" else self.substations
        return _with_indices(level, table.copy(), self)


def _default_window(
    outages: pd.DataFrame, complaints: pd.DataFrame, settings: AnalyticsSettings
) -> tuple:
    ends = []
    for df, col in ((outages, "start"), (complaints, "time")):
        if df is not None and len(df):
            ends.append(to_ns(df[col], settings.tz).max())
    end = pd.Timestamp(max(ends), tz="UTC") if ends else pd.Timestamp.now(tz="UTC")
    local_end = end.tz_convert(settings.tz).normalize() + pd.Timedelta(days=1)
    return (local_end - pd.Timedelta(days=settings.window_days), local_end)


OUTAGE_ESTIMATES = (
    "from_interruptions",
    "from_duration",
    "from_repeated_outages",
    "customer_hours_avoided",
    "fault_rate_eb",
    "fault_rate_sound",
    "expected_per_fault",
)
VOLTAGE_ESTIMATES = (
    "from_low_voltage",
    "lv_customer_hours_removed",
    "local_low_voltage_complaints",
)


def analyse(
    network: dict,
    outages: pd.DataFrame,
    complaints: pd.DataFrame,
    voltage_daily: pd.DataFrame | None,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    window: tuple | None = None,
    classified: pd.DataFrame | None = None,
    reliability_cache: dict | None = None,
) -> Analysis:
    """Run the whole priority analysis once (see the module docstring); :func:`rank` calls it.

    Several years (issue 15): besides the window (the latest year), the earlier windows of the
    same length that the data cover (outages and complaints from at most a tenth of the window
    after its start), up to ``history_years`` in all, are analysed together as one pooled window
    (the estimator pools their counts: rates and attribution over n years). Each per-year
    estimate (:data:`OUTAGE_ESTIMATES`, and :data:`VOLTAGE_ESTIMATES` when every earlier year
    has voltage rollups) is then λ × the latest year's + (1 − λ) × the pooled one, λ =
    ``recent_year_weight``: over n years the latest weighs λ + (1 − λ)/n and each earlier one
    (1 − λ)/n (0.5 and 0.25 each with three years and λ = 0.25). Avoidable complaints, score,
    project and rank follow; ``years_used`` says how many years; observed figures (complaints,
    outages counted, SAIDI) stay the latest window's.

    For callers that analyse several windows of the same data: ``classified`` is
    :func:`classify_complaints` of all ``complaints`` (it does not depend on the window), and
    ``reliability_cache`` a dict shared by reliability calls on the same network and outages
    (see :func:`analytics.reliability.indices`)."""
    s = settings
    if window is None:
        window = _default_window(outages, complaints, s)
    if classified is None and s.history_years > 1:
        classified = classify_complaints(
            complaints, network=network, outages=None, voltage_daily=None, settings=s
        )
    if reliability_cache is None:  # both levels' indices share one placement of the outages
        reliability_cache = {}
    earlier = _earlier_windows(outages, complaints, window, s)
    # several windows: the rollups' X rows are read once for all (a county's three years of
    # daily rollups are millions of rows; reading them per window took a second each), and
    # their period starts converted once
    ps = _period_starts(voltage_daily) if earlier else None
    x_rows = (
        daily_x_rows(voltage_daily, areas_table(network, "households"), None, s, ps)
        if earlier
        else None
    )
    latest = _analyse_window(
        network,
        outages,
        complaints,
        voltage_daily,
        s,
        window,
        classified,
        reliability_cache,
        x_rows,
    )
    if not earlier:
        latest.feeders["years_used"] = 1
        latest.substations["years_used"] = 1
        return latest
    # all the covered years as one window: the estimator pools their counts
    pooled_window = (earlier[-1][1][0], latest.window[1])
    pooled = _analyse_window(
        network, outages, complaints, voltage_daily, s, pooled_window, classified, None, x_rows
    )
    lam = s.recent_year_weight
    # the pooled low-voltage estimates only when every earlier year has readings
    voltage_all = all(_has_voltage(ps, w, s) for _, w in earlier)
    n = 1 + len(earlier)
    parts = [(lam, latest, True), (1.0 - lam, pooled, voltage_all)]
    feeders = _combine_years("feeder", [(w, a.feeders, v) for w, a, v in parts], n, s)
    subs = _combine_years("substation", [(w, a.substations, v) for w, a, v in parts], n, s)
    return replace(latest, feeders=feeders, substations=subs, years=[latest.window, pooled_window])


def _earlier_windows(
    outages: pd.DataFrame, complaints: pd.DataFrame, window: tuple, s: AnalyticsSettings
) -> list[tuple[int, tuple]]:
    """(k, window k lengths before ``window``) for k = 1 .. history_years − 1 that the data
    cover: the first outage and the first complaint at most a tenth of the window after its
    start ("all there is": a partly covered year is not used)."""
    if s.history_years <= 1 or outages is None or complaints is None:
        return []
    if len(outages) == 0 or len(complaints) == 0:
        return []
    ws, we = window_ns(window, s.tz)
    length = we - ws
    first = max(
        int(to_ns(outages["start"], s.tz).min()), int(to_ns(complaints["time"], s.tz).min())
    )
    out = []
    for k in range(1, s.history_years):
        start = ws - k * length
        if first > start + length // 10:
            break
        out.append(
            (
                k,
                (
                    pd.Timestamp(start, tz="UTC").tz_convert(s.tz),
                    pd.Timestamp(start + length, tz="UTC").tz_convert(s.tz),
                ),
            )
        )
    return out


def _period_starts(voltage_daily: pd.DataFrame | None) -> np.ndarray | None:
    """The rollups' period starts (UTC ns), None without rollups."""
    if voltage_daily is None or len(voltage_daily) == 0 or "period_start" not in voltage_daily:
        return None
    return ns_view(voltage_daily["period_start"], "UTC")  # read only


def _has_voltage(period_starts: np.ndarray | None, window: tuple, s: AnalyticsSettings) -> bool:
    """Whether rollups (their :func:`_period_starts`) fall in the window."""
    if period_starts is None:
        return False
    ws, we = window_ns(window, s.tz)
    return bool(((period_starts >= ws) & (period_starts < we)).any())


def _combine_years(level: str, years: list, n_years: int, s: AnalyticsSettings) -> pd.DataFrame:
    """The latest year's table with the per-year estimates replaced by weighted means of the
    tables in ``years`` ((weight, table, has voltage) each, the latest first)."""
    latest = years[0][1].set_index(level)
    out = latest.copy()
    for cols, use in ((OUTAGE_ESTIMATES, [True] * len(years)), (VOLTAGE_ESTIMATES, None)):
        chosen = [
            (w, t.set_index(level))
            for i, (w, t, has_v) in enumerate(years)
            if (use[i] if use is not None else (has_v or i == 0)) and w > 0
        ]
        if not chosen:
            continue  # e.g. no weight on the latest year and no readings in the earlier ones
        for col in cols:
            if col not in out:
                continue
            num = sum(w * t[col].reindex(out.index).fillna(0.0) for w, t in chosen)
            den = sum(w * t[col].reindex(out.index).notna() for w, t in chosen)
            out[col] = (num / den.where(den > 0)).fillna(latest[col])
    out["avoidable_complaints"] = (
        out["from_interruptions"]
        + out["from_duration"]
        + out["from_repeated_outages"]
        + out["from_low_voltage"]
    )
    out["years_used"] = n_years
    derived = ("rank", "score", "complaints_per_1000", "project", "project_label")
    derived += ("cost_10k_yuan", "avoided_per_10k_yuan")
    out = out.reset_index().drop(columns=list(derived), errors="ignore")
    return score_and_rank(level, out, s)


def _analyse_window(
    network: dict,
    outages: pd.DataFrame,
    complaints: pd.DataFrame,
    voltage_daily: pd.DataFrame | None,
    s: AnalyticsSettings,
    window: tuple,
    classified: pd.DataFrame | None,
    reliability_cache: dict | None,
    x_rows: dict | None = None,
) -> Analysis:
    """The analysis of one window (see the module docstring); ``x_rows``: the rollups' X rows
    over all the windows analysed (:func:`analytics.area_drivers.daily_x_rows`), if read."""
    bounds = window_ns(window, s.tz)
    areas = areas_table(network, "households")
    # 1. drivers per area
    outage_drivers = interruption_drivers(network, outages, len(areas), bounds, s)
    voltage = low_voltage_drivers(voltage_daily, areas, window, s, x_rows)
    cc, observed = counted_complaints(complaints, classified, network, areas, bounds, s)
    # 2. attribution of the complaints to the drivers
    model = fit_complaint_model(outage_drivers, voltage, areas, observed, s)
    ad = attributed_areas(areas, outage_drivers, voltage, observed, model)
    for k, v in low_voltage_removed(network, areas, voltage.rows, s).items():
        ad[f"lv_{k}"] = v
    # 3 and 4. fault rates, and what an upgrade avoids per feeder and substation
    inputs = RankingInputs(
        network=network,
        areas=areas,
        area_drivers=ad,
        interruptions=outage_drivers.interruptions,
        b=model.b,
        weights=model.weights,
        years=(bounds[1] - bounds[0]) / (365.0 * NS_PER_DAY),
        complaints=cc,
        momentary_events=outage_drivers.momentary_events,
        window=window,
        settings=s,
    )
    return Analysis(
        network=network,
        settings=s,
        window=window,
        areas=areas,
        area_drivers=ad,
        complaints=cc,
        fit=model.fit,
        coefficients=model.coefficients,
        feeders=feeder_table(inputs),
        substations=substation_table(inputs),
        outages=outages,
        reliability_cache=reliability_cache,
    )


def rank(
    level: str,
    network: dict,
    outages: pd.DataFrame,
    complaints: pd.DataFrame,
    voltage_daily: pd.DataFrame | None,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    window: tuple | None = None,
) -> pd.DataFrame:
    """Feeders (``level="feeder"``) or substations ranked by avoidable complaints per year.

    One row per feeder / substation, sorted by ``rank`` (1 = upgrade first): ``score``
    (avoidable complaints + weighted customer-hours avoided and low-voltage customer-hours
    removed, per 1000), ``avoidable_complaints`` and its breakdown ``from_interruptions``,
    ``from_duration``, ``from_repeated_outages``, ``from_low_voltage``; key figures (``saidi``,
    ``saifi``, ``low_voltage_days``, ``complaints_per_1000``, ``load_ratio``, observed and
    expected complaints, customers, estimated and sound fault rates); ``project`` (one of
    :data:`PROJECTS`) with ``project_label``; and, with ``settings.costs``, ``cost_10k_yuan``
    and ``avoided_per_10k_yuan``. ``window`` defaults to the last ``settings.window_days`` of
    the data. Model and rules: module docstring."""
    if level not in ("feeder", "substation"):
        raise ValueError(f"level must be feeder or substation: {level!r}")
    return analyse(network, outages, complaints, voltage_daily, settings, window).rank(level)


def _with_indices(level: str, out: pd.DataFrame, a: Analysis) -> pd.DataFrame:
    idx = reliability.indices(
        level,
        a.network,
        a.outages,
        window=a.window,
        settings=a.settings,
        basis="households",
        cache=a.reliability_cache,
    )
    keep = idx[[level, "saidi", "saifi", "caidi"]]
    if out.empty or keep.empty:  # empty frames' key columns may disagree in dtype
        out = out.reindex(columns=[*out.columns, "saidi", "saifi", "caidi"])
    else:
        out = out.merge(keep, on=level, how="left")
    cols = ["rank", level] + [c for c in out.columns if c not in ("rank", level)]
    return out[cols]
