"""The 60-second soak (bench/soak.py): a storm collected at 10x real time while 20 clients
poll the live page and /api/live. CI runs this short version: 0 errors, 0 lost outages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_soak001_sixty_seconds_no_errors_no_lost_outages():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--seconds", "60"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "errors: 0" in result.stdout
    assert "lost: 0" in result.stdout
