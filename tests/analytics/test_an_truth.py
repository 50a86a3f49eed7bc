"""Truth tests: estimated avoidable complaints against the simulator's ground truth.

For each seed the simulator (preset ``medium``, one year, hourly voltage) feeds the analytics in
memory: network, outages, complaints, and daily voltage rollups computed with
:func:`analytics.voltage.rollup_readings`. The analytics never see the truth; the test compares
the feeders' ``avoidable_complaints`` with ``ground_truth()["feeders"][i]["attributable"]``
(top-10 precision and Spearman rank correlation) and with the baseline of ranking feeders by
their observed (counted) complaints.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from tests.truth_kit import WINDOW, captured_share, precision_at, simulated_year, spearman

SEEDS = (1, 2)

pytestmark = pytest.mark.slow


def _run(seed: int) -> dict:
    from analytics import priorities
    from analytics.settings import AnalyticsSettings

    sim, network, outages, complaints, daily = simulated_year("medium", seed)
    ranked = priorities.rank(
        "feeder", network, outages, complaints, daily, AnalyticsSettings(), WINDOW
    )
    from bench.truth_ceiling import oracle, outage_attributable_at, true_draws, truth_targets

    truth = sim.ground_truth()  # only the test reads it
    att = pd.Series({f["feeder"]: f["attributable"] for f in truth["feeders"]})
    r = ranked.set_index("feeder").reindex(att.index)
    est, base = r["avoidable_complaints"], r["complaints_counted"]
    # the structural oracle (bench/truth_ceiling.py) from the same year: the ceiling
    t = truth_targets(sim, truth)
    orc = oracle(sim, t, draws=2000, seed=seed)
    # the machinery of bench_analytics' reference oracle (bench/truth_ceiling.py bayes_oracle)
    # at the feeders' true draws, against the truth's own outage part
    machinery = outage_attributable_at(sim, true_draws(sim.net.feeders), 300, 0)
    return {
        "seed": seed,
        "n": len(att),
        "ranked": ranked,
        "p10": precision_at(est, att),
        "spearman": spearman(est, att),
        "base_p10": precision_at(base, att),
        "base_spearman": spearman(base, att),
        "captured": captured_share(est, att),
        "oracle_spearman": spearman(orc, att),
        "oracle_captured": captured_share(orc, att),
        "machinery": spearman(machinery, t["att_out"]),
        "machinery_total": float(machinery.sum() / t["att_out"].sum()),
    }


@pytest.fixture(scope="module")
def results() -> dict[int, dict]:
    # one simulated year per seed, each in a process of its own (spawn: the test process may
    # have threads), so that the seeds take the machine's cores rather than one after another
    ctx = multiprocessing.get_context("spawn")
    workers = max(1, min(len(SEEDS), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        return dict(zip(SEEDS, pool.map(_run, SEEDS), strict=True))


def test_an201_ranking_is_complete(results):
    for r in results.values():
        ranked = r["ranked"]
        assert r["n"] >= 100
        assert len(ranked) == r["n"]
        assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
        assert (ranked["avoidable_complaints"] >= 0).all()
        assert ranked["score"].is_monotonic_decreasing
        assert ranked["project"].notna().all()


def test_an202_better_than_observed_complaints(results):
    rs = list(results.values())
    for r in rs:
        print(
            f"seed {r['seed']}: P@10 {r['p10']:.2f} Spearman {r['spearman']:.3f} | "
            f"baseline P@10 {r['base_p10']:.2f} Spearman {r['base_spearman']:.3f}"
        )
    assert np.mean([r["spearman"] for r in rs]) > np.mean([r["base_spearman"] for r in rs])
    assert np.mean([r["p10"] for r in rs]) > np.mean([r["base_p10"] for r in rs])


# Issue 6 asks for P@10 >= 0.8 and Spearman >= 0.85 on every seed; the estimate reaches
# P@10 0.5/0.7/0.7 and Spearman 0.761/0.751/0.853 on seeds 1/2/3 (seeds 4/5: P@10 0.6/0.5,
# Spearman 0.784/0.813). One simulated year does not hold enough evidence for the targets:
# bench/truth_ceiling.py computes an oracle that knows the simulator's model, every attribute,
# the storms, the true complaint yields and low-voltage parts, and lacks only each feeder's
# random draws; from the same year it reaches P@10 0.7/0.9/0.7 and Spearman 0.791/0.850/0.902
# (seeds 1/2/3), missing the targets on every seed (docs/reliability.md). This test guards what
# is reached, so that a change that makes the ranking worse fails; raise the floors as the
# model improves.
FLOOR_P10, FLOOR_SPEARMAN = 0.5, 0.74


@pytest.mark.parametrize("seed", SEEDS)
def test_an203_truth_floor(results, seed):
    r = results[seed]
    assert r["p10"] >= FLOOR_P10, f"seed {seed}: P@10 {r['p10']:.2f}"
    assert r["spearman"] >= FLOOR_SPEARMAN, f"seed {seed}: Spearman {r['spearman']:.3f}"


# The smaller CI guard of bench/bench_analytics.py's truth table (issue 15): one year, the
# estimate against the structural oracle from the same year (2025). Measured: Spearman ratio
# 0.965 / 0.884 and captured share ratio 0.947 / 0.958 on seeds 1 / 2 (deterministic); the
# floors leave room for a harmless change and catch a worse ranking.
FLOOR_RATIO_SPEARMAN, FLOOR_RATIO_CAPTURED = 0.86, 0.92


@pytest.mark.parametrize("seed", SEEDS)
def test_an204_against_the_oracle(results, seed):
    r = results[seed]
    sp = r["spearman"] / r["oracle_spearman"]
    cs = r["captured"] / r["oracle_captured"]
    print(f"seed {seed}: Spearman / oracle's {sp:.3f}, captured share / oracle's {cs:.3f}")
    assert sp >= FLOOR_RATIO_SPEARMAN, f"seed {seed}: Spearman {sp:.3f} of the oracle's"
    assert cs >= FLOOR_RATIO_CAPTURED, f"seed {seed}: captured share {cs:.3f} of the oracle's"


@pytest.mark.parametrize("seed", SEEDS)
def test_an205_the_reference_oracles_machinery_gives_back_the_truth(results, seed):
    """bench/bench_analytics.py judges the ranking against the posterior mean of the truth,
    computed by re-running the ground truth's machinery at samples of each feeder's draws
    (bench/truth_ceiling.py ``outage_attributable_at``). At the true draws that machinery must
    give back the truth's outage part, feeder by feeder (up to its Monte Carlo noise), or the
    bench's reference is wrong."""
    r = results[seed]
    assert r["machinery"] >= 0.98, f"seed {seed}: Spearman {r['machinery']:.4f}"
    assert abs(r["machinery_total"] - 1.0) < 0.03, f"seed {seed}: total {r['machinery_total']:.3f}"
