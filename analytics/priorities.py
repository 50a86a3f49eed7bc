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
   effects and shrunk per feeder (:func:`analytics.fault_rates.storm_hit_excess`). 35 kV fault rates are shrunk
   across substations, the sound one being the ``reference_quantile`` of them; overload trips
   and supply shortage are avoidable in full.
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
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from analytics.areas import areas_table, factor_text, text
from analytics.attribution import attribute
from analytics.complaints import classify_complaints
from analytics.fault_rates import excess_rates, find_storm_days, shrink_rates, storm_hit_excess
from analytics.interruptions import InterruptionModel, interruption_table
from analytics.reliability import indices as _indices
from analytics.reliability import system_indices as _system_indices
from analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from analytics.times import NS_PER_DAY, local_floor, to_ns, window_ns

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
CLASSES = ("feeder", "substation", "area", "planned")


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


def _owner_class(it: pd.DataFrame) -> np.ndarray:
    """feeder: unplanned feeder-level outages; substation: unplanned 35 kV outages (faults,
    overload trips) and supply shortage (限电); area: unplanned area-level outages; planned:
    planned work (announced, so customers complain less: it has its own coefficients)."""
    level = it["level"].to_numpy(object)
    planned = it["planned"].to_numpy(bool)
    short = it["supply_shortage"].to_numpy(bool)
    cls = np.full(len(it), "area", dtype=object)
    cls[(level == "feeder") & ~planned & ~short] = "feeder"
    cls[((level == "substation") & ~planned) | short] = "substation"
    cls[planned & ~short] = "planned"
    return cls


def _repeat_counts(slot: np.ndarray, start: np.ndarray, days: int) -> np.ndarray:
    """For each interruption, how many of the area's interruptions started in the preceding
    ``days`` days, itself included (the k in 'k-th outage in 60 days')."""
    order = np.lexsort((start, slot))
    s, t = slot[order].astype(np.float64), start[order].astype(np.float64) / NS_PER_DAY
    key = s * 1e6 + t
    k = np.arange(len(key)) - np.searchsorted(key, key - days, side="right") + 1
    out = np.empty(len(key), dtype=np.int64)
    out[order] = k
    return out


#: per-year estimates that the multi-year ranking averages with recency weights (issue 15)
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
    latest = _analyse_window(
        network, outages, complaints, voltage_daily, s, window, classified, reliability_cache
    )
    earlier = _earlier_windows(outages, complaints, window, s)
    if not earlier:
        latest.feeders["years_used"] = 1
        latest.substations["years_used"] = 1
        return latest
    # all the covered years as one window: the estimator pools their counts
    pooled_window = (earlier[-1][1][0], latest.window[1])
    pooled = _analyse_window(
        network, outages, complaints, voltage_daily, s, pooled_window, classified, None
    )
    lam = s.recent_year_weight
    # the pooled low-voltage estimates only when every earlier year has readings
    voltage_all = all(_has_voltage(voltage_daily, w, s) for _, w in earlier)
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


def _has_voltage(voltage_daily: pd.DataFrame | None, window: tuple, s: AnalyticsSettings) -> bool:
    if voltage_daily is None or len(voltage_daily) == 0 or "period_start" not in voltage_daily:
        return False
    ws, we = window_ns(window, s.tz)
    ps = to_ns(voltage_daily["period_start"], "UTC")
    return bool(((ps >= ws) & (ps < we)).any())


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
    return _finish(level, out, s)


def _analyse_window(
    network: dict,
    outages: pd.DataFrame,
    complaints: pd.DataFrame,
    voltage_daily: pd.DataFrame | None,
    s: AnalyticsSettings,
    window: tuple,
    classified: pd.DataFrame | None,
    reliability_cache: dict | None,
) -> Analysis:
    """The analysis of one window (see the module docstring)."""
    ws, we = window_ns(window, s.tz)
    years = (we - ws) / (365.0 * NS_PER_DAY)
    areas = areas_table(network, "households")
    n_a = len(areas)
    cust = areas["households"].to_numpy(float)

    # --- 1. interruptions and drivers per area
    lookback = ws - s.frequent_area_window_days * NS_PER_DAY
    o_start = to_ns(outages["start"], s.tz) if len(outages) else np.zeros(0, np.int64)
    o = outages[(o_start >= lookback) & (o_start < we)] if len(outages) else outages
    model = InterruptionModel(network, o, s, "households", we)
    it = interruption_table(model)
    mom = it[
        it["momentary"].to_numpy()
        & (it["start_ns"].to_numpy() >= ws)
        & (it["level"].to_numpy(object) == "feeder")
    ]
    momentary_events = mom.drop_duplicates(["feeder", "event_id"])["feeder"].value_counts()
    it = it[~it["momentary"].to_numpy()].reset_index(drop=True)
    k60 = _repeat_counts(
        it["slot"].to_numpy(), it["start_ns"].to_numpy(), s.frequent_area_window_days
    )
    inwin = (it["start_ns"].to_numpy() >= ws).astype(bool)
    it = it[inwin].reset_index(drop=True)
    k60 = k60[inwin]
    cls = _owner_class(it)
    it["owner"] = cls
    it["k60"] = k60
    hours = np.minimum(it["end_ns"].to_numpy(), we) - it["start_ns"].to_numpy()
    it["hours"] = hours / 3.6e12
    it["repeated"] = np.maximum(0, k60 - (s.frequent_area_count_window - 1))
    located = it["slot"].to_numpy() < n_a
    itl = it[located]
    slot = itl["slot"].to_numpy()
    raw = {}
    for c in CLASSES:
        m = itl["owner"].to_numpy() == c
        raw[("interruptions", c)] = np.bincount(slot[m], minlength=n_a).astype(float)
        raw[("hours", c)] = np.bincount(slot[m], weights=itl["hours"].to_numpy()[m], minlength=n_a)
        raw[("repeated", c)] = np.bincount(
            slot[m], weights=itl["repeated"].to_numpy(float)[m], minlength=n_a
        )

    # voltage
    lv_hours = np.zeros(n_a)
    lv_days = np.zeros(n_a)
    xv = _x_rows(voltage_daily, areas, window, s)
    kw_max = np.zeros(n_a)
    if xv is not None:
        lv_hours = np.bincount(xv["a"], weights=xv["below"], minlength=n_a) / 60.0
        lv_days = np.bincount(
            xv["a"][xv["below"] >= s.low_voltage_min_hours * 60.0 - 1e-9], minlength=n_a
        ).astype(float)
        okw = np.isfinite(xv["kw"])
        np.maximum.at(kw_max, xv["a"][okw], xv["kw"][okw])

    # --- 2. complaints
    cc = (
        classified
        if classified is not None
        else classify_complaints(
            complaints, network=network, outages=None, voltage_daily=None, settings=s
        )
    )
    t_c = to_ns(cc["time"], s.tz)
    cc = cc[(t_c >= ws) & (t_c < we)].reset_index(drop=True)
    counted = cc[cc["counted"].to_numpy(bool)]
    a_idx = pd.Index(areas["transformer"]).get_indexer(
        counted["area"].astype(object).where(counted["area"].notna(), "\0")
    )
    y = np.bincount(a_idx[a_idx >= 0], minlength=n_a).astype(float)

    # --- fit, choosing the customer exponent by likelihood
    best = None
    for gamma in (0.5, 0.75, 1.0):
        w = np.power(np.maximum(cust, 1.0), gamma)
        X = _design(raw, lv_hours, lv_days, w)
        rows, coef, gof = attribute(X, y, list(X.columns))
        mu = np.maximum(rows["expected"].to_numpy(), 1e-12)
        ll = float(np.sum(y * np.log(mu) - mu))
        if best is None or ll > best[0]:
            best = (ll, gamma, w, rows, coef, gof)
    ll, gamma, w, rows, coef, gof = best
    # propensity to call: towns (and areas within them) differ in how readily customers call
    # 95598; estimated as empirical-Bayes ratios of observed to expected complaints, the
    # town's pooled over its areas, each area's shrunk towards its town (gamma-Poisson)
    prop = np.ones(n_a)
    town = areas["town"].astype(object).where(areas["town"].notna(), "").to_numpy(object)
    t_code, _ = pd.factorize(town)
    for _ in range(s.propensity_iterations):
        X = _design(raw, lv_hours, lv_days, w * prop)
        rows, coef, gof = attribute(X, y, list(X.columns))
        base_mu = rows["expected"].to_numpy() / prop
        O_t = np.bincount(t_code, weights=y)
        E_t = np.bincount(t_code, weights=base_mu)
        p_t = (O_t + s.propensity_prior_town) / (E_t + s.propensity_prior_town)
        k_a = s.propensity_prior_area
        p_a = (y + k_a * p_t[t_code]) / (base_mu + k_a) if np.isfinite(k_a) else p_t[t_code]
        norm = np.sum(p_a * base_mu) / max(np.sum(base_mu), 1e-12)
        if not (np.isfinite(norm) and norm > 0 and np.all(np.isfinite(p_a))):
            break  # nothing to learn from (no complaints, or no drivers)
        prop = p_a / norm
    if s.propensity_iterations:
        w = w * prop
        X = _design(raw, lv_hours, lv_days, w)
        rows, coef, gof = attribute(X, y, list(X.columns))
        mu = np.maximum(rows["expected"].to_numpy(), 1e-12)
        ll = float(np.sum(y * np.log(mu) - mu))
    b = dict(zip(coef["driver"], coef["coefficient"]))
    gof = dict(gof, gamma=gamma, loglik=ll)

    # per-area contributions by owner class
    contrib = {}
    for drv in ("interruptions", "hours", "repeated"):
        for c in CLASSES:
            key = f"{drv}_planned" if (c == "planned" and drv != "repeated") else drv
            contrib[(drv, c)] = b[key] * raw[(drv, c)] * w
    lv_contrib = (b["lv_hours"] * lv_hours + b["lv_days"] * lv_days) * w

    ad = areas[["transformer", "feeder", "substation", "households", "kva"]].copy()
    ad["observed_complaints"] = y
    ad["expected_complaints"] = rows["expected"].to_numpy()
    ad["lv_hours"] = lv_hours
    ad["lv_days"] = lv_days
    ad["from_low_voltage"] = lv_contrib
    for (drv, c), v in contrib.items():
        ad[f"from_{drv}_{c}"] = v
    ad["n_interruptions"] = sum(raw[("interruptions", c)] for c in CLASSES)
    ad["n_interruptions_feeder"] = raw[("interruptions", "feeder")]
    ad["from_base"] = b["base"] * w
    ad["kw_max"] = kw_max
    lva = _lv_attribution(network, areas, xv, s)
    for k, v in lva.items():
        ad[f"lv_{k}"] = v

    feeders = _feeder_table(network, areas, ad, it, b, w, years, cc, s, window, momentary_events)
    subs = _substation_table(network, areas, ad, it, b, w, years, cc, s)
    return Analysis(
        network=network,
        settings=s,
        window=window,
        areas=areas,
        area_drivers=ad,
        complaints=cc,
        fit=gof,
        coefficients=coef,
        feeders=feeders,
        substations=subs,
        outages=outages,
        reliability_cache=reliability_cache,
    )


def _design(raw: dict, lv_hours: np.ndarray, lv_days: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    X = pd.DataFrame({"base": w})
    for drv in ("interruptions", "hours"):
        X[drv] = sum(raw[(drv, c)] for c in CLASSES if c != "planned") * w
        X[f"{drv}_planned"] = raw[(drv, "planned")] * w
    X["repeated"] = sum(raw[("repeated", c)] for c in CLASSES) * w
    X["lv_hours"] = lv_hours * w
    X["lv_days"] = lv_days * w
    return X


def _feeder_table(
    network, areas, ad, it, b, w, years, cc, s, window, momentary_events
) -> pd.DataFrame:
    fd = network["feeders"].copy()
    fid = text(fd["feeder"])
    n_f = len(fd)
    f_index = pd.Index(fid)
    a_f = f_index.get_indexer(areas["feeder"])
    okf = a_f >= 0

    def per_feeder(v):
        return np.bincount(a_f[okf], weights=np.asarray(v, float)[okf], minlength=n_f)

    # observed feeder fault interruptions (events) and their mean hours
    fo = it[(it["owner"] == "feeder")]
    ev = fo.drop_duplicates(["feeder", "event_id"])
    ev_f = f_index.get_indexer(ev["feeder"].astype(object).where(ev["feeder"].notna(), "\0"))
    ev_day = local_floor(ev["start_ns"].to_numpy(), s.tz, "D")
    storm_days = np.sort(find_storm_days(ev, n_f, s.tz))
    storm = np.isin(ev_day, storm_days)
    okev = ev_f >= 0
    n_obs = np.bincount(ev_f[okev], minlength=n_f).astype(float)
    n_storm = np.bincount(ev_f[okev & storm], minlength=n_f).astype(float)
    ev_hours = ev["hours"].to_numpy(float)

    length = (
        pd.to_numeric(fd.get("length_km", pd.Series(np.ones(n_f))), errors="coerce")
        .fillna(1.0)
        .to_numpy(float)
    )
    mm2 = pd.to_numeric(
        fd.get("conductor_mm2", pd.Series(np.full(n_f, np.nan))), errors="coerce"
    ).to_numpy(float)
    mm2 = np.where(np.isfinite(mm2), mm2, np.nanmedian(mm2) if np.isfinite(mm2).any() else 95.0)
    year_built = pd.to_numeric(
        fd.get("year_built", pd.Series(np.full(n_f, np.nan))), errors="coerce"
    ).to_numpy(float)
    ref_year = pd.Timestamp(window[1]).year
    age = np.where(
        np.isfinite(year_built),
        ref_year - year_built,
        np.nanmedian(ref_year - year_built) if np.isfinite(year_built).any() else 15.0,
    )
    kw = per_feeder(ad["kw_max"].to_numpy(float))
    rated = pd.to_numeric(
        fd.get("rated_mva", pd.Series(np.full(n_f, np.nan))), errors="coerce"
    ).to_numpy(float)
    load_ratio = np.where(rated > 0, kw / 1000.0 / np.where(rated > 0, rated, 1.0), np.nan)
    density = per_feeder(areas["households"]) / np.maximum(length, 0.1)
    n_mom = momentary_events.reindex(fid).fillna(0).to_numpy(float)
    assets = np.column_stack([np.log(np.maximum(length, 0.1)), np.log(mm2), age, np.log1p(density)])
    # momentary interruptions (reclosing on branches, birds, wind) measure a line's exposure to
    # its surroundings far more often than sustained faults do; a year on one feeder is still a
    # handful, so the rate per km enters as its own empirical-Bayes estimate (shrunk towards the
    # asset regression) rather than the raw count, whose noise would blunt the fault regressions
    mom_fit = shrink_rates(n_mom, years * np.maximum(length, 0.1), assets, ridge=s.rate_ridge)
    cov = np.column_stack(
        [
            assets,
            np.nan_to_num(
                load_ratio, nan=np.nanmean(load_ratio) if np.isfinite(load_ratio).any() else 0.0
            ),
            np.log(np.maximum(mom_fit.rate, 1e-9)),
        ]
    )
    q = s.reference_quantile
    # the feeder rebuilt to the best standard found in the network (same route length and
    # customers): the largest conductor section, the age of the newest feeder and the
    # momentary-interruption rate of the best feeder (insulated, cleared line)
    sound = cov.copy()
    sound[:, 1] = np.max(cov[:, 1])
    sound[:, 2] = np.min(cov[:, 2])
    sound[:, 5] = np.min(cov[:, 5])
    if not s.sound_by_attributes:
        sound = None
    # rates per cause (storms apart): each cause has its own asset drivers and sound level
    cause = ev["cause"].fillna("unknown").astype(str).str.lower().to_numpy(object)
    cause = np.where(storm, "storm", cause)
    eb = np.zeros(n_f)
    ref = np.zeros(n_f)
    ex_hours = np.zeros(n_f)
    excess = np.zeros(n_f)
    causes = [c for c in pd.unique(cause) if (okev & (cause == c)).sum() >= 1]
    for c in causes:
        m = okev & (cause == c)
        n_c = np.bincount(ev_f[m], minlength=n_f).astype(float)
        eb_c, ref_c = excess_rates(
            n_c,
            years,
            cov,
            length,
            q,
            sound,
            s.rate_min_dispersion,
            ridge=s.rate_ridge,
            posterior_excess=s.rate_posterior_excess,
        )
        h_c = float(ev_hours[(cause == c)].mean())
        if c == "storm" and s.storm_hit_weight > 0:
            # storm outages: blend the per-km rate above with the per-storm hit model
            hit = np.zeros((n_f, len(storm_days)))
            ms = okev & storm
            hit[ev_f[ms], np.searchsorted(storm_days, ev_day[ms])] = 1.0
            cols = [0, 1, 5]  # log length, log section, momentary rate per km
            eb_h, ex_h = storm_hit_excess(
                hit,
                cov[:, cols],
                sound[:, cols] if sound is not None else cov[:, cols],
                np.array([1.0, -1.0, 1.0]),
                s.rate_ridge,
                years,
            )
            wh = s.storm_hit_weight
            eb_c, ref_c = (1 - wh) * eb_c + wh * eb_h, (1 - wh) * ref_c + wh * (eb_h - ex_h)
        eb += eb_c
        ref += ref_c
        excess += np.maximum(eb_c - ref_c, 0.0)
        ex_hours += np.maximum(eb_c - ref_c, 0.0) * h_c
    mean_hours = np.where(
        excess > 0,
        ex_hours / np.maximum(excess, 1e-12),
        float(ev_hours.mean()) if len(ev_hours) else 0.0,
    )

    # expected complaints per feeder fault (customers-weighted drivers at the mean duration)
    wf = per_feeder(w)
    yield_per = (b["interruptions"] + b["hours"] * mean_hours) * wf
    from_int = b["interruptions"] * wf * excess
    from_dur = b["hours"] * wf * ex_hours
    # repeated outages: every interruption in an area's 60 days counts towards the next ones'
    # repeat count, so the feeder's faults own the share of the area's repeat complaints that
    # their interruptions make up, times the avoidable fraction of its fault rate
    rep_all = sum(ad[f"from_repeated_{c}"].to_numpy() for c in CLASSES)
    n_int = ad["n_interruptions"].to_numpy()
    own = np.where(n_int > 0, ad["n_interruptions_feeder"].to_numpy() / np.maximum(n_int, 1), 0.0)
    avoid_frac = np.where(eb > 0, excess / np.maximum(eb, 1e-12), 0.0)
    from_rep = per_feeder(rep_all * own) / years * avoid_frac
    # low voltage: the feeder owns what grows along it; the rest is local or the substation's
    from_lv = (
        per_feeder(
            (b["lv_hours"] * ad["lv_hours_feeder"] + b["lv_days"] * ad["lv_days_feeder"]) * w
        )
        / years
    )
    lv_share_feeder = np.where(
        ad["lv_hours"] > 0, ad["lv_hours_feeder"] / np.maximum(ad["lv_hours"], 1e-9), 0.0
    )
    avoid = from_int + from_dur + from_rep + from_lv
    # low voltage neither the feeder nor the substation explains: local to the areas
    local_h = np.maximum(ad["lv_hours"] - ad["lv_hours_feeder"] - ad["lv_hours_sub"], 0.0)
    local_d = np.maximum(ad["lv_days"] - ad["lv_days_feeder"] - ad["lv_days_sub"], 0.0)
    local_lv = per_feeder((b["lv_hours"] * local_h + b["lv_days"] * local_d) * w) / years
    local_areas = per_feeder((local_d > 0).astype(float))
    # customer-hours avoided (households) and LV customer-hours removed, per year
    fo_l = fo[fo["slot"].to_numpy() < len(areas)]
    ch_fault = np.bincount(
        f_index.get_indexer(fo_l["feeder"].astype(object)),
        weights=(fo_l["customers"] * fo_l["hours"]).to_numpy(float),
        minlength=n_f,
    )
    ch_avoided = ch_fault / years * np.where(eb > 0, excess / np.where(eb > 0, eb, 1), 0.0)
    lvch = (
        per_feeder(ad["lv_hours"].to_numpy() * ad["households"].to_numpy() * lv_share_feeder)
        / years
    )

    out = pd.DataFrame({"feeder": fid, "substation": text(fd["substation"])})
    if "name" in fd:
        out["name"] = fd["name"].astype(object).to_numpy()
    out["avoidable_complaints"] = avoid
    out["from_interruptions"] = from_int
    out["from_duration"] = from_dur
    out["from_repeated_outages"] = from_rep
    out["from_low_voltage"] = from_lv
    out["customer_hours_avoided"] = ch_avoided
    out["lv_customer_hours_removed"] = lvch
    out["observed_complaints"] = per_feeder(ad["observed_complaints"])
    counted = cc[cc["counted"].to_numpy(bool)]
    out["complaints_counted"] = (
        counted.groupby("feeder_matched").size().reindex(fid).fillna(0).to_numpy()
    )
    out["expected_complaints"] = per_feeder(ad["expected_complaints"])
    out["customers"] = per_feeder(areas["households"])
    out["fault_outages"] = n_obs
    out["storm_outages"] = n_storm
    out["momentary_events"] = n_mom
    out["fault_rate_eb"] = eb
    out["fault_rate_sound"] = ref
    out["expected_per_fault"] = yield_per
    out["length_km"] = length
    out["load_ratio"] = load_ratio
    out["low_voltage_days"] = per_feeder(ad["lv_days"])
    out["local_low_voltage_complaints"] = local_lv
    out["local_low_voltage_areas"] = local_areas
    return _finish("feeder", out, s)


def _x_rows(
    voltage_daily: pd.DataFrame | None, areas: pd.DataFrame, window: tuple, s: AnalyticsSettings
) -> dict[str, np.ndarray] | None:
    """The combined-phase (X) daily rollup rows inside the window, as arrays: area slot ``a``,
    ``day`` (UTC ns of the local midnight), ``vmin``, ``below`` (minutes), ``kw`` (kw_max)."""
    if voltage_daily is None or len(voltage_daily) == 0:
        return None
    pcode, plabels = pd.factorize(voltage_daily["phase"])
    xcode = [i for i, p in enumerate(plabels) if str(p).strip().upper() == "X"]
    if not xcode:
        return None
    x = voltage_daily[pcode == xcode[0]]
    ps = to_ns(x["period_start"], "UTC")
    ws, we = window_ns(window, s.tz)
    m = (ps >= ws) & (ps < we)
    x, ps = x[m], ps[m]
    tcode, tnames = factor_text(x["transformer"])
    name_pos = pd.Index(areas["transformer"]).get_indexer(tnames)
    pos = np.where(tcode >= 0, name_pos[np.maximum(tcode, 0)], -1)
    ok = pos >= 0
    return {
        "a": pos[ok],
        "day": ps[ok],
        "vmin": x["v_min"].to_numpy(float)[ok],
        # the row's own lower limit (stored rollups carry it: a 10 kV bus is judged at -7 %
        # of its nominal, on the 220 V storage base); the configured limit otherwise
        "low": (
            pd.to_numeric(x["v_low"], errors="coerce").fillna(s.voltage_low).to_numpy(float)[ok]
            if "v_low" in x
            else np.full(int(ok.sum()), float(s.voltage_low))
        ),
        "below": np.nan_to_num(x["minutes_below"].to_numpy(float)[ok]),
        "kw": x["kw_max"].to_numpy(float)[ok],
    }


def _lv_attribution(
    network: dict, areas: pd.DataFrame, xv: dict[str, np.ndarray] | None, s: AnalyticsSettings
) -> dict[str, np.ndarray]:
    """Low-voltage hours and days per area that a sound feeder / a sound substation would remove.

    From the daily X-phase rollups: each area's mean daily minimum voltage is fitted per feeder
    as c_f − k_f·shape(d/d_max), shape(x) = x(2 − x) (the voltage profile of a uniformly loaded
    radial line, DL/T 5729 / textbook drop), with areas far below the line (local weakness)
    left out of the fit. A sound feeder has the ``reference_quantile`` of the drop per km, so
    its uplift at an area on a day is (k_f − k_sound)·shape, scaled by the feeder's load that
    day; a sound substation lifts each day's bus level (the median minimum voltage of areas near
    the substation, local weakness removed) to the median over substations. A low-voltage
    area-day is removed when the uplift brings its minimum voltage to the limit (GB/T 12325)."""
    n = len(areas)
    zero = {k: np.zeros(n) for k in ("hours_feeder", "days_feeder", "hours_sub", "days_sub")}
    if xv is None:
        return zero
    a, day, vmin, below, kw = xv["a"], xv["day"], xv["vmin"], xv["below"], xv["kw"]
    good = np.isfinite(vmin)
    a, day, vmin, below, kw = a[good], day[good], vmin[good], below[good], kw[good]
    low = xv["low"][good]
    if len(a) == 0:
        return zero
    dcode, days_u = pd.factorize(day, sort=True)
    D = len(days_u)
    tr = network["transformers"]
    dist_map = (
        dict(zip(text(tr["transformer"]), pd.to_numeric(tr["distance_km"], errors="coerce")))
        if "distance_km" in tr
        else {}
    )
    dist = np.array([dist_map.get(t, np.nan) for t in areas["transformer"]], dtype=float)
    feeder = areas["feeder"].to_numpy(object)
    f_code, f_names = pd.factorize(feeder)
    n_f = len(f_names)
    dmax = np.zeros(n_f)
    np.maximum.at(dmax, f_code, np.nan_to_num(dist))
    rel = np.where(dmax[f_code] > 0, np.nan_to_num(dist) / np.maximum(dmax[f_code], 1e-9), 0.5)
    shape = rel * (2 - rel)
    cnt = np.bincount(a, minlength=n)
    vbar = np.where(cnt > 0, np.bincount(a, weights=vmin, minlength=n) / np.maximum(cnt, 1), np.nan)
    has = np.isfinite(vbar)
    # robust line per feeder
    c_f = np.full(n_f, np.nan)
    k_f = np.zeros(n_f)
    local = np.zeros(n)
    for f in range(n_f):
        idx = np.flatnonzero((f_code == f) & has)
        if len(idx) < 3:
            if len(idx):
                c_f[f] = float(np.median(vbar[idx]))
            continue
        keep = np.ones(len(idx), bool)
        for _ in range(3):
            X = np.column_stack([np.ones(keep.sum()), -shape[idx][keep]])
            coef = np.linalg.lstsq(X, vbar[idx][keep], rcond=None)[0]
            res = vbar[idx] - (coef[0] - coef[1] * shape[idx])
            mad = np.median(np.abs(res[keep] - np.median(res[keep]))) * 1.4826 + 0.3
            keep = res > -2.5 * mad
        c_f[f], k_f[f] = coef[0], max(coef[1], 0.0)
        local[idx] = np.minimum(res, 0.0) * (res < -2.5 * mad)
    k_per_km = k_f / np.maximum(dmax, 1e-9)
    valid = dmax > 0
    ref_per_km = (
        float(np.quantile(k_per_km[valid], s.drop_reference_quantile)) if valid.any() else 0.0
    )
    k_sound = np.minimum(k_f, ref_per_km * dmax)
    # feeder load per day (sum of area peaks) relative to its mean
    fa = f_code[a]
    key = fa.astype(np.int64) * D + dcode
    load = np.bincount(key, weights=np.nan_to_num(kw), minlength=n_f * D).reshape(n_f, D)
    nday = np.bincount(key, minlength=n_f * D).reshape(n_f, D)
    mean_load = load.sum(axis=1) / np.maximum((nday > 0).sum(axis=1), 1)
    scale = np.where(mean_load[:, None] > 0, load / np.maximum(mean_load[:, None], 1e-9), 1.0)
    uplift_f = (k_f - k_sound)[fa] * shape[a] * scale[fa, dcode]
    # substation bus level per day from areas near the bus, local weakness removed
    sub = areas["substation"].to_numpy(object)
    s_code, s_names = pd.factorize(sub)
    n_s = len(s_names)
    near = shape[a] <= 0.35
    adj = vmin - local[a] + (k_f[fa] * shape[a] * scale[fa, dcode])  # back to the bus
    sa = s_code[a]
    bus = np.full((n_s, D), np.nan)
    kk = sa[near].astype(np.int64) * D + dcode[near]
    med = pd.Series(adj[near]).groupby(kk).median()
    bus.reshape(-1)[med.index.to_numpy()] = med.to_numpy()
    # sag: how far a bus falls below its own usual level on a day, beyond what the other
    # substations' buses fall that day (the common load swing); set points differ and are no
    # weakness, so each bus is compared with itself
    with np.errstate(all="ignore"):
        dev = bus - np.nanmedian(bus, axis=1, keepdims=True)
        typical = np.nanmedian(dev, axis=0)
    uplift_s = np.nan_to_num(np.maximum(typical[None, :] - dev, 0.0))[sa, dcode]
    need = s.low_voltage_min_hours * 60.0
    lv = below > 0
    fixed_f = lv & (vmin + uplift_f >= low)
    fixed_s = lv & (vmin + uplift_s >= low)
    out = {
        "hours_feeder": np.bincount(a[fixed_f], weights=below[fixed_f], minlength=n) / 60.0,
        "days_feeder": np.bincount(a[fixed_f & (below >= need)], minlength=n).astype(float),
        "hours_sub": np.bincount(a[fixed_s], weights=below[fixed_s], minlength=n) / 60.0,
        "days_sub": np.bincount(a[fixed_s & (below >= need)], minlength=n).astype(float),
    }
    return out


def _substation_table(network, areas, ad, it, b, w, years, cc, s) -> pd.DataFrame:
    ss = (
        network["substations"].copy()
        if "substations" in network
        else pd.DataFrame({"substation": sorted(set(areas["substation"].dropna()))})
    )
    sid = text(ss["substation"])
    n_s = len(ss)
    s_index = pd.Index(sid)
    a_s = s_index.get_indexer(
        areas["substation"].astype(object).where(areas["substation"].notna(), "\0")
    )
    oks = a_s >= 0

    def per_sub(v):
        return np.bincount(a_s[oks], weights=np.asarray(v, float)[oks], minlength=n_s)

    so = it[it["owner"] == "substation"]
    level_sub = so.copy()
    # 35 kV faults (not overload trips or supply shortage) are thinned to a sound rate
    cause = level_sub["cause"].fillna("").astype(str).str.lower().to_numpy()
    is_fault = (~level_sub["supply_shortage"].to_numpy(bool)) & (cause != "overload")
    ev = level_sub[is_fault].drop_duplicates(["event_id"])
    ev_s = s_index.get_indexer(
        ev["substation"].astype(object).where(ev["substation"].notna(), "\0")
    )
    n_obs = np.bincount(ev_s[ev_s >= 0], minlength=n_s).astype(float)
    eb, ref = excess_rates(
        n_obs,
        years,
        None,
        np.ones(n_s),
        s.reference_quantile,
        max_dispersion=s.substation_rate_max_dispersion,
    )
    frac = np.where(n_obs > 0, np.maximum(eb - ref, 0) / np.maximum(n_obs / years, 1e-9), 0.0)

    def contrib(mask, drv):
        sub_it = level_sub[mask]
        loc = sub_it["slot"].to_numpy() < len(areas)
        sl = sub_it["slot"].to_numpy()[loc]
        val = {
            "interruptions": np.ones(loc.sum()),
            "hours": sub_it["hours"].to_numpy()[loc],
            "repeated": sub_it["repeated"].to_numpy(float)[loc],
        }[drv]
        per_area = np.bincount(sl, weights=val, minlength=len(areas)) * w * b[drv]
        return per_sub(per_area) / years

    parts = {}
    for drv in ("interruptions", "hours", "repeated"):
        always = contrib(~is_fault, drv)
        faults = contrib(is_fault, drv)
        parts[drv] = always + np.where(n_obs > 0, faults * frac, 0.0)
    from_lv = (
        per_sub((b["lv_hours"] * ad["lv_hours_sub"] + b["lv_days"] * ad["lv_days_sub"]) * w) / years
    )
    lv_share_sub = np.where(
        ad["lv_hours"] > 0, ad["lv_hours_sub"] / np.maximum(ad["lv_hours"], 1e-9), 0.0
    )
    avoid = parts["interruptions"] + parts["hours"] + parts["repeated"] + from_lv
    loc = level_sub["slot"].to_numpy() < len(areas)
    ch = np.bincount(
        s_index.get_indexer(
            level_sub["substation"].astype(object).where(level_sub["substation"].notna(), "\0")
        )[loc].clip(0),
        weights=(level_sub["customers"] * level_sub["hours"]).to_numpy(float)[loc],
        minlength=n_s,
    )
    out = pd.DataFrame({"substation": sid})
    if "name" in ss:
        out["name"] = ss["name"].astype(object).to_numpy()
    out["avoidable_complaints"] = avoid
    out["from_interruptions"] = parts["interruptions"]
    out["from_duration"] = parts["hours"]
    out["from_repeated_outages"] = parts["repeated"]
    out["from_low_voltage"] = from_lv
    out["customer_hours_avoided"] = ch / years
    out["lv_customer_hours_removed"] = (
        per_sub(ad["lv_hours"].to_numpy() * ad["households"].to_numpy() * lv_share_sub) / years
    )
    out["observed_complaints"] = per_sub(ad["observed_complaints"])
    counted = cc[cc["counted"].to_numpy(bool)]
    out["complaints_counted"] = (
        counted.groupby("substation_matched").size().reindex(sid).fillna(0).to_numpy()
    )
    out["expected_complaints"] = per_sub(ad["expected_complaints"])
    out["customers"] = per_sub(areas["households"])
    out["fault_outages_35kv"] = n_obs
    out["fault_rate_eb"] = eb
    out["fault_rate_sound"] = ref
    out["overload_or_shortage_events"] = (
        np.bincount(
            s_index.get_indexer(
                level_sub[~is_fault].drop_duplicates("event_id")["substation"].astype(object)
            ).clip(0),
            minlength=n_s,
        )
        if (~is_fault).any()
        else np.zeros(n_s)
    )
    cap = pd.to_numeric(
        ss.get("capacity_mva", pd.Series(np.full(n_s, np.nan))), errors="coerce"
    ).to_numpy(float)
    peak_mw = per_sub(ad["kw_max"].to_numpy(float)) / 1000.0
    out["load_ratio"] = np.where(cap > 0, peak_mw / np.where(cap > 0, cap, 1), np.nan)
    out["low_voltage_days"] = per_sub(ad["lv_days"])
    return _finish("substation", out, s)


def _finish(level: str, out: pd.DataFrame, s: AnalyticsSettings) -> pd.DataFrame:
    """Score, rank, project kind, cost figures."""
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
    out["project"] = [_project(level, r) for r in out.itertuples(index=False)]
    out["project_label"] = out["project"].map(PROJECTS)
    costs = {COST_ALIASES.get(k, k): float(v) for k, v in dict(s.costs).items()}
    out["cost_10k_yuan"] = out["project"].map(lambda p: costs.get(p, np.nan)).astype(float)
    out["avoided_per_10k_yuan"] = out["avoidable_complaints"] / out["cost_10k_yuan"]
    out = out.sort_values(["score", level], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _project(level: str, r) -> str:
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
    idx = _indices(
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


def system_indices(
    network: dict,
    outages: pd.DataFrame,
    *,
    window: tuple,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    basis: str | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """System reliability indices for the window (see :func:`analytics.reliability.system_indices`)."""
    return _system_indices(network, outages, window=window, settings=settings, basis=basis, **kw)


def indices(
    by: str,
    network: dict,
    outages: pd.DataFrame,
    *,
    window: tuple,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    basis: str | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """Reliability indices per system / substation / feeder / area (see
    :func:`analytics.reliability.indices`)."""
    return _indices(by, network, outages, window=window, settings=settings, basis=basis, **kw)
