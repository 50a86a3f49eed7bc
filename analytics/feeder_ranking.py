"""The feeder table of the upgrade priorities (steps 3 and 4 of :mod:`analytics.priorities`):
each 10 kV feeder's underlying fault rate per cause against the rate of the same feeder rebuilt
to standard, and the complaints, customer-hours and low-voltage hours an upgrade would avoid
per year."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.area_drivers import CLASSES
from analytics.areas import text
from analytics.fault_rates import excess_rates, find_storm_days, shrink_rates, storm_hit_excess
from analytics.ranking_tables import AreaGrouping, RankingInputs, counted_per, score_and_rank
from analytics.settings import AnalyticsSettings
from analytics.times import local_floor


@dataclass(frozen=True)
class FeederFaults:
    """The window's feeder fault events (one per feeder and event), located on the feeders."""

    interruptions: pd.DataFrame  # the feeder-owned interruptions (one row per area)
    events: pd.DataFrame  # one row per feeder and event
    feeder: np.ndarray  # feeder code of each event (-1: not a feeder of the network)
    day: np.ndarray  # local day of each event (UTC ns)
    storm_days: np.ndarray  # sorted local days of storms
    storm: np.ndarray  # whether each event fell on a storm day
    observed: np.ndarray  # per feeder: fault events
    storms: np.ndarray  # per feeder: fault events on storm days

    @property
    def located(self) -> np.ndarray:
        """Whether each event is on a feeder of the network."""
        return self.feeder >= 0


@dataclass(frozen=True)
class FeederAssets:
    """The attributes the fault-rate regressions use, as is and rebuilt to standard."""

    length: np.ndarray  # km
    load_ratio: np.ndarray  # peak MW / rated MVA (NaN without a rating)
    momentary: np.ndarray  # momentary events in the window
    covariates: np.ndarray  # log length, log section, age, log density, load, log momentary
    sound: np.ndarray | None  # the same rebuilt to standard (None: sound rate by quantile)


@dataclass(frozen=True)
class FeederRates:
    """Fault rates per feeder and year, summed over causes."""

    estimate: np.ndarray  # empirical-Bayes rate
    sound: np.ndarray  # the rebuilt feeder's rate
    excess: np.ndarray  # avoidable faults
    excess_hours: np.ndarray  # avoidable fault-hours (per cause: excess × its mean duration)
    mean_hours: np.ndarray  # mean duration of an avoidable fault


def feeder_table(inputs: RankingInputs) -> pd.DataFrame:
    """Feeders with their avoidable complaints per year and its breakdown, fault rates, key
    figures, score, rank and project (see :func:`analytics.priorities.rank`)."""
    s = inputs.settings
    fd = inputs.network["feeders"].copy()
    fid = text(fd["feeder"])
    f_index = pd.Index(fid)
    per_feeder = AreaGrouping.of(f_index, inputs.areas["feeder"])
    faults = feeder_faults(inputs.interruptions, f_index, s.tz)
    assets = feeder_assets(fd, fid, per_feeder, inputs)
    rates = feeder_rates(faults, assets, inputs.years, s)
    out = pd.DataFrame({"feeder": fid, "substation": text(fd["substation"])})
    if "name" in fd:
        out["name"] = fd["name"].astype(object).to_numpy()
    avoidable = _avoidable(inputs, per_feeder, f_index, faults, rates)
    out["avoidable_complaints"] = (
        avoidable["from_interruptions"]
        + avoidable["from_duration"]
        + avoidable["from_repeated_outages"]
        + avoidable["from_low_voltage"]
    )
    for key in (
        "from_interruptions",
        "from_duration",
        "from_repeated_outages",
        "from_low_voltage",
        "customer_hours_avoided",
        "lv_customer_hours_removed",
    ):
        out[key] = avoidable[key]
    ad = inputs.area_drivers
    out["observed_complaints"] = per_feeder.sum(ad["observed_complaints"])
    out["complaints_counted"] = counted_per(inputs.complaints, "feeder_matched", fid)
    out["expected_complaints"] = per_feeder.sum(ad["expected_complaints"])
    out["customers"] = per_feeder.sum(inputs.areas["households"])
    out["fault_outages"] = faults.observed
    out["storm_outages"] = faults.storms
    out["momentary_events"] = assets.momentary
    out["fault_rate_eb"] = rates.estimate
    out["fault_rate_sound"] = rates.sound
    out["expected_per_fault"] = avoidable["expected_per_fault"]
    out["length_km"] = assets.length
    out["load_ratio"] = assets.load_ratio
    out["low_voltage_days"] = per_feeder.sum(ad["lv_days"])
    out["local_low_voltage_complaints"] = avoidable["local_low_voltage_complaints"]
    out["local_low_voltage_areas"] = avoidable["local_low_voltage_areas"]
    return score_and_rank("feeder", out, s)


def feeder_faults(interruptions: pd.DataFrame, f_index: pd.Index, tz: str) -> FeederFaults:
    """Feeder fault events of the window, their feeders, days and storms."""
    n_f = len(f_index)
    fo = interruptions[(interruptions["owner"] == "feeder")]
    ev = fo.drop_duplicates(["feeder", "event_id"])
    ev_f = f_index.get_indexer(ev["feeder"].astype(object).where(ev["feeder"].notna(), "\0"))
    ev_day = local_floor(ev["start_ns"].to_numpy(), tz, "D")
    storm_days = np.sort(find_storm_days(ev, n_f, tz))
    storm = np.isin(ev_day, storm_days)
    okev = ev_f >= 0
    return FeederFaults(
        interruptions=fo,
        events=ev,
        feeder=ev_f,
        day=ev_day,
        storm_days=storm_days,
        storm=storm,
        observed=np.bincount(ev_f[okev], minlength=n_f).astype(float),
        storms=np.bincount(ev_f[okev & storm], minlength=n_f).astype(float),
    )


def _column(fd: pd.DataFrame, name: str, default: float) -> np.ndarray:
    n_f = len(fd)
    return pd.to_numeric(fd.get(name, pd.Series(np.full(n_f, default))), errors="coerce").to_numpy(
        float
    )


def feeder_assets(
    fd: pd.DataFrame, fid: pd.Series, per_feeder: AreaGrouping, inputs: RankingInputs
) -> FeederAssets:
    """The feeders' attributes for the fault-rate regressions and the standard they are rebuilt
    to: the largest conductor section, the age of the newest feeder and the momentary rate of
    the best feeder (insulated, cleared line), same route length and customers."""
    s = inputs.settings
    n_f = len(fd)
    length = (
        pd.to_numeric(fd.get("length_km", pd.Series(np.ones(n_f))), errors="coerce")
        .fillna(1.0)
        .to_numpy(float)
    )
    mm2 = _column(fd, "conductor_mm2", np.nan)
    mm2 = np.where(np.isfinite(mm2), mm2, np.nanmedian(mm2) if np.isfinite(mm2).any() else 95.0)
    year_built = _column(fd, "year_built", np.nan)
    ref_year = pd.Timestamp(inputs.window[1]).year
    age = np.where(
        np.isfinite(year_built),
        ref_year - year_built,
        np.nanmedian(ref_year - year_built) if np.isfinite(year_built).any() else 15.0,
    )
    kw = per_feeder.sum(inputs.area_drivers["kw_max"].to_numpy(float))
    rated = _column(fd, "rated_mva", np.nan)
    load_ratio = np.where(rated > 0, kw / 1000.0 / np.where(rated > 0, rated, 1.0), np.nan)
    density = per_feeder.sum(inputs.areas["households"]) / np.maximum(length, 0.1)
    n_mom = inputs.momentary_events.reindex(fid).fillna(0).to_numpy(float)
    assets = np.column_stack([np.log(np.maximum(length, 0.1)), np.log(mm2), age, np.log1p(density)])
    # momentary interruptions (reclosing on branches, birds, wind) measure a line's exposure to
    # its surroundings far more often than sustained faults do; a year on one feeder is still a
    # handful, so the rate per km enters as its own empirical-Bayes estimate (shrunk towards the
    # asset regression) rather than the raw count, whose noise would blunt the fault regressions
    mom_fit = shrink_rates(
        n_mom, inputs.years * np.maximum(length, 0.1), assets, ridge=s.rate_ridge
    )
    cov = np.column_stack(
        [
            assets,
            np.nan_to_num(
                load_ratio, nan=np.nanmean(load_ratio) if np.isfinite(load_ratio).any() else 0.0
            ),
            np.log(np.maximum(mom_fit.rate, 1e-9)),
        ]
    )
    sound = cov.copy()
    sound[:, 1] = np.max(cov[:, 1])
    sound[:, 2] = np.min(cov[:, 2])
    sound[:, 5] = np.min(cov[:, 5])
    return FeederAssets(length, load_ratio, n_mom, cov, sound if s.sound_by_attributes else None)


def feeder_rates(
    faults: FeederFaults, assets: FeederAssets, years: float, s: AnalyticsSettings
) -> FeederRates:
    """Rates per cause (storms apart): each cause has its own asset drivers and sound level;
    storm outages blend the per-km rate with the per-storm hit model (``storm_hit_weight``)."""
    n_f = len(assets.length)
    ev_hours = faults.events["hours"].to_numpy(float)
    cause = faults.events["cause"].fillna("unknown").astype(str).str.lower().to_numpy(object)
    cause = np.where(faults.storm, "storm", cause)
    okev = faults.located
    eb, ref, ex_hours, excess = np.zeros(n_f), np.zeros(n_f), np.zeros(n_f), np.zeros(n_f)
    causes = [c for c in pd.unique(cause) if (okev & (cause == c)).sum() >= 1]
    for c in causes:
        m = okev & (cause == c)
        n_c = np.bincount(faults.feeder[m], minlength=n_f).astype(float)
        eb_c, ref_c = excess_rates(
            n_c,
            years,
            assets.covariates,
            assets.length,
            s.reference_quantile,
            assets.sound,
            s.rate_min_dispersion,
            ridge=s.rate_ridge,
            posterior_excess=s.rate_posterior_excess,
        )
        h_c = float(ev_hours[(cause == c)].mean())
        if c == "storm" and s.storm_hit_weight > 0:
            eb_c, ref_c = _blend_storm_hits(eb_c, ref_c, faults, assets, years, s)
        eb += eb_c
        ref += ref_c
        excess += np.maximum(eb_c - ref_c, 0.0)
        ex_hours += np.maximum(eb_c - ref_c, 0.0) * h_c
    mean_hours = np.where(
        excess > 0,
        ex_hours / np.maximum(excess, 1e-12),
        float(ev_hours.mean()) if len(ev_hours) else 0.0,
    )
    return FeederRates(eb, ref, excess, ex_hours, mean_hours)


def _blend_storm_hits(
    estimate: np.ndarray,
    sound: np.ndarray,
    faults: FeederFaults,
    assets: FeederAssets,
    years: float,
    s: AnalyticsSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Storm outages: the per-km rate and sound rate blended with the per-storm hit model."""
    n_f = len(assets.length)
    hit = np.zeros((n_f, len(faults.storm_days)))
    ms = faults.located & faults.storm
    hit[faults.feeder[ms], np.searchsorted(faults.storm_days, faults.day[ms])] = 1.0
    cols = [0, 1, 5]  # log length, log section, momentary rate per km
    cov = assets.covariates
    eb_h, ex_h = storm_hit_excess(
        hit,
        cov[:, cols],
        assets.sound[:, cols] if assets.sound is not None else cov[:, cols],
        np.array([1.0, -1.0, 1.0]),
        s.rate_ridge,
        years,
    )
    wh = s.storm_hit_weight
    return (1 - wh) * estimate + wh * eb_h, (1 - wh) * sound + wh * (eb_h - ex_h)


def _avoidable(
    inputs: RankingInputs,
    per_feeder: AreaGrouping,
    f_index: pd.Index,
    faults: FeederFaults,
    rates: FeederRates,
) -> dict[str, np.ndarray]:
    """Per feeder and year: avoidable complaints by driver, the complaints a fault makes,
    customer-hours avoided, low-voltage customer-hours removed, and the low voltage local to
    its areas."""
    ad, b, w, years = inputs.area_drivers, inputs.b, inputs.weights, inputs.years
    eb, excess = rates.estimate, rates.excess
    # expected complaints per feeder fault (customers-weighted drivers at the mean duration)
    wf = per_feeder.sum(w)
    out = {"expected_per_fault": (b["interruptions"] + b["hours"] * rates.mean_hours) * wf}
    out["from_interruptions"] = b["interruptions"] * wf * excess
    out["from_duration"] = b["hours"] * wf * rates.excess_hours
    # repeated outages: every interruption in an area's 60 days counts towards the next ones'
    # repeat count, so the feeder's faults own the share of the area's repeat complaints that
    # their interruptions make up, times the avoidable fraction of its fault rate
    rep_all = sum(ad[f"from_repeated_{c}"].to_numpy() for c in CLASSES)
    n_int = ad["n_interruptions"].to_numpy()
    own = np.where(n_int > 0, ad["n_interruptions_feeder"].to_numpy() / np.maximum(n_int, 1), 0.0)
    avoid_frac = np.where(eb > 0, excess / np.maximum(eb, 1e-12), 0.0)
    out["from_repeated_outages"] = per_feeder.sum(rep_all * own) / years * avoid_frac
    # low voltage: the feeder owns what grows along it; the rest is local or the substation's
    out["from_low_voltage"] = (
        per_feeder.sum(
            (b["lv_hours"] * ad["lv_hours_feeder"] + b["lv_days"] * ad["lv_days_feeder"]) * w
        )
        / years
    )
    # low voltage neither the feeder nor the substation explains: local to the areas
    local_h = np.maximum(ad["lv_hours"] - ad["lv_hours_feeder"] - ad["lv_hours_sub"], 0.0)
    local_d = np.maximum(ad["lv_days"] - ad["lv_days_feeder"] - ad["lv_days_sub"], 0.0)
    out["local_low_voltage_complaints"] = (
        per_feeder.sum((b["lv_hours"] * local_h + b["lv_days"] * local_d) * w) / years
    )
    out["local_low_voltage_areas"] = per_feeder.sum((local_d > 0).astype(float))
    # customer-hours avoided (households) and LV customer-hours removed, per year
    fo_l = faults.interruptions[faults.interruptions["slot"].to_numpy() < len(inputs.areas)]
    ch_fault = np.bincount(
        f_index.get_indexer(fo_l["feeder"].astype(object)),
        weights=(fo_l["customers"] * fo_l["hours"]).to_numpy(float),
        minlength=len(f_index),
    )
    out["customer_hours_avoided"] = (
        ch_fault / years * np.where(eb > 0, excess / np.where(eb > 0, eb, 1), 0.0)
    )
    lv_share_feeder = np.where(
        ad["lv_hours"] > 0, ad["lv_hours_feeder"] / np.maximum(ad["lv_hours"], 1e-9), 0.0
    )
    out["lv_customer_hours_removed"] = (
        per_feeder.sum(ad["lv_hours"].to_numpy() * ad["households"].to_numpy() * lv_share_feeder)
        / years
    )
    return out
