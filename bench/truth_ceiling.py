"""Truth ceiling: how well can ANY estimator rank feeders from one simulated year? (issue 6)

Issue 6 asks that the feeders' estimated avoidable complaints
(``analytics.priorities.rank("feeder", ...)["avoidable_complaints"]``) match the simulator's
ground truth (``ground_truth()["feeders"][i]["attributable"]``) with top-10 precision >= 0.8 and
Spearman >= 0.85 on every ``medium`` seed (one year). This bench computes, per seed, what an
*oracle* reaches that knows strictly more than any estimator working from the data:

* the simulator's generative model of feeder faults exactly (collectors/simulator/network.py and
  events.py): per-cause rates ``REF_RATE_PER_KM * length * multiplier`` with the multipliers'
  distributions (condition ``exp(0.035 (age-12)) * LN(0, 0.35)``, vegetation
  ``(0.4 urban | 1.4 rural) * LN(0, 0.5)``, unobserved ``LN(0, 0.3)``, third party
  ``(2.0 urban | 1.0 rural) * LN(0, 0.3)``, the weak-feeder factors 1.8/1.6/1.5), the reference
  rates, storm exposure ``clip(L/12, 0.3, 3) sqrt(thin) sqrt(max(veg, 0.3))`` against
  ``clip(L/12, 0.3, 3) * 0.8``, hit probability ``1 - exp(-I^2 * exposure * 1.1)``, momentary
  rate ``0.1 L sqrt(veg) hidden``, the overload trip rate;
* every feeder's attributes (exact length, conductor, year, utilisation) and the hidden urban
  and weak flags; the storm days and their true intensities;
* each feeder's TRUE complaint yield per excess outage event and its TRUE low-voltage part
  (both read from the ground truth), i.e. everything about customers' behaviour;
* the history's fault events themselves, separated exactly into background faults per cause,
  storm hits per storm and momentary interruptions (the simulator's event rows; a real estimator
  sees only the outage table, where e.g. a storm hit and a weather fault look alike).

It does NOT know each feeder's own random draws (the lognormal noise in condition, vegetation,
unobserved and third-party multipliers). It infers them by exact Bayesian posterior
(self-normalised importance sampling from the prior, ``--draws`` per feeder) from the year's
observations: background fault counts per cause (Poisson), hit/miss on each storm (Bernoulli),
momentary count (Poisson). Given the event record, nothing else the data hold (durations, times,
complaints, voltage) depends on those draws, so these counts carry all the information a year
has about them. The oracle's estimate is

    estimate_i = true low_voltage_i + yield_i * E[excess events_i | observations]

with ``excess events = sum over causes (rate - rate_ref) + sum over storms (p - p_ref)`` (the
events the ground truth removes in its counterfactual; momentary events carry no outage
tickets in the truth) and ``yield_i = true outage-driven attributable_i / true excess_i``.

Why it is an upper bound (in the practical sense): everything except the per-feeder draws is
given for free, and the draws are estimated by the Bayes posterior, the best any method can do
with the same evidence; the true yield even leaks a little information about the draws. Ranking
by a posterior mean is not a theorem-grade maximiser of P@10/Spearman on every realisation (an
estimator can get lucky on one seed), but no method using one year of the county's data can be
expected to beat it systematically. If this ceiling misses the issue's targets, the targets are
not reachable from one year of observations.

The true yield leaks more than "a little" when the history is short (session 18): a feeder's
yield per excess event depends on its own draws (its repeated outages grow faster than its
rate), so with one year the plain oracle's Spearman is 0.02-0.04 above the posterior mean of
the truth itself. :func:`bayes_oracle` computes that posterior mean with the truth's own
machinery at samples of the posterior (no true yield); bench/bench_analytics.py measures the
issue 15 targets against it and prints this plain oracle beside it.

Also printed for the same seeds: our estimate (as tests/analytics/test_an_truth.py ``_run``),
the baseline (observed counted complaints), a prior-only oracle (no observations: posterior =
prior) and a perfect-information check (the oracle's own excess formula evaluated at the TRUE
draws, recovered from the simulator's arrays): it must reproduce the truth (Spearman >= 0.999,
P@10 = 1.0) and the oracle's model must reproduce the simulator's rates, exposures and momentary
rates at the true draws; otherwise the bench itself is wrong.

Informational: exits 0 whatever the figures, except exit 1 when the perfect-information check
fails (the bench is wrong). Deterministic (seeded), about a minute per seed.

    .venv/bin/python bench/truth_ceiling.py [--seeds 1 2 3] [--draws 4000] [--no-ours]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.simulator import Simulation  # noqa: E402
from collectors.simulator.events import C_OVER, LEVEL_FEEDER  # noqa: E402
from collectors.simulator.network import REF_RATE_PER_KM  # noqa: E402
from collectors.simulator.truth import _outage_expectations  # noqa: E402
from tests.truth_kit import WINDOW, precision_at, simulated_inputs, spearman  # noqa: E402

TARGET_P10, TARGET_SPEARMAN = 0.8, 0.85
STORM_K = 1.1  # p = 1 - exp(-I^2 * exposure * 1.1), collectors/simulator/events.py
N_RANDOM = 5  # causes with random multipliers: weather, equipment, vegetation, animal, third party


def make_sim(seed: int) -> Simulation:
    return Simulation(preset="medium", seed=seed, start=date(2025, 1, 1), days=365, resolution="1h")


def ours(sim: Simulation, att: pd.Series) -> pd.DataFrame:
    """Our estimate and the observed complaints, exactly as test_an_truth.py ``_run``."""
    from analytics import priorities
    from analytics.settings import AnalyticsSettings

    network, outages, complaints, daily = simulated_inputs(sim)
    ranked = priorities.rank(
        "feeder", network, outages, complaints, daily, AnalyticsSettings(), WINDOW
    )
    r = ranked.set_index("feeder").reindex(att.index)
    return r[["avoidable_complaints", "complaints_counted"]]


# ------------------------------------------------------------------ the fault model
def model(f: dict, cond_n, veg, hid, tp_n) -> dict:
    """The simulator's fault model at given draws (arrays (n_f, S), or (n_f, 1) for the truth).

    cond_n, tp_n: the lognormal noise factors of condition and third party; veg, hid: the
    vegetation and unobserved multipliers. Returns rates (5, n_f, S) of the random causes,
    their excess over the reference, storm exposure, momentary rate and condition factor.
    """
    L = f["length_km"][:, None]
    urban, bad = f["urban"][:, None], f["bad"][:, None]
    thin = np.sqrt(120 / f["mm2"])[:, None]
    age = (2025 - f["year"])[:, None]
    cond = np.exp(0.035 * (age - 12)) * cond_n
    mult = [
        thin * hid * np.where(bad, 1.8, 1.0),
        cond * np.where(bad, 1.6, 1.0),
        veg * np.where(bad, 1.5, 1.0),
        np.where(urban, 0.6, 1.3) * hid,
        np.where(urban, 2.0, 1.0) * tp_n,
    ]
    ref = REF_RATE_PER_KM[:N_RANDOM, None, None] * L[None]
    rate = ref * np.stack(mult)
    excess = rate - np.minimum(rate, ref)
    base = np.clip(L / 12, 0.3, 3.0)
    storm_exp = base * np.sqrt(thin) * np.sqrt(np.maximum(veg, 0.3))
    mom = 0.10 * L * np.sqrt(veg) * hid
    return dict(
        rate=rate,
        excess=excess,
        storm_exp=storm_exp,
        mom=mom,
        storm_exp_ref=np.minimum(storm_exp, base * 0.8),
        cond=cond,
    )


def storm_excess(storm_exp, storm_exp_ref, inten) -> np.ndarray:
    """Expected storm hits removed by the counterfactual: sum over storms of p - p_ref."""
    out = np.zeros(np.shape(storm_exp))
    for i2 in inten**2 * STORM_K:
        out += np.exp(-i2 * storm_exp_ref) - np.exp(-i2 * storm_exp)
    return out


def observations(sim: Simulation, day0: int = 0, day1: int | None = None) -> dict:
    """The feeder events of days [day0, day1) of the history: background counts per cause,
    hits on the storms of those days, momentaries; ``years`` is the span observed."""
    day1 = sim.days if day1 is None else day1
    ev, w = sim._events, sim.weather
    n_f = len(sim.net.feeders["id"])
    inside = (ev["start"] >= day0 * 1440.0) & (ev["start"] < day1 * 1440.0)
    own = (ev["rep"] == 0) & (ev["level"] == LEVEL_FEEDER) & ~ev["planned"] & inside
    bg = own & ~ev["storm"] & ~ev["momentary"]
    assert (ev["cause"][bg] <= C_OVER).all()
    counts = np.zeros((C_OVER + 1, n_f))
    np.add.at(counts, (ev["cause"][bg], ev["feeder"][bg]), 1)
    st = own & ev["storm"]
    s_start = w.storm_days * 1440.0 + w.storm_hour * 60.0
    k = np.searchsorted(s_start, ev["start"][st], side="right") - 1
    assert (k >= 0).all()
    hits = np.zeros((len(s_start), n_f), bool)
    hits[k, ev["feeder"][st]] = True
    seen = (w.storm_days >= day0) & (w.storm_days < day1)
    mom = own & ev["momentary"]
    n_mom = np.bincount(ev["feeder"][mom], minlength=n_f)
    return dict(counts=counts, hits=hits[seen], seen=seen, n_mom=n_mom, years=(day1 - day0) / 365.0)


def prior_draws(f: dict, draws: int, seed: int) -> tuple:
    """``draws`` prior draws per feeder of (condition noise, vegetation, unobserved, third-party
    noise), each (n_f, draws)."""
    rng = np.random.default_rng([seed, 6, 20260127])
    shape = (len(f["id"]), draws)
    cond_n = rng.lognormal(0, 0.35, shape)
    veg = np.where(f["urban"], 0.4, 1.4)[:, None] * rng.lognormal(0, 0.5, shape)
    hid = rng.lognormal(0, 0.3, shape)
    tp_n = rng.lognormal(0, 0.3, shape)
    return cond_n, veg, hid, tp_n


def posterior_excess(sim: Simulation, obs: dict | None, draws: int, seed: int, weights=False):
    """Posterior (or prior, obs=None) mean of each feeder's excess events per year over the
    whole simulated period (the ground truth's time base), given the observed days only.
    With ``weights``, also the prior draws and their posterior weights (n_f, draws)."""
    f, w = sim.net.feeders, sim.weather
    n_f = len(f["id"])
    years = sim.days / 365.0
    shape = (n_f, draws)
    pd_ = prior_draws(f, draws, seed)
    m = model(f, *pd_)
    excess = m["excess"].sum(0) + f["rate"][:, C_OVER][:, None]  # overload: no random draw
    excess = excess * years + storm_excess(m["storm_exp"], m["storm_exp_ref"], w.storm_intensity)
    if obs is None:
        return excess.mean(1) / years, np.full(n_f, float(draws))
    seen_years = obs["years"]
    ll = np.zeros(shape)
    for c in range(N_RANDOM):
        lam = m["rate"][c] * seen_years
        ll += obs["counts"][c][:, None] * np.log(lam) - lam
    for s, inten in enumerate(w.storm_intensity[obs["seen"]]):
        q = np.exp(-(inten**2) * STORM_K * m["storm_exp"])  # P(miss)
        ll += np.where(obs["hits"][s][:, None], np.log1p(-q), np.log(q))
    lam = m["mom"] * seen_years
    ll += obs["n_mom"][:, None] * np.log(lam) - lam
    wts = np.exp(ll - ll.max(1, keepdims=True))
    wts /= wts.sum(1, keepdims=True)
    ess = 1.0 / (wts**2).sum(1)
    if weights:
        return (wts * excess).sum(1) / years, ess, pd_, wts
    return (wts * excess).sum(1) / years, ess


def true_draws(f: dict):
    """The feeders' actual draws, recovered from the simulator's arrays (for the check only)."""
    age = 2025 - f["year"]
    cond_n = f["cond"] / np.exp(0.035 * (age - 12))
    tp_n = f["rate"][:, 4] / (REF_RATE_PER_KM[4] * f["length_km"]) / np.where(f["urban"], 2.0, 1.0)
    return [x[:, None] for x in (cond_n, f["veg"], f["hidden"], tp_n)]


def truth_targets(sim: Simulation, truth: dict | None = None) -> dict:
    """The ground truth per feeder: ``att`` (attributable, Series), its low-voltage part ``lv``,
    its outage part ``att_out``, the true excess outage events per year ``true_exc`` and each
    feeder's true complaint yield per excess event ``yld``. ``truth``: sim.ground_truth() if
    already computed."""
    f, w = sim.net.feeders, sim.weather
    truth = sim.ground_truth() if truth is None else truth
    ids = [x["feeder"] for x in truth["feeders"]]
    assert ids == [str(x) for x in f["id"]]
    att = pd.Series([x["attributable"] for x in truth["feeders"]], index=ids)
    by = pd.DataFrame([x["attributable_by_driver"] for x in truth["feeders"]], index=ids)
    lv = by["low_voltage"].to_numpy()
    att_out = (by["interruptions"] + by["long_interruptions"] + by["frequent_outages"]).to_numpy()
    # true excess events per year from the simulator's own arrays
    true_exc = (f["rate"] - f["rate_ref"]).sum(1) + storm_excess(
        f["storm_exp"], f["storm_exp_ref"], w.storm_intensity
    ) * 365.0 / sim.days
    zero = true_exc <= 1e-9
    yld = np.where(zero, 0.0, att_out / np.where(zero, 1.0, true_exc))
    return dict(ids=ids, att=att, lv=lv, att_out=att_out, zero=zero, yld=yld, true_exc=true_exc)


def oracle(sim: Simulation, t: dict, draws: int, seed: int, day0: int = 0) -> pd.Series:
    """The structural oracle's estimate from the feeder events of days [day0, end)."""
    post, _ = posterior_excess(sim, observations(sim, day0), draws, seed)
    return pd.Series(t["lv"] + t["yld"] * post, index=t["ids"])


def feeders_at(f: dict, cond_n, veg, hid, tp_n) -> dict:
    """The feeders' arrays with the fault model evaluated at the given draws (each (n_f, 1)):
    what the simulator would have drawn had those been the feeders' random draws."""
    m = model(f, cond_n, veg, hid, tp_n)
    L = f["length_km"]
    out = dict(f)
    rate = f["rate"].copy()
    rate[:, :N_RANDOM] = m["rate"][:, :, 0].T
    rate_ref = f["rate_ref"].copy()
    rate_ref[:, :N_RANDOM] = np.minimum(
        rate[:, :N_RANDOM], REF_RATE_PER_KM[None, :N_RANDOM] * L[:, None]
    )
    out.update(
        rate=rate,
        rate_ref=rate_ref,
        storm_exp=m["storm_exp"][:, 0],
        storm_exp_ref=m["storm_exp_ref"][:, 0],
        mom_rate=m["mom"][:, 0],
        mom_rate_ref=np.minimum(m["mom"][:, 0], 0.10 * L * 0.6),
        veg=veg[:, 0],
        hidden=hid[:, 0],
        cond=m["cond"][:, 0],
    )
    return out


def outage_attributable_at(sim: Simulation, cols: list, reps: int, stream: int) -> np.ndarray:
    """Each feeder's outage-driven attributable complaints per year (the ground truth's
    definition, the simulator's own behaviour model and counterfactual) had the feeders' random
    draws been ``cols`` (each (n_f, 1)), over the simulated period's weather; ``reps`` fault
    realisations (random stream ``stream``). Feeders are radial and the truth removes each
    feeder's weaknesses from its own areas' events, so one run gives every feeder's figure at
    its own draw."""
    net = copy.copy(sim.net)
    net.feeders = feeders_at(sim.net.feeders, *cols)
    proxy = SimpleNamespace(
        net=net, weather=sim.weather, seed=sim.seed * 1000 + stream, days=sim.days
    )
    return _outage_expectations(proxy, 0.0, reps, reps)["diff_f"].sum(0)


def bayes_samples(
    sim: Simulation, draws: int, seed: int, day0: int = 0, k: int = 32, reps: int = 100
) -> np.ndarray:
    """(k, n_f): each feeder's outage-driven attributable complaints per year at ``k`` samples
    of its posterior draws given the feeder events of days [day0, end) (see
    :func:`bayes_oracle`)."""
    _, _, prior, wts = posterior_excess(sim, observations(sim, day0), draws, seed, weights=True)
    n_f = wts.shape[0]
    rng = np.random.default_rng([seed, 7, 20261129])
    cum = np.cumsum(wts, axis=1)
    cum[:, -1] = 1.0
    u = (rng.random((n_f, 1)) + np.arange(k)[None, :]) / k  # systematic resampling
    idx = np.stack([np.searchsorted(cum[i], u[i], side="right") for i in range(n_f)])
    rows = np.arange(n_f)
    out = np.zeros((k, n_f))
    for j in range(k):
        cols = [x[rows, idx[:, j]][:, None] for x in prior]
        out[j] = outage_attributable_at(sim, cols, reps, stream=j + 1)
    return out


def bayes_oracle(t: dict, samples: np.ndarray) -> pd.Series:
    """The structural oracle without the leak of the true yields: its estimate is the posterior
    mean of the ground truth itself, E[attributable | observations], under the simulator's model.

    The plain :func:`oracle` multiplies the posterior excess by each feeder's TRUE complaint yield
    per excess event, ``true outage attributable / true excess``. That ratio depends on the
    feeders' own random draws (a feeder with high true rates has more repeated outages, whose
    complaints grow faster than its rate), so it hands the oracle part of what it should infer.
    Here the posterior over each feeder's draws (the same importance weights) is resampled, and
    the truth's own machinery computes the outage attributable at each sample
    (:func:`bayes_samples`, :func:`outage_attributable_at`); their mean is the posterior mean.
    Everything else it knows is as :func:`oracle`'s: the model, every attribute, the hidden
    flags, the storms, each area's propensity and the true low-voltage part."""
    return pd.Series(t["lv"] + samples.mean(0), index=t["ids"])


def run_seed(seed: int, draws: int, with_ours: bool) -> dict:
    t0 = time.perf_counter()
    sim = make_sim(seed)
    f, w = sim.net.feeders, sim.weather
    t = truth_targets(sim)
    ids, att, lv, zero, yld = t["ids"], t["att"], t["lv"], t["zero"], t["yld"]
    att_out = t["att_out"]

    # perfect-information check: the oracle's model at the true draws
    m = model(f, *true_draws(f))
    model_err = max(
        float(np.abs(m["rate"][:, :, 0].T - f["rate"][:, :N_RANDOM]).max()),
        float(np.abs(m["storm_exp"][:, 0] - f["storm_exp"]).max()),
        float(np.abs(m["storm_exp_ref"][:, 0] - f["storm_exp_ref"]).max()),
        float(np.abs(m["mom"][:, 0] - f["mom_rate"]).max()),
    )
    perf_exc = (
        m["excess"][:, :, 0].sum(0)
        + f["rate"][:, C_OVER]
        + storm_excess(m["storm_exp"][:, 0], m["storm_exp_ref"][:, 0], w.storm_intensity)
        * 365.0
        / sim.days
    )
    perfect = pd.Series(lv + yld * perf_exc, index=ids)
    zero_leak = float(np.abs(att_out[zero]).max()) if zero.any() else 0.0

    obs = observations(sim)
    post, ess = posterior_excess(sim, obs, draws, seed)
    prior, _ = posterior_excess(sim, None, draws, seed)
    post_o = pd.Series(lv + yld * post, index=ids)
    prior_o = pd.Series(lv + yld * prior, index=ids)

    res = {
        "seed": seed,
        "n": len(ids),
        "ess_min": float(ess.min()),
        "ess_med": float(np.median(ess)),
        "model_err": model_err,
        "zero_leak": zero_leak,
        "n_storms": len(w.storm_days),
        "n_weak": int(f["bad"].sum()),
    }
    for key, est in (("prior", prior_o), ("oracle", post_o), ("perfect", perfect)):
        res[key] = (precision_at(est, att), spearman(est, att))
    if with_ours:
        r = ours(sim, att)
        res["ours"] = (
            precision_at(r["avoidable_complaints"], att),
            spearman(r["avoidable_complaints"], att),
        )
        res["base"] = (
            precision_at(r["complaints_counted"], att),
            spearman(r["complaints_counted"], att),
        )
    res["secs"] = time.perf_counter() - t0
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--draws", type=int, default=4000, help="prior draws per feeder")
    ap.add_argument(
        "--no-ours",
        action="store_true",
        help="skip our estimate and the baseline (no voltage rollups; faster)",
    )
    a = ap.parse_args(argv)
    fmt = lambda x: f"{x[0]:.1f} / {x[1]:.3f}" if x else "-"  # noqa: E731
    cols = ["ours", "base", "prior", "oracle", "perfect"]
    head = [
        "ours",
        "baseline",
        "prior-only oracle",
        "posterior oracle (ceiling)",
        "perfect-information check",
    ]
    print(
        f"preset medium, 2025-01-01 + 365 days, 1h; {a.draws} prior draws per feeder; "
        "cells are P@10 / Spearman against ground truth 'attributable'"
    )
    print("| seed | " + " | ".join(head) + " |")
    print("|---" * (len(head) + 1) + "|")
    results, bad = [], False
    for seed in a.seeds:
        r = run_seed(seed, a.draws, not a.no_ours)
        results.append(r)
        print(f"| {seed} | " + " | ".join(fmt(r.get(c)) for c in cols) + " |", flush=True)
    print()
    for r in results:
        print(
            f"seed {r['seed']}: {r['n']} feeders ({r['n_weak']} weak), {r['n_storms']} storms; "
            f"importance-sampling ESS min {r['ess_min']:.0f} median {r['ess_med']:.0f}; "
            f"model vs simulator max abs error {r['model_err']:.1e}; "
            f"{r['secs']:.0f} s"
        )
        if r["model_err"] > 1e-9 or r["zero_leak"] > 0.01:
            print(
                f"  BENCH WRONG: the oracle's model does not reproduce the simulator "
                f"(error {r['model_err']:.2e}, outage-attributable on zero-excess feeders "
                f"{r['zero_leak']:.3f})"
            )
            bad = True
        if r["perfect"][0] < 1.0 or r["perfect"][1] < 0.999:
            print(f"  BENCH WRONG: perfect-information check {fmt(r['perfect'])}")
            bad = True
    print()
    meet = [r["oracle"][0] >= TARGET_P10 and r["oracle"][1] >= TARGET_SPEARMAN for r in results]
    print(f"issue 6 targets: P@10 >= {TARGET_P10} and Spearman >= {TARGET_SPEARMAN} on every seed")
    for r, ok in zip(results, meet):
        print(
            f"  seed {r['seed']}: ceiling P@10 {r['oracle'][0]:.1f}, Spearman "
            f"{r['oracle'][1]:.4f} -> "
            f"{'meets' if ok else 'MISSES'} the targets"
        )
    print(
        "the ceiling "
        + (
            "meets the targets on every seed"
            if all(meet)
            else f"misses the targets on {meet.count(False)} of {len(meet)} seeds: "
            "out of reach of one year's observations there"
        )
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
