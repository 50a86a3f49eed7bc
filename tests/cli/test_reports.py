"""``feederwatch rank`` and ``feederwatch indices`` on a small simulated county."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

from collectors.simulator import Simulation
from collectors.simulator.load import load_history
from db.engine import make_engine
from db.migrate import upgrade
from tests.conftest import ROOT

# slow: a 180-day county simulated and loaded for the module, CLI subprocesses
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    folder = tmp_path_factory.mktemp("county")
    url = f"sqlite:///{folder / 'fw.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sim = Simulation(preset="small", seed=3, start=date(2025, 1, 1), days=180, resolution="1h")
    load_history(engine, sim, voltage="all", chunk_days=30)
    engine.dispose()
    return folder, url, sim


def cli(county, *args):
    folder, url, _ = county
    env = {**os.environ, "FEEDERWATCH_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_rep001_rank_feeders_as_json(county):
    result = cli(county, "rank", "--level", "feeder", "--top", "5", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    feeders = set(county[2].network()["feeders"]["feeder"])
    assert {r["feeder"] for r in rows} <= feeders
    for row in rows:
        parts = (
            row["from_interruptions"]
            + row["from_duration"]
            + row["from_repeated_outages"]
            + row["from_low_voltage"]
        )
        assert parts == pytest.approx(row["avoidable_complaints"], rel=1e-6, abs=1e-6)
        assert row["project"]


def test_rep002_rank_substations_csv_covers_every_substation(county):
    result = cli(county, "rank", "--level", "substation", "--top", "50", "--format", "csv")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert sorted(table["substation"]) == sorted(county[2].network()["substations"]["substation"])


def test_rep003_indices_by_feeder_and_system(county):
    result = cli(
        county,
        "indices",
        "--by",
        "feeder",
        "--from",
        "2025-01-01",
        "--to",
        "2025-07-01",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert len(table) == len(county[2].network()["feeders"])
    assert (table["saidi"] >= 0).all() and (table["asai"] <= 1).all()
    system = json.loads(
        cli(
            county, "indices", "--format", "json", "--from", "2025-01-01", "--to", "2025-07-01"
        ).stdout
    )[0]
    assert system["saifi"] > 0
    assert system["caidi"] == pytest.approx(system["saidi"] / system["saifi"], rel=1e-6)
    assert system["rs3"] >= system["rs1"]


def test_rep004_bad_window_is_bad_usage(county):
    result = cli(county, "indices", "--from", "2025-07-01", "--to", "2025-01-01")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "feederwatch: error: --to (2025-01-01) must be after --from (2025-07-01)"
    ]
