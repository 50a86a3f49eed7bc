"""The short storm soak (bench/soak.py --ci): 50 s of the county storm at 6x from a snapshot
feed that blanks out and carries bad records, a readings backfill in another process, 50
browser-like clients and a board watcher. CI judges what must never happen (errors, a frozen
server: a request over 30 s, an outage late on or off the board, an active outage dropping off
it, a locked database, a lost outage); speed figures (the 5-second stall bound, live p95) and
memory are printed and judged by the full bench, not by a timed test on a shared machine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_soak001_storm_nothing_lost_nothing_stalled():
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "soak.py"),
            "--ci",
            "--seconds",
            "50",
            "--speed",
            "6",
            "--clients",
            "50",
            "--history-days",
            "14",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "errors: 0" in result.stdout
    assert "lost: 0" in result.stdout
    assert "dropped while active: 0" in result.stdout
