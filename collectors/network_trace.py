"""Feeder tracing for GIS segment exports (docs/formats.md, "GIS segment export").

A GIS dump describes the medium-voltage grid as buses, line segments, line switches and the
HV/MV transformers. :func:`trace_feeders` turns it into the canonical ``substations`` and
``feeders`` tables (formats.md, "Network") plus a ``diagnostics`` table;
:func:`read_segment_export` reads the four CSV files of such a dump from a folder.

Topology rules
--------------
* **Busbars / substations.** Every distinct transformer ``lv_bus`` is a substation busbar. The
  transformers sharing an ``lv_bus`` form one substation; ``capacity_mva`` is the sum of their
  ``sn_mva`` (transformers with ``in_service`` false, when that column exists, are ignored).
  ``voltage_kv``, ``lon``, ``lat`` and ``name`` are those of the busbar bus.
* **Open lines.** A line is *open* (never traversed) when it is out of service (``in_service``
  false, when the column exists) or when any switch with ``et == "l"`` on it is open. Booleans are
  read leniently: ``True/False``, ``1/0``, ``"true"/"false"``, ``"yes"/"no"``, ``"y"/"n"``,
  ``"是"/"否"``; an empty ``closed`` counts as closed (the GIS default).
* **Feeders.** Each closed line leaving a busbar starts one radial feeder. The feeder is the
  breadth-first search over closed lines from the far end of that line. Busbars are never
  entered: they are not counted as feeder buses and the search does not cross them.
* **Open tie switches.** A line with an open switch belongs to **no** feeder (it is not part of
  ``line_ids``, ``length_km`` or ``geometry``); it is listed in ``diagnostics`` as ``open_line``
  with the feeders it would connect.
* **Loops.** When the search meets an already visited bus of the same feeder through an unused
  line (or comes back to its own busbar), the line is kept in the feeder (it is a real, closed,
  energised segment) but the feeder is flagged ``has_loop`` and a ``loop`` row is added to the
  diagnostics. A later starting line whose first bus was already claimed by a feeder of the
  same busbar does not start a second feeder (the loop row names it).
* **Busbar ties.** A closed line reaching *another* busbar is not crossed and belongs to no
  feeder; it is reported as ``busbar_tie`` (two substations in parallel). If a feeder of another
  busbar already owns the first bus of a starting line, no new feeder is started.

Codes (deterministic)
---------------------
Substations are ordered by busbar id and numbered ``SS1, SS2, ...`` (``substation_prefix``).
The feeders of substation ``SS<i>`` are ordered by (busbar id, first bus id of the starting line,
starting line id) and numbered ``F<i>-1, F<i>-2, ...`` (``feeder_prefix``), so ``F2-1`` is the
first feeder of ``SS2``. Ids compare numerically when they are integers, otherwise as text (all
integers sort before text ids). Feeder names are ``"<busbar name> / <first bus name>"``.

Ids: integer-like values (``12``, ``12.0``, ``"12"``) are normalised to ``int`` so that the tables
agree with each other; other ids are stripped strings.
"""

from __future__ import annotations

import json
import math
import numbers
from collections import Counter, deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["REQUIRED_COLUMNS", "read_segment_export", "trace_feeders"]

#: Required columns per table (formats.md); ``lines`` may also carry ``type`` and ``in_service``.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "buses": ("bus_id",),
    "lines": ("line_id", "from_bus", "to_bus"),
    "switches": ("bus", "element", "et", "closed"),
    "trafos": ("hv_bus", "lv_bus"),
}
#: Columns read when present (a missing one is blank for every row).
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "buses": ("name", "vn_kv", "lon", "lat"),
    "lines": ("length_km", "std_type", "geometry_geojson", "type", "in_service"),
    "switches": ("switch_id",),
    "trafos": ("trafo_id", "name", "sn_mva", "vn_hv_kv", "vn_lv_kv", "in_service"),
}

_FILE_PATTERNS: dict[str, str] = {
    "buses": "*bus*.csv",
    "lines": "*line*.csv",
    "switches": "*switch*.csv",
    "trafos": "*trafo*.csv",
}

SUBSTATION_COLUMNS = [
    "substation",
    "name",
    "voltage_kv",
    "capacity_mva",
    "lon",
    "lat",
    "busbar",
    "trafo_count",
    "feeder_count",
]
FEEDER_COLUMNS = [
    "feeder",
    "substation",
    "name",
    "length_km",
    "conductor",
    "geometry",
    "bus_count",
    "buses",
    "line_ids",
    "busbar",
    "first_bus",
    "start_line",
    "overhead_km",
    "has_loop",
    "voltage_kv",
    "buses_without_coordinates",
]
TRANSFORMER_COLUMNS = ["transformer", "feeder", "name", "kva", "lon", "lat", "bus"]
DIAGNOSTIC_COLUMNS = ["kind", "feeder", "substation", "bus", "line_id", "detail"]

_TRUE = {"true", "1", "yes", "y", "t", "是", "on", "closed"}
_FALSE = {"false", "0", "no", "n", "f", "否", "off", "open"}


# --------------------------------------------------------------------------------------------
# reading


def read_segment_export(folder: Path | str) -> dict[str, pd.DataFrame]:
    """Read a GIS segment export from ``folder``.

    Looks for one file per table: ``*bus*.csv`` (buses), ``*line*.csv`` (lines),
    ``*switch*.csv`` (switches) and ``*trafo*.csv`` (transformers). Returns
    ``{"buses", "lines", "switches", "trafos"}`` so that ``trace_feeders(**read_segment_export(p))``
    works. A missing switches file means "no switches" (an empty table); any other missing file
    raises ``FileNotFoundError``, several candidates for one table raise ``ValueError``, and a
    missing required column raises ``ValueError("<file>: missing column <name>")``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"segment export folder not found: {folder}")
    out: dict[str, pd.DataFrame] = {}
    for table, pattern in _FILE_PATTERNS.items():
        matches = sorted(p for p in folder.glob(pattern) if p.is_file())
        if not matches:
            if table == "switches":
                out[table] = pd.DataFrame(columns=list(REQUIRED_COLUMNS[table]))
                continue
            raise FileNotFoundError(f"{folder}: no {pattern} file for {table}")
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches)
            raise ValueError(f"{folder}: several {pattern} files for {table}: {names}")
        path = matches[0]
        frame = pd.read_csv(path)
        frame.columns = [str(c).strip() for c in frame.columns]
        _check_columns(frame, table, label=path.name)
        out[table] = frame
    return out


def _check_columns(frame: pd.DataFrame, table: str, *, label: str) -> None:
    for column in REQUIRED_COLUMNS[table]:
        if column not in frame.columns:
            raise ValueError(f"{label}: missing column {column}")


# --------------------------------------------------------------------------------------------
# small helpers


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _norm_id(value: Any) -> Any:
    """Integer-like ids become ``int``; other ids stripped ``str``; missing ids ``None``."""
    if _is_missing(value):
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        f = float(value)
        return int(f) if math.isfinite(f) and f.is_integer() else str(value)
    text = str(value).strip()
    if not text:
        return None
    digits = text[1:] if text.startswith("-") else text
    if digits.isascii() and digits.isdigit() and (digits == "0" or not digits.startswith("0")):
        return int(text)
    return text


def _id_key(value: Any) -> tuple[int, Any]:
    """Sort key: integers numerically first, then text."""
    if isinstance(value, int):
        return (0, value)
    return (1, str(value))


def _parse_bool(value: Any, default: bool) -> bool:
    if _is_missing(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Number):
        return float(value) != 0.0
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if not text:
        return default
    raise ValueError(f"not a boolean: {value!r}")


def _float(value: Any) -> float:
    if _is_missing(value):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _text(value: Any) -> str | None:
    if _is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def _line_coords(raw: Any) -> list[list[list[float]]] | None:
    """Parse a GeoJSON LineString/MultiLineString (text or dict) into a list of parts."""
    if _is_missing(raw):
        return None
    try:
        geom = json.loads(raw) if isinstance(raw, str) else raw
        if isinstance(geom, dict) and geom.get("type") == "Feature":
            geom = geom.get("geometry")
        kind = geom.get("type")
        coords = geom.get("coordinates")
        if kind == "LineString":
            parts = [coords]
        elif kind == "MultiLineString":
            parts = list(coords)
        else:
            return None
        out = []
        for part in parts:
            pts = [[float(p[0]), float(p[1])] for p in part]
            if len(pts) < 2 or not all(math.isfinite(c) for pt in pts for c in pt):
                return None
            out.append(pts)
        return out or None
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None


# --------------------------------------------------------------------------------------------
# tracing


def trace_feeders(
    buses: pd.DataFrame,
    lines: pd.DataFrame,
    switches: pd.DataFrame,
    trafos: pd.DataFrame,
    *,
    feeder_prefix: str = "F",
    substation_prefix: str = "SS",
    roots: tuple = (),
    area_below_kv: float = 1.0,
) -> dict[str, pd.DataFrame]:
    """Trace the radial feeders of a GIS segment export.

    Returns ``{"substations", "feeders", "diagnostics"}``:

    ``substations``
        ``substation, name, voltage_kv, capacity_mva, lon, lat`` (canonical) plus ``busbar``
        (lv bus id), ``trafo_count`` and ``feeder_count``.
    ``feeders``
        ``feeder, substation, name, length_km, conductor, geometry`` (canonical; ``geometry`` is
        GeoJSON ``MultiLineString`` text in lon/lat, one part per line segment, ``None`` if no
        line has usable coordinates) plus ``bus_count``, ``buses`` (bus ids in BFS order, the
        first bus first, busbar excluded), ``line_ids`` (BFS order, starting line first),
        ``busbar``, ``first_bus``, ``start_line``, ``overhead_km`` (length of ``type == "ol"``
        lines; NaN without a ``type`` column) and ``has_loop``. ``conductor`` is the most common
        ``std_type`` (ties: the longer total length, then alphabetical).
    ``diagnostics``
        One row per finding, columns ``kind, feeder, substation, bus, line_id, detail``; kinds:
        ``loop`` (bus reached twice within a feeder), ``busbar_tie`` (closed line reaching another
        busbar), ``open_line`` (open switch or out of service; ``detail`` says which and the
        feeders on each side), ``island_line`` / ``island_bus`` (closed line / bus reached from no
        busbar; HV transformer buses are not reported), ``unknown_bus`` (a line, switch or
        transformer referencing a bus missing from ``buses``; lines are still traversed),
        ``unknown_line`` (a switch on a line missing from ``lines``), ``bad_geometry`` (line
        geometry unparsable; the straight bus-to-bus segment is used when the buses have
        coordinates), ``bad_value`` (unparsable ``closed``/``in_service``, taken as open).

    See the module docstring for the rules and the code scheme. Raises ``ValueError("<table>:
    missing column <name>")`` when an input lacks a required column.
    """
    frames = {"buses": buses, "lines": lines, "switches": switches, "trafos": trafos}
    for table, frame in frames.items():
        _check_columns(frame, table, label=table)
        missing = [c for c in OPTIONAL_COLUMNS[table] if c not in frame.columns]
        if missing:
            frames[table] = frame.assign(**{c: None for c in missing})
    buses, lines, switches, trafos = (frames[t] for t in ("buses", "lines", "switches", "trafos"))

    diags: list[dict[str, Any]] = []

    def diag(kind: str, *, feeder=None, substation=None, bus=None, line_id=None, detail=""):
        diags.append(
            {
                "kind": kind,
                "feeder": feeder,
                "substation": substation,
                "bus": bus,
                "line_id": line_id,
                "detail": detail,
            }
        )

    # ---- buses
    bus_info: dict[Any, dict[str, Any]] = {}
    for rec in buses.to_dict("records"):
        bid = _norm_id(rec["bus_id"])
        if bid is None:
            continue
        bus_info[bid] = {
            "name": _text(rec.get("name")),
            "vn_kv": _float(rec.get("vn_kv")),
            "lon": _float(rec.get("lon")),
            "lat": _float(rec.get("lat")),
        }
    unknown_reported: set[tuple[Any, str]] = set()

    def check_bus(bid: Any, where: str, line_id=None) -> None:
        if bid is not None and bid not in bus_info and (bid, where) not in unknown_reported:
            unknown_reported.add((bid, where))
            diag("unknown_bus", bus=bid, line_id=line_id, detail=f"referenced by {where}")

    # ---- lines
    has_type = lines["type"].notna().any()
    has_in_service = lines["in_service"].notna().any()
    line_info: dict[Any, dict[str, Any]] = {}
    for rec in lines.to_dict("records"):
        lid = _norm_id(rec["line_id"])
        a, b = _norm_id(rec["from_bus"]), _norm_id(rec["to_bus"])
        if lid is None or a is None or b is None:
            diag("bad_value", line_id=lid, detail="line without id or end bus; ignored")
            continue
        in_service = True
        if has_in_service:
            try:
                in_service = _parse_bool(rec.get("in_service"), True)
            except ValueError:
                in_service = False
                diag(
                    "bad_value",
                    line_id=lid,
                    detail=f"in_service {rec.get('in_service')!r} unreadable; taken as out",
                )
        line_info[lid] = {
            "from": a,
            "to": b,
            "length": _float(rec.get("length_km")),
            "std_type": _text(rec.get("std_type")),
            "type": _text(rec.get("type")) if has_type else None,
            "geometry": rec.get("geometry_geojson"),
            "in_service": in_service,
            "open_switches": [],
            "kind": "line",
        }
        check_bus(a, f"line {lid}", lid)
        check_bus(b, f"line {lid}", lid)

    # ---- switches: et == "l" on a line, et == "b" between two buses (a zero-length link)
    for rec in switches.to_dict("records"):
        et = (_text(rec.get("et")) or "").lower()
        if et not in ("l", "b"):
            continue
        sid = _norm_id(rec.get("switch_id"))
        lid = _norm_id(rec.get("element"))
        sbus = _norm_id(rec.get("bus"))
        try:
            closed = _parse_bool(rec.get("closed"), True)
        except ValueError:
            closed = False
            diag(
                "bad_value",
                line_id=lid if et == "l" else f"switch:{sid}",
                detail=f"switch {sid} closed {rec.get('closed')!r} unreadable; taken as open",
            )
        if et == "b":
            if sbus is None or lid is None:
                diag("bad_value", line_id=f"switch:{sid}", detail="bus switch without two buses")
                continue
            link = f"switch:{sid}"
            line_info[link] = _link(sbus, lid, closed, kind="switch")
            check_bus(sbus, f"switch {sid}", link)
            check_bus(lid, f"switch {sid}", link)
            continue
        check_bus(sbus, f"switch {sid}", lid)
        if lid not in line_info:
            diag("unknown_line", line_id=lid, bus=sbus, detail=f"switch {sid} on unknown line")
            continue
        if not closed:
            line_info[lid]["open_switches"].append((sid, sbus))

    # ---- transformers: substations, regulators (links) and distribution areas
    has_trafo_service = trafos["in_service"].notna().any()
    stations: dict[Any, dict[str, Any]] = {}
    hv_buses: set[Any] = set()
    area_rows: list[dict[str, Any]] = []
    for number, rec in enumerate(trafos.to_dict("records")):
        lv, hv = _norm_id(rec["lv_bus"]), _norm_id(rec["hv_bus"])
        if lv is None:
            continue
        if has_trafo_service:
            try:
                if not _parse_bool(rec.get("in_service"), True):
                    continue
            except ValueError:
                pass
        check_bus(lv, "transformer lv_bus")
        check_bus(hv, "transformer hv_bus")
        tid = _norm_id(rec.get("trafo_id"))
        tid = number if tid is None else tid
        hv_kv = _float(rec.get("vn_hv_kv"))
        if math.isnan(hv_kv):
            hv_kv = (bus_info.get(hv) or {}).get("vn_kv", float("nan"))
        lv_kv = _float(rec.get("vn_lv_kv"))
        if math.isnan(lv_kv):
            lv_kv = (bus_info.get(lv) or {}).get("vn_kv", float("nan"))
        sn = _float(rec.get("sn_mva"))
        role = _trafo_role(hv_kv, lv_kv, area_below_kv)
        if role == "area" and hv is not None:
            area_rows.append(
                {"trafo_id": tid, "hv_bus": hv, "lv_bus": lv, "sn_mva": sn, "name": rec.get("name")}
            )
            continue
        if role == "regulator" and hv is not None:
            line_info[f"trafo:{tid}"] = _link(hv, lv, True, kind="regulator")
            continue
        if hv is not None:
            hv_buses.add(hv)
        st = stations.setdefault(lv, {"capacity": 0.0, "count": 0, "hv_kv": float("nan")})
        st["capacity"] += 0.0 if math.isnan(sn) else sn
        st["count"] += 1
        if not math.isnan(hv_kv):
            st["hv_kv"] = hv_kv if math.isnan(st["hv_kv"]) else max(st["hv_kv"], hv_kv)
    for root in roots:
        rid = _norm_id(root)
        if rid is not None and rid not in stations:
            check_bus(rid, "root bus")
            stations[rid] = {"capacity": float("nan"), "count": 0, "hv_kv": float("nan")}

    # ---- adjacency over closed lines
    def is_closed(lid: Any) -> bool:
        info = line_info[lid]
        return info["in_service"] and not info["open_switches"]

    adj: dict[Any, list[tuple[Any, Any]]] = {}
    linked: set[frozenset] = set()
    for lid in sorted(line_info, key=_id_key):
        info = line_info[lid]
        if not is_closed(lid):
            continue
        if info["from"] == info["to"]:
            if info["kind"] == "line":
                diag(
                    "loop", bus=info["from"], line_id=lid, detail="line starts and ends at one bus"
                )
            continue
        pair = frozenset((info["from"], info["to"]))
        if info["kind"] != "line" and pair in linked:
            info["parallel"] = True  # one phase of a bank of single-phase regulators
            continue
        if info["kind"] != "line":
            linked.add(pair)
        adj.setdefault(info["from"], []).append((info["to"], lid))
        adj.setdefault(info["to"], []).append((info["from"], lid))
    for bid in adj:
        adj[bid].sort(key=lambda t: (_id_key(t[0]), _id_key(t[1])))

    # ---- station bus groups: a busbar plus what closed switches between buses and voltage
    # regulators join to it without a line (breaker and feeder-head nodes, a closed bus
    # coupler, the station's regulator). Stations joined so become one substation.
    group: dict[Any, Any] = {}
    for lv in sorted(stations, key=_id_key):
        if lv in group:
            continue
        group[lv] = lv
        queue = deque([lv])
        while queue:
            u = queue.popleft()
            for v, lid in adj.get(u, []):
                if line_info[lid]["kind"] == "line" or v in group:
                    continue
                group[v] = lv
                queue.append(v)
    for member, rep in group.items():
        if member != rep and member in stations:
            st, into = stations.pop(member), stations[rep]
            into["capacity"] = float(np.nansum([into["capacity"], st["capacity"]]))
            into["count"] += st["count"]
            into["hv_kv"] = float(np.nanmax([into["hv_kv"], st["hv_kv"], -np.inf]))
            if math.isinf(into["hv_kv"]):
                into["hv_kv"] = float("nan")
    busbars = sorted(stations, key=_id_key)
    ss_code = {bb: f"{substation_prefix}{i}" for i, bb in enumerate(busbars, 1)}

    def starts(bb: Any) -> list[tuple[Any, Any]]:
        """Closed branches leaving the station group of ``bb``, by (first bus, line id)."""
        out = [
            (v, lid)
            for member in group
            if group[member] == bb
            for v, lid in adj.get(member, [])
            if group.get(v) != bb
        ]
        return sorted(out, key=lambda t: (_id_key(t[0]), _id_key(t[1])))

    # ---- BFS per starting line
    bus_owner: dict[Any, str] = {}
    line_owner: dict[Any, str] = {}
    tie_reported: set[Any] = set()
    feeder_rows: list[dict[str, Any]] = []

    for si, bb in enumerate(busbars, 1):
        ss = ss_code[bb]
        k = 0
        for first, start_lid in starts(bb):  # sorted by (first bus, line id)
            if start_lid in line_owner or start_lid in tie_reported:
                continue  # already used by a loop of an earlier feeder, or a reported tie
            if first in group:
                tie_reported.add(start_lid)
                diag(
                    "busbar_tie",
                    substation=ss,
                    bus=first,
                    line_id=start_lid,
                    detail=f"line joins busbars {bb} and {first}; not traversed",
                )
                continue
            if first in bus_owner:
                owner = bus_owner[first]
                diag(
                    "loop" if owner.startswith(f"{feeder_prefix}{si}-") else "busbar_tie",
                    feeder=owner,
                    substation=ss,
                    bus=first,
                    line_id=start_lid,
                    detail=f"starting line from busbar {bb} reaches bus {first} already in "
                    f"{owner}; no new feeder",
                )
                continue
            k += 1
            code = f"{feeder_prefix}{si}-{k}"
            order_buses = [first]
            order_lines = [start_lid]
            bus_owner[first] = code
            line_owner[start_lid] = code
            has_loop = False
            queue = deque([first])
            while queue:
                u = queue.popleft()
                for v, lid in adj.get(u, []):
                    if lid in line_owner or lid in tie_reported:
                        continue
                    if v in group:
                        if group[v] == bb:
                            line_owner[lid] = code
                            order_lines.append(lid)
                            has_loop = True
                            diag(
                                "loop",
                                feeder=code,
                                substation=ss,
                                bus=v,
                                line_id=lid,
                                detail=f"feeder returns to its own busbar {bb}",
                            )
                        else:
                            tie_reported.add(lid)
                            diag(
                                "busbar_tie",
                                feeder=code,
                                substation=ss,
                                bus=v,
                                line_id=lid,
                                detail=f"closed line reaches busbar {v} of "
                                f"{ss_code[group[v]]}; not traversed",
                            )
                        continue
                    if v in bus_owner:
                        # Unreachable for another feeder (BFS covers the whole component), so v
                        # belongs to this one: a second path to v is a loop.
                        line_owner[lid] = code
                        order_lines.append(lid)
                        has_loop = True
                        diag(
                            "loop",
                            feeder=code,
                            substation=ss,
                            bus=v,
                            line_id=lid,
                            detail=f"bus {v} reached twice (from bus {u})",
                        )
                        continue
                    bus_owner[v] = code
                    line_owner[lid] = code
                    order_buses.append(v)
                    order_lines.append(lid)
                    queue.append(v)
            feeder_rows.append(
                _feeder_row(
                    code,
                    ss,
                    bb,
                    first,
                    start_lid,
                    order_buses,
                    order_lines,
                    has_loop,
                    line_info,
                    bus_info,
                    has_type,
                    diag,
                )
            )

    # ---- open lines, islands
    for lid in sorted(line_info, key=_id_key):
        info = line_info[lid]
        if is_closed(lid):
            if info.get("parallel") or (
                info["from"] in group and group[info["from"]] == group.get(info["to"])
            ):
                continue  # a bank's other phases; a link inside a station
            if lid not in line_owner and lid not in tie_reported and info["from"] != info["to"]:
                diag(
                    "island_line",
                    line_id=lid,
                    detail=f"closed line {info['from']}-{info['to']} reached from no busbar",
                )
            continue
        why = (
            "out of service"
            if not info["in_service"]
            else "open switch " + ", ".join(f"{s} at bus {b}" for s, b in info["open_switches"])
        )
        sides = [
            bus_owner.get(info["from"]) or ss_code.get(group.get(info["from"])),
            bus_owner.get(info["to"]) or ss_code.get(group.get(info["to"])),
        ]
        diag(
            "open_line",
            line_id=lid,
            detail=f"{why}; bus {info['from']} ({sides[0] or 'none'}) - "
            f"bus {info['to']} ({sides[1] or 'none'})",
        )
    area_lv = {a["lv_bus"] for a in area_rows}
    for bid in sorted(bus_info, key=_id_key):
        if bid in bus_owner or bid in group or bid in hv_buses or bid in area_lv:
            continue
        diag("island_bus", bus=bid, detail="bus reached from no busbar")

    # ---- buses without coordinates: every feeder bus and busbar, counted exactly
    def located(bid: Any) -> bool:
        info = bus_info.get(bid)
        return info is not None and math.isfinite(info["lon"]) and math.isfinite(info["lat"])

    for bb in busbars:
        if not located(bb):
            diag("no_coordinates", substation=ss_code[bb], bus=bb, detail="busbar without lon/lat")
    for row in feeder_rows:
        missing = [b for b in row["buses"] if not located(b)]
        row["buses_without_coordinates"] = len(missing)
        for b in missing:
            diag(
                "no_coordinates",
                feeder=row["feeder"],
                substation=row["substation"],
                bus=b,
                detail="feeder bus without lon/lat",
            )
        row["voltage_kv"] = (bus_info.get(row["busbar"]) or {}).get("vn_kv", float("nan"))

    # ---- distribution transformer areas on the feeder of their hv bus
    area_out = []
    for a in sorted(area_rows, key=lambda r: _id_key(r["trafo_id"])):
        hv = a["hv_bus"]
        feeder = bus_owner.get(hv)
        if feeder is None:
            diag(
                "island_area",
                bus=hv,
                detail=f"transformer {a['trafo_id']} on bus {hv} reached from no busbar",
            )
        where = bus_info.get(hv) or bus_info.get(a["lv_bus"]) or {}
        sn = a["sn_mva"]
        area_out.append(
            {
                "transformer": str(a["trafo_id"]),
                "feeder": feeder,
                "name": _text(a["name"]),
                "kva": sn * 1000 if not math.isnan(sn) else float("nan"),
                "lon": where.get("lon", float("nan")),
                "lat": where.get("lat", float("nan")),
                "bus": hv,
            }
        )

    # ---- tables
    feeders_df = pd.DataFrame(feeder_rows, columns=FEEDER_COLUMNS)
    counts = Counter(feeders_df["substation"]) if len(feeders_df) else Counter()
    sub_rows = []
    for bb in busbars:
        info = bus_info.get(bb, {})
        hv_kv = stations[bb]["hv_kv"]
        sub_rows.append(
            {
                "substation": ss_code[bb],
                "name": info.get("name") or f"Busbar {bb}",
                # the station's level is its high-voltage side (a 110/20 kV station is 110 kV);
                # a root bus without a transformer keeps its own level
                "voltage_kv": hv_kv if not math.isnan(hv_kv) else info.get("vn_kv", float("nan")),
                "capacity_mva": stations[bb]["capacity"],
                "lon": info.get("lon", float("nan")),
                "lat": info.get("lat", float("nan")),
                "busbar": bb,
                "trafo_count": stations[bb]["count"],
                "feeder_count": counts.get(ss_code[bb], 0),
            }
        )
    substations_df = pd.DataFrame(sub_rows, columns=SUBSTATION_COLUMNS)
    diagnostics_df = pd.DataFrame(diags, columns=DIAGNOSTIC_COLUMNS)
    return {
        "substations": substations_df,
        "feeders": feeders_df,
        "transformers": pd.DataFrame(area_out, columns=TRANSFORMER_COLUMNS),
        "diagnostics": diagnostics_df,
    }


def _link(a: Any, b: Any, closed: bool, *, kind: str) -> dict[str, Any]:
    """A zero-length branch: a switch between two buses or a voltage regulator."""
    return {
        "from": a,
        "to": b,
        "length": 0.0,
        "std_type": None,
        "type": None,
        "geometry": None,
        "in_service": True,
        "open_switches": [] if closed else [(kind, a)],
        "kind": kind,
    }


def _trafo_role(hv_kv: float, lv_kv: float, area_below_kv: float) -> str:
    """``area`` (distribution transformer: low side below ``area_below_kv``), ``regulator``
    (both sides at one level, within 20 %: a voltage regulator or an isolating transformer,
    crossed like a line) or ``substation`` (anything else, and unknown levels)."""
    if not math.isnan(lv_kv) and lv_kv < area_below_kv:
        return "area"
    if not math.isnan(hv_kv) and not math.isnan(lv_kv) and lv_kv > 0 and hv_kv / lv_kv < 1.2:
        return "regulator"
    return "substation"


def _feeder_row(
    code: str,
    ss: str,
    busbar: Any,
    first: Any,
    start_lid: Any,
    order_buses: list[Any],
    order_lines: list[Any],
    has_loop: bool,
    line_info: dict[Any, dict[str, Any]],
    bus_info: dict[Any, dict[str, Any]],
    has_type: bool,
    diag,
) -> dict[str, Any]:
    length = 0.0
    overhead = 0.0
    type_counts: Counter[str] = Counter()
    type_length: dict[str, float] = {}
    parts: list[list[list[float]]] = []
    for lid in order_lines:
        info = line_info[lid]
        if info["kind"] != "line":
            continue  # switches between buses and regulators: no length, no segment
        seg = info["length"]
        if not math.isnan(seg):
            length += seg
        std = info["std_type"]
        if std is not None:
            type_counts[std] += 1
            type_length[std] = type_length.get(std, 0.0) + (0.0 if math.isnan(seg) else seg)
        if has_type and (info["type"] or "").lower() == "ol" and not math.isnan(seg):
            overhead += seg
        coords = _line_coords(info["geometry"])
        if coords is None:
            ends = [bus_info.get(info["from"]), bus_info.get(info["to"])]
            fallback = None
            if all(
                e is not None and math.isfinite(e["lon"]) and math.isfinite(e["lat"]) for e in ends
            ):
                fallback = [[[ends[0]["lon"], ends[0]["lat"]], [ends[1]["lon"], ends[1]["lat"]]]]
            if not _is_missing(info["geometry"]):
                diag(
                    "bad_geometry",
                    feeder=code,
                    substation=ss,
                    line_id=lid,
                    detail="geometry unreadable"
                    + (
                        "; straight segment used" if fallback else "; line left out of the geometry"
                    ),
                )
            coords = fallback
        if coords:
            parts.extend(coords)
    conductor = None
    if type_counts:
        conductor = min(type_counts, key=lambda s: (-type_counts[s], -type_length.get(s, 0.0), s))
    busbar_name = (bus_info.get(busbar) or {}).get("name") or f"Busbar {busbar}"
    first_name = (bus_info.get(first) or {}).get("name") or f"Bus {first}"
    geometry = json.dumps({"type": "MultiLineString", "coordinates": parts}) if parts else None
    return {
        "feeder": code,
        "substation": ss,
        "name": f"{busbar_name} / {first_name}",
        "length_km": round(length, 6),
        "conductor": conductor,
        "geometry": geometry,
        "bus_count": len(order_buses),
        "buses": list(order_buses),
        "line_ids": list(order_lines),
        "busbar": busbar,
        "first_bus": first,
        "start_line": start_lid,
        "overhead_km": round(overhead, 6) if has_type else float("nan"),
        "has_loop": has_loop,
        "voltage_kv": float("nan"),
        "buses_without_coordinates": 0,
    }
