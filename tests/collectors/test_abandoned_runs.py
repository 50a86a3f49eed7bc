"""Runs left ``running`` by a dead process become ``abandoned``; a live run is never touched.

The rule: a run holds its source's lock (db.locks) while it runs, so a ``running`` record whose
source lock can be taken belongs to a dead process. Checked with a real process killed with
SIGKILL while its run is open, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

from click.testing import CliRunner

from collectors.pipeline import Pipeline
from collectors.runner import SourceInstances, mark_abandoned_runs, run_source_once
from db.bookkeeping import ABANDONED_ERROR
from db.locks import source_lock
from db.queries import FAILED_STATUSES, collector_runs, source_status
from feederwatch.cli import cli
from feederwatch.config import parse_settings

ROOT = Path(__file__).resolve().parents[2]
DYING_RUN = """
import sys, time
from collectors.pipeline import Pipeline
from db.engine import make_engine
from db.locks import source_lock
engine = make_engine(sys.argv[1])
lock = source_lock(engine, "drop")
assert lock.acquire()
print(Pipeline(engine).start_run("drop", "outages"), flush=True)
time.sleep(120)
"""


def settings_for(db_url: str, folder: Path):
    text = (
        f'[database]\nurl = "{db_url}"\n[sources.drop]\ntype = "file"\npath = "drop"\n'
        "settle_seconds = 0\ninterval_seconds = 60\n"
    )
    return parse_settings(tomllib.loads(text), origin="test", config_dir=folder)


def statuses(engine) -> dict[int, str]:
    runs = collector_runs(engine, "drop")
    return dict(zip(runs["id"], runs["status"], strict=True))


def test_abandoned001_killed_run_marked_live_run_kept(engine, db_url, tmp_path):
    (tmp_path / "drop").mkdir()
    settings = settings_for(db_url, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    dying = subprocess.Popen(
        [sys.executable, "-c", DYING_RUN, db_url], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    try:
        killed_id = int(dying.stdout.readline())
        # Its process is alive and holds the source lock: not abandoned, and the source is
        # skipped rather than run twice.
        assert mark_abandoned_runs(engine) == {}
        assert run_source_once(engine, settings, "drop", instances=SourceInstances()).status == (
            "locked"
        )
        assert statuses(engine) == {killed_id: "running"}
    finally:
        os.kill(dying.pid, signal.SIGKILL)  # kill -9: no finally, no finish_run
        dying.wait()
    assert statuses(engine) == {killed_id: "running"}

    # Running the source again marks the dead run abandoned; the new run is ok.
    result = run_source_once(engine, settings, "drop", instances=SourceInstances())
    assert result.status == "ok", result.error
    assert result.abandoned == 1
    assert statuses(engine) == {killed_id: "abandoned", result.run_id: "ok"}
    runs = collector_runs(engine, "drop").set_index("id")
    assert runs.loc[killed_id, "error"] == ABANDONED_ERROR
    assert runs.loc[killed_id, "finished_at"] is not None
    assert "abandoned" in FAILED_STATUSES
    # An abandoned run is no success: the last success is the new run's.
    status = source_status(engine).set_index("source").loc["drop"]
    assert status["status"] == "ok"
    assert status["last_success"] == runs.loc[result.run_id, "finished_at"]


def test_abandoned002_start_up_marks_dead_runs(engine, db_url, tmp_path):
    (tmp_path / "drop").mkdir()
    pipeline = Pipeline(engine)
    # A run whose process died without finishing it (nobody holds its lock).
    dead = pipeline.start_run("drop", "outages")
    # A run in progress in this process: its lock is held.
    live_lock = source_lock(engine, "feed")
    assert live_lock.acquire()
    try:
        live = pipeline.start_run("feed", "outages")
        config = tmp_path / "config.toml"
        config.write_text(f'[database]\nurl = "{db_url}"\n', "utf-8")
        result = CliRunner().invoke(cli, ["--config", str(config), "init"])
        assert result.exit_code == 0, result.output
        assert "drop: 1 run(s) left running by a dead process marked abandoned" in result.output
        runs = collector_runs(engine).set_index("id")
        assert runs.loc[dead, "status"] == "abandoned"
        assert runs.loc[live, "status"] == "running"
    finally:
        live_lock.release()
    assert mark_abandoned_runs(engine, ["feed"]) == {"feed": 1}
    assert collector_runs(engine, "feed")["status"].tolist() == ["abandoned"]


def test_abandoned003_scheduler_start_marks_dead_runs(engine, db_url, tmp_path):
    from collectors.scheduler import start_scheduler, stop_scheduler

    (tmp_path / "drop").mkdir()
    text = (
        f'[database]\nurl = "{db_url}"\n[sources.drop]\ntype = "file"\npath = "drop"\n'
        "enabled = false\n"
    )
    settings = parse_settings(tomllib.loads(text), origin="test", config_dir=tmp_path)
    dead = Pipeline(engine).start_run("drop", "outages")
    scheduler = start_scheduler(settings, engine)
    try:
        assert scheduler.get_jobs() == []  # no run of the source did it: the start-up did
        assert statuses(engine) == {dead: "abandoned"}
    finally:
        stop_scheduler(scheduler)
