"""Real third-party data, by configuration alone (no code written for these utilities)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import select

from db.engine import make_engine
from db.models import Outage
from db.queries import network, outages
from tests.conftest import real_data

BC_CONFIG = """
[database]
url = "sqlite:///fw.db"

[site]
timezone = "America/Vancouver"

[sources.bchydro]
type = "file"
path = "drop"
# BC Hydro re-reports an outage under the same id; lastUpdated says which report is newer.
version_column = "lastUpdated"
"""


def run_cli(args, cwd, db_url):
    env = {**os.environ, "FEEDERWATCH_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_real001_bchydro_year_ingests_by_configuration(db_url, tmp_path):
    export = real_data("bchydro-outages-2024", "bchydro_outages_2024_365days.csv.gz")
    (tmp_path / "fw.toml").write_text(BC_CONFIG)
    result = run_cli(
        ["--config", "fw.toml", "ingest", "outages", str(export), "--source", "bchydro"],
        tmp_path,
        db_url,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(re.findall(r"^\s+(.+?)\s{2,}([\d,]+)$", result.stdout, re.MULTILINE))
    assert lines["read"] == "33,876"
    assert lines["upserted"] == "33,608"
    assert lines["quarantined"] == "0"
    assert int(lines["version conflicts (latest end kept)"]) > 0
    engine = make_engine(db_url)
    stored = outages(engine, source="bchydro")
    assert len(stored) == 33_608
    assert stored["outage_id"].is_unique
    assert int(stored["bad_location"].sum()) == 36
    assert (stored.loc[stored["bad_location"], ["lon", "lat"]] == 0).all().all()
    long_one = stored.set_index("outage_id").loc["2303045"]
    assert bool(long_one["suspicious"])
    assert (long_one["end"] - long_one["start"]).days == 204
    # Repeated ids: the row with the latest lastUpdated won.
    with engine.connect() as conn:
        version = conn.execute(
            select(Outage.version).where(Outage.natural_id == "2303045")
        ).scalar_one()
    assert version == pytest.approx(1715916100.0)  # 2024-05-17 03:21:40+00:00
    # Ingesting the three-day file on top: overlapping ids update, nothing duplicates.
    three = real_data("bchydro-outages-2024", "bchydro_outages_threedays.csv.gz")
    again = run_cli(
        ["--config", "fw.toml", "ingest", "outages", str(three), "--source", "bchydro"],
        tmp_path,
        db_url,
    )
    assert again.returncode == 0, again.stderr
    after = outages(engine, source="bchydro")
    assert after["outage_id"].is_unique
    assert len(after) >= 33_608
    engine.dispose()


def test_real002_oberrhein_segments_trace_into_four_feeders(db_url, tmp_path):
    folder = real_data("mv-oberrhein-network")
    (tmp_path / "fw.toml").write_text('[database]\nurl = "sqlite:///fw.db"\n')
    # The segment export's tables (bus, line, switch, trafo) traced from the busbars.
    drop = tmp_path / "gis"
    drop.mkdir()
    for name in (
        "oberrhein_bus.csv",
        "oberrhein_line.csv",
        "oberrhein_switch.csv",
        "oberrhein_trafo.csv",
    ):
        (drop / name).symlink_to(folder / name)
    result = run_cli(
        ["--config", "fw.toml", "ingest", "network", str(drop), "--source", "gis"], tmp_path, db_url
    )
    assert result.returncode == 0, result.stderr
    engine = make_engine(db_url)
    net = network(engine)
    assert len(net["substations"]) == 2
    assert sorted(net["substations"]["capacity_mva"]) == [25.0, 25.0]
    feeders = net["feeders"]
    assert len(feeders) == 4
    assert feeders["substation"].value_counts().tolist() == [2, 2]
    for geometry in feeders["geometry"]:
        geo = json.loads(geometry)
        assert geo["type"] == "MultiLineString"
        lons = [p[0] for line in geo["coordinates"] for p in line]
        lats = [p[1] for line in geo["coordinates"] for p in line]
        assert 7.74 <= min(lons) and max(lons) <= 7.9385
        assert 48.32 <= min(lats) and max(lats) <= 48.48
    assert feeders["length_km"].sum() == pytest.approx(105.32, abs=0.01)
    engine.dispose()
