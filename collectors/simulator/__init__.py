"""The built-in simulator: a seeded county grid yielding canonical DataFrames.

>>> from collectors.simulator import Simulation, PRESETS
>>> sim = Simulation(preset="small", seed=1, days=31, resolution="1h")
>>> for batch in sim.iter_batches():  # monthly chunks: outages, voltage, complaints
...     pass

It never touches the database; the ingestion pipeline validates and stores what it yields.
"""

from .core import Batch, Simulation
from .network import PRESETS

__all__ = ["Batch", "PRESETS", "Simulation"]
