"""One simulated county of a province (issue 19): a :class:`Simulation` whose ids carry the
county's code and whose network is placed beside the others.

Several counties in one database need distinct codes (substations, feeders, areas, outage and
event ids, tickets) and distinct places on the map. ``CountySimulation`` wraps a simulation:
every id it yields is ``"<county>-<id>"`` (``LC-SS01``, ``LC-F0101``, ``LC-T0101001``), its
substations carry ``county``, and ``place`` k puts it k county widths east of the site's
centre. The wrapped simulation is untouched: a county-less simulator's output is the same as
before, byte for byte.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .core import Simulation
from .network import PRESETS

#: columns holding ids, per frame the simulation yields
ID_COLUMNS = (
    "substation",
    "feeder",
    "transformer",
    "outage_id",
    "event_id",
    "ticket_id",
    "merged_into",
)

#: kilometres between two simulated counties placed side by side, beyond their extent
GAP_KM = 8.0


def county_centre(preset: str, place: int, centre=(116.25, 36.58)) -> tuple[float, float]:
    """The centre of the ``place``-th county (0: ``centre``), each one county width east."""
    step_km = PRESETS[preset]["extent_km"] + GAP_KM
    lon, lat = centre
    return (round(lon + place * step_km / (111.32 * np.cos(np.radians(lat))), 6), lat)


def prefixed(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """``frame`` with every id column's values prefixed (blanks stay blank)."""
    out = frame.copy()
    for column in ID_COLUMNS:
        if column not in out:
            continue
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            out[column] = values.cat.rename_categories(
                [prefix + str(c) for c in values.cat.categories]
            )
        else:
            text = values.astype(object)
            out[column] = text.where(text.isna(), prefix + text.astype(str))
    return out


class CountySimulation:
    """A simulation's frames as one county of a province: ids prefixed, substations tagged."""

    def __init__(self, sim, county: str):
        self.sim = sim
        self.county = county
        self.prefix = f"{county}-"

    def __getattr__(self, name):  # everything else is the simulation's own
        return getattr(self.sim, name)

    def network(self) -> dict[str, pd.DataFrame]:
        net = {k: prefixed(v, self.prefix) for k, v in self.sim.network().items()}
        net["substations"] = net["substations"].assign(county=self.county)
        return net

    def outages(self) -> pd.DataFrame:
        return prefixed(self.sim.outages(), self.prefix)

    def complaints(self) -> pd.DataFrame:
        return prefixed(self.sim.complaints(), self.prefix)

    def voltage_days(self, first: int, last: int) -> pd.DataFrame:
        return prefixed(self.sim.voltage_days(first, last), self.prefix)

    def live(self, now=None, speed: float = 1.0):
        return CountyFeed(self.sim.live(now=now, speed=speed), self.prefix)


class CountyFeed:
    """A live feed whose steps carry the county's ids."""

    def __init__(self, feed, prefix: str):
        self.feed = feed
        self.prefix = prefix

    def __getattr__(self, name):
        return getattr(self.feed, name)

    def step(self, until=None):
        batch = self.feed.step(until=until)
        return replace(
            batch,
            outages=prefixed(batch.outages, self.prefix),
            voltage=prefixed(batch.voltage, self.prefix),
            complaints=prefixed(batch.complaints, self.prefix),
        )


def province(
    counties: int, preset: str = "small", seed: int = 1, **simulation
) -> list[CountySimulation]:
    """``counties`` simulated counties side by side, coded ``C01``, ``C02``, ... with seeds
    ``seed``, ``seed + 1``, ... (``simulation``: Simulation's other arguments: start, days,
    resolution, tz). What a benchmark of a province slice loads, one source per county."""
    return [
        CountySimulation(
            Simulation(preset=preset, seed=seed + i, centre=county_centre(preset, i), **simulation),
            f"C{i + 1:02d}",
        )
        for i in range(counties)
    ]
