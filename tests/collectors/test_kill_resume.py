"""A large ingest killed with SIGKILL after committed chunks resumes without redoing them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import CollectorRun, IngestChunk, VoltageDaily, VoltageHourly
from db.queries import collector_runs
from db.readings import count_readings
from tests.conftest import ROOT

CHUNK = 5_000
SCRIPT = """
import sys
from pathlib import Path
from collectors.ingest import ingest_file
from collectors.pipeline import IngestOptions, Pipeline
from db.engine import make_engine
url, path, chunk = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
engine = make_engine(url)
pipeline = Pipeline(engine)
run_id = pipeline.start_run("meters", "voltage")
summary = ingest_file(pipeline, path, "voltage", IngestOptions(source="meters", interval_min=60),
                      run_id=run_id, chunk_rows=chunk)
pipeline.finish_run(run_id, summary)
"""


def write_readings(path, transformers=40, hours=24 * 60):
    start = datetime(2025, 3, 1)
    with path.open("w") as fh:
        fh.write("transformer,time,va,vb,vc,kw\n")
        for h in range(hours):
            stamp = (start + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M")
            for t in range(1, transformers + 1):
                v = 215 + (h * 7 + t * 3) % 17
                fh.write(f"T{t},{stamp},{v}.0,{v + 1}.5,{v - 1}.2,{(h + t) % 50}\n")


def network(url):
    engine = make_engine(url)
    upgrade(engine)
    import pandas as pd

    from collectors.pipeline import IngestOptions, Pipeline

    pipe = Pipeline(engine)
    opts = IngestOptions(source="gis")
    pipe.ingest("substations", pd.DataFrame({"substation": ["S1"]}), opts)
    pipe.ingest("feeders", pd.DataFrame({"feeder": ["F1"], "substation": ["S1"]}), opts)
    pipe.ingest(
        "transformers",
        pd.DataFrame(
            {
                "transformer": [f"T{t}" for t in range(1, 41)],
                "feeder": ["F1"] * 40,
                "customers": ["50"] * 40,
            }
        ),
        opts,
    )
    return engine


def run(url, path, env):
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, url, str(path), str(CHUNK)], env=env, cwd=ROOT
    )


def counts(engine):
    with engine.connect() as conn:
        return (count_readings(conn),) + tuple(
            conn.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (VoltageHourly, VoltageDaily)
        )


@pytest.mark.slow
def test_kill001_sigkill_then_rerun_equals_uninterrupted(db_url, tmp_path):
    path = tmp_path / "voltage_big.csv"
    write_readings(path)  # 57,600 readings = 12 chunks
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = network(db_url)
    proc = run(db_url, path, env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with killed.connect() as conn:
            committed = conn.execute(select(func.count()).select_from(IngestChunk)).scalar_one()
        if committed >= 2 or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with killed.connect() as conn:
        committed_before = conn.execute(select(func.count()).select_from(IngestChunk)).scalar_one()
    assert 2 <= committed_before < 12
    partial = counts(killed)[0]
    assert partial == committed_before * CHUNK  # whole chunks only: no partial batch

    rerun = run(db_url, path, env)
    assert rerun.wait(timeout=300) == 0
    runs = collector_runs(killed, "meters")
    finished = runs[runs["status"] == "ok"].iloc[0]
    assert finished["chunks_skipped"] == committed_before
    assert finished["rows_read"] == 57_600 - committed_before * CHUNK
    assert (runs["status"] == "running").sum() == 1  # the killed run never finished

    # An uninterrupted ingest of the same file into a fresh database gives the same rows.
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    clean = network(clean_url)
    assert run(clean_url, path, env).wait(timeout=300) == 0
    assert counts(killed) == counts(clean) == (57_600, 57_600, 40 * 61)
    with killed.connect() as a, clean.connect() as b:
        q = select(
            VoltageDaily.transformer_id,
            VoltageDaily.period_start,
            VoltageDaily.a_sum,
            VoltageDaily.x_min,
            VoltageDaily.n,
        ).order_by(VoltageDaily.transformer_id, VoltageDaily.period_start)
        assert a.execute(q).all() == b.execute(q).all()
    with killed.connect() as conn:
        # Finished ingests forget their markers (a later re-ingest reads the file again).
        assert conn.execute(select(func.count()).select_from(IngestChunk)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(CollectorRun)).scalar_one() == 2
