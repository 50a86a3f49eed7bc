"""``feederwatch collect --once`` on a file drop, as cron runs it: a fresh process each time.

A file quiet for ``settle_seconds`` (by its own mtime) is taken on the first look; a file
still fresh is left for the next run and the output says so; a bad record makes exit 3. The
real command line (click's runner, the real config loader) on a real database."""

from __future__ import annotations

import os
import time
from pathlib import Path

from click.testing import CliRunner

from db.queries import collector_runs, outages
from feederwatch.cli import cli
from tests.collectors.helpers import NETWORK

OUTAGES = "outage_id,feeder,start,end,customers\nO1,F1,2025-07-01 19:30,2025-07-01 21:00,120\n"
FRESH = "outage_id,feeder,start,customers\nO2,F2,2025-07-02 10:00,30\n"
BAD = "outage_id,feeder,start,customers\nO3,F1,2025-07-03 10:00,5\nO4,F9,2025-07-03 10:00,5\n"


def age(path: Path, seconds: float = 120) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def collect_once(config: Path):
    result = CliRunner().invoke(cli, ["--config", str(config), "collect", "--once"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_collect_once001_settled_by_mtime_fresh_waits_bad_is_3(engine, db_url, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n\n[sources.drop]\ntype = "file"\npath = "drop"\n'
        "settle_seconds = 30\ninterval_seconds = 300\n",
        "utf-8",
    )
    for table, frame in NETWORK.items():
        frame.to_csv(drop / f"{table}.csv", index=False)
    (drop / "outages_0701.csv").write_text(OUTAGES, "utf-8")
    for path in drop.iterdir():
        age(path)

    # A fresh process takes files quiet for settle_seconds on its first look: exit 0.
    code, out = collect_once(config)
    assert code == 0, out
    assert list(outages(engine)["outage_id"]) == ["O1"]
    assert (drop / "done" / "outages_0701.csv").exists()
    assert "not settled" not in out

    # A file written just now (mtime now) is not taken, and the output says so.
    fresh = drop / "outages_0702.csv"
    fresh.write_text(FRESH, "utf-8")
    code, out = collect_once(config)
    assert code == 0, out
    assert "drop: 1 file not settled yet (outages_0702.csv), retried next run" in out
    assert fresh.exists()
    assert list(outages(engine)["outage_id"]) == ["O1"]
    last = collector_runs(engine, "drop").iloc[0]
    assert last["status"] == "ok"

    # Once it has been quiet long enough, the next run takes it.
    age(fresh)
    code, out = collect_once(config)
    assert code == 0, out
    assert sorted(outages(engine)["outage_id"]) == ["O1", "O2"]
    assert not fresh.exists()

    # A file with a bad record (unknown feeder): its good record lands, exit 3.
    bad = drop / "outages_0703.csv"
    bad.write_text(BAD, "utf-8")
    age(bad)
    code, out = collect_once(config)
    assert code == 3, out
    assert "unknown_feeder 1" in out
    assert sorted(outages(engine)["outage_id"]) == ["O1", "O2", "O3"]
    assert list(collector_runs(engine, "drop")["status"]) == ["partial", "ok", "ok", "ok"]
