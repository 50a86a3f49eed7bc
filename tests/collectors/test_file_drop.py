"""The file drop source, run by the real runner: settled files land, others wait, unreadable
ones and links out of the folder go to failed/ with a reason, nothing is lost."""

from __future__ import annotations

import os
import time
import tomllib
from pathlib import Path

from collectors.runner import SourceInstances, run_source_once
from db.queries import network, outages, quarantine
from feederwatch.config import parse_settings

NETWORK = {
    "substations.csv": "substation,name,capacity_mva\nS1,城关站,20\n",
    "feeders.csv": 'feeder,substation,geometry\nF1,S1,"LINESTRING(116.2 36.5, 116.3 36.6)"\n',
    "transformers.csv": "transformer,feeder,customers,kind\nT1,F1,150,公变\nT2,F1,90,公变\n",
}
OUTAGES = (
    "停电编号,线路编号,停电时间,送电时间,停电户数,停电原因\n"
    "O1,F1,2025-07-01 19:30,2025-07-01 21:00,120,weather\n"
    "O2,F1,2025-07-02 10:00,,80,equipment\n"
    "O3,F9,2025-07-02 10:00,,80,equipment\n"
)


def settings_for(db_url: str, folder: Path, settle: float):
    text = (
        f'[database]\nurl = "{db_url}"\n[sources.drop]\ntype = "file"\npath = "drop"\n'
        f"settle_seconds = {settle}\ninterval_seconds = 60\n"
    )
    return parse_settings(tomllib.loads(text), origin="test", config_dir=folder)


def age(path: Path, seconds: float = 60) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_drop001_folder_collection(engine, db_url, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    for name, text in NETWORK.items():
        (drop / name).write_text(text, encoding="utf-8")
    (drop / "outages_0701.csv").write_text(OUTAGES, encoding="gbk")
    (drop / "complaints_bad.csv").write_bytes(b"ticket_id,time\n\xff\xfe\xff,2025\n")
    secret = tmp_path / "secret.csv"
    secret.write_text("outage_id,start\nX,2025-07-01 10:00\n")
    (drop / "outages_link.csv").symlink_to(secret)
    for path in drop.iterdir():
        age(path)
    settings = settings_for(db_url, tmp_path, settle=5)
    instances = SourceInstances()

    # First look: every file has been quiet for 60 s (by its mtime), so a fresh process takes
    # them at once. A link leading out of the folder is refused without being read.
    first = run_source_once(engine, settings, "drop", instances=instances)
    assert first.status == "partial", first.error
    assert first.summary.quarantined == {
        "path_outside_folder": 1,
        "undecodable": 1,
        "unknown_feeder": 1,
    }
    assert first.not_settled == []
    # A file still being written (mtime now) is not taken, and the run says so.
    growing = drop / "outages_growing.csv"
    growing.write_text(OUTAGES.replace("O1", "G1").replace("O2", "G2").replace("O3", "G3"))
    second = run_source_once(engine, settings, "drop", instances=SourceInstances())
    assert second.status == "ok", second.error
    assert second.not_settled == ["outages_growing.csv"]
    assert second.summary.upserted == 0
    assert sorted(outages(engine)["outage_id"]) == ["O1", "O2"]
    assert len(network(engine)["transformers"]) == 2
    assert sorted(p.name for p in (drop / "done").iterdir()) == sorted(
        [*NETWORK, "outages_0701.csv"]
    )
    failed = sorted(p.name for p in (drop / "failed").iterdir())
    assert failed == ["complaints_bad.csv", "complaints_bad.csv.reason"]
    assert "undecodable" in (drop / "failed" / "complaints_bad.csv.reason").read_text()
    assert not (drop / "outages_link.csv").exists()
    assert secret.exists()  # the link's target is never touched
    assert growing.exists()
    refused = quarantine(engine, source="drop")
    assert set(refused["reason_code"]) == {"undecodable", "path_outside_folder", "unknown_feeder"}

    # Once it has been quiet for settle_seconds, it is taken.
    age(growing)
    third = run_source_once(engine, settings, "drop", instances=instances)
    assert third.summary.upserted == 2
    assert sorted(outages(engine)["outage_id"]) == ["G1", "G2", "O1", "O2"]
    assert (drop / "done" / "outages_growing.csv").exists()
