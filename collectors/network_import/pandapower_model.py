"""pandapower networks: the JSON that ``pandapower.to_json`` writes, and (with the optional
extra ``pandapower``) anything ``pandapower`` itself opens (Excel, SimBench codes).

The JSON is read without pandapower: it is a dict of tables, each a pandas DataFrame in
``split`` orientation, so pandas alone reads it. Bus and line coordinates come from the
``geo`` columns (GeoJSON, pandapower 3) or the ``bus_geodata`` / ``line_geodata`` tables
(pandapower 2). The tables become the bus-branch tables ``trace_feeders`` takes: bus ids are
the table index, switches keep ``et`` (``l`` on a line, ``b`` between two buses; ``t``
switches on transformers are ignored), transformers keep their rated voltages.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collectors.network_import.geo import NeedsExtra
from collectors.network_import.tables import normalise, reproject_line


def _table(obj: Any) -> pd.DataFrame | None:
    if isinstance(obj, dict) and obj.get("_class") == "DataFrame":
        body = obj["_object"]
        frame = pd.read_json(
            io.StringIO(body) if isinstance(body, str) else io.StringIO(json.dumps(body)),
            orient="split",
        )
        return frame
    return None


def _point(geo: Any) -> tuple[float, float]:
    try:
        g = json.loads(geo) if isinstance(geo, str) else geo
        x, y = g["coordinates"][:2]
        return float(x), float(y)
    except (TypeError, ValueError, KeyError, IndexError):
        return np.nan, np.nan


def read_pandapower_json(path: Path, net) -> dict[str, Any]:
    """A pandapower JSON file -> canonical bus-branch tables (see the module docstring)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a pandapower JSON: {exc}") from None
    body = doc.get("_object", doc) if isinstance(doc, dict) else None
    if not isinstance(body, dict) or "bus" not in body or "line" not in body:
        raise ValueError("not a pandapower JSON (no bus and line tables)")
    tables = {name: _table(body.get(name)) for name in TABLES}
    return from_tables(tables, net)


def read_pandapower_net(path: Path, net) -> dict[str, Any]:
    """Any file pandapower opens (``.xlsx``, ``.p``, ``.json``), through pandapower."""
    try:
        import pandapower as pp
    except ImportError:
        raise NeedsExtra(
            f"{path.name} needs pandapower: pip install 'feederwatch[pandapower]'"
        ) from None
    suffix = Path(path).suffix.lower()
    model = (
        pp.from_excel(str(path))
        if suffix == ".xlsx"
        else pp.from_pickle(str(path))
        if suffix == ".p"
        else pp.from_json(str(path))
    )
    return from_tables(_net_tables(model), net)


SIMBENCH_PREFIX = "simbench:"
TABLES = ("bus", "line", "switch", "trafo", "load", "bus_geodata", "line_geodata")


def _net_tables(model) -> dict[str, pd.DataFrame | None]:
    """The tables FeederWatch reads of a pandapower net object."""
    return {name: getattr(model, name, None) for name in TABLES}


def read_simbench(code: str, net) -> dict[str, Any]:
    """A SimBench grid by its code (``1-MV-rural--0-sw``), through the ``simbench`` package
    (its data ship inside the package: no download)."""
    try:
        import simbench as sb
    except ImportError:
        raise NeedsExtra(
            f"SimBench code {code} needs simbench: pip install 'feederwatch[pandapower]'"
        ) from None
    try:
        model = sb.get_simbench_net(code)
    except Exception as exc:  # simbench raises plain errors for an unknown code
        raise ValueError(
            f"not a SimBench code: {code!r} ({exc.__class__.__name__}: {exc})"
        ) from None
    return from_tables(_net_tables(model), net)


def _loads_as_areas(
    load: pd.DataFrame | None, buses: pd.DataFrame, trafos: pd.DataFrame, net
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A medium-voltage model whose low-voltage side is given as loads on its buses (SimBench's
    MV grids, mv_oberrhein): each load in service becomes a transformer area on its bus (a
    pseudo 0.4 kV transformer and bus at the load's place, rated at the load's apparent power).
    A model that has distribution transformers keeps them as they are."""
    below = getattr(net, "area_below_kv", 1.0) if net is not None else 1.0
    lv = pd.to_numeric(trafos.get("vn_lv_kv", pd.Series(dtype=float)), errors="coerce")
    if load is None or not len(load) or (lv < below).any():
        return buses, trafos
    load = load[load["in_service"].fillna(True).astype(bool)] if "in_service" in load else load
    if not len(load):
        return buses, trafos
    at = buses.set_index("bus_id")
    hv = load["bus"].to_numpy()
    ids = [f"load{i}" for i in load.index]
    p = pd.to_numeric(load.get("p_mw"), errors="coerce")
    q = pd.to_numeric(load.get("q_mvar"), errors="coerce").fillna(0.0)
    rated = pd.to_numeric(load.get("sn_mva"), errors="coerce")
    rated = rated.where(rated > 0, (p**2 + q**2) ** 0.5)
    pseudo = pd.DataFrame(
        {
            "bus_id": ids,
            "name": load.get("name"),
            "vn_kv": 0.4,
            **{c: at[c].reindex(hv).to_numpy() for c in ("x", "y") if c in at},
        }
    )
    areas = pd.DataFrame(
        {
            "trafo_id": ids,
            "name": load.get("name"),
            "hv_bus": hv,
            "lv_bus": ids,
            "sn_mva": rated.to_numpy(),
            "vn_hv_kv": at["vn_kv"].reindex(hv).to_numpy() if "vn_kv" in at else np.nan,
            "vn_lv_kv": 0.4,
            "in_service": True,
        }
    )
    return (
        pd.concat([buses, pseudo], ignore_index=True),
        pd.concat([trafos, areas], ignore_index=True),
    )


def from_tables(t: dict[str, pd.DataFrame | None], net) -> dict[str, Any]:
    bus = t["bus"]
    buses = pd.DataFrame({"bus_id": bus.index, "name": bus.get("name"), "vn_kv": bus.get("vn_kv")})
    if "geo" in bus and bus["geo"].notna().any():
        xy = [_point(g) for g in bus["geo"]]
        buses["x"] = [p[0] for p in xy]
        buses["y"] = [p[1] for p in xy]
    elif t.get("bus_geodata") is not None and len(t["bus_geodata"]):
        geo = t["bus_geodata"]
        buses["x"] = buses["bus_id"].map(geo["x"])
        buses["y"] = buses["bus_id"].map(geo["y"])
    line = t["line"]
    lines = pd.DataFrame(
        {
            "line_id": line.index,
            "from_bus": line["from_bus"].to_numpy(),
            "to_bus": line["to_bus"].to_numpy(),
            "length_km": line.get("length_km"),
            "std_type": line.get("std_type"),
            "type": line.get("type"),
            "in_service": line.get("in_service"),
        }
    )
    if "geo" in line and line["geo"].notna().any():
        lines["geometry_geojson"] = [reproject_line(g, net) for g in line["geo"]]
    elif t.get("line_geodata") is not None and len(t["line_geodata"]):
        coords = t["line_geodata"]["coords"]
        lines["geometry_geojson"] = [
            reproject_line({"type": "LineString", "coordinates": coords.get(i)}, net)
            if i in coords.index
            else None
            for i in line.index
        ]
    sw = t.get("switch")
    switches = pd.DataFrame(columns=["switch_id", "bus", "element", "et", "closed"])
    if sw is not None and len(sw):
        switches = pd.DataFrame(
            {
                "switch_id": sw.index,
                "bus": sw["bus"].to_numpy(),
                "element": sw["element"].to_numpy(),
                "et": sw["et"].to_numpy(),
                "closed": sw["closed"].to_numpy(),
            }
        )
    tr = t.get("trafo")
    trafos = pd.DataFrame(columns=["hv_bus", "lv_bus"])
    if tr is not None and len(tr):
        trafos = pd.DataFrame(
            {
                "trafo_id": tr.index,
                "name": tr.get("name"),
                "hv_bus": tr["hv_bus"].to_numpy(),
                "lv_bus": tr["lv_bus"].to_numpy(),
                "sn_mva": tr.get("sn_mva"),
                "vn_hv_kv": tr.get("vn_hv_kv"),
                "vn_lv_kv": tr.get("vn_lv_kv"),
                "in_service": tr.get("in_service"),
            }
        )
    buses, trafos = _loads_as_areas(t.get("load"), buses, trafos, net)
    # geometry already in lon/lat: the buses' x/y go through the same reprojection
    model = normalise(
        {"buses": buses, "lines": lines.drop(columns=["geometry_geojson"], errors="ignore")}, net
    )
    if "geometry_geojson" in lines:
        model["lines"]["geometry_geojson"] = lines["geometry_geojson"].to_numpy()
    model["switches"] = switches
    model["trafos"] = trafos
    return model
