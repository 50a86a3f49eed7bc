"""Ground truth: what each feeder's and substation's weaknesses cost in complaints.

``attributable`` = expected grid-caused tickets per year as the grid is, minus the same with
that asset's weaknesses removed (reference strong rates and voltage drop). Expectations are
taken over fault realisations and customer behaviour, given the period's weather, using the
simulator's own behavioural model with common random numbers. Because feeders are radial and
their areas only see their own feeder's and substation's events, removing every feeder's
weaknesses at once yields each feeder's counterfactual in one run (likewise for substations).
Replications are added in batches until the attributable figures are stable to ``tolerance``.
"""

from __future__ import annotations

import numpy as np

from . import behaviour as bh
from .events import draw_events


def _expected(sim, ev, mask, n_reps):
    """Expected outage tickets per (rep, area, driver): shape (n_reps, n_a, 3)."""
    net = sim.net
    n_a = len(net.areas["id"])
    pc = bh.outage_calls(net, ev, mask, sim.days)
    out = np.zeros((n_reps, n_a, 3))
    for k in range(3):
        np.add.at(out[:, :, k], (pc["rep"], pc["area"]), pc["p"] * pc["share"][:, k])
    return out


def ground_truth(sim, tolerance: float = 0.05, max_reps: int = 2000, batch: int = 100) -> dict:
    """Build the ground_truth.json content for a Simulation."""
    net = sim.net
    a = net.areas
    n_f, n_s = len(net.feeders["id"]), len(net.subs["id"])
    per_year = 365.0 / sim.days
    outage = _outage_expectations(sim, tolerance, max_reps, batch)
    # low voltage: exact expectation per scenario (deterministic voltage, cooldown recursion)
    lv = {}
    for sc in ("asis", "feeder_cf", "sub_cf"):
        wl, _ = sim.vmodel.lv_experience(sc)
        lv[sc] = bh.lv_expected(bh.lv_daily_prob(net, wl))
    lv_f = np.bincount(
        a["feeder"], weights=(lv["asis"] - lv["feeder_cf"]) * per_year, minlength=n_f
    )
    lv_s = np.bincount(a["sub"], weights=(lv["asis"] - lv["sub_cf"]) * per_year, minlength=n_s)
    lv_af = np.bincount(a["feeder"], weights=lv["asis"] * per_year, minlength=n_f)
    lv_as = np.bincount(a["sub"], weights=lv["asis"] * per_year, minlength=n_s)
    bm = sim.broken_meters
    return {
        "seed": sim.seed,
        "preset": sim.preset,
        "start": sim.start.isoformat(),
        "days": sim.days,
        "resolution": sim.resolution,
        "tz": sim.tz,
        "units": "expected grid-caused tickets (merged repeats excluded) per year",
        "replications": outage["reps"],
        "precision_p90_rel_se": round(outage["precision"], 4),
        "storm_days": [(sim.start.toordinal() + int(d)) for d in sim.weather.storm_days],
        "storm_dates": [str(np_date(sim, d)) for d in sim.weather.storm_days],
        "broken_meters": [
            {"transformer": t, "fault": k} for t, k in zip(bm["transformer"], bm["fault"])
        ],
        "feeders": _feeder_entries(net, outage["diff_f"], outage["asis_f"], lv_f, lv_af),
        "substations": _substation_entries(net, outage["diff_s"], outage["asis_s"], lv_s, lv_as),
    }


def _outage_expectations(sim, tolerance: float, max_reps: int, batch: int) -> dict:
    """Expected outage tickets per year by driver, per feeder and per substation, as is
    (``asis_*``) and removed by the asset's weaknesses (``diff_*``, shape (3, n)): replications
    are drawn in batches until the 90th percentile of the relative standard error of the large
    feeder figures is within ``tolerance`` (or ``max_reps``)."""
    net = sim.net
    a = net.areas
    n_f, n_s = len(net.feeders["id"]), len(net.subs["id"])
    per_year = 365.0 / sim.days
    rng = np.random.default_rng([sim.seed, 20])
    diffs_f, diffs_s, asis_f, asis_s = [], [], [], []
    reps = 0
    precision = np.inf
    while reps < max_reps:
        ev = draw_events(net, sim.weather, rng, batch)
        full = np.ones(len(ev["rep"]), bool)
        e_as = _expected(sim, ev, full, batch)
        e_f = _expected(sim, ev, ev["keep_f"], batch)
        e_s = _expected(sim, ev, ev["keep_s"], batch)
        af, as_ = _per_asset(e_as, a["feeder"], n_f), _per_asset(e_as, a["sub"], n_s)
        diffs_f.append(af - _per_asset(e_f, a["feeder"], n_f))
        diffs_s.append(as_ - _per_asset(e_s, a["sub"], n_s))
        asis_f.append(af)
        asis_s.append(as_)
        reps += batch
        tot_f = np.concatenate(diffs_f).sum(axis=1) * per_year
        mean = tot_f.mean(axis=0)
        se = tot_f.std(axis=0, ddof=1) / np.sqrt(reps)
        big = mean >= max(1.0, np.percentile(mean, 50))
        precision = float(np.percentile(se[big] / mean[big], 90)) if big.any() else 0.0
        if precision <= tolerance:
            break
    return {
        "diff_f": np.concatenate(diffs_f).mean(axis=0) * per_year,  # (3, n_f)
        "diff_s": np.concatenate(diffs_s).mean(axis=0) * per_year,
        "asis_f": np.concatenate(asis_f).mean(axis=0) * per_year,
        "asis_s": np.concatenate(asis_s).mean(axis=0) * per_year,
        "reps": reps,
        "precision": precision,
    }


def _per_asset(x: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """(rep, area, driver) expectations summed over each asset's areas: (rep, driver, n)."""
    batch = x.shape[0]
    return np.stack(
        [
            np.bincount(owner, weights=x[r, :, k].ravel(), minlength=n)
            for r in range(batch)
            for k in range(3)
        ]
    ).reshape(batch, 3, n)


def _split(d, lvv) -> dict:
    return {
        "interruptions": round(float(d[0]), 3),
        "long_interruptions": round(float(d[1]), 3),
        "frequent_outages": round(float(d[2]), 3),
        "low_voltage": round(float(lvv), 3),
    }


def _feeder_entries(net, df, af, lv_f, lv_af) -> list[dict]:
    f, s = net.feeders, net.subs
    feeders = []
    for i in range(len(f["id"])):
        by = _split(df[:, i], lv_f[i])
        feeders.append(
            {
                "feeder": str(f["id"][i]),
                "substation": str(s["id"][f["sub"][i]]),
                "weak": bool(f["bad"][i]),
                "weakness": {
                    "fault_rate_per_year": round(float(f["rate"][i].sum()), 3),
                    "fault_rate_ref_per_year": round(float(f["rate_ref"][i].sum()), 3),
                    "storm_exposure": round(float(f["storm_exp"][i]), 3),
                    "momentary_rate_per_year": round(float(f["mom_rate"][i]), 3),
                    "equipment_condition": round(float(f["cond"][i]), 3),
                    "vegetation": round(float(f["veg"][i]), 3),
                    "unobserved": round(float(f["hidden"][i]), 3),
                    "far_end_drop_pct": round(float(f["drop_far"][i] * 100), 2),
                    "far_end_drop_ref_pct": round(float(f["drop_far_ref"][i] * 100), 2),
                    "utilisation": round(float(f["util"][i]), 3),
                },
                "expected_complaints": round(float(af[:, i].sum() + lv_af[i]), 3),
                "attributable": round(float(sum(by.values())), 3),
                "attributable_by_driver": by,
            }
        )
    return feeders


def _substation_entries(net, ds, as_, lv_s, lv_as) -> list[dict]:
    s = net.subs
    subs = []
    for i in range(len(s["id"])):
        by = _split(ds[:, i], lv_s[i])
        subs.append(
            {
                "substation": str(s["id"][i]),
                "overloaded": bool(s["overloaded"][i]),
                "weakness": {
                    "fault_rate_per_year": round(float(s["fault_rate"][i]), 3),
                    "fault_rate_ref_per_year": round(float(s["fault_rate_ref"][i]), 3),
                    "load_ratio": round(float(s["load_ratio"][i]), 3),
                    "capacity_mva": float(s["capacity_mva"][i]),
                },
                "expected_complaints": round(float(as_[:, i].sum() + lv_as[i]), 3),
                "attributable": round(float(sum(by.values())), 3),
                "attributable_by_driver": by,
            }
        )
    return subs


def np_date(sim, d):
    """Local date of a day index."""
    from datetime import timedelta

    return sim.start + timedelta(days=int(d))
