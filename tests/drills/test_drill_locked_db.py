"""Drill: ``feederwatch ingest`` while another process holds the SQLite database's write lock.

A real second process holds ``BEGIN IMMEDIATE`` on the database file. With the lock held past
the wait limit, ingest gives up with one line on stderr naming the database and exits 2; with
the lock released within the limit, ingest waits and lands everything (exit 0)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.engine import make_engine
from db.queries import collector_runs, network

# slow: waits out a held database lock
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("CREATE TABLE IF NOT EXISTS _holder (x)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
print("released", flush=True)
"""
SUBSTATIONS = "substation,name,capacity_mva\nS1,城关站,20\nS2,北关站,31.5\n"


def cli(config: Path, *args: str, lock_wait: float) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "FEEDERWATCH_LOCK_WAIT_SECONDS": str(lock_wait)}
    env.pop("FEEDERWATCH_DATABASE_URL", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", "--config", str(config), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, time.monotonic() - started


def hold_lock(db: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_drill_locked001_gives_up_with_one_line_then_lands(tmp_path):
    db = tmp_path / "fw.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n', "utf-8")
    data = tmp_path / "substations.csv"
    data.write_text(SUBSTATIONS, "utf-8")
    done, _ = cli(config, "init", lock_wait=5)
    assert done.returncode == 0, done.stderr

    # Held for longer than the wait limit: exit 2, one clear line, no traceback.
    holder = hold_lock(db, 30)
    try:
        done, seconds = cli(config, "ingest", "network", str(data), lock_wait=2)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2, (done.stdout, done.stderr[-3000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "database is locked by another writer" in lines[0]
    assert str(db) in lines[0]
    assert "Traceback" not in done.stderr
    assert 2 <= seconds < 20, seconds
    engine = make_engine(f"sqlite:///{db}")
    try:
        assert network(engine)["substations"].empty  # nothing half-written

        # Released within the limit: ingest waits for it and everything lands.
        holder = hold_lock(db, 2.0)
        try:
            done, seconds = cli(config, "ingest", "network", str(data), lock_wait=20)
        finally:
            holder.wait(timeout=30)
        assert done.returncode == 0, (done.stdout, done.stderr[-3000:])
        assert seconds >= 1.5, seconds  # it really waited for the other writer
        assert sorted(network(engine)["substations"]["substation"]) == ["S1", "S2"]
        runs = collector_runs(engine, "manual")
        assert list(runs["status"]) == ["ok"], runs
    finally:
        engine.dispose()
