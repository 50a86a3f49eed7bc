"""`feederwatch simulate`: write a simulated county in the external formats."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click

from collectors.simulator import Simulation
from collectors.simulator.exports import write_exports


def run_simulate(
    preset: str = "county",
    days: int = 365,
    start: date | str = "2025-01-01",
    out: str | Path = "simulated",
    seed: int = 1,
    resolution: str = "15min",
    progress: bool = False,
) -> dict:
    """Generate a county and write its CSV exports + ground_truth.json into ``out``.

    Shows a click progress bar when ``progress`` is true. Returns a summary dict: preset, seed,
    start, days, resolution, out, seconds and the row counts per file kind.
    """
    if isinstance(start, str):
        start = date.fromisoformat(start)
    sim = Simulation(preset=preset, seed=seed, start=start, days=days, resolution=resolution)
    t0 = time.perf_counter()
    if progress:
        with click.progressbar(length=1000, label=f"simulating {preset}", file=None) as bar:
            done = [0]

            def report(step, frac):
                n = int(frac * 1000)
                bar.update(max(0, n - done[0]))
                done[0] = max(done[0], n)

            counts = write_exports(sim, out, progress=report)
    else:
        counts = write_exports(sim, out)
    return {
        "preset": preset,
        "seed": seed,
        "start": start.isoformat(),
        "days": days,
        "resolution": resolution,
        "out": str(out),
        "seconds": round(time.perf_counter() - t0, 2),
        "rows": counts,
    }
