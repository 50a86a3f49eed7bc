"""Bus-branch tables: nodes, lines, switches, transformers and a coordinates table.

One file per table in a folder (CSV with any separator, or XLSX), found by name
(``*bus*``/``*node*``, ``*line*``/``*branch*``, ``*switch*``, ``*trafo*``/``*transformer*``,
``*coord*``/``*geodata*``/``*xy*``; case ignored) or by the source's ``network.files``
patterns. Columns are renamed by the built-in presets below, then the source's ``mapping``,
then its ``network.columns.<table>``. Coordinates in a separate table are joined to the buses
by bus id. Everything is reprojected to WGS84 (``network.crs``) and lengths brought to km.
The result is what ``collectors.network_trace.trace_feeders`` takes.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collectors.file_reading import sniff_encoding
from collectors.network_import.geo import UNIT_M, to_lonlat

#: table -> default file name patterns (case ignored), tried in this order of tables
DEFAULT_FILES: dict[str, tuple[str, ...]] = {
    "coordinates": ("*coord*", "*geodata*", "*_xy*", "*busxy*"),
    "trafos": ("*trafo*", "*transformer*", "*变压器*"),
    "switches": ("*switch*", "*开关*"),
    "lines": ("*line*", "*branch*", "*线段*", "*线路*"),
    "buses": ("*bus*", "*node*", "*节点*"),
}
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".dat")

#: table -> {lower-case source column: canonical column}
PRESETS: dict[str, dict[str, str]] = {
    "buses": {
        "bus_id": "bus_id", "id": "bus_id", "bus": "bus_id", "node": "bus_id",
        "node_id": "bus_id", "index": "bus_id", "节点编号": "bus_id", "coordid": "coord_id",
        "coord_id": "coord_id", "name": "name", "bus_name": "name", "名称": "name",
        "vn_kv": "vn_kv", "kv": "vn_kv", "voltage_kv": "vn_kv", "u_kv": "vn_kv",
        "un_kv": "vn_kv", "电压等级": "vn_kv",
        "lon": "x", "longitude": "x", "x": "x", "经度": "x",
        "lat": "y", "latitude": "y", "y": "y", "纬度": "y",
    },
    "coordinates": {
        "bus_id": "bus_id", "bus": "bus_id", "id": "bus_id", "node": "bus_id",
        "node_id": "bus_id", "index": "bus_id", "coord_id": "coord_id",
        "x": "x", "lon": "x", "longitude": "x", "经度": "x",
        "y": "y", "lat": "y", "latitude": "y", "纬度": "y",
    },
    "lines": {
        "line_id": "line_id", "id": "line_id", "line": "line_id", "branch_id": "line_id",
        "线段编号": "line_id",
        "from_bus": "from_bus", "from": "from_bus", "from_node": "from_bus", "bus1": "from_bus",
        "node1": "from_bus", "f_bus": "from_bus", "起点": "from_bus",
        "to_bus": "to_bus", "to": "to_bus", "to_node": "to_bus", "bus2": "to_bus",
        "node2": "to_bus", "t_bus": "to_bus", "终点": "to_bus",
        "length_km": "length_km", "length": "length", "length_m": "length_m", "长度": "length",
        "std_type": "std_type", "type_name": "std_type", "conductor": "std_type",
        "导线型号": "std_type",
        "type": "type", "in_service": "in_service",
        "geometry": "geometry_geojson", "geometry_geojson": "geometry_geojson", "geo": "geometry_geojson",
        "wkt": "geometry_geojson",
    },
    "switches": {
        "switch_id": "switch_id", "id": "switch_id",
        "bus": "bus", "node": "bus", "from_bus": "bus", "bus1": "bus", "from": "bus",
        "element": "element", "line": "element", "to_bus": "element", "bus2": "element",
        "to": "element",
        "et": "et", "element_type": "et",
        "closed": "closed", "status": "closed", "state": "closed", "状态": "closed",
    },
    "trafos": {
        "trafo_id": "trafo_id", "id": "trafo_id", "name": "name",
        "hv_bus": "hv_bus", "hv_node": "hv_bus", "bus1": "hv_bus", "from_bus": "hv_bus",
        "lv_bus": "lv_bus", "lv_node": "lv_bus", "bus2": "lv_bus", "to_bus": "lv_bus",
        "sn_mva": "sn_mva", "kva": "kva", "sn_kva": "kva",
        "vn_hv_kv": "vn_hv_kv", "vn_lv_kv": "vn_lv_kv", "kv_hv": "vn_hv_kv", "kv_lv": "vn_lv_kv",
        "std_type": "std_type", "type": "std_type",
    },
}  # fmt: skip

_OPEN_WORDS = {"open", "opened", "断开", "分", "no", "n", "false", "0", "off", "normally open"}


def find_files(folder: Path, patterns: dict[str, str] | None = None) -> dict[str, Path]:
    """table -> its file in ``folder``: the configured pattern, else the defaults."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    found: dict[str, Path] = {}
    taken: set[Path] = set()
    for table, defaults in DEFAULT_FILES.items():
        wanted = (patterns or {}).get(table)
        pats = (wanted,) if wanted else defaults
        for pat in pats:
            hits = [
                p for p in files if p not in taken and fnmatch.fnmatch(p.name.lower(), pat.lower())
            ]
            if len(hits) > 1:
                names = ", ".join(p.name for p in hits)
                raise ValueError(f"{folder}: several files for {table} ({pat}): {names}")
            if hits:
                found[table] = hits[0]
                taken.add(hits[0])
                break
    return found


def read_table(
    path: Path, *, sep: str | None, encoding: str = "auto", header: bool = True
) -> pd.DataFrame:
    """A CSV (any separator: ``sep`` or sniffed) or XLSX file as text cells."""
    if path.suffix.lower() == ".xlsx":
        return pd.read_excel(path, dtype=str)
    enc = sniff_encoding(path) if encoding == "auto" else encoding
    text = path.read_text(encoding=enc).lstrip("\ufeff")
    if sep is None:
        sample = "\n".join(text.splitlines()[:20])
        try:
            sep = csv.Sniffer().sniff(sample, delimiters=",;\t| ").delimiter
        except csv.Error:
            sep = ","
    if sep == " ":
        return pd.read_csv(io.StringIO(text), sep=r"\s+", dtype=str, header=0 if header else None)
    frame = pd.read_csv(
        io.StringIO(text), sep=sep, dtype=str, header=0 if header else None, skipinitialspace=True
    )
    return frame


def rename(
    frame: pd.DataFrame, table: str, mapping: dict[str, str], columns: dict[str, str]
) -> pd.DataFrame:
    """Presets, then the source's mapping, then the table's own columns (later wins)."""
    out = {}
    for col in frame.columns:
        key = str(col).strip()
        target = PRESETS[table].get(key.lower())
        target = mapping.get(key, target)
        target = columns.get(key, target)
        if target and target not in out.values():
            out[col] = target
    return frame[list(out)].rename(columns=out)


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def read_bus_branch(
    folder: Path,
    net,
    *,
    mapping: dict[str, str] | None = None,
    sep: str | None = None,
    encoding: str = "auto",
) -> dict[str, Any]:
    """Read the tables of ``folder`` under the source's network options ``net``."""
    mapping = mapping or {}
    files = find_files(folder, net.files)
    for table in ("buses", "lines"):
        if table not in files:
            raise FileNotFoundError(f"{folder}: no file for {table} (network.files.{table})")
    raw = {
        t: rename(
            read_table(p, sep=net.sep or sep, encoding=encoding), t, mapping, net.columns.get(t, {})
        )
        for t, p in files.items()
    }
    for table, need in (("buses", ("bus_id",)), ("lines", ("line_id", "from_bus", "to_bus"))):
        for col in need:
            if col not in raw[table].columns:
                raise ValueError(f"{files[table].name}: missing column {col}")
    return normalise(raw, net)


def normalise(raw: dict[str, pd.DataFrame], net) -> dict[str, Any]:
    """Canonical tables (buses with lon/lat, lengths in km) from renamed raw tables."""
    buses = raw["buses"].copy()
    if "coordinates" in raw and len(raw["coordinates"]):
        coords = raw["coordinates"]
        # joined by the buses' coordinate id when they have one (SimBench's coordID), else
        # by bus id
        by = "coord_id" if "coord_id" in buses else "bus_id"
        own = "coord_id" if "coord_id" in coords else "bus_id"
        if not {own, "x", "y"} <= set(coords.columns):
            raise ValueError("coordinates table needs an id, x and y columns")
        coords = coords.assign(_k=coords[own].astype(str).str.strip())
        coords = coords.drop_duplicates("_k", keep="first").set_index("_k")
        key = buses[by].astype(str).str.strip()
        buses["x"] = key.map(coords["x"])
        buses["y"] = key.map(coords["y"])
    for col in ("x", "y"):
        buses[col] = _num(buses[col]) if col in buses else np.nan
    lon, lat = to_lonlat(
        buses["x"], buses["y"], net.crs, origin=net.origin, unit=net.coordinate_unit
    )
    buses["lon"], buses["lat"] = lon, lat
    buses["vn_kv"] = _num(buses["vn_kv"]) if "vn_kv" in buses else np.nan
    if net.voltage_kv is not None:
        buses["vn_kv"] = buses["vn_kv"].fillna(net.voltage_kv)

    lines = raw["lines"].copy()
    if "length_km" in lines:
        lines["length_km"] = _num(lines["length_km"])
    elif "length_m" in lines:
        lines["length_km"] = _num(lines["length_m"]) / 1000
    elif "length" in lines:
        lines["length_km"] = _num(lines["length"]) * UNIT_M[net.length_unit] / 1000
    if "geometry_geojson" in lines:
        lines["geometry_geojson"] = [
            reproject_line(g, net) for g in lines["geometry_geojson"].tolist()
        ]

    switches = raw.get("switches", pd.DataFrame(columns=["bus", "element", "et", "closed"])).copy()
    if len(switches):
        if "et" not in switches:
            # no element type: a switch naming a line is on it, one naming two buses is between
            line_ids = set(lines["line_id"].astype(str).str.strip())
            bus_ids = set(buses["bus_id"].astype(str).str.strip())
            el = switches["element"].astype(str).str.strip()
            switches["et"] = np.where(el.isin(bus_ids) & ~el.isin(line_ids), "b", "l")
        if "closed" not in switches:
            switches["closed"] = True
        switches["closed"] = switches["closed"].map(_closed)
        if "switch_id" not in switches:
            switches["switch_id"] = range(len(switches))

    trafos = raw.get("trafos", pd.DataFrame(columns=["hv_bus", "lv_bus"])).copy()
    if "kva" in trafos and "sn_mva" not in trafos:
        trafos["sn_mva"] = _num(trafos["kva"]) / 1000
    if "sn_mva" not in trafos and "std_type" in trafos:
        # the rating from the type name: "0.16 MVA 20/0.4 kV", "25 MVA 110/20 kV", "630 kVA"
        text = trafos["std_type"].astype(str)
        mva = _num(text.str.extract(r"(\d+(?:\.\d+)?)\s*MVA", flags=re.I)[0])
        kva = _num(text.str.extract(r"(\d+(?:\.\d+)?)\s*kVA", flags=re.I)[0]) / 1000
        trafos["sn_mva"] = mva.fillna(kva)
    return {
        "buses": buses,
        "lines": lines,
        "switches": switches,
        "trafos": trafos,
        "roots": list(raw.get("roots", [])),
    }


def _closed(value: Any) -> Any:
    """Switch states: 'open'/'断开'/'0'... -> False, 'closed'/'合'/'1'... -> True."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _OPEN_WORDS:
            return False
        if text in {
            "closed",
            "close",
            "闭合",
            "合",
            "yes",
            "y",
            "true",
            "1",
            "on",
            "normally closed",
        }:
            return True
    return value


_WKT = re.compile(r"^\s*(MULTI)?LINESTRING\s*(?:Z\s*)?\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def _parts(value: Any) -> list[list[list[float]]] | None:
    """GeoJSON (Multi)LineString text/dict or WKT -> parts of [x, y]; None if unreadable."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        if isinstance(value, dict):
            geo = value
        else:
            text = str(value).strip()
            if not text:
                return None
            match = _WKT.match(text)
            if match:
                bodies = (
                    re.findall(r"\(([^()]*)\)", match.group(2))
                    if match.group(1)
                    else [match.group(2)]
                )
                return [
                    [[float(v) for v in pt.split()[:2]] for pt in body.split(",")]
                    for body in bodies
                ]
            geo = json.loads(text)
        if geo.get("type") == "Feature":
            geo = geo["geometry"]
        if geo["type"] == "LineString":
            return [[[float(p[0]), float(p[1])] for p in geo["coordinates"]]]
        if geo["type"] == "MultiLineString":
            return [[[float(p[0]), float(p[1])] for p in part] for part in geo["coordinates"]]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    return None


def reproject_line(value: Any, net) -> Any:
    """A line geometry in the source's CRS -> GeoJSON MultiLineString text in lon/lat (an
    unreadable one is passed on as it was, for the tracer's ``bad_geometry``)."""
    parts = _parts(value)
    if parts is None:
        return value
    if net.crs.upper() in ("EPSG:4326", "OGC:CRS84"):
        return json.dumps({"type": "MultiLineString", "coordinates": parts})
    out = []
    for part in parts:
        xs, ys = zip(*part)
        lon, lat = to_lonlat(xs, ys, net.crs, origin=net.origin, unit=net.coordinate_unit)
        out.append([[float(a), float(b)] for a, b in zip(lon, lat)])
    return json.dumps({"type": "MultiLineString", "coordinates": out})
