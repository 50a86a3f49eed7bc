"""The simulated grid's arrays (:class:`Network`), the presets that size it and the reference
("sound asset") rates and drops its weaknesses are measured against."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PRESETS: dict[str, dict] = {
    "small": dict(
        substations=4,
        feeders_per_sub=5,
        areas_per_feeder=15,
        towns=4,
        extent_km=14.0,
        bad_feeders=2,
        overloaded_subs=1,
    ),
    "medium": dict(
        substations=10,
        feeders_per_sub=11,
        areas_per_feeder=18,
        towns=9,
        extent_km=26.0,
        bad_feeders=6,
        overloaded_subs=1,
    ),
    "county": dict(
        substations=30,
        feeders_per_sub=10,
        areas_per_feeder=20,
        towns=20,
        extent_km=44.0,
        bad_feeders=15,
        overloaded_subs=2,
    ),
}

CONDUCTORS = np.array([35, 50, 70, 95, 120, 150, 185, 240])
# rough thermal rating of a 10 kV overhead line per conductor section, MVA
RATED_MVA = {35: 2.6, 50: 3.4, 70: 4.3, 95: 5.3, 120: 6.2, 150: 7.1, 185: 8.2, 240: 9.8}
KVA_SIZES = np.array([50, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250])

# Reference ("strong feeder") sustained fault rates per km and year, by cause.
CAUSES = ["weather", "equipment", "vegetation", "animal", "third_party", "overload"]
REF_RATE_PER_KM = np.array([0.008, 0.006, 0.0035, 0.0025, 0.004, 0.0])
REF_SUB_FAULT_RATE = 0.3  # 35 kV faults per substation-year for a sound substation
REF_DROP_PER_KM = 0.0035  # feeder voltage drop at design peak per km for a sound feeder, pu


@dataclass
class Network:
    """All arrays describing the simulated grid (index = position in the arrays)."""

    lon0: float
    lat0: float
    towns: dict = field(default_factory=dict)
    subs: dict = field(default_factory=dict)
    feeders: dict = field(default_factory=dict)
    areas: dict = field(default_factory=dict)
    feeder_area_ptr: np.ndarray | None = None  # CSR pointer: areas of feeder f are ptr[f]:ptr[f+1]

    def to_lonlat(self, x, y):
        """Local km coordinates to WGS84 degrees."""
        lon = self.lon0 + np.asarray(x) / (111.32 * np.cos(np.radians(self.lat0)))
        lat = self.lat0 + np.asarray(y) / 110.57
        return lon, lat
