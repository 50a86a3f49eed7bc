"""A hard link in the drop folder to a file outside it is refused unread (issue 16)."""

from __future__ import annotations

import os

from collectors.runner import SourceInstances, run_source_once
from db.queries import outages, quarantine
from tests.collectors.test_file_drop import age, settings_for


def test_drop101_hardlink_refused_unread(engine, db_url, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text("outage_id,feeder,start\nX9,F1,2025-07-01 10:00\n", encoding="utf-8")
    os.link(secret, drop / "outages_hard.csv")
    for path in (secret, drop / "outages_hard.csv"):
        age(path)
    result = run_source_once(
        engine, settings_for(db_url, tmp_path, settle=5), "drop", instances=SourceInstances()
    )
    assert result.summary.quarantined == {"path_outside_folder": 1}, result.error
    assert "X9" not in set(outages(engine)["outage_id"])
    refused = quarantine(engine, source="drop")
    assert list(refused["reason_code"]) == ["path_outside_folder"]
    assert "hard link" in refused["reason_text"].iloc[0]
    assert secret.read_text(encoding="utf-8").startswith("outage_id")  # the target untouched
    assert not (drop / "outages_hard.csv").exists()
