"""Drop-folder behaviour: a file refused whole, whatever the reason, moves to failed/ (its
sub-folder kept) with a ``.reason`` beside it and never blocks the folder again; the other files
still load; every line names the file; ``collect --once`` exits as ``ingest`` does (2 when
input was refused whole and nothing landed, 3 when some was quarantined); the same bytes
dropped again under another name are named, never skipped silently. Real BC Hydro exports (the
gzipped CSV as published) are the good files; expected figures are read with the csv module."""

from __future__ import annotations

import csv
import gzip
import os
import shutil
import time
from pathlib import Path

from click.testing import CliRunner

from db.queries import collector_runs, outages, quarantine
from feederwatch.cli import cli
from tests.conftest import real_data


def age(path: Path, seconds: float = 120) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def collect_once(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "collect", "--once"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def ingest(config: Path, path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "ingest", "outages", str(path), "--source", "drop"]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def distinct_ids(gz: Path) -> set[str]:
    with gzip.open(gz, "rt", encoding="utf-8") as fh:
        return {row["id"] for row in csv.DictReader(fh)}


def test_failed001_refused_files_set_aside_others_load(engine, db_url, tmp_path):
    three = real_data("bchydro-outages-2024", "bchydro_outages_threedays.csv.gz")
    drop = tmp_path / "drop"
    (drop / "2024" / "12").mkdir(parents=True)
    (drop / "2025" / "01").mkdir(parents=True)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[sources.drop]\ntype = "file"\npath = "drop"\n'
        'pattern = "**/*"\nsettle_seconds = 30\ninterval_seconds = 300\n'
        'version_column = "lastUpdated"\nmax_file_mb = 0.05\n',
        "utf-8",
    )
    good = drop / "2024" / "12" / three.name
    shutil.copyfile(three, good)
    # Refused whole, each for another reason:
    (drop / "2024" / "12" / "outages_nostart.csv").write_text(
        "id,numCustomersOut\n1,5\n", "utf-8"
    )  # no start column at all
    (drop / "2025" / "01" / "outages_huge.csv").write_text(
        "id,dateOff\n" + "1,2024-12-30T10:00:00+00:00\n" * 3000, "utf-8"
    )  # over max_file_mb (50 KB)
    (drop / "complaints_latin.csv").write_bytes(b"ticket_id,time\n\xff\xfe\xff,2025\n")
    (drop / "outages_broken.json").write_text('{"items": [', "utf-8")
    for path in drop.rglob("*"):
        age(path)

    code, out = collect_once(config)
    # The good file landed, so some landed and some was quarantined: 3, as ingest would say.
    assert code == 3, out
    expected = distinct_ids(three)
    assert set(outages(engine, source="drop")["outage_id"]) == expected
    assert (drop / "done" / "2024" / "12" / three.name).exists()
    refused = {
        "2024/12/outages_nostart.csv": "missing_column",
        "2025/01/outages_huge.csv": "file_too_large",
        "complaints_latin.csv": "undecodable",
        "outages_broken.json": "malformed_file",
    }
    for name, code_ in refused.items():
        assert (drop / "failed" / name).exists(), name
        reason = (drop / "failed" / (name + ".reason")).read_text("utf-8")
        assert reason.startswith(code_ + ":"), (name, reason)
        assert not (drop / name).exists()
        # one line naming the file (with its sub-folder) and where it went
        assert f"drop: {name}: refused whole ({code_}:" in out, out
        assert f"moved to failed/{name}" in out
    # every quarantine record of a refused file names it
    records = quarantine(engine, source="drop")
    assert sorted(records["reason_code"]) == sorted(refused.values())
    for text in records["reason_text"]:
        assert any(Path(name).name in text for name in refused), text
    assert collector_runs(engine, "drop").iloc[0]["status"] == "partial"

    # Nothing blocks the folder now: the next run is clean and quarantines nothing again.
    code, out = collect_once(config)
    assert code == 0, out
    assert len(quarantine(engine, source="drop")) == len(refused)

    # Only a refused file this time: nothing landed, input refused whole -> 2, like ingest.
    bad = drop / "2025" / "01" / "outages_again.csv"
    bad.write_text("id,numCustomersOut\n2,7\n", "utf-8")
    age(bad)
    ingest_code, ingest_out = ingest(config, bad)
    assert ingest_code == 2, ingest_out
    code, out = collect_once(config)
    assert code == ingest_code, out
    assert "drop: 2025/01/outages_again.csv: refused whole (missing_column:" in out
    assert (drop / "failed" / "2025" / "01" / "outages_again.csv.reason").exists()
    assert set(outages(engine, source="drop")["outage_id"]) == expected


def test_failed002_same_bytes_under_a_new_name_are_named(engine, db_url, tmp_path):
    three = real_data("bchydro-outages-2024", "bchydro_outages_threedays.csv.gz")
    drop = tmp_path / "drop"
    drop.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[sources.drop]\ntype = "file"\npath = "drop"\n'
        'settle_seconds = 30\nversion_column = "lastUpdated"\n',
        "utf-8",
    )
    first = drop / "outages_0103.csv.gz"
    shutil.copyfile(three, first)
    age(first)
    code, out = collect_once(config)
    assert code == 0, out
    before = outages(engine, source="drop")
    assert set(before["outage_id"]) == distinct_ids(three)
    assert "same bytes" not in out

    again = drop / "outages_0103_resent.csv.gz"
    shutil.copyfile(three, again)
    age(again)
    code, out = collect_once(config)
    assert code == 0, out
    assert (
        "drop: outages_0103_resent.csv.gz: same bytes as done/outages_0103.csv.gz, "
        "loaded before; not loaded again"
    ) in out
    assert (drop / "done" / "outages_0103_resent.csv.gz").exists()
    after = outages(engine, source="drop")
    assert len(after) == len(before)
    runs = collector_runs(engine, "drop")
    assert runs.iloc[0]["status"] == "ok"
    assert runs.iloc[0]["rows_read"] == 0  # named, and not read again

    # A different file (one byte more) is not a duplicate: it is read and no note is given.
    changed = drop / "outages_0103_changed.csv"
    with gzip.open(three, "rt", encoding="utf-8") as fh:
        text = fh.read()
    changed.write_text(text + "\n", "utf-8")
    age(changed)
    code, out = collect_once(config)
    assert code == 0, out
    assert "same bytes" not in out
    with gzip.open(three, "rt", encoding="utf-8") as fh:
        rows = sum(1 for _ in csv.DictReader(fh))
    assert collector_runs(engine, "drop").iloc[0]["rows_read"] == rows
    assert len(outages(engine, source="drop")) == len(before)


def test_failed003_a_chunk_the_pipeline_refuses_sets_its_file_aside(tmp_path):
    """The source's side of a refusal found by the pipeline (``Source.refused``): the file
    stops yielding, goes to failed/ with its reason, and the next file is still read."""
    from collectors.options import FileOptions
    from collectors.pipeline import REFUSED
    from collectors.sources.file_drop import FileSource

    drop = tmp_path / "drop"
    (drop / "a").mkdir(parents=True)
    first = drop / "a" / "outages_1.csv"
    first.write_text("outage_id,start\nX1,2025-07-01 10:00\n", "utf-8")
    second = drop / "outages_2.csv"
    second.write_text("outage_id,start\nX2,2025-07-01 11:00\n", "utf-8")
    age(first, 200)  # oldest first
    age(second, 100)
    options = FileOptions(type="file", path=str(drop), pattern="**/*.csv", settle_seconds=0)
    source = FileSource("drop", options)
    batches = source.batches(None)
    batch = next(batches)
    assert batch.label == "a/outages_1.csv#0"
    record = source.refused(batch, "missing_column", "missing: start (named by combine)")
    assert record is not None and record.kind == REFUSED
    assert record.frame.iloc[0]["input"] == "a/outages_1.csv"
    rest = list(batches)
    assert [b.label for b in rest] == ["outages_2.csv#0"]
    source.finished()
    assert (drop / "failed" / "a" / "outages_1.csv").exists()
    reason = (drop / "failed" / "a" / "outages_1.csv.reason").read_text("utf-8")
    assert reason.startswith("missing_column: a/outages_1.csv: missing: start")
    assert (drop / "done" / "outages_2.csv").exists()
    notices = source.take_notices()
    assert [code for code, _ in notices] == ["file_refused"]
    assert "a/outages_1.csv: refused whole (missing_column:" in notices[0][1]
    assert source.take_notices() == []
