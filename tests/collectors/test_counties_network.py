"""Network imports name their substations' counties (issue 19): canonical tables with a
``county`` column through ``feederwatch ingest network``, a source bound to a county, and a
GIS point layer's ``county`` attribute; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from db.queries import network, quarantine
from feederwatch.cli import cli
from tests.conftest import require

COUNTIES = (
    '[[counties]]\ncode = "LC"\nname = "历城区"\n[[counties]]\ncode = "ZQ"\nname = "章丘区"\n'
)


def _config(tmp_path, db_url: str, source: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n{COUNTIES}{source}', "utf-8")
    return str(path)


def test_cty_net001_tables_and_a_bound_source(engine, db_url, tmp_path):
    """Rows naming a county keep it (a Chinese header too), blank rows take the source's,
    an unknown county is quarantined; the counties were written by the command itself."""
    folder = tmp_path / "grid"
    folder.mkdir()
    (folder / "substations.csv").write_text(
        "变电站编号,变电站名称,县公司\nS1,城关站,\nS2,明水站,ZQ\nS3,孙村站,XX\n", "utf-8"
    )
    (folder / "feeders.csv").write_text(
        'feeder,substation,geometry\nF1,S1,"LINESTRING(117.0 36.6, 117.1 36.7)"\n'
        'F2,S2,"LINESTRING(117.5 36.7, 117.6 36.8)"\n',
        "utf-8",
    )
    (folder / "transformers.csv").write_text(
        "transformer,feeder,customers\nT1,F1,120\nT2,F2,80\n", "utf-8"
    )
    config = _config(
        tmp_path, db_url, '[sources.grid_lc]\ntype = "file"\npath = "drop"\ncounty = "LC"\n'
    )
    result = CliRunner().invoke(
        cli, ["--config", config, "ingest", "network", str(folder), "--source", "grid_lc"]
    )
    assert result.exit_code == 3, result.output  # landed, one row quarantined
    subs = network(engine)["substations"].set_index("substation")["county"]
    assert subs.to_dict() == {"S1": "LC", "S2": "ZQ"}
    assert quarantine(engine)["reason_code"].tolist() == ["unknown_county"]


def test_cty_net002_gis_point_layer_county(engine, db_url, tmp_path):
    try:
        import pyogrio  # noqa: F401
    except ImportError:
        require(False, "pyogrio not installed (pip install '.[gis]')")

    def fc(features):
        return json.dumps({"type": "FeatureCollection", "features": features})

    def feature(props, kind, coords):
        return {
            "type": "Feature",
            "properties": props,
            "geometry": {"type": kind, "coordinates": coords},
        }

    folder = tmp_path / "gis"
    folder.mkdir()
    (folder / "lines.geojson").write_text(
        fc(
            [
                feature({"feeder": "F1", "substation": "S1"}, "LineString", [[117.0, 36.6], [117.1, 36.7]]),
                feature({"feeder": "F2", "substation": "S2"}, "LineString", [[117.5, 36.7], [117.6, 36.8]]),
            ]
        ),
        "utf-8",
    )  # fmt: skip
    (folder / "stations.geojson").write_text(
        fc(
            [
                feature({"substation": "S1", "name": "城关站", "所属县": "ZQ"}, "Point", [117.0, 36.6]),
                feature({"substation": "S2", "name": "明水站"}, "Point", [117.5, 36.7]),
            ]
        ),
        "utf-8",
    )  # fmt: skip
    config = _config(
        tmp_path, db_url, '[sources.gis_lc]\ntype = "file"\npath = "drop"\ncounty = "LC"\n'
    )
    result = CliRunner().invoke(
        cli, ["--config", config, "ingest", "network", str(folder), "--source", "gis_lc"]
    )
    assert result.exit_code == 0, result.output
    subs = network(engine)["substations"].set_index("substation")["county"]
    assert subs.to_dict() == {"S1": "ZQ", "S2": "LC"}


@pytest.mark.parametrize("bad", ['county = "XX"', 'county = ""'])
def test_cty_net003_a_source_naming_no_county_is_refused(tmp_path, bad):
    config = _config(tmp_path, "sqlite:///x.db", f'[sources.s]\ntype = "file"\npath = "d"\n{bad}\n')
    result = CliRunner().invoke(cli, ["--config", config, "init"])
    if bad == 'county = ""':  # blank: bound to none
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2 and "sources.s.county: 'XX'" in result.output
