"""The simulated county as batches for the pipeline (demo, the simulator source, tests, benches).

Everything goes through ``collectors.pipeline`` like any other source's records. The history is
cut into batches that each carry the loader's state (a small JSON watermark) so a killed load
resumes where it stopped: network, then the events (outages and complaints), then the most
recent days of readings, then older readings newest-first a few days at a time — so the
dashboard's recent weeks fill in first and a live collector writing meanwhile never waits long.

Live before history (SQLite has one writer at a time). The bound: each write transaction of a
load holds at most ``MAX_ROWS_PER_TRANSACTION`` readings (100,000: one local day of a group of
transformer areas). Measured on a shared 2-core machine: 0.2-0.3 s for the small preset (a day
is 25,600 readings); for the county a median 1.4 s and at most 2.1 s, most of it reading the
day's rollup keys already written into a DataFrame (db.rollups; building it from plain tuples
brings 50,000-reading parts under 1 s). A range's state is stored with its last part; a
resumed load redoes at most that range, idempotently. Before each transaction the load yields to live collector runs of this
process (``db.locks.yield_to_live``, at most 5 s each time) and pauses ``PAUSE_SECONDS`` so that
a writer of another process waiting on SQLite's busy timeout gets its turn: a live write waits
for at most one such transaction. Every ``CHECKPOINT_EVERY`` transactions the WAL is
checkpointed (PASSIVE, never waiting) and at the end truncated (``db.engine.checkpoint_wal``),
so it stays bounded. ``max_rows=None`` writes each range in one transaction (the demo's first
start, before anything else writes: parts cost time, see ``split_readings``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from collectors.base import Batch
from collectors.ingest import PatientPipeline
from collectors.pipeline import BatchSummary, IngestOptions, Pipeline
from db.engine import checkpoint_wal
from db.locks import yield_to_live
from db.queries import watermark

NETWORK_ORDER = ("substations", "feeders", "transformers")
MAX_ROWS_PER_TRANSACTION = 100_000
PAUSE_SECONDS = 0.05
CHECKPOINT_EVERY = 8
FINAL_CHECKPOINT_SECONDS = 30.0


def split_readings(
    frame: pd.DataFrame, max_rows: int = MAX_ROWS_PER_TRANSACTION, tz: str = "Asia/Shanghai"
) -> Iterator[pd.DataFrame]:
    """Readings in parts of at most ``max_rows`` (more only when one area's day alone has
    more), newest local day first, each part one local day of a group of transformer areas:
    every hourly and daily rollup is computed from one part, and a part's rollups meet only
    those of its own day already written. Parts cost time: each reads the rollup keys of its
    day already written (db.rollups): a county day takes about 9 s in 100,000-row parts,
    3-4 s in one transaction."""
    if len(frame) <= max_rows or "transformer" not in frame or "time" not in frame:
        yield frame
        return
    # Stamped at the end of the interval: a reading belongs to the day containing time - 1 s.
    stamps = pd.to_datetime(frame["time"], utc=True) - pd.Timedelta(seconds=1)
    days = stamps.dt.tz_convert(tz).dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    for day in np.unique(days)[::-1]:
        in_day = frame[days == day]
        if len(in_day) <= max_rows:
            yield in_day
            continue
        codes, _ = pd.factorize(in_day["transformer"], sort=True)
        group_of = np.empty(codes.max() + 1, dtype=np.int64)
        group, filled = 0, 0
        for area, rows in enumerate(np.bincount(codes)):  # areas in order, packed greedily
            if filled and filled + rows > max_rows:
                group, filled = group + 1, 0
            group_of[area] = group
            filled += rows
        parts = group_of[codes]
        for group in np.unique(parts):
            yield in_day[parts == group]


def _voltage_parts(
    frame: pd.DataFrame, watermark: str, label: str, tz: str, max_rows: int | None
) -> Iterator[Batch]:
    """One voltage range as batches of bounded size; only the last carries the state."""
    parts = [frame] if max_rows is None else list(split_readings(frame, max_rows, tz))
    for number, part in enumerate(parts, 1):
        last = number == len(parts)
        yield Batch(
            "voltage",
            part,
            watermark=watermark if last else None,
            label=label if len(parts) == 1 else f"{label} (part {number}/{len(parts)})",
        )


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
    label = f"{sim.preset}/{sim.seed}/{sim.start}/{sim.days}/{sim.resolution}"
    return label if sim.weather_start == sim.start else f"{label}/weather {sim.weather_start}"


def history_batches(
    sim,
    state: SimState,
    *,
    voltage: str = "all",
    recent_days: int = 7,
    chunk_days: int = 3,
    max_rows: int | None = MAX_ROWS_PER_TRANSACTION,
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
        yield from _voltage_parts(
            sim.voltage_days(recent_from, sim.days),
            state.to_json(),
            f"simulated readings, last {recent_days} days",
            sim.tz,
            max_rows,
        )
    if voltage in ("all", "older"):
        first = recent_from if state.older_from is None else state.older_from
        for last in range(first, 0, -chunk_days):
            start = max(0, last - chunk_days)
            state = replace(state, older_from=start)
            yield from _voltage_parts(
                sim.voltage_days(start, last),
                state.to_json(),
                f"simulated readings, days {start}-{last}",
                sim.tz,
                max_rows,
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
    max_rows: int | None = MAX_ROWS_PER_TRANSACTION,
    progress: Callable[[str, int, int], None] | None = None,
    hourly_days: int | None = None,
) -> BatchSummary:
    """Load the simulated history into ``engine`` through the pipeline, resuming from the
    state stored under ``state_key`` (default: the source name). Short transactions that
    yield to live runs, WAL checkpoints between them (see the module docstring).
    ``hourly_days``: the deployment's hourly retention (older hours are never written)."""
    # Waits out another writer's lock instead of stopping the load (db.engine.retry_locked).
    pipeline = pipeline or PatientPipeline(engine, tz=sim.tz, hourly_retention_days=hourly_days)
    key = state_key or source
    state = SimState.from_json(watermark(engine, key), sim_label(sim))
    network_options = IngestOptions(source=source, authoritative=True)
    options = IngestOptions(source=source, interval_min=15 if sim.resolution == "15min" else 60)
    summary = BatchSummary()
    written = 0
    for batch in history_batches(
        sim,
        state,
        voltage=voltage,
        recent_days=recent_days,
        chunk_days=chunk_days,
        max_rows=max_rows,
    ):
        if written:
            if not yield_to_live():
                time.sleep(PAUSE_SECONDS)
            if written % CHECKPOINT_EVERY == 0:
                checkpoint_wal(engine, "PASSIVE")
        written += 1
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
    # Readers or a live write (of this process or another) may hold it up a moment: retried
    # for a bounded time, each try waiting at most 200 ms so that no live write waits on it.
    deadline = time.monotonic() + FINAL_CHECKPOINT_SECONDS
    while True:
        yield_to_live()
        done = checkpoint_wal(engine, "TRUNCATE")
        if done is None or done[0] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return summary


def load_network(pipeline: Pipeline, sim, source: str = "sim") -> BatchSummary:
    """Only the simulated network (substations, feeders, transformer areas)."""
    summary = BatchSummary()
    network = sim.network()
    for table in NETWORK_ORDER:
        summary.add(pipeline.ingest(table, network[table], IngestOptions(source=source)))
    return summary
