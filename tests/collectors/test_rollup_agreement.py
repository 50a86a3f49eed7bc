"""The stored rollups (db/rollups.py, maintained on ingest) agree with the analytics' own
rollup of the same raw readings (analytics.voltage.rollup_readings): one convention, two
implementations that must never drift apart."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.voltage import rollup_readings
from collectors.simulator import Simulation
from collectors.simulator.load import load_history
from db.queries import voltage_rollups

KEY = ["transformer", "period_start", "phase"]


def test_agree001_stored_rollups_equal_analytics_rollups(engine):
    sim = Simulation(preset="small", seed=2, start=date(2025, 7, 1), days=6, resolution="1h")
    load_history(engine, sim, voltage="all", chunk_days=2)
    broken = set(sim.broken_meters["transformer"])
    readings = sim.voltage()
    readings = readings[~readings["transformer"].astype(str).isin(broken)]
    areas = sorted(set(readings["transformer"].astype(str)))
    for freq in ("h", "D"):
        stored = voltage_rollups(engine, freq, transformers=areas)
        expected = rollup_readings(
            readings.assign(transformer=readings["transformer"].astype(str)),
            freq=freq,
            interval_min=60.0,
            tz=sim.tz,
        )
        if freq == "h":  # the hourly rollups keep the area as a whole (X) only
            expected = expected[expected["phase"] == "X"]
        both = stored.merge(expected, on=KEY, suffixes=("", "_a"), validate="one_to_one")
        assert len(both) == len(stored) == len(expected)
        for column in ("n", "minutes_below", "minutes_above"):
            assert (both[column] == both[f"{column}_a"]).all(), column
        for column in ("v_min", "v_max"):
            assert ((both[column] - both[f"{column}_a"]).abs() <= 0.051).all(), column
        abc = both[both["phase"] != "X"]
        assert freq == "h" or len(abc) > 0
        assert ((abc["v_sum"] - abc["v_sum_a"]).abs() <= 0.051 * abc["n"]).all()
        assert (abc["minutes_monitored"] == abc["minutes_monitored_a"]).all()
        assert len(pd.unique(both["period_start"])) > 1
