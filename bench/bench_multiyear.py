"""Benchmark (issue 15 item 6): the ranking with one year against three years of history.

Simulates ``--preset`` (default medium) for 2023-2025 per seed, takes the simulator's ground
truth (``attributable`` per feeder: expected avoidable complaints per year over the three
years' weather) and prints Spearman and P@10 of ``avoidable_complaints`` for the 2025 window
alone (``history_years = 1``) and with 2023-2024 (``history_years = 3``, ``recent_year_weight``
0, 0.25 and 0.5), with the analysis time. Voltage is left out (both alike). Exits 1 when three
years rank worse than one on average over the seeds (default weight 0.25).

    .venv/bin/python bench/bench_multiyear.py [--preset medium] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.priorities import analyse  # noqa: E402
from analytics.settings import AnalyticsSettings  # noqa: E402
from collectors.simulator import Simulation  # noqa: E402
from tests.truth_kit import precision_at, spearman  # noqa: E402

WINDOW = ("2025-01-01", "2026-01-01")
RUNS = ((1, 0.25), (3, 0.0), (3, 0.25), (3, 0.5))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args(argv)
    scores: dict[tuple, list[float]] = {run: [] for run in RUNS}
    print("seed | history years | recent_year_weight | Spearman | P@10 | seconds")
    for seed in args.seeds:
        sim = Simulation(
            args.preset, seed=seed, start=date(2023, 1, 1), days=3 * 365, resolution="1h"
        )
        truth = pd.Series({r["feeder"]: r["attributable"] for r in sim.ground_truth()["feeders"]})
        net, out, comp = sim.network(), sim.outages(), sim.complaints()
        for years, weight in RUNS:
            settings = AnalyticsSettings(history_years=years, recent_year_weight=weight)
            t0 = time.perf_counter()
            ranked = analyse(net, out, comp, None, settings, window=WINDOW).rank("feeder")
            seconds = time.perf_counter() - t0
            est = ranked.set_index("feeder")["avoidable_complaints"].reindex(truth.index)
            rho = spearman(est, truth)
            scores[(years, weight)].append(rho)
            print(
                f"{seed} | {years} | {weight} | {rho:.3f} | {precision_at(est, truth):.1f} |"
                f" {seconds:.1f}",
                flush=True,
            )
    mean = {run: sum(v) / len(v) for run, v in scores.items()}
    for run, value in mean.items():
        print(f"mean Spearman, {run[0]} year(s), weight {run[1]}: {value:.3f}")
    return 0 if mean[(3, 0.25)] >= mean[(1, 0.25)] else 1


if __name__ == "__main__":
    sys.exit(main())
