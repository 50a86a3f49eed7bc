"""Tracing the radial feeders of each busbar: the breadth-first search from each starting line,
ties and loops found on the way, and each feeder's row (length, conductor, geometry)."""

from __future__ import annotations

import json
import math
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from .grid import Adjacency, Diagnostics, Grid
from .values import id_key, is_missing, line_coords


@dataclass
class Ownership:
    """Which feeder owns each bus and branch, and the branches reported as busbar ties."""

    bus: dict[Any, str] = field(default_factory=dict)
    line: dict[Any, str] = field(default_factory=dict)
    ties: set[Any] = field(default_factory=set)


@dataclass
class Station:
    """One substation being traced: its busbar, its station group and its code."""

    busbar: Any
    number: int  # 1-based, in busbar order
    code: str
    group: dict[Any, Any]  # bus -> busbar of its station group (all stations)
    codes: dict[Any, str]  # busbar -> substation code (all stations)


def trace_station(
    grid: Grid,
    adj: Adjacency,
    station: Station,
    feeder_prefix: str,
    owners: Ownership,
    diags: Diagnostics,
) -> list[dict[str, Any]]:
    """The feeder rows of one station: one feeder per closed line leaving its group, in (first
    bus, line id) order, unless a tie or an earlier feeder already owns that line or bus."""
    bb, ss, group = station.busbar, station.code, station.group
    rows = []
    for first, start_lid in _starts(adj, group, bb):
        if start_lid in owners.line or start_lid in owners.ties:
            continue  # already used by a loop of an earlier feeder, or a reported tie
        if first in group:
            owners.ties.add(start_lid)
            diags.add(
                "busbar_tie",
                substation=ss,
                bus=first,
                line_id=start_lid,
                detail=f"line joins busbars {bb} and {first}; not traversed",
            )
            continue
        if first in owners.bus:
            owner = owners.bus[first]
            diags.add(
                "loop" if owner.startswith(f"{feeder_prefix}{station.number}-") else "busbar_tie",
                feeder=owner,
                substation=ss,
                bus=first,
                line_id=start_lid,
                detail=f"starting line from busbar {bb} reaches bus {first} already in "
                f"{owner}; no new feeder",
            )
            continue
        code = f"{feeder_prefix}{station.number}-{len(rows) + 1}"
        buses, lines, has_loop = _search(adj, station, code, first, start_lid, owners, diags)
        rows.append(
            _feeder_row(grid, code, ss, bb, first, start_lid, buses, lines, has_loop, diags)
        )
    return rows


def _starts(adj: Adjacency, group: dict[Any, Any], bb: Any) -> list[tuple[Any, Any]]:
    """Closed branches leaving the station group of ``bb``, by (first bus, line id)."""
    out = [
        (v, lid)
        for member in group
        if group[member] == bb
        for v, lid in adj.get(member, [])
        if group.get(v) != bb
    ]
    return sorted(out, key=lambda t: (id_key(t[0]), id_key(t[1])))


def _search(
    adj: Adjacency,
    station: Station,
    code: str,
    first: Any,
    start_lid: Any,
    owners: Ownership,
    diags: Diagnostics,
) -> tuple[list[Any], list[Any], bool]:
    """Breadth-first search of feeder ``code`` from ``first``: its buses and lines in search
    order and whether it has a loop. Station groups are never entered."""
    bb, ss, group = station.busbar, station.code, station.group
    order_buses = [first]
    order_lines = [start_lid]
    owners.bus[first] = code
    owners.line[start_lid] = code
    has_loop = False

    def loop(v: Any, lid: Any, detail: str) -> None:
        """Line ``lid`` closes a loop at bus ``v``: it is the feeder's, and a finding."""
        owners.line[lid] = code
        order_lines.append(lid)
        diags.add("loop", feeder=code, substation=ss, bus=v, line_id=lid, detail=detail)

    queue = deque([first])
    while queue:
        u = queue.popleft()
        for v, lid in adj.get(u, []):
            if lid in owners.line or lid in owners.ties:
                continue
            if v in group:
                if group[v] == bb:
                    loop(v, lid, f"feeder returns to its own busbar {bb}")
                    has_loop = True
                else:
                    owners.ties.add(lid)
                    diags.add(
                        "busbar_tie",
                        feeder=code,
                        substation=ss,
                        bus=v,
                        line_id=lid,
                        detail=f"closed line reaches busbar {v} of "
                        f"{station.codes[group[v]]}; not traversed",
                    )
                continue
            if v in owners.bus:
                # Unreachable for another feeder (BFS covers the whole component), so v
                # belongs to this one: a second path to v is a loop.
                loop(v, lid, f"bus {v} reached twice (from bus {u})")
                has_loop = True
                continue
            owners.bus[v] = code
            owners.line[lid] = code
            order_buses.append(v)
            order_lines.append(lid)
            queue.append(v)
    return order_buses, order_lines, has_loop


def _feeder_row(
    grid: Grid,
    code: str,
    ss: str,
    busbar: Any,
    first: Any,
    start_lid: Any,
    order_buses: list[Any],
    order_lines: list[Any],
    has_loop: bool,
    diags: Diagnostics,
) -> dict[str, Any]:
    length = 0.0
    overhead = 0.0
    type_counts: Counter[str] = Counter()
    type_length: dict[str, float] = {}
    parts: list[list[list[float]]] = []
    for lid in order_lines:
        info = grid.branches[lid]
        if info["kind"] != "line":
            continue  # switches between buses and regulators: no length, no segment
        seg = info["length"]
        if not math.isnan(seg):
            length += seg
        std = info["std_type"]
        if std is not None:
            type_counts[std] += 1
            type_length[std] = type_length.get(std, 0.0) + (0.0 if math.isnan(seg) else seg)
        if grid.has_type and (info["type"] or "").lower() == "ol" and not math.isnan(seg):
            overhead += seg
        coords = _segment_coords(grid, info, code, ss, lid, diags)
        if coords:
            parts.extend(coords)
    conductor = None
    if type_counts:
        conductor = min(type_counts, key=lambda s: (-type_counts[s], -type_length.get(s, 0.0), s))
    busbar_name = (grid.buses.get(busbar) or {}).get("name") or f"Busbar {busbar}"
    first_name = (grid.buses.get(first) or {}).get("name") or f"Bus {first}"
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
        "overhead_km": round(overhead, 6) if grid.has_type else float("nan"),
        "has_loop": has_loop,
        "voltage_kv": float("nan"),
        "buses_without_coordinates": 0,
    }


def _segment_coords(
    grid: Grid, info: dict[str, Any], code: str, ss: str, lid: Any, diags: Diagnostics
) -> list[list[list[float]]] | None:
    """A line's geometry parts; an unreadable geometry falls back to the straight segment
    between its buses when both have coordinates (``bad_geometry`` either way)."""
    coords = line_coords(info["geometry"])
    if coords is not None:
        return coords
    ends = [grid.buses.get(info["from"]), grid.buses.get(info["to"])]
    fallback = None
    if all(e is not None and math.isfinite(e["lon"]) and math.isfinite(e["lat"]) for e in ends):
        fallback = [[[ends[0]["lon"], ends[0]["lat"]], [ends[1]["lon"], ends[1]["lat"]]]]
    if not is_missing(info["geometry"]):
        diags.add(
            "bad_geometry",
            feeder=code,
            substation=ss,
            line_id=lid,
            detail="geometry unreadable"
            + ("; straight segment used" if fallback else "; line left out of the geometry"),
        )
    return fallback
