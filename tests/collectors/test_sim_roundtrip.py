"""The simulator's written exports round-trip through the file collector: nothing is
quarantined except the deliberately broken meters, with the right reason codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from db.engine import make_engine
from db.queries import complaints, network, outages, quarantine, voltage_rollups
from tests.conftest import ROOT

# slow: simulated exports written and read back on both databases
pytestmark = pytest.mark.slow


def cli(args, cwd, db_url):
    env = {**os.environ, "FEEDERWATCH_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def summary(stdout: str) -> dict[str, int]:
    return {
        k: int(v.replace(",", ""))
        for k, v in re.findall(r"^\s+(.+?)\s{2,}([\d,]+)$", stdout, re.MULTILINE)
    }


def test_rt001_simulated_exports_round_trip(db_url, tmp_path):
    out = tmp_path / "county"
    made = cli(
        [
            "simulate",
            "--preset",
            "small",
            "--days",
            "40",
            "--start",
            "2025-06-01",
            "--out",
            str(out),
            "--resolution",
            "1h",
        ],
        tmp_path,
        db_url,
    )
    assert made.returncode == 0, made.stderr
    truth = json.loads((out / "ground_truth.json").read_text())
    stuck = {m["transformer"] for m in truth["broken_meters"] if m["fault"] == "stuck"}
    converted = {m["fault"] for m in truth["broken_meters"]} & {"kv_units", "line_to_line"}

    for kind, path in (
        ("network", out),
        ("outages", out / "outages.csv"),
        ("complaints", out / "complaints.csv"),
    ):
        result = cli(["ingest", kind, str(path), "--source", "sim"], tmp_path, db_url)
        assert result.returncode == 0, (kind, result.stdout, result.stderr)
        assert summary(result.stdout)["quarantined"] == 0
    for path in sorted((out / "voltage").glob("*.csv")):
        result = cli(["ingest", "voltage", str(path), "--source", "sim"], tmp_path, db_url)
        counts = summary(result.stdout)
        # Only stuck meters are refused; kV and line-to-line readings are converted.
        assert set(k for k in counts if k.startswith("quarantined:")) <= {
            "quarantined: voltage_stuck"
        }
        assert result.returncode == (3 if counts["quarantined"] else 0)
        if "kv_units" in converted:
            assert counts["note: converted_kv"] > 0
        if "line_to_line" in converted:
            assert counts["note: converted_line_to_line"] > 0

    engine = make_engine(db_url)
    refused = quarantine(engine, limit=100_000)
    assert len(refused) > 0
    assert set(refused["reason_code"]) == {"voltage_stuck"}
    refused_areas = {json.loads(raw)["transformer"] for raw in refused["raw"]}
    assert refused_areas == stuck

    written = {name: pd.read_csv(out / f"{name}.csv") for name in ("outages", "complaints")}
    assert len(outages(engine)) == len(written["outages"])
    assert len(complaints(engine)) == len(written["complaints"])
    assert len(network(engine)["transformers"]) == len(pd.read_csv(out / "transformers.csv"))
    # The wide sample lands on the same rollups as the long export of the same readings.
    wide = pd.read_csv(out / "voltage_wide_sample.csv")
    areas = sorted(set(wide["transformer"]) - stuck)
    before = voltage_rollups(engine, "D", transformers=areas)
    result = cli(
        ["ingest", "voltage", str(out / "voltage_wide_sample.csv"), "--source", "sim"],
        tmp_path,
        db_url,
    )
    assert result.returncode in (0, 3), result.stderr
    after = voltage_rollups(engine, "D", transformers=areas)
    pd.testing.assert_frame_equal(before, after)
    engine.dispose()
