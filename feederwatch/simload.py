"""Loading a simulated county into a database through the pipeline (demo, tests, benchmarks).

Everything goes through ``collectors.pipeline`` like any other source's records; the history
is loaded in monthly batches, each committed with a watermark, so a killed load resumes at
the month it had reached.
"""

from __future__ import annotations

from collections.abc import Callable

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
                 voltage: str = "all", recent_days: int = 7, chunk_days: int = 3,
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
    if voltage in ("all", "recent"):
        key = f"{source}:voltage-recent"
        if watermark(engine, key) != _label(sim):
            frame = sim.voltage_days(sim.days - recent_days, sim.days)
            summary.add(pipeline.ingest("voltage", frame, options, watermark=_label(sim),
                                        watermark_source=key))
        if progress:
            progress("voltage-recent", 1, 1)
    if voltage in ("all", "older"):
        # Newest first, a few days per transaction: the dashboard's recent weeks fill in
        # first, and a live collector writing at the same time never waits long for the lock.
        key = f"{source}:voltage-older"
        first_loaded = _resume_day(watermark(engine, key), sim, sim.days - recent_days)
        total = max(sim.days - recent_days, 1)
        for d1 in range(first_loaded, 0, -chunk_days):
            d0 = max(0, d1 - chunk_days)
            frame = sim.voltage_days(d0, d1)
            summary.add(pipeline.ingest("voltage", frame, options, watermark=f"{_label(sim)}@{d0}",
                                        watermark_source=key))
            if progress:
                progress("voltage-history", total - d0, total)
    return summary


def _resume_day(mark: str | None, sim, default: int) -> int:
    """The first simulation day already loaded by an earlier (possibly killed) backfill."""
    if mark is None or not mark.startswith(_label(sim) + "@"):
        return default
    return int(mark.rsplit("@", 1)[1])


def _label(sim) -> str:
    return f"{sim.preset}/{sim.seed}/{sim.t0.date()}/{sim.days}/{sim.resolution}"
