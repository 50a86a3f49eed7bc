"""Benchmark: the simulated county, one year, to ranked tables and system indices.

The simulator (preset ``county``) gives the network, outages, complaints and hourly voltage; the
voltage is rolled up to daily rollups with :func:`analytics.voltage.rollup_readings` month by
month (what the database holds), then the timed part runs: both ranked tables and the system
indices. Prints the time and the truth figures (top-10 precision and Spearman of the estimated
avoidable complaints against the simulator's ``attributable``, and the same for ranking by
observed complaints); exits 1 when the analytics take 2 s or more or the truth targets
(P@10 >= 0.8, Spearman >= 0.85, better than the baseline) are missed.

    .venv/bin/python bench/bench_analytics.py [--preset county] [--seed 1] [--budget 2.0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import priorities, reliability  # noqa: E402
from analytics.settings import AnalyticsSettings  # noqa: E402
from tests.truth_kit import WINDOW, precision_at, simulated_year, spearman  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="county")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=2.0, help="seconds allowed for the analytics")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    sim, network, outages, complaints, daily = simulated_year(args.preset, args.seed)
    t_prep = time.perf_counter() - t0
    settings = AnalyticsSettings()
    window = WINDOW

    t1 = time.perf_counter()
    analysis = priorities.analyse(network, outages, complaints, daily, settings, window)
    feeders = analysis.rank("feeder")
    subs = analysis.rank("substation")
    system = reliability.system_indices(network, outages, window=window, settings=settings)
    t_analytics = time.perf_counter() - t1

    truth = sim.ground_truth()
    att = pd.Series({f["feeder"]: f["attributable"] for f in truth["feeders"]})
    est = feeders.set_index("feeder")["avoidable_complaints"].reindex(att.index)
    base = feeders.set_index("feeder")["complaints_counted"].reindex(att.index)
    p10, sp = precision_at(est, att), spearman(est, att)
    bp10, bsp = precision_at(base, att), spearman(base, att)
    s_att = pd.Series({s["substation"]: s["attributable"] for s in truth["substations"]})
    s_est = subs.set_index("substation")["avoidable_complaints"].reindex(s_att.index)

    print(
        f"preset {args.preset} seed {args.seed}: {len(feeders)} feeders, {len(subs)} substations, "
        f"{len(network['transformers'])} areas, {len(outages)} outages, {len(complaints)} tickets, "
        f"{len(daily)} daily rollup rows (prepared in {t_prep:.1f} s)"
    )
    print(
        f"analytics (both rankings + system indices): {t_analytics:.2f} s (budget {args.budget:.2f} s)"
    )
    print(
        f"system SAIFI {system['saifi'].iloc[0]:.3f}  SAIDI {system['saidi'].iloc[0]:.1f} min  "
        f"RS-1 {system['rs1'].iloc[0]:.4f} %"
    )
    print(
        f"feeders: P@10 {p10:.2f}  Spearman {sp:.3f}   baseline (observed complaints): "
        f"P@10 {bp10:.2f}  Spearman {bsp:.3f}"
    )
    print(f"substations: Spearman {spearman(s_est, s_att):.3f}")
    misses = []
    if t_analytics >= args.budget:
        misses.append(f"time {t_analytics:.2f} s >= {args.budget:.2f} s")
    if p10 < 0.8:
        misses.append(f"P@10 {p10:.2f} < 0.80")
    if sp < 0.85:
        misses.append(f"Spearman {sp:.3f} < 0.85")
    if not (p10 + sp > bp10 + bsp):
        misses.append("not better than the observed-complaints baseline")
    for m in misses:
        print(f"MISS: {m}")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
