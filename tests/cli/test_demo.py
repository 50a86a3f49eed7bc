"""``feederwatch demo`` on a fresh folder: serves quickly, collects live, reuses its database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from db.engine import make_engine
from db.queries import collector_runs, outages
from tests.conftest import ROOT, free_port

# slow: runs `feederwatch demo` in a fresh folder
pytestmark = pytest.mark.slow


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def wait_up(url: str, proc, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert proc.poll() is None, proc.log_path.read_text()[-2000:]
        try:
            if get(url)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} not up within {timeout} s")


def start(folder, port):
    env = {k: v for k, v in os.environ.items() if k != "FEEDERWATCH_DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    (folder / "config.toml").write_text(
        f'[dashboard]\nport = {port}\n[sources.sim]\ntype = "simulator"\npreset = "small"\n'
        "history_days = 60\ninterval_seconds = 2\n"
    )
    # The log goes to a file: a pipe read only at the end could fill up and block the server.
    log_path = folder / "demo.log"
    log_start = len(log_path.read_text()) if log_path.exists() else 0
    with log_path.open("a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feederwatch.cli", "demo", "--no-browser"],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    proc.log_path, proc.log_start = log_path, log_start
    return proc


def stop(proc) -> str:
    """Stop the demo; returns what it logged since it started."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return proc.log_path.read_text()[proc.log_start :]


def test_demo001_fresh_folder_serves_collects_and_reuses(tmp_path):
    port = free_port()
    proc = start(tmp_path, port)
    try:
        seconds = wait_up(f"http://127.0.0.1:{port}/api/live", proc, timeout=60)
        assert seconds < 60
        live = json.loads(get(f"http://127.0.0.1:{port}/api/live")[1])
        assert {"active_outages", "customers_out", "stale"} <= set(live)
        assert get(f"http://127.0.0.1:{port}/")[0] == 200
        engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'demo.db'}")
        assert len(outages(engine)) > 0  # the history is there from the start
        roads = json.loads((tmp_path / "data" / "roads.geojson").read_text(encoding="utf-8"))
        assert roads["type"] == "FeatureCollection" and roads["features"]  # the map's roads
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # and the live collector runs on its schedule
            runs = collector_runs(engine, "sim")
            if (runs["status"] == "ok").sum() >= 2:
                break
            time.sleep(0.5)
        assert (runs["status"] == "ok").sum() >= 2, runs
        assert json.loads(get(f"http://127.0.0.1:{port}/healthz")[1])["status"] == "ok"
    finally:
        first_log = stop(proc)
    assert "Building the simulated county" in first_log

    again = start(tmp_path, port)
    try:
        wait_up(f"http://127.0.0.1:{port}/api/live", again, timeout=60)
    finally:
        second_log = stop(again)
    assert "Building the simulated county" not in second_log
