"""The simulator as a source (``type = "simulator"``): history first, then a live stream.

Sample config::

    [sources.sim]
    type = "simulator"
    preset = "county"        # small | medium | county
    seed = 1
    history_days = 365       # backfilled before going live; start defaults to today - this
    speed = 1.0              # simulated seconds per real second for the live stream
    interval_seconds = 30

The watermark (JSON) keeps the simulation's start date, how far the history was loaded and
how far the live stream was collected, so a restarted collector resumes where it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from collectors.base import Batch, Source
from collectors.options import SimulatorOptions
from collectors.simulator.core import Simulation
from collectors.simulator.county import CountySimulation, county_centre
from collectors.simulator.load import SimState, history_batches, sim_label


def simulation_for(
    options: SimulatorOptions, tz: str, start: date | None = None, place: int = 0
) -> Simulation | CountySimulation:
    """The simulated county a simulator source (or the demo) stands for. A source bound to a
    county (``county = "LC"``) is that county of a province: its ids carry the code and it is
    placed ``place`` county widths east of the others (collectors/simulator/county.py)."""
    if start is None:
        start = options.start or (
            datetime.now(ZoneInfo(tz)).date() - timedelta(days=options.history_days)
        )
    extra = {"centre": county_centre(options.preset, place)} if options.county else {}
    sim = Simulation(
        preset=options.preset,
        seed=options.seed,
        start=start,
        days=options.history_days,
        resolution=options.resolution,
        tz=tz,
        **extra,
    )
    return CountySimulation(sim, options.county) if options.county else sim


def county_place(settings, options: SimulatorOptions) -> int:
    """The position of the source's county among the configured ones (0 without one)."""
    codes = [c.code for c in getattr(settings, "counties", ())]
    return codes.index(options.county) if options.county in codes else 0


class SimulatorSource(Source):
    """Yields the simulated history (resumable), then whatever the live stream produced."""

    options_model = SimulatorOptions
    options: SimulatorOptions

    def __init__(self, name, options, *, settings=None, state=None):
        super().__init__(name, options, settings=settings, state=state)
        self.tz = settings.site.timezone if settings is not None else "Asia/Shanghai"
        self.place = county_place(settings, options)
        self._sim: Simulation | None = None
        self._feed = None

    @property
    def interval_min(self) -> int:
        """Minutes one simulated reading stands for (the runner passes it to the pipeline)."""
        return 15 if self.options.resolution == "15min" else 60

    def _simulation(self, watermark: str | None) -> Simulation | CountySimulation:
        if self._sim is None:
            start = None
            if watermark:
                try:
                    start = date.fromisoformat(json.loads(watermark)["label"].split("/")[2])
                except (ValueError, KeyError, IndexError):
                    start = None
            self._sim = simulation_for(self.options, self.tz, start, self.place)
        return self._sim

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        sim = self._simulation(watermark)
        state = SimState.from_json(watermark, sim_label(sim))
        history_end = (sim.t0 + pd.Timedelta(days=sim.days)).isoformat()
        if state.live_until is None:
            for batch in history_batches(sim, state):
                yield batch
                if batch.watermark:
                    state = SimState.from_json(batch.watermark, sim_label(sim))
            state = replace(state, live_until=history_end)
        yield from self._live(sim, state)

    def _live(self, sim: Simulation | CountySimulation, state: SimState) -> Iterator[Batch]:
        since = pd.Timestamp(state.live_until)
        feed = self._feed
        if (
            feed is None
            or feed.now != since
            or since > feed.fut.t0 + pd.Timedelta(days=feed.fut.days - 1)
        ):
            # (Re)start the live stream at the collected time; its window is a few days long.
            feed = self._feed = sim.live(now=since, speed=self.options.speed)
        until = feed.sim_time()
        if self.options.speed == 1.0:
            until = max(until, pd.Timestamp(datetime.now(UTC)))
        until = min(until, feed.fut.t0 + pd.Timedelta(days=feed.fut.days))
        step = feed.step(until=until)
        if not step.outages.empty:
            yield Batch("outages", step.outages, label="live outages")
        if not step.complaints.empty:
            yield Batch("complaints", step.complaints, label="live complaints")
        done = replace(state, live_until=step.until.isoformat()).to_json()
        yield Batch("voltage", step.voltage, watermark=done, label="live readings")
