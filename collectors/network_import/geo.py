"""Coordinates and lengths of network models: reprojection to WGS84 lon/lat and units.

Any EPSG code is reprojected with pyproj (the optional extra ``gis``), always in (x, y) =
(easting, northing) or (lon, lat) order whatever the code's own axis order (CGCS2000,
EPSG:4490, lists latitude first). EPSG:4326 and OGC:CRS84 need no pyproj. ``local``
coordinates (OpenDSS bus-coordinate files in feet, a CAD drawing in metres) are placed on the
map around ``origin`` = (lon, lat) by an equirectangular offset: good to centimetres over a
feeder's few kilometres, and all a schematic layout can claim anyway.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

#: metres per unit
UNIT_M = {"m": 1.0, "km": 1000.0, "ft": 0.3048, "kft": 304.8, "mi": 1609.344}
EARTH_RADIUS_M = 6_371_008.8
WGS84 = ("EPSG:4326", "OGC:CRS84")


class NeedsExtra(ValueError):
    """A format or CRS needs an optional extra that is not installed (input refused whole)."""


@lru_cache(maxsize=16)
def _transformer(crs: str):
    try:
        from pyproj import Transformer
    except ImportError:
        raise NeedsExtra(
            f"coordinates in {crs} need pyproj: pip install 'feederwatch[gis]'"
        ) from None
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def to_lonlat(
    x,
    y,
    crs: str = "EPSG:4326",
    *,
    origin: tuple[float, float] | None = None,
    unit: str = "m",
) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of x, y in ``crs`` (or ``local`` with ``origin`` and ``unit``) -> lon, lat."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if crs.upper() in WGS84:
        return x, y
    if crs == "local":
        if origin is None:
            raise ValueError("local coordinates need an origin (lon, lat)")
        lon0, lat0 = origin
        metres = UNIT_M[unit]
        lat = lat0 + np.degrees(y * metres / EARTH_RADIUS_M)
        lon = lon0 + np.degrees(x * metres / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
        return lon, lat
    lon, lat = _transformer(crs.upper()).transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def haversine_km(points: list[list[float]]) -> float:
    """Length of a lon/lat polyline in km (great circle per segment)."""
    total = 0.0
    for (lon1, lat1), (lon2, lat2) in zip(points, points[1:]):
        p1, p2 = math.radians(lat1), math.radians(lat2)
        dp, dl = p2 - p1, math.radians(lon2 - lon1)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        total += 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
    return total / 1000.0
