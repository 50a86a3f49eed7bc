"""Scoring an estimate against the simulator's ground truth, shared by the truth test
(tests/analytics/test_an_truth.py) and the benches that print the same figures
(bench/bench_analytics.py, bench/truth_ceiling.py), so that all three measure alike."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

WINDOW = ("2025-01-01", "2026-01-01")


def spearman(a, b) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    return float(
        pd.Series(np.asarray(a, float)).rank().corr(pd.Series(np.asarray(b, float)).rank())
    )


def precision_at(est: pd.Series, truth: pd.Series, k: int = 10) -> float:
    """Share of the truth's top ``k`` among the estimate's top ``k``."""
    return len(set(est.nlargest(k).index) & set(truth.nlargest(k).index)) / k


def captured_share(est: pd.Series, truth: pd.Series, k: int = 10) -> float:
    """What the estimate's top ``k`` would truly avoid, as a share of what the truth's top ``k``
    would avoid (value-weighted top-k precision: a near miss costs little)."""
    return float(truth[est.nlargest(k).index].sum() / truth.nlargest(k).sum())


def simulated_year(preset: str, seed: int):
    """(simulation, network, outages, complaints, daily voltage rollups) of one simulated year
    (2025, hourly readings), straight from the simulator into memory: what the analytics see."""
    from collectors.simulator import Simulation

    sim = Simulation(preset=preset, seed=seed, start=date(2025, 1, 1), days=365, resolution="1h")
    return (sim, *simulated_inputs(sim))


def simulated_inputs(sim):
    """(network, outages, complaints, daily voltage rollups) of a simulation, in memory."""
    from analytics import voltage

    daily = pd.concat(
        [
            voltage.rollup_readings(voltage.clean_readings(b.voltage), freq="D", interval_min=60.0)
            for b in sim.iter_batches()
        ],
        ignore_index=True,
    )
    return sim.network(), sim.outages(), sim.complaints(), daily
