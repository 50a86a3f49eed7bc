"""The grid of a GIS segment export as tracing sees it: buses, branches (lines, switches between
buses, voltage regulators), stations and distribution areas, the adjacency over closed branches
and the station bus groups; with the diagnostics found on the way."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .columns import DIAGNOSTIC_COLUMNS
from .values import as_float, as_text, id_key, norm_id, parse_bool

#: bus -> [(neighbour bus, branch id)] over closed branches, sorted by (neighbour, branch)
Adjacency = dict[Any, list[tuple[Any, Any]]]


class Diagnostics:
    """The findings of one trace, in the order found (one row each, DIAGNOSTIC_COLUMNS)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._unknown_reported: set[tuple[Any, str]] = set()

    def add(self, kind: str, *, feeder=None, substation=None, bus=None, line_id=None, detail=""):
        self.rows.append(
            {
                "kind": kind,
                "feeder": feeder,
                "substation": substation,
                "bus": bus,
                "line_id": line_id,
                "detail": detail,
            }
        )

    def check_bus(self, bus_info: dict, bid: Any, where: str, line_id=None) -> None:
        """Report ``bid`` as ``unknown_bus`` once per place referencing it."""
        if bid is not None and bid not in bus_info and (bid, where) not in self._unknown_reported:
            self._unknown_reported.add((bid, where))
            self.add("unknown_bus", bus=bid, line_id=line_id, detail=f"referenced by {where}")

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=DIAGNOSTIC_COLUMNS)


@dataclass
class Grid:
    """What an export describes, keyed by normalised ids.

    ``branches`` holds lines (``kind == "line"``) and the zero-length links (``switch`` between
    two buses, ``regulator``); ``stations`` maps a busbar to its capacity, transformer count and
    high-voltage level; ``area_rows`` are the distribution transformers."""

    buses: dict[Any, dict[str, Any]] = field(default_factory=dict)
    branches: dict[Any, dict[str, Any]] = field(default_factory=dict)
    stations: dict[Any, dict[str, Any]] = field(default_factory=dict)
    hv_buses: set[Any] = field(default_factory=set)
    area_rows: list[dict[str, Any]] = field(default_factory=list)
    has_type: bool = False

    def is_closed(self, lid: Any) -> bool:
        info = self.branches[lid]
        return info["in_service"] and not info["open_switches"]

    def located(self, bid: Any) -> bool:
        info = self.buses.get(bid)
        return info is not None and math.isfinite(info["lon"]) and math.isfinite(info["lat"])


def read_grid(
    buses: pd.DataFrame,
    lines: pd.DataFrame,
    switches: pd.DataFrame,
    trafos: pd.DataFrame,
    roots: tuple,
    area_below_kv: float,
    diags: Diagnostics,
) -> Grid:
    """The grid of the four tables (each with all its optional columns); ``roots`` are buses
    that start feeders like a busbar even without a transformer."""
    grid = Grid(buses=_read_buses(buses), has_type=lines["type"].notna().any())
    _read_lines(grid, lines, diags)
    _read_switches(grid, switches, diags)
    _read_trafos(grid, trafos, area_below_kv, diags)
    for root in roots:
        rid = norm_id(root)
        if rid is not None and rid not in grid.stations:
            diags.check_bus(grid.buses, rid, "root bus")
            grid.stations[rid] = {"capacity": float("nan"), "count": 0, "hv_kv": float("nan")}
    return grid


def _read_buses(buses: pd.DataFrame) -> dict[Any, dict[str, Any]]:
    bus_info: dict[Any, dict[str, Any]] = {}
    for rec in buses.to_dict("records"):
        bid = norm_id(rec["bus_id"])
        if bid is None:
            continue
        bus_info[bid] = {
            "name": as_text(rec.get("name")),
            "vn_kv": as_float(rec.get("vn_kv")),
            "lon": as_float(rec.get("lon")),
            "lat": as_float(rec.get("lat")),
        }
    return bus_info


def _read_lines(grid: Grid, lines: pd.DataFrame, diags: Diagnostics) -> None:
    has_in_service = lines["in_service"].notna().any()
    for rec in lines.to_dict("records"):
        lid = norm_id(rec["line_id"])
        a, b = norm_id(rec["from_bus"]), norm_id(rec["to_bus"])
        if lid is None or a is None or b is None:
            diags.add("bad_value", line_id=lid, detail="line without id or end bus; ignored")
            continue
        in_service = True
        if has_in_service:
            try:
                in_service = parse_bool(rec.get("in_service"), True)
            except ValueError:
                in_service = False
                diags.add(
                    "bad_value",
                    line_id=lid,
                    detail=f"in_service {rec.get('in_service')!r} unreadable; taken as out",
                )
        grid.branches[lid] = {
            "from": a,
            "to": b,
            "length": as_float(rec.get("length_km")),
            "std_type": as_text(rec.get("std_type")),
            "type": as_text(rec.get("type")) if grid.has_type else None,
            "geometry": rec.get("geometry_geojson"),
            "in_service": in_service,
            "open_switches": [],
            "kind": "line",
        }
        diags.check_bus(grid.buses, a, f"line {lid}", lid)
        diags.check_bus(grid.buses, b, f"line {lid}", lid)


def _read_switches(grid: Grid, switches: pd.DataFrame, diags: Diagnostics) -> None:
    """``et == "l"``: a switch on a line (open: the line is open); ``et == "b"``: a switch
    between two buses, a zero-length link."""
    for rec in switches.to_dict("records"):
        et = (as_text(rec.get("et")) or "").lower()
        if et not in ("l", "b"):
            continue
        sid = norm_id(rec.get("switch_id"))
        lid = norm_id(rec.get("element"))
        sbus = norm_id(rec.get("bus"))
        try:
            closed = parse_bool(rec.get("closed"), True)
        except ValueError:
            closed = False
            diags.add(
                "bad_value",
                line_id=lid if et == "l" else f"switch:{sid}",
                detail=f"switch {sid} closed {rec.get('closed')!r} unreadable; taken as open",
            )
        if et == "b":
            if sbus is None or lid is None:
                diags.add(
                    "bad_value", line_id=f"switch:{sid}", detail="bus switch without two buses"
                )
                continue
            link = f"switch:{sid}"
            grid.branches[link] = _link(sbus, lid, closed, kind="switch")
            diags.check_bus(grid.buses, sbus, f"switch {sid}", link)
            diags.check_bus(grid.buses, lid, f"switch {sid}", link)
            continue
        diags.check_bus(grid.buses, sbus, f"switch {sid}", lid)
        if lid not in grid.branches:
            diags.add("unknown_line", line_id=lid, bus=sbus, detail=f"switch {sid} on unknown line")
            continue
        if not closed:
            grid.branches[lid]["open_switches"].append((sid, sbus))


def _read_trafos(grid: Grid, trafos: pd.DataFrame, area_below_kv: float, diags: Diagnostics):
    """Transformers become substations, regulators (links) or distribution areas."""
    has_trafo_service = trafos["in_service"].notna().any()
    bus_info = grid.buses
    for number, rec in enumerate(trafos.to_dict("records")):
        lv, hv = norm_id(rec["lv_bus"]), norm_id(rec["hv_bus"])
        if lv is None:
            continue
        if has_trafo_service:
            try:
                if not parse_bool(rec.get("in_service"), True):
                    continue
            except ValueError:
                pass
        diags.check_bus(bus_info, lv, "transformer lv_bus")
        diags.check_bus(bus_info, hv, "transformer hv_bus")
        tid = norm_id(rec.get("trafo_id"))
        tid = number if tid is None else tid
        hv_kv = as_float(rec.get("vn_hv_kv"))
        if math.isnan(hv_kv):
            hv_kv = (bus_info.get(hv) or {}).get("vn_kv", float("nan"))
        lv_kv = as_float(rec.get("vn_lv_kv"))
        if math.isnan(lv_kv):
            lv_kv = (bus_info.get(lv) or {}).get("vn_kv", float("nan"))
        sn = as_float(rec.get("sn_mva"))
        role = _trafo_role(hv_kv, lv_kv, area_below_kv)
        if role == "area" and hv is not None:
            grid.area_rows.append(
                {"trafo_id": tid, "hv_bus": hv, "lv_bus": lv, "sn_mva": sn, "name": rec.get("name")}
            )
            continue
        if role == "regulator" and hv is not None:
            grid.branches[f"trafo:{tid}"] = _link(hv, lv, True, kind="regulator")
            continue
        if hv is not None:
            grid.hv_buses.add(hv)
        st = grid.stations.setdefault(lv, {"capacity": 0.0, "count": 0, "hv_kv": float("nan")})
        st["capacity"] += 0.0 if math.isnan(sn) else sn
        st["count"] += 1
        if not math.isnan(hv_kv):
            st["hv_kv"] = hv_kv if math.isnan(st["hv_kv"]) else max(st["hv_kv"], hv_kv)


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


def closed_adjacency(grid: Grid, diags: Diagnostics) -> Adjacency:
    """Adjacency over closed branches; a line from a bus to itself is a ``loop``, the further
    phases of a bank of single-phase regulators are marked ``parallel`` and left out."""
    adj: Adjacency = {}
    linked: set[frozenset] = set()
    for lid in sorted(grid.branches, key=id_key):
        info = grid.branches[lid]
        if not grid.is_closed(lid):
            continue
        if info["from"] == info["to"]:
            if info["kind"] == "line":
                diags.add(
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
        adj[bid].sort(key=lambda t: (id_key(t[0]), id_key(t[1])))
    return adj


def station_groups(grid: Grid, adj: Adjacency) -> dict[Any, Any]:
    """Bus -> the busbar of its station group: a busbar plus what closed switches between buses
    and voltage regulators join to it without a line (breaker and feeder-head nodes, a closed
    bus coupler, the station's regulator). Stations joined so become one substation (merged
    into ``grid.stations`` here)."""
    group: dict[Any, Any] = {}
    stations = grid.stations
    for lv in sorted(stations, key=id_key):
        if lv in group:
            continue
        group[lv] = lv
        queue = deque([lv])
        while queue:
            u = queue.popleft()
            for v, lid in adj.get(u, []):
                if grid.branches[lid]["kind"] == "line" or v in group:
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
    return group
