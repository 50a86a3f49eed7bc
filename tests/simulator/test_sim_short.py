"""A short simulated period may have no outage at all: the simulator gives empty, typed
frames and the history still loads (it crashed on an empty id array before)."""

from __future__ import annotations

from datetime import date

from collectors.simulator import Simulation
from collectors.simulator.load import load_history
from db.queries import outages, table_counts


def test_sim101_a_period_without_outages_loads(engine):
    sim = Simulation(preset="small", seed=4, start=date(2025, 7, 1), days=2, resolution="1h")
    assert sim.outages().empty
    assert list(sim.outages().columns)[:2] == ["outage_id", "event_id"]
    load_history(engine, sim, voltage="all", chunk_days=2)
    assert outages(engine).empty
    counts = table_counts(engine)
    assert counts["feeders"] == len(sim.network()["feeders"]) and counts["voltage_hourly"] > 0
