"""Counties through the collectors (issue 19): a source's county and a ``county`` column on
substations; simulated counties with their own ids and places; each county's collector in a
process of its own, on SQLite and PostgreSQL, neither run twice nor held up by the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from collectors.pipeline import IngestOptions, Pipeline
from db.counties import upsert_counties
from db.queries import collector_runs, network, outages, quarantine
from db.queries.counties import counties
from tests.counties_kit import county_simulation, province_config

ROOT = Path(__file__).resolve().parents[2]
HOLD_LOCK = """
import sys, time
from db.engine import make_engine
from db.locks import source_lock
lock = source_lock(make_engine(sys.argv[1]), sys.argv[2])
assert lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_cty_col001_source_county_and_county_column(engine):
    """A source bound to a county gives its substations that county; a ``county`` column
    (English or Chinese header) says it per row and wins; an unknown county is quarantined
    (``unknown_county``); a later import without a county keeps the one stored."""
    upsert_counties(
        engine,
        pd.DataFrame({"code": ["LC", "ZQ"], "name": ["历城区", "章丘区"], "name_en": [None, None]}),
    )
    pipe = Pipeline(engine)
    bound = IngestOptions(source="gis_lc", county="LC")
    subs = pd.DataFrame({"substation": ["S1", "S2", "S3"], "县公司": [None, "ZQ", "XX"]})
    summary = pipe.ingest("substations", subs, bound)
    assert summary.upserted == 2 and summary.quarantined == {"unknown_county": 1}
    county_of = network(engine)["substations"].set_index("substation")["county"]
    assert county_of.to_dict() == {"S1": "LC", "S2": "ZQ"}
    q = quarantine(engine)
    assert q["reason_code"].tolist() == ["unknown_county"]
    pipe.ingest(
        "substations",
        pd.DataFrame({"substation": ["S2"], "name": ["x"]}),
        IngestOptions(source="other"),
    )
    assert network(engine)["substations"].set_index("substation").loc["S2", "county"] == "ZQ"
    assert counties(engine)["substations"].tolist() == [1, 1]


def test_cty_col002_county_simulations_side_by_side():
    """Each simulated county's ids carry its code, its substations its county, and it lies
    east of the one before; a simulator without a county is the plain simulation."""
    from collectors.options import SimulatorOptions
    from collectors.simulator import Simulation
    from collectors.simulator.county import province
    from collectors.simulator.source import simulation_for

    lc, zq = county_simulation("LC", 0), county_simulation("ZQ", 1)
    a, b = lc.network(), zq.network()
    assert a["substations"]["substation"].str.startswith("LC-").all()
    assert set(a["substations"]["county"]) == {"LC"} and set(b["substations"]["county"]) == {"ZQ"}
    assert b["transformers"]["feeder"].str.startswith("ZQ-F").all()
    assert a["substations"]["lon"].max() < b["substations"]["lon"].min()
    out = zq.outages()
    assert (
        out["outage_id"].str.startswith("ZQ-O").all() and out["feeder"].str.startswith("ZQ-").all()
    )
    tickets = zq.complaints()
    assert tickets["ticket_id"].str.startswith("ZQ-").all()
    assert zq.voltage_days(0, 1)["transformer"].astype(str).str.startswith("ZQ-T").all()
    plain = simulation_for(
        SimulatorOptions(type="simulator", preset="small", history_days=3), "Asia/Shanghai"
    )
    assert type(plain) is Simulation
    codes = [c.network()["substations"]["county"].iloc[0] for c in province(3, days=2)]
    assert codes == ["C01", "C02", "C03"]
    assert plain.network()["substations"]["substation"].iloc[0] == "SS01"


def _collect(config: Path, source: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feederwatch.cli",
            "--config",
            str(config),
            "collect",
            "--once",
            source,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_cty_col003_two_county_collectors_in_two_processes(engine, db_url, tmp_path):
    """Two counties' collectors started at once in two processes both land their county,
    each exactly once (one run record each), and their runs overlap in time: neither waits
    for the other's to end (per-source locks, db/locks.py)."""
    text, _ = province_config(db_url, ("LC", "ZQ"), tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    procs = {s: _collect(config, s) for s in ("sim_lc", "sim_zq")}
    outputs = {s: p.communicate(timeout=300)[0] for s, p in procs.items()}
    for source, proc in procs.items():
        assert proc.returncode in (0, 3), outputs[source]
    runs = collector_runs(engine)
    assert sorted(runs["source"]) == ["sim_lc", "sim_zq"]
    assert set(runs["status"]) <= {"ok", "partial"}
    lc, zq = (runs.set_index("source").loc[s] for s in ("sim_lc", "sim_zq"))
    assert lc["started_at"] < zq["finished_at"] and zq["started_at"] < lc["finished_at"]
    table = counties(engine).set_index("code")
    assert table.loc["LC", "substations"] == 4 and table.loc["ZQ", "substations"] == 4
    sources = outages(engine).groupby("source")["outage_id"].agg(lambda ids: {i[:3] for i in ids})
    assert sources.to_dict() == {"sim_lc": {"LC-"}, "sim_zq": {"ZQ-"}}


@pytest.mark.slow
def test_cty_col004_a_held_county_is_skipped_the_other_runs(engine, db_url, tmp_path):
    """While another process runs county LC (holds its source lock), a collector asked for
    both counties runs ZQ and leaves LC alone: no second run of LC, no wait for it."""
    text, _ = province_config(db_url, ("LC", "ZQ"), tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, db_url, "sim_lc"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "feederwatch.cli", "--config", str(config), "collect", "--once"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        took = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    runs = collector_runs(engine)
    assert runs["source"].tolist() == ["sim_zq"]  # LC: skipped, no run record
    assert set(outages(engine)["source"]) == {"sim_zq"}
    assert took < 120
