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

import math
from collections import Counter
from typing import Any

import pandas as pd

from .columns import (
    FEEDER_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    SUBSTATION_COLUMNS,
    TRANSFORMER_COLUMNS,
    check_columns,
    read_segment_export,
)
from .feeders import Ownership, Station, trace_station
from .grid import Diagnostics, Grid, closed_adjacency, read_grid, station_groups
from .values import as_text, id_key

__all__ = ["REQUIRED_COLUMNS", "read_segment_export", "trace_feeders"]


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
    diags = Diagnostics()
    grid = read_grid(
        *_with_optional_columns(buses, lines, switches, trafos),
        roots=roots,
        area_below_kv=area_below_kv,
        diags=diags,
    )
    adj = closed_adjacency(grid, diags)
    group = station_groups(grid, adj)
    busbars = sorted(grid.stations, key=id_key)
    ss_code = {bb: f"{substation_prefix}{i}" for i, bb in enumerate(busbars, 1)}
    owners = Ownership()
    feeder_rows: list[dict[str, Any]] = []
    for number, bb in enumerate(busbars, 1):
        station = Station(bb, number, ss_code[bb], group, ss_code)
        feeder_rows += trace_station(grid, adj, station, feeder_prefix, owners, diags)
    _report_open_lines_and_islands(grid, group, ss_code, owners, diags)
    _count_buses_without_coordinates(grid, busbars, ss_code, feeder_rows, diags)
    areas = _areas_on_feeders(grid, owners, diags)
    feeders = pd.DataFrame(feeder_rows, columns=FEEDER_COLUMNS)
    return {
        "substations": _substation_table(grid, busbars, ss_code, feeders),
        "feeders": feeders,
        "transformers": pd.DataFrame(areas, columns=TRANSFORMER_COLUMNS),
        "diagnostics": diags.frame(),
    }


def _with_optional_columns(*tables: pd.DataFrame) -> list[pd.DataFrame]:
    """The four input tables checked for their required columns, with every missing optional
    column added blank (in the order buses, lines, switches, trafos)."""
    out = []
    for table, frame in zip(("buses", "lines", "switches", "trafos"), tables):
        check_columns(frame, table, label=table)
        missing = [c for c in OPTIONAL_COLUMNS[table] if c not in frame.columns]
        out.append(frame.assign(**{c: None for c in missing}) if missing else frame)
    return out


def _report_open_lines_and_islands(
    grid: Grid, group: dict, ss_code: dict, owners: Ownership, diags: Diagnostics
) -> None:
    """``open_line`` for each open branch (with the feeders on either side), ``island_line``
    and ``island_bus`` for closed lines and buses no busbar reaches."""
    for lid in sorted(grid.branches, key=id_key):
        info = grid.branches[lid]
        if grid.is_closed(lid):
            if info.get("parallel") or (
                info["from"] in group and group[info["from"]] == group.get(info["to"])
            ):
                continue  # a bank's other phases; a link inside a station
            if lid not in owners.line and lid not in owners.ties and info["from"] != info["to"]:
                diags.add(
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
            owners.bus.get(info["from"]) or ss_code.get(group.get(info["from"])),
            owners.bus.get(info["to"]) or ss_code.get(group.get(info["to"])),
        ]
        diags.add(
            "open_line",
            line_id=lid,
            detail=f"{why}; bus {info['from']} ({sides[0] or 'none'}) - "
            f"bus {info['to']} ({sides[1] or 'none'})",
        )
    area_lv = {a["lv_bus"] for a in grid.area_rows}
    for bid in sorted(grid.buses, key=id_key):
        if bid in owners.bus or bid in group or bid in grid.hv_buses or bid in area_lv:
            continue
        diags.add("island_bus", bus=bid, detail="bus reached from no busbar")


def _count_buses_without_coordinates(
    grid: Grid, busbars: list, ss_code: dict, feeder_rows: list[dict], diags: Diagnostics
) -> None:
    """Every feeder bus and busbar without lon/lat, counted exactly (and each feeder's
    ``voltage_kv``, its busbar's level)."""
    for bb in busbars:
        if not grid.located(bb):
            diags.add(
                "no_coordinates", substation=ss_code[bb], bus=bb, detail="busbar without lon/lat"
            )
    for row in feeder_rows:
        missing = [b for b in row["buses"] if not grid.located(b)]
        row["buses_without_coordinates"] = len(missing)
        for b in missing:
            diags.add(
                "no_coordinates",
                feeder=row["feeder"],
                substation=row["substation"],
                bus=b,
                detail="feeder bus without lon/lat",
            )
        row["voltage_kv"] = (grid.buses.get(row["busbar"]) or {}).get("vn_kv", float("nan"))


def _areas_on_feeders(grid: Grid, owners: Ownership, diags: Diagnostics) -> list[dict]:
    """Distribution transformer areas on the feeder of their hv bus (``island_area`` when no
    feeder reaches it)."""
    area_out = []
    for a in sorted(grid.area_rows, key=lambda r: id_key(r["trafo_id"])):
        hv = a["hv_bus"]
        feeder = owners.bus.get(hv)
        if feeder is None:
            diags.add(
                "island_area",
                bus=hv,
                detail=f"transformer {a['trafo_id']} on bus {hv} reached from no busbar",
            )
        where = grid.buses.get(hv) or grid.buses.get(a["lv_bus"]) or {}
        sn = a["sn_mva"]
        area_out.append(
            {
                "transformer": str(a["trafo_id"]),
                "feeder": feeder,
                "name": as_text(a["name"]),
                "kva": sn * 1000 if not math.isnan(sn) else float("nan"),
                "lon": where.get("lon", float("nan")),
                "lat": where.get("lat", float("nan")),
                "bus": hv,
            }
        )
    return area_out


def _substation_table(
    grid: Grid, busbars: list, ss_code: dict, feeders: pd.DataFrame
) -> pd.DataFrame:
    counts = Counter(feeders["substation"]) if len(feeders) else Counter()
    sub_rows = []
    for bb in busbars:
        info = grid.buses.get(bb, {})
        station = grid.stations[bb]
        hv_kv = station["hv_kv"]
        sub_rows.append(
            {
                "substation": ss_code[bb],
                "name": info.get("name") or f"Busbar {bb}",
                # the station's level is its high-voltage side (a 110/20 kV station is 110 kV);
                # a root bus without a transformer keeps its own level
                "voltage_kv": hv_kv if not math.isnan(hv_kv) else info.get("vn_kv", float("nan")),
                "capacity_mva": station["capacity"],
                "lon": info.get("lon", float("nan")),
                "lat": info.get("lat", float("nan")),
                "busbar": bb,
                "trafo_count": station["count"],
                "feeder_count": counts.get(ss_code[bb], 0),
            }
        )
    return pd.DataFrame(sub_rows, columns=SUBSTATION_COLUMNS)
