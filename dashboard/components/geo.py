"""WGS84 -> GCJ-02 conversion for tile sources published in China's offset coordinates.

The offset is the public, widely reimplemented approximation of GB 20263 (the "Mars
coordinates" transform, Krasovsky 1940 ellipsoid). Coordinates are stored in WGS84; only the
map drawing converts, and only when ``dashboard.tile_crs = "gcj02"``.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

log = logging.getLogger("feederwatch.dashboard")

_A = 6378245.0
_EE = 0.00669342162296594323


def _out_of_china(lon, lat):
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _tlat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon, lat):
    """Arrays (or scalars) of WGS84 lon/lat to GCJ-02; points outside China pass unchanged;
    NaN stays NaN."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sq = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (_A / sq * np.cos(radlat) * math.pi)
    out = _out_of_china(lon, lat)
    return np.where(out, lon, lon + dlon), np.where(out, lat, lat + dlat)


_LAYER_CACHE: dict[tuple[str, float], dict | None] = {}


def load_geojson(path: Path) -> dict | None:
    """A local GeoJSON FeatureCollection (memoised by path and modification time), or None with a
    warning when the file is missing or not GeoJSON: a bad base layer never breaks the map."""
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        log.warning("base layer %s: file not found", path)
        return None
    if key not in _LAYER_CACHE:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("type") == "Feature":
                doc = {"type": "FeatureCollection", "features": [doc]}
            if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
                raise ValueError("not a GeoJSON FeatureCollection")
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("base layer %s: %s", path, exc)
            doc = None
        _LAYER_CACHE[key] = doc
    return _LAYER_CACHE[key]


def convert_geojson(doc: dict, convert) -> dict:
    """``doc`` with every coordinate pair passed through ``convert(lon, lat) -> (lon, lat)``."""

    def walk(c):
        if c and isinstance(c[0], (int, float)):
            lon, lat = convert(np.array([c[0]], float), np.array([c[1]], float))
            return [round(float(lon[0]), 6), round(float(lat[0]), 6)]
        return [walk(x) for x in c]

    feats = []
    for f in doc["features"]:
        g = f.get("geometry") or {}
        if "coordinates" in g:
            g = {**g, "coordinates": walk(g["coordinates"])}
        feats.append({**f, "geometry": g})
    return {"type": "FeatureCollection", "features": feats}
