"""The simulated county as batches for the pipeline (demo, the simulator source, tests, benches).

Everything goes through ``collectors.pipeline`` like any other source's records. The history is
cut into batches that each carry the loader's state (a small JSON watermark) so a killed load
resumes where it stopped: network, then the events (outages and complaints), then the most
recent days of readings, then older readings newest-first a few days at a time — so the
dashboard's recent weeks fill in first and a live collector writing meanwhile never waits long.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace

from sqlalchemy import Engine

from collectors.base import Batch
from collectors.pipeline import BatchSummary, IngestOptions, Pipeline
from db.queries import watermark

NETWORK_ORDER = ("substations", "feeders", "transformers")


@dataclass(frozen=True)
class SimState:
    """How far a simulated county has been loaded (stored as a JSON watermark)."""

    label: str = ""
    events_done: bool = False
    recent_done: bool = False
    older_from: int | None = None  # first simulation day of readings loaded, going backwards
    live_until: str | None = None  # ISO time the live stream has been collected to

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None, label: str) -> SimState:
        if text:
            try:
                state = cls(**json.loads(text))
            except (ValueError, TypeError):
                state = None
            if state is not None and state.label == label:
                return state
        return cls(label=label)


def sim_label(sim) -> str:
    return f"{sim.preset}/{sim.seed}/{sim.start}/{sim.days}/{sim.resolution}"


def history_batches(
    sim, state: SimState, *, voltage: str = "all", recent_days: int = 7, chunk_days: int = 3
) -> Iterator[Batch]:
    """Batches of the simulated history still missing after ``state``.

    ``voltage``: "all", "recent" (the last ``recent_days`` days only), "older" (the rest) or
    "none". Each batch's watermark is the state after it."""
    net = sim.network()
    for table in NETWORK_ORDER:
        yield Batch(table, net[table], label=f"simulated {table}")
    if not state.events_done:
        yield Batch("outages", sim.outages(), label="simulated outages")
        state = replace(state, events_done=True)
        yield Batch(
            "complaints", sim.complaints(), watermark=state.to_json(), label="simulated complaints"
        )
    recent_from = max(sim.days - recent_days, 0)
    if voltage in ("all", "recent") and not state.recent_done:
        state = replace(state, recent_done=True)
        yield Batch(
            "voltage",
            sim.voltage_days(recent_from, sim.days),
            watermark=state.to_json(),
            label=f"simulated readings, last {recent_days} days",
        )
    if voltage in ("all", "older"):
        first = recent_from if state.older_from is None else state.older_from
        for last in range(first, 0, -chunk_days):
            start = max(0, last - chunk_days)
            state = replace(state, older_from=start)
            yield Batch(
                "voltage",
                sim.voltage_days(start, last),
                watermark=state.to_json(),
                label=f"simulated readings, days {start}-{last}",
            )


def load_history(
    engine: Engine,
    sim,
    *,
    pipeline: Pipeline | None = None,
    source: str = "sim",
    state_key: str | None = None,
    voltage: str = "all",
    recent_days: int = 7,
    chunk_days: int = 3,
    progress: Callable[[str, int, int], None] | None = None,
) -> BatchSummary:
    """Load the simulated history into ``engine`` through the pipeline, resuming from the
    state stored under ``state_key`` (default: the source name)."""
    pipeline = pipeline or Pipeline(engine, tz=sim.tz)
    key = state_key or source
    state = SimState.from_json(watermark(engine, key), sim_label(sim))
    network_options = IngestOptions(source=source, authoritative=True)
    options = IngestOptions(source=source, interval_min=15 if sim.resolution == "15min" else 60)
    summary = BatchSummary()
    for batch in history_batches(
        sim, state, voltage=voltage, recent_days=recent_days, chunk_days=chunk_days
    ):
        summary.add(
            pipeline.ingest(
                batch.kind,
                batch.frame,
                network_options if batch.kind in NETWORK_ORDER else options,
                watermark=batch.watermark,
                watermark_source=key,
            )
        )
        if progress and batch.kind == "voltage" and batch.watermark:
            done = SimState.from_json(batch.watermark, sim_label(sim))
            loaded = sim.days - (
                done.older_from if done.older_from is not None else max(sim.days - recent_days, 0)
            )
            progress(batch.label, loaded, sim.days)
    return summary


def load_network(pipeline: Pipeline, sim, source: str = "sim") -> BatchSummary:
    """Only the simulated network (substations, feeders, transformer areas)."""
    summary = BatchSummary()
    network = sim.network()
    for table in NETWORK_ORDER:
        summary.add(pipeline.ingest(table, network[table], IngestOptions(source=source)))
    return summary
