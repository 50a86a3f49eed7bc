"""Loading a simulated county into a database through the pipeline (demo, tests, benchmarks).

Everything goes through ``collectors.pipeline`` like any other source's records; the history
is loaded in monthly batches, each committed with a watermark, so a killed load resumes at
the month it had reached.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sqlalchemy import Engine

from collectors.pipeline import BatchSummary, IngestOptions, Pipeline
from db.queries import watermark

NETWORK_ORDER = ("substations", "feeders", "transformers")


def load_network(pipeline: Pipeline, sim, source: str = "sim") -> BatchSummary:
    """The simulated network (authoritative: the simulator owns its ids)."""
    options = IngestOptions(source=source, authoritative=True)
    summary = BatchSummary()
    net = sim.network()
    for table in NETWORK_ORDER:
        summary.add(pipeline.ingest(table, net[table], options))
    return summary


def load_history(engine: Engine, sim, *, pipeline: Pipeline | None = None, source: str = "sim",
                 voltage: str = "all", recent_days: int = 7,
                 progress: Callable[[str, int, int], None] | None = None) -> BatchSummary:
    """Network, outages and complaints of the whole simulation, and voltage readings:
    ``voltage="all"`` every month, ``"recent"`` only the last ``recent_days`` days,
    ``"older"`` everything before those, ``"none"`` no readings.

    Idempotent and resumable: a month already loaded (per the source's watermarks) is skipped."""
    pipeline = pipeline or Pipeline(engine, tz=sim.tz)
    summary = load_network(pipeline, sim, source)
    options = IngestOptions(source=source, authoritative=False,
                            interval_min=15 if sim.resolution == "15min" else 60)
    if watermark(engine, f"{source}:events") != _label(sim):
        summary.add(pipeline.ingest("outages", sim.outages(), options))
        summary.add(pipeline.ingest("complaints", sim.complaints(), options,
                                    watermark=_label(sim), watermark_source=f"{source}:events"))
    if voltage == "none":
        return summary
    end = sim.t0 + pd.Timedelta(days=sim.days)
    split = end - pd.Timedelta(days=recent_days)
    if voltage in ("all", "recent"):
        key = f"{source}:voltage-recent"
        if watermark(engine, key) != _label(sim):
            frame = sim.voltage(days=recent_days)
            summary.add(pipeline.ingest("voltage", frame, options, watermark=_label(sim),
                                        watermark_source=key))
        if progress:
            progress("voltage-recent", 1, 1)
    if voltage in ("all", "older"):
        months = list(sim.iter_batches(freq="MS"))
        for number, batch in enumerate(months, start=1):
            key = f"{source}:voltage-month"
            label = f"{_label(sim)}:{number}"
            done = watermark(engine, key)
            if done is not None and done.startswith(_label(sim) + ":") and int(done.rsplit(":", 1)[1]) >= number:
                continue
            frame = batch.voltage
            frame = frame[frame["time"] <= split]
            summary.add(pipeline.ingest("voltage", frame, options, watermark=label,
                                        watermark_source=key))
            if progress:
                progress("voltage-history", number, len(months))
    return summary


def _label(sim) -> str:
    return f"{sim.preset}/{sim.seed}/{sim.t0.date()}/{sim.days}/{sim.resolution}"
