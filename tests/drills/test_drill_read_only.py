"""Fault drill: the database turns read-only (a full or remounted disk, a backup lock). The
collector run fails cleanly — no crash, nothing half-written, the file stays — reads keep
working, and the next run after the database is writable again lands everything."""

from __future__ import annotations

import tomllib

from collectors.runner import SourceInstances, run_source_once
from db.engine import make_engine
from db.migrate import upgrade
from db.queries import collector_runs, network, outages
from feederwatch.config import parse_settings
from tests.collectors.helpers import NETWORK


def test_drill003_read_only_database_then_writable(tmp_path):
    db_file = tmp_path / "fw.db"
    writable = make_engine(f"sqlite:///{db_file}")
    upgrade(writable)
    drop = tmp_path / "drop"
    drop.mkdir()
    for table, frame in NETWORK.items():
        frame.to_csv(drop / f"{table}.csv", index=False)
    (drop / "outages.csv").write_text(
        "outage_id,feeder,start,customers\nR1,F1,2025-07-01 10:00,5\n"
    )
    config = '[sources.drop]\ntype = "file"\npath = "drop"\nsettle_seconds = 0\n'
    read_only_url = f"sqlite:///file:{db_file}?mode=ro&uri=true"
    read_only = make_engine(read_only_url)
    settings = parse_settings(
        tomllib.loads(f'[database]\nurl = "{read_only_url}"\n' + config),
        origin="test",
        config_dir=tmp_path,
    )

    result = run_source_once(read_only, settings, "drop", instances=SourceInstances())
    assert result.status == "failed"
    assert "readonly" in (result.error or "").replace(" ", "").lower()
    assert network(read_only)["feeders"].empty  # reads still work; nothing was written
    assert (drop / "outages.csv").exists()

    settings = parse_settings(
        tomllib.loads(f'[database]\nurl = "sqlite:///{db_file}"\n' + config),
        origin="test",
        config_dir=tmp_path,
    )
    again = run_source_once(writable, settings, "drop", instances=SourceInstances())
    assert again.status == "ok", again.error
    assert outages(writable)["outage_id"].tolist() == ["R1"]
    assert collector_runs(writable, "drop")["status"].tolist() == ["ok"]
