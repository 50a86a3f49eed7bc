"""GIS line and point layers (GeoJSON, Shapefile, GeoPackage, anything GDAL reads) through
pyogrio (optional extra ``gis``), reprojected to WGS84 with pyproj from the layer's own CRS
(or ``network.crs`` when the layer has none).

Two shapes of export, told apart by the columns (after the presets, the source's ``mapping``
and ``network.columns.lines``):

* **Feeder-labelled segments** (the usual utility GIS / PMS export): each line feature carries
  its ``feeder`` (and ``substation``). Features are grouped by feeder: the geometry is every
  segment's parts, the length the sum of a length column (``length_km`` or ``length`` in
  ``network.length_unit``) or else the geodesic length of the geometry; ``conductor`` is the
  most common ``std_type``; ``voltage_kv`` the most common level. Substations come from the
  point layer (``substation``, ``name``, ``voltage_kv``, ``capacity_mva``, the point) or else
  from the features' ``substation`` values. A segment without a feeder is a ``unassigned_line``
  finding, one without a geometry ``no_coordinates`` (the feeder still lands, without a map
  line if none of its segments has one).
* **Bus-branch segments**: features carry ``from_bus`` and ``to_bus`` (and the point layer
  ``bus_id``): the tables are traced like any bus-branch export
  (``collectors.network_trace``), the point geometry being the bus coordinates.
"""

from __future__ import annotations

import json
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collectors.network_import.geo import UNIT_M, NeedsExtra, haversine_km, to_lonlat
from collectors.network_import.tables import PRESETS, normalise

GIS_SUFFIXES = (".geojson", ".json", ".shp", ".gpkg", ".fgb", ".gml", ".kml")
LINE_PRESETS = {
    **PRESETS["lines"],
    "feeder": "feeder", "feeder_id": "feeder", "线路编号": "feeder", "所属线路": "feeder",
    "substation": "substation", "substation_id": "substation", "变电站编号": "substation",
    "所属变电站": "substation",
    "voltage_kv": "voltage_kv", "kv": "voltage_kv", "电压等级": "voltage_kv",
    "name": "name",
}  # fmt: skip
POINT_PRESETS = {
    "substation": "substation", "substation_id": "substation", "变电站编号": "substation",
    "bus_id": "bus_id", "bus": "bus_id", "node": "bus_id", "node_id": "bus_id",
    "name": "name", "名称": "name", "voltage_kv": "voltage_kv", "vn_kv": "voltage_kv",
    "kv": "voltage_kv", "电压等级": "voltage_kv", "capacity_mva": "capacity_mva",
    "county": "county", "县公司": "county", "所属县": "county",
}  # fmt: skip


def _pyogrio():
    try:
        import pyogrio
    except ImportError:
        raise NeedsExtra("GIS layers need pyogrio: pip install 'feederwatch[gis]'") from None
    return pyogrio


# --- WKB (what pyogrio returns) -> lists of parts -------------------------------------------


def _wkb(buf: bytes, pos: int = 0) -> tuple[str, Any, int]:
    order = "<" if buf[pos] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", buf, pos + 1)
    pos += 5
    dims = 2
    if kind & 0x80000000 or kind & 0x40000000:  # EWKB Z / M flags
        dims += bool(kind & 0x80000000) + bool(kind & 0x40000000)
        kind &= 0xFFFF
    if kind >= 1000:  # ISO Z (1000s), M (2000s), ZM (3000s)
        dims = 3 if kind // 1000 in (1, 2) else 4
        kind %= 1000
    if kind == 1:
        pt = struct.unpack_from(order + "d" * dims, buf, pos)
        return "Point", [pt[0], pt[1]], pos + 8 * dims
    if kind == 2:
        (n,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        vals = struct.unpack_from(order + "d" * (n * dims), buf, pos)
        pts = [[vals[i * dims], vals[i * dims + 1]] for i in range(n)]
        return "LineString", pts, pos + 8 * n * dims
    if kind in (4, 5, 7):
        (n,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        parts = []
        for _ in range(n):
            sub, coords, pos = _wkb(buf, pos)
            if sub == "LineString":
                parts.append(coords)
            elif sub == "Point":
                parts.append(coords)
        return {4: "MultiPoint", 5: "MultiLineString", 7: "GeometryCollection"}[kind], parts, pos
    raise ValueError(f"WKB geometry type {kind} not read")


def _read_layer(path: Path, layer: str | None, net) -> tuple[pd.DataFrame, list]:
    """Attributes (text) and geometries (kind, coords in lon/lat) of one layer."""
    pyogrio = _pyogrio()
    try:
        meta, _, geoms, fields = pyogrio.raw.read(path, layer=layer)
    except Exception as exc:  # GDAL's message names the file and the problem
        raise ValueError(f"{path.name}: not a readable GIS layer ({exc})") from None
    frame = pd.DataFrame({name: values for name, values in zip(meta["fields"], fields)})
    crs = meta.get("crs") or net.crs
    out = []
    for g in geoms if geoms is not None else []:
        if g is None:
            out.append(None)
            continue
        try:
            kind, coords, _ = _wkb(bytes(g))
        except (ValueError, struct.error):
            out.append(None)
            continue
        out.append((kind, coords))
    return frame, _reproject(out, crs, net)


def _reproject(geoms: list, crs: str, net) -> list:
    if str(crs).upper() in ("EPSG:4326", "OGC:CRS84"):
        return geoms
    flat = [pt for g in geoms if g for pt in (_points(g))]
    if not flat:
        return geoms
    xs, ys = zip(*flat)
    lon, lat = to_lonlat(xs, ys, str(crs), origin=net.origin, unit=net.coordinate_unit)
    it = iter(zip(lon.tolist(), lat.tolist()))
    out = []
    for g in geoms:
        if not g:
            out.append(g)
            continue
        kind, coords = g
        if kind == "Point":
            out.append((kind, list(next(it))))
        elif kind == "LineString":
            out.append((kind, [list(next(it)) for _ in coords]))
        else:
            out.append(
                (
                    kind,
                    [
                        [list(next(it)) for _ in part]
                        if isinstance(part[0], list)
                        else list(next(it))
                        for part in coords
                    ],
                )
            )
    return out


def _points(g) -> list:
    kind, coords = g
    if kind == "Point":
        return [coords]
    if kind == "LineString":
        return coords
    return [pt for part in coords for pt in (part if isinstance(part[0], list) else [part])]


def _line_parts(g) -> list[list[list[float]]]:
    if not g:
        return []
    kind, coords = g
    if kind == "LineString":
        return [coords]
    if kind in ("MultiLineString", "GeometryCollection"):
        return [p for p in coords if isinstance(p[0], list) and len(p) >= 2]
    return []


def layers_of(path: Path, net) -> tuple[tuple[Path, str | None], tuple[Path, str | None] | None]:
    """(line layer, point layer or None) of a file or a folder of layers."""
    pyogrio = _pyogrio()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in GIS_SUFFIXES)
        lines = [
            p
            for p in files
            if "line" in p.stem.lower() or "segment" in p.stem.lower() or "线" in p.stem
        ]
        points = [p for p in files if p not in lines]
        if len(lines) != 1:
            raise ValueError(
                f"{path}: expected one line layer file (name with 'line'), found {len(lines)}"
            )
        return (lines[0], None), ((points[0], None) if points else None)
    names = [str(n[0]) for n in pyogrio.list_layers(path)]
    line_layer = net.line_layer or (names[0] if len(names) == 1 else None)
    if line_layer is None:
        cands = [n for n in names if "line" in n.lower() or "线" in n]
        line_layer = cands[0] if cands else names[0]
    point_layer = net.point_layer
    if point_layer is None and len(names) > 1:
        rest = [n for n in names if n != line_layer]
        point_layer = rest[0] if rest else None
    return (path, line_layer), ((path, point_layer) if point_layer else None)


def read_gis(path: Path, net, *, mapping: dict[str, str] | None = None) -> dict[str, Any]:
    """A GIS file or folder -> either traced bus-branch tables (``{"buses", ...}``) or
    feeder-labelled tables (``{"tables": {...}, "diagnostics": frame}``)."""
    mapping = mapping or {}
    (lpath, llayer), point = layers_of(Path(path), net)
    lines_raw, lgeoms = _read_layer(lpath, llayer, net)
    lines = _rename(lines_raw, LINE_PRESETS, mapping, net.columns.get("lines", {}))
    points, pgeoms = (None, [])
    if point is not None:
        praw, pgeoms = _read_layer(point[0], point[1], net)
        points = _rename(praw, POINT_PRESETS, mapping, net.columns.get("buses", {}))
    if {"from_bus", "to_bus"} <= set(lines.columns):
        return _bus_branch(lines, lgeoms, points, pgeoms, net)
    if "feeder" not in lines.columns:
        raise ValueError(
            f"{lpath.name}: line features need a feeder column (or from_bus and to_bus); "
            f"columns: {', '.join(map(str, lines_raw.columns))}"
        )
    return _labelled(lines, lgeoms, points, pgeoms, net)


def _rename(frame: pd.DataFrame, presets: dict, mapping: dict, columns: dict) -> pd.DataFrame:
    out = {}
    for col in frame.columns:
        key = str(col).strip()
        target = columns.get(key, mapping.get(key, presets.get(key.lower())))
        if target and target not in out.values():
            out[col] = target
    return frame[list(out)].rename(columns=out)


def _bus_branch(lines, lgeoms, points, pgeoms, net) -> dict[str, Any]:
    lines = lines.copy()
    lines["geometry_geojson"] = [
        json.dumps({"type": "MultiLineString", "coordinates": _line_parts(g)})
        if _line_parts(g)
        else None
        for g in lgeoms
    ]
    if "line_id" not in lines:
        lines["line_id"] = range(len(lines))
    buses = pd.DataFrame(columns=["bus_id"])
    if points is not None and "bus_id" in points:
        buses = pd.DataFrame(
            {
                "bus_id": points["bus_id"],
                "name": points.get("name"),
                "vn_kv": points.get("voltage_kv"),
                "x": [g[1][0] if g and g[0] == "Point" else np.nan for g in pgeoms],
                "y": [g[1][1] if g and g[0] == "Point" else np.nan for g in pgeoms],
            }
        )
    model = normalise(
        {"buses": buses, "lines": lines.drop(columns=["geometry_geojson"])}, _wgs84(net)
    )
    model["lines"]["geometry_geojson"] = lines["geometry_geojson"].to_numpy()
    return model


class _Wgs84:
    def __init__(self, net):
        self.__dict__.update({k: getattr(net, k) for k in type(net).model_fields})
        self.crs = "EPSG:4326"


def _wgs84(net):
    """The options with the CRS set to lon/lat (the layer's geometry is reprojected already)."""
    return _Wgs84(net)


def _mode(values) -> Any:
    values = [
        v
        for v in values
        if v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v).strip()
    ]
    if not values:
        return None
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], str(v)))


def _labelled(lines, lgeoms, points, pgeoms, net) -> dict[str, Any]:
    diags: list[dict] = []
    lines = _lines_with_feeder(lines, lgeoms, net, diags)
    rows = [
        _feeder_of_lines(code, group, net, diags)
        for code, group in lines.groupby("feeder", sort=True)
    ]
    feeders = pd.DataFrame(rows)
    subs = _substation_points(points, pgeoms)
    known = set(subs["substation"].dropna())
    extra = sorted(
        {s for s in feeders.get("substation", pd.Series(dtype=object)).dropna() if s not in known}
    )
    if extra:
        subs = pd.concat([subs, pd.DataFrame({"substation": extra})], ignore_index=True)
    diagnostics = pd.DataFrame(
        diags, columns=["kind", "feeder", "substation", "bus", "line_id", "detail"]
    )
    return {"tables": {"substations": subs, "feeders": feeders}, "diagnostics": diagnostics}


def _lines_with_feeder(lines, lgeoms, net, diags: list[dict]) -> pd.DataFrame:
    """The line features naming a feeder (the others reported ``unassigned_line``), with their
    geometry parts (``_parts``) and length (``_km``: the attribute, else the geometry's)."""
    lines = lines.copy()
    lines["_parts"] = [_line_parts(g) for g in lgeoms]
    feeder = lines["feeder"].astype("string").str.strip()
    for i in lines.index[feeder.isna() | (feeder == "")]:
        diags.append(
            {
                "kind": "unassigned_line",
                "line_id": lines.get("line_id", pd.Series(lines.index)).get(i, i),
                "detail": "line feature without a feeder; left out",
            }
        )
    lines = lines[feeder.notna() & (feeder != "")]
    lines["feeder"] = feeder
    if "length_km" in lines:
        seg_km = pd.to_numeric(lines["length_km"], errors="coerce")
    elif "length" in lines:
        seg_km = pd.to_numeric(lines["length"], errors="coerce") * UNIT_M[net.length_unit] / 1000
    elif "length_m" in lines:
        seg_km = pd.to_numeric(lines["length_m"], errors="coerce") / 1000
    else:
        seg_km = pd.Series(np.nan, index=lines.index)
    geo_km = lines["_parts"].map(lambda parts: sum(haversine_km(p) for p in parts))
    lines["_km"] = seg_km.fillna(geo_km)
    return lines


def _feeder_of_lines(code, group: pd.DataFrame, net, diags: list[dict]) -> dict[str, Any]:
    """One feeder's row from its line features (the most common substation, name, conductor
    and level among them); features without geometry and a feeder naming no substation are
    reported."""
    parts = [p for ps in group["_parts"] for p in ps]
    missing = int((group["_parts"].map(len) == 0).sum())
    sub = _mode(group["substation"]) if "substation" in group else None
    for _ in range(missing):
        diags.append(
            {
                "kind": "no_coordinates",
                "feeder": code,
                "substation": sub,
                "detail": "line feature without a geometry",
            }
        )
    if sub is None:
        diags.append(
            {
                "kind": "no_substation",
                "feeder": code,
                "detail": "feeder's features name no substation",
            }
        )
    kv = pd.to_numeric(group.get("voltage_kv", pd.Series(dtype=object)), errors="coerce").dropna()
    return {
        "feeder": code,
        "substation": sub,
        "name": _mode(group["name"]) if "name" in group else None,
        "length_km": round(float(group["_km"].sum()), 6),
        "conductor": _mode(group["std_type"]) if "std_type" in group else None,
        "voltage_kv": float(kv.mode().min()) if len(kv) else net.voltage_kv,
        "geometry": json.dumps({"type": "MultiLineString", "coordinates": parts})
        if parts
        else None,
        "segment_count": len(group),
    }


def _substation_points(points, pgeoms) -> pd.DataFrame:
    """Substations from a point layer naming them (empty without one)."""
    if points is not None and "substation" in points:
        return pd.DataFrame(
            {
                "substation": points["substation"].astype("string").str.strip(),
                "name": points.get("name"),
                "voltage_kv": points.get("voltage_kv"),
                "capacity_mva": points.get("capacity_mva"),
                "county": points.get("county"),
                "lon": [g[1][0] if g and g[0] == "Point" else np.nan for g in pgeoms],
                "lat": [g[1][1] if g and g[0] == "Point" else np.nan for g in pgeoms],
            }
        )
    return pd.DataFrame(columns=["substation", "name", "voltage_kv", "capacity_mva", "lon", "lat"])
