"""Benchmark: predicted restoration (analytics/etr.py, issue 17) on held-out history.

Fits the restoration-time model on three weeks of every four of a year's outages and predicts
each outage of the held-out weeks at its start (whole weeks held out: a storm is all on one
side). Reports, on the simulated county and on the real BC Hydro outage-map year
(../shared/data/real/bchydro-outages-2024; region as the feeder class, level unknown):
- the coverage of the 80 % interval (target 80 % +/- 5 %),
- the median absolute error of the median prediction against the naive "median duration by
  cause" baseline fitted on the same weeks (must be lower).
Planned outages are left out (announced with their end). Exits 1 on a miss.

    .venv/bin/python bench/bench_etr.py [--preset county] [--seed 1] [--no-real]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analytics import etr  # noqa: E402

BCHYDRO = ROOT.parent / "shared" / "data" / "real" / "bchydro-outages-2024"
TARGET, TOLERANCE = 0.80, 0.05


def simulated(preset: str, seed: int) -> pd.DataFrame:
    from collectors.simulator import Simulation

    sim = Simulation(preset=preset, seed=seed, start=date(2025, 1, 1), days=365)
    o = sim.outages()
    length = sim.network()["feeders"].set_index("feeder")["length_km"]
    tertile = pd.qcut(length, 3, labels=["short", "medium", "long"]).astype(str)
    return o.assign(feeder_class=o["feeder"].map(tertile))


def bchydro() -> pd.DataFrame:
    """The BC Hydro year, one row per outage id (its last report: the restoration)."""
    b = pd.read_csv(BCHYDRO / "bchydro_outages_2024_365days.csv.gz")
    b = b.drop_duplicates("id", keep="last")
    return pd.DataFrame(
        {
            "start": pd.to_datetime(b["dateOff"], utc=True, errors="coerce"),
            "end": pd.to_datetime(b["dateOn"], utc=True, errors="coerce"),
            "cause": b["cause"].fillna("?"),
            "customers": b["numCustomersOut"],
            "feeder_class": b["regionName"],
            "planned": b["cause"].str.contains("Planned", case=False, na=False),
        }
    ).dropna(subset=["start"])


def judge(name: str, r: dict) -> list[str]:
    if not r.get("n_test"):
        return [f"{name}: nothing to test"]
    print(
        f"{name}: trained on {r['n_train']:,}, held out {r['n_test']:,}; 80 % interval holds "
        f"{r['coverage']:.1%}; median abs error {r['mae_model']:.1f} min vs baseline "
        f"(median by cause) {r['mae_baseline']:.1f} min (ratio {r['mae_model'] / r['mae_baseline']:.3f})"
    )
    missed = []
    if abs(r["coverage"] - TARGET) > TOLERANCE:
        missed.append(f"{name}: coverage {r['coverage']:.1%} outside 80 % +/- 5 %")
    if r["mae_model"] >= r["mae_baseline"]:
        missed.append(f"{name}: median abs error does not beat the baseline")
    return missed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="county")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-real", action="store_true", help="skip the BC Hydro year")
    args = ap.parse_args(argv)
    missed = []
    t0 = time.perf_counter()
    missed += judge(
        f"simulator ({args.preset}, seed {args.seed})",
        etr.evaluate(simulated(args.preset, args.seed), "Asia/Shanghai"),
    )
    if not args.no_real:
        if not BCHYDRO.exists():
            missed.append(f"real data not found at {BCHYDRO}")
        else:
            missed += judge("BC Hydro 2024", etr.evaluate(bchydro(), "America/Vancouver"))
    print(f"({time.perf_counter() - t0:.1f} s)")
    for m in missed:
        print("MISSED:", m)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
