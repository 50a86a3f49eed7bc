"""Benchmark: the county preset for a year, streamed in monthly chunks, no files.

Prints rows per second, wall time, peak RSS and the realism figures; times the CSV export
separately (``--export-days N``, 0 to skip). Exits 1 when generation takes more than 5 minutes
or peak memory exceeds 4 GB.

    .venv/bin/python bench/bench_simulator.py [--preset county] [--days 365] [--export-days 31]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.simulator import Simulation  # noqa: E402
from collectors.simulator.exports import write_exports  # noqa: E402
from collectors.simulator.realism import LowVoltageCounter, realism  # noqa: E402

LIMIT_S, LIMIT_GB = 300.0, 4.0


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="county")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resolution", default="15min")
    ap.add_argument("--export-days", type=int, default=31)
    args = ap.parse_args()
    t0 = time.perf_counter()
    sim = Simulation(
        args.preset,
        seed=args.seed,
        start=date(2025, 1, 1),
        days=args.days,
        resolution=args.resolution,
    )
    lv = LowVoltageCounter(sim, exclude=set(sim.broken_meters["transformer"]))
    rows = {"voltage": 0, "outages": 0, "complaints": 0}
    for b in sim.iter_batches(freq="MS"):
        rows["voltage"] += len(b.voltage)
        rows["outages"] += len(b.outages)
        rows["complaints"] += len(b.complaints)
        lv.add(b.voltage[["transformer", "time", "va", "vb", "vc"]])
        print(
            f"  {b.start:%Y-%m}: {len(b.voltage):>11,} readings  "
            f"{time.perf_counter() - t0:6.1f} s  rss {peak_rss_gb():.2f} GB",
            flush=True,
        )
    gen_s = time.perf_counter() - t0
    total = sum(rows.values())
    print(
        f"generation: {gen_s:.1f} s wall, {total:,} rows, {total / gen_s:,.0f} rows/s, "
        f"peak RSS {peak_rss_gb():.2f} GB"
    )
    t1 = time.perf_counter()
    gt = sim.ground_truth()
    print(
        f"ground truth: {time.perf_counter() - t1:.1f} s, {gt['replications']} replications, "
        f"p90 relative SE {gt['precision_p90_rel_se']:.3f}"
    )
    r = realism(sim, lv.share())
    print(
        "realism (targets: SAIFI 1-6, AIHC 5-30 h, most feeders 1-12/yr, LV areas 3-15 %, "
        "5-40 grid complaints/1000, RS-3 > RS-1):"
    )
    for k, v in r.items():
        print(f"  {k}: {v if not isinstance(v, float) else round(v, 3)}")
    ok = gen_s <= LIMIT_S and peak_rss_gb() <= LIMIT_GB
    if args.export_days:
        es = Simulation(
            args.preset,
            seed=args.seed,
            start=date(2025, 1, 1),
            days=args.export_days,
            resolution=args.resolution,
        )
        with tempfile.TemporaryDirectory() as d:
            t2 = time.perf_counter()
            summ = write_exports(es, d)
            ex = time.perf_counter() - t2
            size = sum(p.stat().st_size for p in Path(d).rglob("*") if p.is_file())
        print(
            f"CSV export of {args.export_days} days: {ex:.1f} s, {summ['voltage']:,} readings, "
            f"{size / 1e6:.0f} MB, {summ['voltage'] / ex:,.0f} readings/s"
        )
    print(f"targets: < {LIMIT_S:.0f} s and < {LIMIT_GB} GB: {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
