"""Drill: the demo's readings backfill never starves the live collector (SQLite, one writer).

The demo's own pieces on a real SQLite file: ``prepare`` (network, events, recent readings),
``backfill_in_background`` (older readings, in a process of its own), and meanwhile the live simulator source run by
the real runner again and again, with a short lock wait (5 s) so that a live write that had to
wait for more than a couple of backfill transactions would fail. Every live run must succeed
while the backfill is still writing, and the WAL must stay bounded."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from collectors.runner import SourceInstances, run_source_once
from collectors.simulator.load import SimState, sim_label, split_readings
from db.engine import LOCK_WAIT_ENV, SQLITE_JOURNAL_LIMIT_BYTES, checkpoint_wal
from db.queries import collector_runs, outages, watermark
from feederwatch.config import parse_settings
from feederwatch.demo import SOURCE, backfill_in_background, demo_settings, prepare

# slow: a backfill and live runs in real time
pytestmark = pytest.mark.slow


@pytest.fixture
def short_lock_wait(monkeypatch):
    monkeypatch.setenv(LOCK_WAIT_ENV, "5")


def test_live_before_history001_live_runs_land_during_backfill(tmp_path, short_lock_wait):
    raw = {
        "sources": {
            "sim": {
                "type": "simulator",
                "preset": "small",
                "history_days": 40,
                "start": "2025-05-01",
                "speed": 432_000.0,  # five simulated days per second: outages keep coming
                "interval_seconds": 30,
            }
        }
    }
    settings, options = demo_settings(parse_settings(raw, origin="test", config_dir=tmp_path), None)
    engine, sim = prepare(settings, options, echo=lambda *_: None)
    wal = tmp_path / "data" / "demo.db-wal"
    outages_before = len(outages(engine))
    instances = SourceInstances()
    thread = backfill_in_background(settings, options, sim)  # a process of its own
    started = time.monotonic()
    live, wal_sizes = [], []
    try:
        while thread.is_alive() and time.monotonic() - started < 60:
            result = run_source_once(engine, settings, SOURCE, instances=instances)
            state = SimState.from_json(watermark(engine, SOURCE), sim_label(sim))
            live.append(
                (result, thread.is_alive(), state.live_until, len(outages(engine)), time.time())
            )
            wal_sizes.append(os.path.getsize(wal) if wal.exists() else 0)
            time.sleep(0.2)
    finally:
        thread.join(timeout=120)
    assert not thread.is_alive(), "the backfill did not finish"
    backfill = SimState.from_json(watermark(engine, f"{SOURCE}:backfill"), sim_label(sim))
    assert backfill.older_from == 0, backfill  # the whole history was loaded

    during = [row for row in live if row[1]]
    assert len(during) >= 5, f"only {len(during)} live runs while the backfill ran"
    for result, *_ in live:
        assert result.status == "ok", result.error
    runs = collector_runs(engine, SOURCE)
    assert set(runs["status"]) == {"ok"}, runs[["status", "error"]]
    assert not runs["error"].fillna("").str.contains("locked").any()
    # Each live run moved the live stream on (its batch landed), during the backfill.
    marks = [row[2] for row in during]
    assert all(b > a for a, b in zip(marks, marks[1:], strict=False)), marks
    assert during[-1][3] > outages_before, ("no live outage reached the database", live)

    # The WAL stays bounded while the backfill writes and after it; once it has gone, nothing
    # keeps the WAL pinned (the backfill's last TRUNCATE is best effort: a live run of this
    # process can overlap it).
    # SQLite truncates the WAL back to journal_size_limit after a checkpoint; in between it
    # grows by what is written while a reader (an overlapping live run) pins it: one or two
    # transactions' pages past the limit (39 MB once in a full run), never without bound
    # (the demo's WAL reached 3.7 GB before checkpoints were bounded)
    assert max(wal_sizes) <= 2 * SQLITE_JOURNAL_LIMIT_BYTES, max(wal_sizes)
    assert os.path.getsize(wal) <= SQLITE_JOURNAL_LIMIT_BYTES, os.path.getsize(wal)
    assert checkpoint_wal(engine, "TRUNCATE")[0] == 0
    assert os.path.getsize(wal) < 4 * 2**20, os.path.getsize(wal)
    assert time.monotonic() - started < 60


def test_live_before_history002_parts_are_bounded_whole_days_and_lose_nothing():
    from datetime import date

    from collectors.options import SimulatorOptions
    from collectors.simulator.source import simulation_for

    options = SimulatorOptions(type="simulator", preset="small", history_days=5)
    sim = simulation_for(options, "Asia/Shanghai", date(2025, 7, 1))
    frame = sim.voltage_days(0, 3)
    parts = list(split_readings(frame, 10_000, sim.tz))
    assert len(parts) > 3
    assert all(len(part) <= 10_000 for part in parts)
    for part in parts:  # one local day each (a reading stamped 24:00 closes its day)
        local = (part["time"] - pd.Timedelta(seconds=1)).dt.tz_convert(sim.tz).dt.date
        assert local.nunique() == 1
    joined = pd.concat(parts).sort_index()
    assert joined.equals(frame)
