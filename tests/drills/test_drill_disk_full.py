"""Fault drill: the SQLite database runs out of room mid-collection. The collector records a
failed run (no partial batch), the file stays for later, and everything lands once room
returns."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from collectors.runner import SourceInstances, run_source_once
from db.engine import make_engine
from db.migrate import upgrade
from db.queries import collector_runs
from db.readings import count_readings
from feederwatch.config import parse_settings
from tests.collectors.helpers import NETWORK


def write_network(drop: Path) -> None:
    for table, frame in NETWORK.items():
        frame.to_csv(drop / f"{table}.csv", index=False)


def write_readings(path: Path, hours: int = 24 * 120) -> None:
    # Recent readings (within the raw retention), hourly.
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=hours + 24
    )
    lines = ["transformer,time,va,vb,vc,kw"]
    for h in range(hours):
        stamp = (start + timedelta(hours=h)).isoformat()
        for t in ("T1", "T2", "T3"):
            lines.append(f"{t},{stamp},{215 + (h * 7) % 13}.{h % 10},221.0,219.5,{h % 40}")
    path.write_text("\n".join(lines) + "\n")


def test_drill001_disk_full_then_room_again(tmp_path):
    db_file = tmp_path / "fw.db"
    url = f"sqlite:///{db_file}"
    limit = {"pages": None}
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record):  # a small disk: at most this many pages
        if limit["pages"]:
            dbapi_connection.execute(f"PRAGMA max_page_count={limit['pages']}")

    upgrade(engine)
    drop = tmp_path / "drop"
    drop.mkdir()
    write_network(drop)
    settings = parse_settings(
        tomllib.loads(
            f'[database]\nurl = "{url}"\n[sources.drop]\ntype = "file"\npath = "drop"\n'
            "settle_seconds = 0\n"
        ),
        origin="test",
        config_dir=tmp_path,
    )
    instances = SourceInstances()
    assert run_source_once(engine, settings, "drop", instances=instances).status == "ok"

    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    limit["pages"] = pages + 40  # room for bookkeeping, not for 8,640 readings and rollups
    engine.dispose()
    write_readings(drop / "voltage_march.csv")
    full = run_source_once(engine, settings, "drop", instances=instances)
    assert full.status == "failed"
    assert "full" in (full.error or "").lower()
    with engine.connect() as conn:
        assert count_readings(conn) == 0
    assert (drop / "voltage_march.csv").exists()  # not moved: it will be read again

    limit["pages"] = None  # room returns
    engine.dispose()
    again = run_source_once(engine, settings, "drop", instances=instances)
    assert again.status == "ok", again.error
    with engine.connect() as conn:
        assert count_readings(conn) == 8640
    assert (drop / "done" / "voltage_march.csv").exists()
    statuses = collector_runs(engine, "drop")["status"].tolist()
    assert statuses[0] == "ok" and "failed" in statuses
