"""Feeder tracing of GIS segment exports (collectors/network_trace/).

The real-data tests read ../shared/data/real/mv-oberrhein-network (pandapower's MV Oberrhein
grid, see its PROVENANCE.md) in place; they skip when it is missing, or fail under CI=true.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from collectors.network_trace import read_segment_export, trace_feeders

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
OBERRHEIN = REAL / "mv-oberrhein-network"
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# PROVENANCE.md extent "lon 7.744-7.938, lat 48.328-48.475" is rounded to 3 decimals (the
# easternmost vertex is 7.93829), so allow half a unit of that rounding.
_TOL = 0.0005
LON = (7.744 - _TOL, 7.938 + _TOL)
LAT = (48.328 - _TOL, 48.475 + _TOL)
OPEN_LINES = {8, 23, 31, 66, 88, 188}


# --------------------------------------------------------------------------------------------
# real data: MV Oberrhein


@pytest.fixture(scope="module")
def oberrhein() -> dict[str, pd.DataFrame]:
    needed = [OBERRHEIN / f"oberrhein_{t}.csv" for t in ("bus", "line", "switch", "trafo")]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        reason = f"real data not found: {', '.join(missing)}"
        if IN_CI:
            pytest.fail(f"required under CI=true: {reason}")
        pytest.skip(reason)
    return read_segment_export(OBERRHEIN)


@pytest.fixture(scope="module")
def traced(oberrhein) -> dict[str, pd.DataFrame]:
    return trace_feeders(**oberrhein)


def test_oberrhein_substations(traced):
    subs = traced["substations"]
    assert list(subs["substation"]) == ["SS1", "SS2"]
    assert list(subs["busbar"]) == [39, 319]
    assert list(subs["capacity_mva"]) == [25.0, 25.0]
    # the station's level is its high-voltage side; its feeders keep the busbar's 20 kV
    assert list(subs["voltage_kv"]) == [110.0, 110.0]
    assert list(traced["feeders"]["voltage_kv"]) == [20.0] * 4
    assert list(subs["feeder_count"]) == [2, 2]
    assert subs["lon"].between(*LON).all() and subs["lat"].between(*LAT).all()


def test_oberrhein_four_radial_feeders(traced):
    feeders = traced["feeders"]
    assert len(feeders) == 4
    assert sorted(feeders["bus_count"]) == sorted([44, 63, 36, 32])
    by_start = {(r.busbar, r.first_bus): r for r in feeders.itertuples()}
    assert set(by_start) == {(319, 126), (319, 6), (39, 80), (39, 86)}
    assert by_start[(319, 126)].bus_count == 44
    assert by_start[(319, 6)].bus_count == 63
    assert by_start[(39, 80)].bus_count == 36
    assert by_start[(39, 86)].bus_count == 32
    # deterministic codes: substations by busbar id, feeders by first bus id
    assert list(feeders["feeder"]) == ["F1-1", "F1-2", "F2-1", "F2-2"]
    assert list(zip(feeders["busbar"], feeders["first_bus"])) == [
        (39, 80),
        (39, 86),
        (319, 6),
        (319, 126),
    ]
    assert set(feeders["substation"]) <= set(traced["substations"]["substation"])
    for row in feeders.itertuples():
        assert row.bus_count == len(row.buses) == len(set(row.buses))
        assert row.buses[0] == row.first_bus
        assert row.busbar not in row.buses
        assert not row.has_loop
        # radial: one line per bus (the starting line included)
        assert len(row.line_ids) == row.bus_count
        assert row.conductor == "NA2XS2Y 1x185 RM/25 12/20 kV"


def test_oberrhein_totals_and_no_loops(oberrhein, traced):
    feeders, diags = traced["feeders"], traced["diagnostics"]
    all_buses = [b for buses in feeders["buses"] for b in buses]
    assert len(all_buses) == len(set(all_buses)) == 175
    assert not {39, 319, 58, 318} & set(all_buses)
    all_lines = [lid for ids in feeders["line_ids"] for lid in ids]
    assert len(all_lines) == len(set(all_lines)) == 175
    # 171 lines run between feeder buses; the other 4 leave the busbars (one per feeder)
    lines = oberrhein["lines"].set_index("line_id")
    inner = [
        lid
        for lid in all_lines
        if lines.at[lid, "from_bus"] in set(all_buses) and lines.at[lid, "to_bus"] in set(all_buses)
    ]
    assert len(inner) == 171
    assert sorted(lines.loc[all_lines].pipe(lambda d: d[~d.index.isin(inner)]).index) == sorted(
        feeders["start_line"]
    )
    assert "loop" not in set(diags["kind"])
    assert "busbar_tie" not in set(diags["kind"])
    assert (
        not diags["kind"]
        .isin(
            [
                "island_line",
                "island_bus",
                "unknown_bus",
                "unknown_line",
                "bad_geometry",
                "bad_value",
            ]
        )
        .any()
    )
    # lengths: every traced line counted once
    assert feeders["length_km"].sum() == pytest.approx(lines.loc[all_lines, "length_km"].sum())
    assert feeders["length_km"].sum() + lines.loc[
        sorted(OPEN_LINES), "length_km"
    ].sum() == pytest.approx(108.75, abs=0.01)


def test_oberrhein_open_switches_not_crossed(oberrhein, traced):
    sw = oberrhein["switches"]
    open_lines = set(sw.loc[~sw["closed"].astype(bool), "element"])
    assert open_lines == OPEN_LINES
    feeders = traced["feeders"]
    owner = {b: r.feeder for r in feeders.itertuples() for b in r.buses}
    traced_lines = {lid for ids in feeders["line_ids"] for lid in ids}
    assert not traced_lines & OPEN_LINES
    lines = oberrhein["lines"].set_index("line_id")
    for lid in OPEN_LINES:
        a, b = lines.at[lid, "from_bus"], lines.at[lid, "to_bus"]
        assert a in owner and b in owner  # both sides energised by some feeder
        for row in feeders.itertuples():  # no feeder walks from one side to the other over it
            assert lid not in row.line_ids
    diag = traced["diagnostics"]
    assert set(diag.loc[diag["kind"] == "open_line", "line_id"]) == OPEN_LINES
    # the open points do tie different feeders (sectioning points) in most cases
    ties = {
        lid
        for lid in OPEN_LINES
        if owner[lines.at[lid, "from_bus"]] != owner[lines.at[lid, "to_bus"]]
    }
    assert len(ties) >= 4


def test_oberrhein_geometry(traced):
    for row in traced["feeders"].itertuples():
        geom = json.loads(row.geometry)
        assert geom["type"] == "MultiLineString"
        assert len(geom["coordinates"]) == len(row.line_ids)
        for part in geom["coordinates"]:
            assert len(part) >= 2
            for lon, lat in part:
                assert LON[0] <= lon <= LON[1], (row.feeder, lon)
                assert LAT[0] <= lat <= LAT[1], (row.feeder, lat)


# --------------------------------------------------------------------------------------------
# hand-made grids


def _grid(
    lines: list[tuple],
    *,
    switches: list[tuple] = (),
    trafos: list[tuple] = ((100, 0, 16),),
    extra_buses: tuple = (),
) -> dict[str, pd.DataFrame]:
    """lines: (line_id, from, to[, in_service]); switches: (bus, line, closed)."""
    ids = sorted(
        {b for ln in lines for b in ln[1:3]}
        | {t[0] for t in trafos}
        | {t[1] for t in trafos}
        | set(extra_buses)
    )
    buses = pd.DataFrame(
        {
            "bus_id": ids,
            "name": [f"B{i}" for i in ids],
            "vn_kv": [110 if i >= 100 else 10 for i in ids],
            "lon": [116.0 + i / 100 for i in ids],
            "lat": [36.0 + i / 200 for i in ids],
        }
    )
    rows = []
    for ln in lines:
        lid, a, b = ln[:3]
        geom = {
            "type": "LineString",
            "coordinates": [[116.0 + a / 100, 36.0 + a / 200], [116.0 + b / 100, 36.0 + b / 200]],
        }
        rows.append(
            {
                "line_id": lid,
                "from_bus": a,
                "to_bus": b,
                "length_km": 1.0 + lid / 10,
                "std_type": "LGJ-70" if lid % 3 else "LGJ-120",
                "geometry_geojson": json.dumps(geom),
                "type": "ol",
                "in_service": ln[3] if len(ln) > 3 else True,
            }
        )
    sw = pd.DataFrame(
        [
            {"switch_id": i, "bus": bus, "element": lid, "et": "l", "closed": closed}
            for i, (bus, lid, closed) in enumerate(switches)
        ],
        columns=["switch_id", "bus", "element", "et", "closed"],
    )
    tr = pd.DataFrame(list(trafos), columns=["hv_bus", "lv_bus", "sn_mva"])
    return {"buses": buses, "lines": pd.DataFrame(rows), "switches": sw, "trafos": tr}


@pytest.mark.parametrize("open_value", [False, "False", "0", 0, "false"])
def test_open_tie_between_two_feeders_belongs_to_neither(open_value):
    # busbar 0 -> 1 -> 2   and   0 -> 3 -> 4, tie line 9 between 2 and 4 with an open switch
    grid = _grid(
        [(1, 0, 1), (2, 1, 2), (3, 0, 3), (4, 3, 4), (9, 2, 4)],
        switches=[(2, 9, True), (4, 9, open_value), (1, 1, "True"), (3, 3, 1)],
    )
    out = trace_feeders(**grid)
    feeders = out["feeders"]
    assert list(feeders["feeder"]) == ["F1-1", "F1-2"]
    assert [r.buses for r in feeders.itertuples()] == [[1, 2], [3, 4]]
    assert [r.line_ids for r in feeders.itertuples()] == [[1, 2], [3, 4]]
    assert list(feeders["length_km"]) == pytest.approx([1.1 + 1.2, 1.3 + 1.4])
    assert list(feeders["overhead_km"]) == pytest.approx([2.3, 2.7])
    assert not feeders["has_loop"].any()
    diag = out["diagnostics"]
    assert list(diag["kind"]) == ["open_line"]
    assert diag.iloc[0]["line_id"] == 9
    assert "F1-1" in diag.iloc[0]["detail"] and "F1-2" in diag.iloc[0]["detail"]
    subs = out["substations"]
    assert (
        subs.iloc[0]["substation"],
        subs.iloc[0]["capacity_mva"],
        subs.iloc[0]["voltage_kv"],
    ) == ("SS1", 16, 110)
    assert list(feeders["voltage_kv"]) == [10, 10]


def test_closed_tie_is_a_loop_and_does_not_crash():
    # same grid with the tie closed: one feeder from the busbar reaches the other side -> loop
    grid = _grid([(1, 0, 1), (2, 1, 2), (3, 0, 3), (4, 3, 4), (9, 2, 4)])
    out = trace_feeders(**grid)
    feeders = out["feeders"]
    assert len(feeders) == 1  # the second starting line closes the ring back to the busbar
    row = feeders.iloc[0]
    assert sorted(row["buses"]) == [1, 2, 3, 4] and row["has_loop"]
    assert sorted(row["line_ids"]) == [1, 2, 3, 4, 9]
    loops = out["diagnostics"].query("kind == 'loop'")
    assert len(loops) == 1 and loops.iloc[0]["feeder"] == "F1-1"


def test_loop_inside_a_feeder_is_reported():
    # busbar 0 -> 1 -> 2 -> 3 -> 1 (ring), plus a clean feeder 0 -> 5
    grid = _grid([(1, 0, 1), (2, 1, 2), (3, 2, 3), (4, 3, 1), (5, 0, 5)])
    out = trace_feeders(**grid)
    feeders = out["feeders"].set_index("feeder")
    assert list(feeders.index) == ["F1-1", "F1-2"]
    assert feeders.at["F1-1", "bus_count"] == 3
    assert sorted(feeders.at["F1-1", "buses"]) == [1, 2, 3]
    assert feeders.at["F1-1", "has_loop"] and not feeders.at["F1-2", "has_loop"]
    loops = out["diagnostics"].query("kind == 'loop'")
    assert len(loops) == 1
    assert loops.iloc[0]["feeder"] == "F1-1" and loops.iloc[0]["line_id"] in (3, 4)


def test_busbar_tie_islands_unknown_buses_and_out_of_service():
    # two stations (busbars 0 and 10); closed line 7 ties their feeders; line 8 out of service;
    # buses 20-21 are an island; line 30 ends at bus 99 which is not in the bus table
    grid = _grid(
        [
            (1, 0, 1),
            (2, 10, 11),
            (7, 1, 11),
            (8, 1, 12, False),
            (3, 11, 12),
            (20, 20, 21),
            (30, 12, 99),
        ],
        trafos=[(100, 0, 16), (101, 10, 10), (102, 10, 6.3)],
        extra_buses=(50,),
    )
    grid["buses"] = grid["buses"][grid["buses"]["bus_id"] != 99]
    out = trace_feeders(**grid, feeder_prefix="L", substation_prefix="S")
    subs, feeders, diag = out["substations"], out["feeders"], out["diagnostics"]
    assert list(subs["substation"]) == ["S1", "S2"]
    assert list(subs["capacity_mva"]) == pytest.approx([16, 16.3])
    assert list(subs["trafo_count"]) == [1, 2]
    # the feeder of busbar 0 reaches 1, then 11 (busbar 10's first bus) over the closed line 7,
    # never entering busbar 10; line 2 (busbar 10 -> 11) is the reported tie, so busbar 10
    # starts no feeder of its own
    assert list(feeders["feeder"]) == ["L1-1"]
    assert feeders.iloc[0]["buses"] == [1, 11, 12, 99]
    assert feeders.iloc[0]["line_ids"] == [1, 7, 3, 30]
    assert list(subs["feeder_count"]) == [1, 0]
    kinds = dict(zip(zip(diag["kind"], diag["line_id"]), diag["detail"]))
    assert ("busbar_tie", 2) in kinds
    assert ("open_line", 8) in kinds and "out of service" in kinds[("open_line", 8)]
    assert ("island_line", 20) in kinds
    assert set(diag.loc[diag["kind"] == "island_bus", "bus"]) == {20, 21, 50}
    assert set(diag.loc[diag["kind"] == "unknown_bus", "bus"]) == {99}
    assert 2 not in feeders.iloc[0]["line_ids"] and 8 not in feeders.iloc[0]["line_ids"]


def test_bad_geometry_falls_back_to_bus_coordinates():
    grid = _grid([(1, 0, 1), (2, 1, 2)])
    grid["lines"].loc[1, "geometry_geojson"] = "not json"
    out = trace_feeders(**grid)
    geom = json.loads(out["feeders"].iloc[0]["geometry"])
    assert geom["type"] == "MultiLineString" and len(geom["coordinates"]) == 2
    assert geom["coordinates"][1] == [[116.01, 36.005], [116.02, 36.01]]
    assert list(out["diagnostics"]["kind"]) == ["bad_geometry"]


def test_missing_column_in_export_folder(tmp_path):
    grid = _grid([(1, 0, 1)])
    grid["buses"].drop(columns=["bus_id"]).to_csv(tmp_path / "gis_bus.csv", index=False)
    grid["lines"].to_csv(tmp_path / "gis_line.csv", index=False)
    grid["switches"].to_csv(tmp_path / "gis_switch.csv", index=False)
    grid["trafos"].to_csv(tmp_path / "gis_trafo.csv", index=False)
    with pytest.raises(ValueError, match=r"^gis_bus\.csv: missing column bus_id$"):
        read_segment_export(tmp_path)
    grid["buses"].to_csv(tmp_path / "gis_bus.csv", index=False)
    grid["trafos"].drop(columns=["lv_bus"]).to_csv(tmp_path / "gis_trafo.csv", index=False)
    with pytest.raises(ValueError, match=r"^gis_trafo\.csv: missing column lv_bus$"):
        read_segment_export(tmp_path)
    grid["trafos"].to_csv(tmp_path / "gis_trafo.csv", index=False)
    data = read_segment_export(tmp_path)
    assert set(data) == {"buses", "lines", "switches", "trafos"}
    assert trace_feeders(**data)["feeders"]["bus_count"].tolist() == [1]


def test_missing_column_in_dataframe():
    grid = _grid([(1, 0, 1)])
    grid["lines"] = grid["lines"].drop(columns=["to_bus"])
    with pytest.raises(ValueError, match="lines: missing column to_bus"):
        trace_feeders(**grid)


# --------------------------------------------------------------------------------------------
# issue 14: switches between buses, station groups, regulators, areas, levels, coordinates


def test_bus_switches_station_group_regulator_and_areas():
    # busbar 0 (HV 100 -> 0, 110/10 kV) -- closed breaker switch --> 1 (feeder head node);
    # lines 1-2, 2-3 and, from head node 1, 1-5; a closed bus switch 3-4 inside the feeder; an
    # open bus switch 4-5 (tie); a regulator 2 -> 6 (10/10 kV) then line 6-7; a distribution
    # transformer 7 -> 70 (10/0.4 kV); bus 5 has no coordinates
    grid = _grid(
        [(1, 1, 2), (2, 2, 3), (3, 1, 5), (4, 6, 7)],
        trafos=[(100, 0, 16)],
        extra_buses=(0, 4, 6, 70),
    )
    grid["trafos"] = pd.DataFrame(
        [
            {"trafo_id": "T1", "hv_bus": 100, "lv_bus": 0, "sn_mva": 16, "vn_hv_kv": 110, "vn_lv_kv": 10},
            {"trafo_id": "R1", "hv_bus": 2, "lv_bus": 6, "sn_mva": 5, "vn_hv_kv": 10, "vn_lv_kv": 10},
            {"trafo_id": "A1", "hv_bus": 7, "lv_bus": 70, "sn_mva": 0.4, "vn_hv_kv": 10, "vn_lv_kv": 0.4},
        ]
    )  # fmt: skip
    grid["switches"] = pd.DataFrame(
        [
            {"switch_id": "CB1", "bus": 0, "element": 1, "et": "b", "closed": True},
            {"switch_id": "S34", "bus": 3, "element": 4, "et": "b", "closed": "1"},
            {"switch_id": "T45", "bus": 4, "element": 5, "et": "b", "closed": "open"},
        ]
    )
    buses = grid["buses"]
    buses.loc[buses["bus_id"] == 5, ["lon", "lat"]] = float("nan")
    out = trace_feeders(**grid)
    feeders = out["feeders"].set_index("first_bus")
    # head node 1 joins the station group (closed breaker): lines 1-2 and 1-5 are two feeders
    assert sorted(feeders.index) == [2, 5]
    assert sorted(feeders.at[2, "buses"]) == [2, 3, 4, 6, 7]  # over the bus switch and regulator
    assert feeders.at[5, "buses"] == [5]
    assert feeders.at[5, "buses_without_coordinates"] == 1
    assert feeders.at[2, "buses_without_coordinates"] == 0
    assert feeders.at[2, "length_km"] == pytest.approx(1.1 + 1.2 + 1.4)  # links have no length
    assert set(out["feeders"]["voltage_kv"]) == {10}
    subs = out["substations"]
    assert list(subs["voltage_kv"]) == [110] and list(subs["capacity_mva"]) == [16]
    areas = out["transformers"]
    assert list(areas["transformer"]) == ["A1"] and list(areas["kva"]) == [400]
    assert areas.iloc[0]["feeder"] == feeders.at[2, "feeder"]
    diag = out["diagnostics"]
    assert set(diag.loc[diag["kind"] == "open_line", "line_id"]) == {"switch:T45"}
    assert list(diag.loc[diag["kind"] == "no_coordinates", "bus"]) == [5]
    assert not diag["kind"].isin(["island_bus", "island_line", "loop"]).any()
