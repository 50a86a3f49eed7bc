"""Network import from the field's own formats (issue 14; collectors/network_import).

Five public networks in four formats, each checked against the format's own feeder labels or
a breadth-first search written here, independent of collectors.network_trace:
- MV Oberrhein (pandapower, 20 kV): bus-branch CSV tables rewritten as a `;`-separated export
  with renamed columns, a separate coordinates table and switches between two nodes, loaded
  by `feederwatch ingest` under a configured source; and the pandapower JSON with its 141
  MV/LV transformers;
- SimBench MV1.101 (SimBench CSV: `;`, coordinates joined by coordID, node-node switches);
- the IEEE 13, 34 and 123 node test feeders (OpenDSS scripts through opendssdirect.py);
- SimBench MV1.101's lines again as GIS layers (GeoPackage and Shapefile, in a Gauss-Krueger
  projection) labelled with their feeder, read through pyogrio and pyproj.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import tomllib
from collections import deque
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from collectors.network_import import detect_format, load_network, reduce_network
from collectors.options import FileOptions, NetworkOptions
from tests.conftest import real_data, require

HERE = Path(__file__).resolve().parents[1] / "data" / "real"
SIMBENCH = HERE / "simbench-mv1-101"
OBERRHEIN_OPEN = {8, 23, 31, 66, 88, 188}


def bfs_feeders(edges, roots, *, station=()):
    """Independent radial-feeder search: from each root (plus the ``station`` buses joined to
    it), each edge leaving the station starts a feeder; returns {first bus: set of buses}."""
    adj: dict = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    inside = set(roots) | set(station)
    out = {}
    for member in sorted(inside, key=str):
        for first in sorted(adj.get(member, ()), key=str):
            if first in inside or any(first in s for s in out.values()):
                continue
            seen, queue = {first}, deque([first])
            while queue:
                for v in adj.get(queue.popleft(), ()):
                    if v not in seen and v not in inside:
                        seen.add(v)
                        queue.append(v)
            out[first] = seen
    return out


# --------------------------------------------------------------------------------------------
# MV Oberrhein as a ';' export with a coordinates table, through the CLI and a config


def _oberrhein_export(tmp_path: Path) -> tuple[Path, dict]:
    src = real_data("mv-oberrhein-network")
    bus = pd.read_csv(src / "oberrhein_bus.csv")
    line = pd.read_csv(src / "oberrhein_line.csv")
    sw = pd.read_csv(src / "oberrhein_switch.csv")
    trafo = pd.read_csv(src / "oberrhein_trafo.csv")
    out = tmp_path / "export"
    out.mkdir()
    pd.DataFrame({"Knoten": bus["bus_id"], "Bezeichnung": bus["name"], "Un": bus["vn_kv"]}).to_csv(
        out / "knoten.csv", sep=";", index=False
    )
    pd.DataFrame({"Knoten": bus["bus_id"], "RW": bus["lon"], "HW": bus["lat"]}).to_csv(
        out / "koordinaten.csv", sep=";", index=False
    )
    # the open points become switches between the two nodes of the line (a sectioning point
    # in a ring main unit): the lines go, the switches stay open
    kept = line[~line["line_id"].isin(OPEN_LINES := OBERRHEIN_OPEN)]
    pd.DataFrame(
        {
            "Abschnitt": kept["line_id"],
            "von": kept["from_bus"],
            "nach": kept["to_bus"],
            "Laenge_m": kept["length_km"] * 1000,
            "Typ": kept["std_type"],
        }
    ).to_csv(out / "leitungen_line.csv", sep=";", index=False)
    opened = line[line["line_id"].isin(OPEN_LINES)]
    on_lines = sw[~sw["element"].isin(OPEN_LINES)]
    switches = pd.concat(
        [
            pd.DataFrame(
                {"id": on_lines["switch_id"], "bus": on_lines["bus"], "element": on_lines["element"],
                 "et": "l", "zustand": "closed"}
            ),
            pd.DataFrame(
                {"id": 1000 + opened["line_id"], "bus": opened["from_bus"],
                 "element": opened["to_bus"], "et": "b", "zustand": "open"}
            ),
        ]
    )  # fmt: skip
    switches.to_csv(out / "schalter_switch.csv", sep=";", index=False)
    trafo[["trafo_id", "hv_bus", "lv_bus", "sn_mva"]].to_csv(
        out / "trafo.csv", sep=";", index=False
    )
    config = {
        "files": {"buses": "knoten.csv", "coordinates": "koordinaten.csv"},
        "columns": {
            "buses": {"Knoten": "bus_id", "Bezeichnung": "name", "Un": "vn_kv"},
            "coordinates": {"Knoten": "bus_id", "RW": "x", "HW": "y"},
            "lines": {
                "Abschnitt": "line_id",
                "von": "from_bus",
                "nach": "to_bus",
                "Typ": "std_type",
                "Laenge_m": "length_m",
            },
            "switches": {"zustand": "closed"},
        },
    }
    return out, config


def _toml(tmp_path: Path, db_url: str, net: dict) -> Path:
    lines = [f'[database]\nurl = "{db_url}"\n', '[sources.gis]\ntype = "file"', 'path = "drop"']
    lines += ['kind = "network"', 'sep = ";"', "", "[sources.gis.network]"]
    lines.append("files = { " + ", ".join(f'{k} = "{v}"' for k, v in net["files"].items()) + " }")
    for table, cols in net["columns"].items():
        body = ", ".join(f'"{k}" = "{v}"' for k, v in cols.items())
        lines.append(f"columns.{table} = {{ {body} }}")
    path = tmp_path / "fw.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(config: Path, *args):
    from click.testing import CliRunner

    from feederwatch.cli import cli

    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def test_net001_oberrhein_export_by_config_lands_at_20kv_with_its_diagnostics(tmp_path, db_url):
    from db.engine import make_engine
    from db.models import CollectorRun, Feeder, QuarantinedRecord, Substation
    from db.queries.network import feeder_flags, network_diagnostics

    folder, net = _oberrhein_export(tmp_path)
    config = _toml(tmp_path, db_url, net)
    (tmp_path / "drop").mkdir()
    result = _cli(config, "ingest", "network", str(folder), "--source", "gis")
    assert result.exit_code == 0, result.output
    assert re.search(r"note: network_open_line\s+6\b", result.output)

    # independent BFS over the original CSVs, open lines left out, busbars not crossed
    src = real_data("mv-oberrhein-network")
    line = pd.read_csv(src / "oberrhein_line.csv")
    closed = line[~line["line_id"].isin(OBERRHEIN_OPEN)]
    expected = bfs_feeders(zip(closed["from_bus"], closed["to_bus"]), [39, 319])
    assert sorted(len(b) for b in expected.values()) == [32, 36, 44, 63]
    ends = list(zip(closed["from_bus"], closed["to_bus"], closed["length_km"]))
    km = {
        first: sum(k for a, b, k in ends if {a, b} <= buses | {39, 319} and {a, b} & buses)
        for first, buses in expected.items()
    }

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            subs = conn.execute(select(Substation.code, Substation.voltage_kv)).all()
            feeders = conn.execute(
                select(Feeder.code, Feeder.voltage_kv, Feeder.length_km, Feeder.geometry)
            ).all()
            run = (
                conn.execute(select(CollectorRun.detail).where(CollectorRun.source == "gis"))
                .scalars()
                .one()
            )
            quarantined = conn.execute(select(QuarantinedRecord)).all()
        assert sorted(subs) == [("SS1", 110.0), ("SS2", 110.0)]
        assert len(feeders) == 4 and {f.voltage_kv for f in feeders} == {20.0}
        assert sorted(round(f.length_km, 4) for f in feeders) == sorted(
            round(v, 4) for v in km.values()
        )
        for f in feeders:  # straight segments between the joined coordinates
            for part in json.loads(f.geometry)["coordinates"]:
                for lon, lat in part:
                    assert 7.74 < lon < 7.94 and 48.32 < lat < 48.48
        assert run["notes"]["network_open_line"] == 6 and not quarantined
        diags = network_diagnostics(engine)
        assert (diags["kind"] == "open_line").sum() == 6
        assert set(diags["line_id"]) == {f"switch:{1000 + i}" for i in OBERRHEIN_OPEN}
        flags = feeder_flags(engine)
        assert set(flags["feeder"]) <= {f.code for f in feeders} and flags["open_points"].sum() >= 6
    finally:
        engine.dispose()


def test_net002_oberrhein_library_bus_counts_match_bfs(tmp_path):
    folder, net = _oberrhein_export(tmp_path)
    opts = NetworkOptions(**net)
    assert detect_format(folder, opts) == "tables"
    reduced = reduce_network(load_network(folder, opts), opts)
    src = real_data("mv-oberrhein-network")
    line = pd.read_csv(src / "oberrhein_line.csv")
    closed = line[~line["line_id"].isin(OBERRHEIN_OPEN)]
    expected = bfs_feeders(zip(closed["from_bus"], closed["to_bus"]), [39, 319])
    got = {row.first_bus: set(row.buses) for row in reduced["feeders"].itertuples()}
    assert got == expected


# --------------------------------------------------------------------------------------------
# pandapower JSON with its MV/LV transformers


def test_net003_pandapower_json_feeders_and_areas():
    path = real_data("mv-oberrhein-network", "mv_oberrhein_substations.json")
    assert detect_format(path) == "pandapower"
    reduced = reduce_network(load_network(path))
    body = json.loads(path.read_text())["_object"]

    def table(name):
        from io import StringIO

        return pd.read_json(StringIO(body[name]["_object"]), orient="split")

    line, sw, trafo = table("line"), table("switch"), table("trafo")
    open_lines = set(sw.loc[(sw["et"] == "l") & ~sw["closed"], "element"])
    closed = line[~line.index.isin(open_lines) & line["in_service"]]
    hv_mv = trafo[trafo["vn_lv_kv"] > 1]
    expected = bfs_feeders(zip(closed["from_bus"], closed["to_bus"]), list(hv_mv["lv_bus"]))
    feeders = reduced["feeders"]
    assert {r.first_bus: set(r.buses) for r in feeders.itertuples()} == expected
    assert list(reduced["substations"]["voltage_kv"]) == [110.0, 110.0]
    areas = reduced["transformers"]
    mv_lv = trafo[trafo["vn_lv_kv"] < 1]
    assert len(areas) == len(mv_lv) == 141
    owner = {b: r.feeder for r in feeders.itertuples() for b in r.buses}
    by_id = areas.set_index("transformer")
    for tid, hv in zip(mv_lv.index, mv_lv["hv_bus"]):
        assert by_id.at[str(tid), "feeder"] == owner[hv]
    assert by_id["lon"].between(7.7, 8.0).all()


# --------------------------------------------------------------------------------------------
# SimBench CSV: the format's own feeder labels


SIMBENCH_CONFIG = """
[sources.simbench]
type = "file"
path = "drop"
kind = "network"
sep = ";"

[sources.simbench.network]
files = { buses = "Node.csv", lines = "Line.csv", switches = "Switch.csv", trafos = "Transformer.csv", coordinates = "Coordinates.csv" }
columns.buses = { vmR = "vn_kv" }
columns.lines = { nodeA = "from_bus", nodeB = "to_bus", type = "std_type" }
columns.switches = { nodeA = "bus", nodeB = "element", cond = "closed" }
columns.trafos = { nodeHV = "hv_bus", nodeLV = "lv_bus" }
"""


def test_net004_simbench_feeders_match_their_own_labels():
    source = FileOptions(**tomllib.loads(SIMBENCH_CONFIG)["sources"]["simbench"])
    reduced = reduce_network(
        load_network(SIMBENCH, source.network, read_options={"sep": ";"}), source.network
    )
    node = pd.read_csv(SIMBENCH / "Node.csv", sep=";")
    label = node.set_index("id")["subnet"]
    label = label[label.str.fullmatch(r"MV1\.101_Feeder\d")]  # the feeder label of MV nodes
    # the far end of a loop line sits behind its open switch: SimBench labels it with the
    # feeder on the switch's other side, while it is energised over the loop line itself
    line = pd.read_csv(SIMBENCH / "Line.csv", sep=";")
    loops = line[line["subnet"].str.contains("Loop")]
    label = label.drop(list(set(loops["nodeA"]) | set(loops["nodeB"])), errors="ignore")
    want: dict[str, set] = {}
    for bus, name in label.items():
        want.setdefault(name, set()).add(bus)
    feeders = reduced["feeders"]
    assert len(feeders) == len(want) == 8
    got = {}
    for row in feeders.itertuples():
        names = {label[b] for b in row.buses if b in label.index}
        assert len(names) == 1, (row.feeder, names)  # one feeder, one label
        got[names.pop()] = {b for b in row.buses if b in label.index}
    assert got == want  # every labelled node, on the feeder of its label
    assert set(feeders["voltage_kv"]) == {20.0}
    assert (feeders["buses_without_coordinates"] == 0).all()
    assert len(reduced["transformers"]) == 90 and reduced["transformers"]["feeder"].notna().all()
    # ratings from the type names ("0.16 MVA 20/0.4 kV DOTE ..."): the station is 2 x 25 MVA
    types = pd.read_csv(SIMBENCH / "Transformer.csv", sep=";").set_index("id")["type"]
    rating = types.str.split(" MVA").str[0].astype(float)
    areas = reduced["transformers"].set_index("transformer")
    assert (areas["kva"] == rating.loc[areas.index] * 1000).all()
    assert list(reduced["substations"]["capacity_mva"]) == [rating.drop(areas.index).sum()] == [50]
    kinds = reduced["diagnostics"]["kind"].value_counts().to_dict()
    assert kinds == {"open_line": 6}


# --------------------------------------------------------------------------------------------
# OpenDSS: the IEEE test feeders


IEEE = {
    # folder, master, root bus, options
    13: ("opendss-ieee13", "IEEE13Nodeckt.dss", "650", {}),
    34: ("opendss-ieee34", "ieee34Mod1.dss", "800", {"files": {"coordinates": "IEEE34_BusXY.csv"}}),
    123: (
        "opendss-ieee123",
        "IEEE123Master.dss",
        "150",
        {"files": {"coordinates": "BusCoords.dat"}, "length_unit": "kft"},
    ),
}


def _bus(name: str):
    """OpenDSS bus name without phases; integer-like names compare as integers (as the
    tracer's ids do)."""
    name = name.split(".")[0].lower()
    return int(name) if name.isdigit() else name


def _dss_edges(folder: Path):
    """Lines and regulators of the scripts, read with regular expressions of our own."""
    lines, regs = [], []
    for path in folder.glob("*.[dD][sS][sS]"):
        statements: list[str] = []
        for text in path.read_text(errors="replace").splitlines():
            text = text.split("!")[0].split("//")[0]
            if text.lstrip().startswith("~") and statements:
                statements[-1] += " " + text.lstrip()[1:]
            else:
                statements.append(text)
        for text in statements:
            m = re.match(r"\s*new\s+line\.\S+.*?bus1=(\S+).*?bus2=(\S+)", text, re.I)
            if m:
                lines.append(tuple(_bus(b) for b in m.groups()))
            m = re.match(
                r"\s*new\s+transformer\.reg\S*.*?buses=[\[(]\s*(\S+)[\s,]+(\S+?)\s*[\])]",
                text,
                re.I,
            )
            if m:
                regs.append(tuple(_bus(b) for b in m.groups()))
    return lines, regs


@pytest.mark.parametrize("size", [13, 34, 123])
def test_net005_opendss_ieee_feeders_match_bfs(size):
    try:
        import opendssdirect  # noqa: F401
    except ImportError:
        require(False, "opendssdirect.py not installed (pip install '.[opendss]')")
    folder, master, root, extra = IEEE[size]
    opts = NetworkOptions(crs="local", origin=(-90.0, 40.0), coordinate_unit="ft", **extra)
    here = os.getcwd()
    reduced = reduce_network(load_network(HERE / folder / master, opts), opts)
    assert os.getcwd() == here  # OpenDSS moves the process; the reader moves it back
    lines, regs = _dss_edges(HERE / folder)
    root = _bus(root)
    station = {b for a, b in regs if a == root}
    edges = lines + regs
    if size == 34:  # the in-line 24.9/4.16 kV transformer is not crossed: 888 starts anew
        expected = bfs_feeders(edges, [root, 888], station=station)
    else:
        expected = bfs_feeders(edges, [root], station=station)
    got = {r.first_bus: set(r.buses) for r in reduced["feeders"].itertuples()}
    assert got == expected
    sizes = {13: [12], 34: [1, 33], 123: [129]}[size]
    assert sorted(len(b) for b in got.values()) == sizes
    feeders = reduced["feeders"]
    if size == 123:
        # two open-point buses (300_open, 94_open) have no coordinates: counted exactly, the
        # feeder still has its geometry and lands
        assert feeders["buses_without_coordinates"].tolist() == [2]
        diags = reduced["diagnostics"]
        assert set(diags.loc[diags["kind"] == "no_coordinates", "bus"]) == {"300_open", "94_open"}
        assert feeders["geometry"].notna().all()
    else:
        assert (feeders["buses_without_coordinates"] == 0).all()
    main = feeders.loc[feeders["bus_count"].idxmax()]
    assert main["voltage_kv"] == pytest.approx({13: 4.16, 34: 24.9, 123: 4.16}[size], rel=1e-3)
    # lengths: feet and kft become km (IEEE 13: 2000+667+1333+1000+500+500+300+500+300+300+800
    # ft, the switch 671-692 having no length)
    if size == 13:
        assert main["length_km"] == pytest.approx(8200 * 0.3048 / 1000, rel=1e-6)
    lon, lat = json.loads(main["geometry"])["coordinates"][0][0]
    assert -90.1 < lon < -89.9 and 39.9 < lat < 40.1


# --------------------------------------------------------------------------------------------
# GIS layers: GeoPackage and Shapefile, projected, labelled by feeder


def _wkb_line(points) -> bytes:
    return struct.pack("<BII", 1, 2, len(points)) + b"".join(struct.pack("<dd", *p) for p in points)


@pytest.mark.parametrize("driver,suffix", [("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp")])
def test_net006_gis_layers_labelled_by_feeder(tmp_path, driver, suffix, engine):
    try:
        import numpy as np
        import pyogrio
        from pyproj import Transformer
    except ImportError:
        require(False, "pyogrio/pyproj not installed (pip install '.[gis]')")
    node = pd.read_csv(SIMBENCH / "Node.csv", sep=";")
    coords = pd.read_csv(SIMBENCH / "Coordinates.csv", sep=";").set_index("id")
    line = pd.read_csv(SIMBENCH / "Line.csv", sep=";")
    line = line[line["subnet"].str.contains("_Feeder")]
    xy = node.set_index("id")["coordID"].map(lambda c: (coords.at[c, "x"], coords.at[c, "y"]))
    # Gauss-Krueger zone 4 (DHDN, EPSG:31468): the projection German utilities export in
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:31468", always_xy=True)
    geoms = [
        _wkb_line([to_gk.transform(*xy[a]), to_gk.transform(*xy[b])])
        for a, b in zip(line["nodeA"], line["nodeB"])
    ]
    path = tmp_path / f"mv_lines{suffix}"
    pyogrio.raw.write(
        path,
        np.array(geoms, dtype=object),
        [line["subnet"].to_numpy(dtype=object), line["type"].to_numpy(dtype=object),
         line["length"].to_numpy(dtype=float)],
        ["SSXL", "DXXH", "CD_KM"],
        geometry_type="LineString",
        crs="EPSG:31468",
        driver=driver,
    )  # fmt: skip
    opts = NetworkOptions(
        columns={"lines": {"SSXL": "feeder", "DXXH": "std_type", "CD_KM": "length_km"}}
    )
    assert detect_format(path, opts) == "gis"
    reduced = reduce_network(load_network(path, opts), opts)
    feeders = reduced["feeders"].set_index("feeder")
    expected = line.groupby("subnet")
    assert sorted(feeders.index) == sorted(expected.groups) and len(feeders) == 8
    for label, group in expected:
        assert feeders.at[label, "segment_count"] == len(group)
        assert feeders.at[label, "length_km"] == pytest.approx(group["length"].sum())
        parts = json.loads(feeders.at[label, "geometry"])["coordinates"]
        first = xy[group["nodeA"].iloc[0]]
        assert parts[0][0] == pytest.approx(list(first), abs=1e-7)  # back to lon/lat
    kinds = set(reduced["diagnostics"]["kind"])
    assert kinds == {"no_substation"}  # the layer names no substation: said, not hidden
    # ... and its feeders still land, without a substation, counted in a note
    from collectors.network_import import import_network
    from collectors.pipeline import IngestOptions, Pipeline
    from db.queries import network

    summary = import_network(Pipeline(engine), path, IngestOptions(source="gis"), opts)
    assert summary.quarantined_total == 0, summary.quarantined
    assert summary.notes["feeder_without_substation"] == 8
    stored = network(engine)["feeders"].set_index("feeder")
    assert sorted(stored.index) == sorted(expected.groups)
    assert stored["substation"].isna().all()
    assert stored["length_km"].to_dict() == pytest.approx(expected["length"].sum().to_dict())
    from analytics import priorities
    from analytics.settings import AnalyticsSettings
    from db.queries import complaints, outages

    ranked = priorities.rank(
        "feeder",
        network(engine),
        outages(engine),
        complaints(engine),
        None,
        AnalyticsSettings(),
        ("2025-01-01", "2026-01-01"),
    )
    assert sorted(ranked["feeder"]) == sorted(expected.groups)  # ranked without a substation
    subs = priorities.rank(
        "substation",
        network(engine),
        outages(engine),
        complaints(engine),
        None,
        AnalyticsSettings(),
        ("2025-01-01", "2026-01-01"),
    )
    assert subs.empty  # no substation to rank, and no error


def test_net007_cgcs2000_and_gauss_krueger_zones():
    try:
        import pyproj  # noqa: F401
    except ImportError:
        require(False, "pyproj not installed (pip install '.[gis]')")
    from collectors.network_import.geo import to_lonlat

    # CGCS2000 3-degree Gauss-Krueger zone 38 (EPSG:4526): central meridian 114 E, false
    # easting 38 500 000 m: a point on the central meridian has lon 114 exactly
    lon, lat = to_lonlat([38_500_000.0], [4_000_000.0], "EPSG:4526")
    assert lon[0] == pytest.approx(114.0, abs=1e-9) and 36.0 < lat[0] < 36.2
    # CGCS2000 geographic (EPSG:4490) lists latitude first; x stays lon with always_xy
    lon, lat = to_lonlat([116.25], [36.58], "EPSG:4490")
    assert lon[0] == pytest.approx(116.25, abs=1e-6) and lat[0] == pytest.approx(36.58, abs=1e-6)
    # local feet around an origin: 1 mile north is 1609.344 m of latitude
    lon, lat = to_lonlat([0.0], [5280.0], "local", origin=(116.0, 36.0), unit="ft")
    assert lon[0] == 116.0 and (lat[0] - 36.0) * math.pi / 180 * 6_371_008.8 == pytest.approx(
        1609.344
    )


def test_net008_bad_models_are_refused_with_one_line(tmp_path, db_url):
    (tmp_path / "drop").mkdir()
    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    broken = tmp_path / "broken.dss"
    broken.write_text("New Line.L1 Bus1=a Bus2=b\n", encoding="utf-8")  # no circuit
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "nodes.csv").write_text("id;kv\n1;10\n", encoding="utf-8")
    (folder / "lines.csv").write_text("id;a;b\n1;1;2\n", encoding="utf-8")  # no from/to
    for path in (folder, broken):
        result = _cli(config, "ingest", "network", str(path))
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") >= 1 and "error" in result.output


def test_net009_feeder_without_coordinates_lands_ranks_and_is_counted(tmp_path, db_url):
    model = tmp_path / "model"
    model.mkdir()
    nodes = "id,kv,lon,lat\n0,10,116.0,36.0\n1,10,116.01,36.0\n2,10,116.02,36.0\n3,10,,\n4,10,,\n100,35,116.0,36.0\n"
    (model / "nodes.csv").write_text(nodes, encoding="utf-8")
    (model / "lines.csv").write_text(
        "id,from,to,length_km\n1,0,1,1.5\n2,1,2,2.0\n3,0,3,0.7\n4,3,4,0.8\n5,4,99,0.3\n",
        encoding="utf-8",
    )
    (model / "trafos.csv").write_text("hv_bus,lv_bus,sn_mva\n100,0,10\n", encoding="utf-8")
    # independently: feeder buses without lon/lat are the blank rows plus the unknown bus 99
    table = pd.read_csv(model / "nodes.csv")
    blank = set(table.loc[table["lon"].isna(), "id"]) | {99}
    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    result = _cli(config, "ingest", "network", str(model))
    assert result.exit_code == 3, result.output  # the line to bus 99 is a broken reference
    assert re.search(r"quarantined: network_unknown_bus\s+1\b", result.output)
    assert re.search(rf"note: network_no_coordinates\s+{len(blank)}\b", result.output)
    assert re.search(r"note: network_feeders_without_geometry\s+1\b", result.output)
    ranked = _cli(config, "rank", "--level", "feeder", "--format", "json")
    assert ranked.exit_code == 0
    rows = json.loads(ranked.stdout[ranked.stdout.index("[") :])
    assert sorted(r["feeder"] for r in rows) == ["F1-1", "F1-2"]  # the one without a map line too


def test_net010_scheduled_file_source_loads_a_dropped_model(tmp_path, db_url):
    import shutil

    from db.engine import make_engine
    from db.models import CollectorRun, Feeder, Transformer

    drop = tmp_path / "drop"
    drop.mkdir()
    for path in SIMBENCH.glob("*.csv"):
        shutil.copy(path, drop / path.name)
    body = SIMBENCH_CONFIG.replace('path = "drop"', 'path = "drop"\nsettle_seconds = 0')
    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n{body}', encoding="utf-8")
    result = _cli(config, "collect", "--once", "simbench")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (drop / "done").iterdir()) == sorted(
        p.name for p in SIMBENCH.glob("*.csv")
    )
    labels = pd.read_csv(SIMBENCH / "Line.csv", sep=";")["subnet"]
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            feeders = conn.execute(select(Feeder.code, Feeder.voltage_kv)).all()
            areas = conn.execute(select(Transformer.feeder_id)).scalars().all()
            detail = conn.execute(select(CollectorRun.detail)).scalars().one()
        assert (
            len(feeders) == labels.str.fullmatch(r"MV1\.101_Feeder\d").groupby(labels).any().sum()
        )
        assert {v for _, v in feeders} == {20.0}
        assert len(areas) == 90 and all(a is not None for a in areas)
        assert detail["notes"]["network_open_line"] == 6
    finally:
        engine.dispose()


def test_net011_geojson_bus_branch_layers_traced_from_a_configured_root(tmp_path):
    try:
        import pyogrio  # noqa: F401
    except ImportError:
        require(False, "pyogrio not installed (pip install '.[gis]')")

    def fc(features):
        return json.dumps({"type": "FeatureCollection", "features": features})

    def feature(props, geom):
        return {"type": "Feature", "properties": props, "geometry": geom}

    def line(a, b):
        return {"type": "LineString", "coordinates": [a, b]}

    pts = {"B0": [116.0, 36.0], "B1": [116.01, 36.0], "B2": [116.02, 36.0]}
    (tmp_path / "mv_lines.geojson").write_text(
        fc(
            [
                feature({"id": "L1", "from": "B0", "to": "B1", "length_km": 1.2}, line(pts["B0"], pts["B1"])),
                feature({"id": "L2", "from": "B1", "to": "B2", "length_km": 0.8}, line(pts["B1"], pts["B2"])),
                feature({"id": "L3", "from": "B0", "to": "B3", "length_km": 0.5}, None),
            ]
        )
    )  # fmt: skip
    (tmp_path / "mv_buses.geojson").write_text(
        fc(
            [feature({"bus": b, "kv": 10}, {"type": "Point", "coordinates": c}) for b, c in pts.items()]
            + [feature({"bus": "B3", "kv": 10}, None)]
        )
    )  # fmt: skip
    opts = NetworkOptions(roots=["B0"])
    assert detect_format(tmp_path, opts) == "gis"
    reduced = reduce_network(load_network(tmp_path, opts), opts)
    feeders = reduced["feeders"].set_index("first_bus")
    assert feeders.at["B1", "buses"] == ["B1", "B2"] and feeders.at["B1", "length_km"] == 2.0
    assert feeders.at["B3", "buses_without_coordinates"] == 1
    assert pd.isna(feeders.at["B3", "geometry"])  # still a feeder, without a map line
    assert list(reduced["diagnostics"]["kind"]) == ["no_coordinates"]


def test_net012_simbench_grid_by_code(tmp_path, db_url):
    """A SimBench grid by its code through the simbench package (CLI, into the database): one
    feeder per feeder label of its own bus table, at 20 kV, each as long as its labelled lines;
    a bad code is one line."""
    sb = pytest.importorskip(
        "simbench",
        reason="extra 'pandapower' not installed: it pins pandas ~= 2.3, so the suite "
        "(pandas 3) runs without it; pip install '.[pandapower]' to run this test",
    )
    from db.engine import make_engine
    from db.queries import network

    model = sb.get_simbench_net("1-MV-rural--0-sw")
    lines = model.line.assign(subnet=model.line["subnet"].astype(str))
    feeder_labels = sorted(
        set(lines["subnet"][lines["subnet"].str.fullmatch(r"MV1\.101_Feeder\d+")])
    )
    assert len(feeder_labels) == 8
    labelled_km = sorted(
        round(float(km), 3)
        for name, km in lines.groupby("subnet")["length_km"].sum().items()
        if name in feeder_labels
    )

    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    result = _cli(config, "ingest", "network", "simbench:1-MV-rural--0-sw")
    assert result.exit_code in (0, 3), result.output
    engine = make_engine(db_url)
    try:
        stored = network(engine)["feeders"]
    finally:
        engine.dispose()
    assert len(stored) == 8 and set(stored["voltage_kv"]) == {20.0}
    # each traced feeder carries at least its own labelled lines (plus, past an open switch,
    # nothing: the loop lines SimBench labels apart are energised from one side only)
    got_km = sorted(round(float(km), 3) for km in stored["length_km"])
    assert all(g >= w - 1e-6 for g, w in zip(got_km, labelled_km, strict=True))
    assert sum(got_km) <= lines["length_km"].sum() + 1e-6

    bad = _cli(config, "ingest", "network", "simbench:no-such-grid")
    assert bad.exit_code == 2 and "not a SimBench code" in bad.output


def test_net013_pandapower_excel_reads_as_its_json(tmp_path):
    """The Oberrhein grid saved by pandapower as Excel reads as the pandapower JSON does."""
    pp = pytest.importorskip(
        "pandapower",
        reason="extra 'pandapower' not installed: it pins pandas ~= 2.3, so the suite "
        "(pandas 3) runs without it; pip install '.[pandapower]' to run this test",
    )
    pytest.importorskip("xlsxwriter", reason="extra 'pandapower' not installed")
    from collectors.options import NetworkOptions

    json_path = real_data("mv-oberrhein-network", "mv_oberrhein.json")
    excel = tmp_path / "oberrhein.xlsx"
    pp.to_excel(pp.from_json(str(json_path)), str(excel))
    opts = NetworkOptions(format="pandapower")
    from_excel = reduce_network(load_network(excel, opts), opts)
    from_json = reduce_network(load_network(json_path), None)

    def shape(reduced):
        per = reduced["transformers"].groupby("feeder").size()
        return sorted(
            (int(per.get(f, 0)), round(float(km), 6))
            for f, km in zip(
                reduced["feeders"]["feeder"], reduced["feeders"]["length_km"], strict=True
            )
        )

    assert len(from_json["feeders"]) == 4
    assert shape(from_excel) == shape(from_json)


def test_net014_loads_become_areas_when_the_model_has_no_distribution_transformers():
    """mv_oberrhein.json gives its low-voltage side as 147 loads on 20 kV buses and has no
    MV/LV transformer: each load in service becomes a transformer area on the feeder an
    independent search puts its bus on, rated at the load's apparent power."""
    path = real_data("mv-oberrhein-network", "mv_oberrhein.json")
    reduced = reduce_network(load_network(path))
    body = json.loads(path.read_text())["_object"]

    def table(name):
        from io import StringIO

        return pd.read_json(StringIO(body[name]["_object"]), orient="split")

    line, sw, trafo, load = table("line"), table("switch"), table("trafo"), table("load")
    assert (trafo["vn_lv_kv"] > 1).all()  # no distribution transformer in this model
    open_lines = set(sw.loc[(sw["et"] == "l") & ~sw["closed"], "element"])
    closed = line[~line.index.isin(open_lines) & line["in_service"]]
    expected = bfs_feeders(zip(closed["from_bus"], closed["to_bus"]), list(trafo["lv_bus"]))
    feeders = reduced["feeders"]
    assert {r.first_bus: set(r.buses) for r in feeders.itertuples()} == expected
    owner = {b: r.feeder for r in feeders.itertuples() for b in r.buses}
    served = load[load["in_service"]]
    areas = reduced["transformers"].set_index("transformer")
    assert len(areas) == len(served) == 147
    rated = (served["p_mw"] ** 2 + served["q_mvar"] ** 2) ** 0.5
    rated = served["sn_mva"].where(served["sn_mva"] > 0, rated)
    for idx, bus in zip(served.index, served["bus"], strict=True):
        row = areas.loc[f"load{idx}"]
        assert row["feeder"] == owner[bus]
        assert row["kva"] == pytest.approx(rated[idx] * 1000)
