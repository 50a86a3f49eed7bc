"""A CSV's header is judged before its body is read (collectors.file_reading.read_chunks): too many
columns (max_columns) or a required column missing after the source's mapping and the presets
refuse the file at once. The bodies here are bytes no encoding accepts: a reader that touched
them would refuse the file as ``undecodable`` instead (shown by the control cases)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from pydantic import ValidationError

from collectors.file_reading import FileRefused, read_chunks
from collectors.ingest import ingest_file
from collectors.options import FileOptions
from collectors.pipeline import IngestOptions, Pipeline
from db.queries import outages
from tests.collectors.helpers import load_network

GARBAGE = b"\xff\xfe\xfd\xfc not text, not CSV \xff\n" * 50
START = "2025-06-01 08:00:00"


def write(path: Path, header: str, body: bytes) -> Path:
    data = header.encode("utf-8") + b"\n" + body
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def refusal(path: Path, kind: str = "outages", **kwargs) -> str:
    with pytest.raises(FileRefused) as info:
        next(read_chunks(path, kind, **kwargs))
    return info.value.code


def wide_header(points: int = 96, phase: bool = True) -> str:
    names = ["transformer", "date"] + (["phase"] if phase else [])
    return ",".join(names + [f"p{k}" for k in range(1, points + 1)])


@pytest.mark.parametrize("name", ["wide.csv", "wide.csv.gz"])
def test_hdr001_two_hundred_thousand_columns_refused_before_the_body(engine, tmp_path, name):
    header = ",".join(["outage_id", "start", *(f"c{i}" for i in range(200_000))])
    assert len(header) > 1 << 20  # more than the encoding sniffer's first megabyte
    path = write(tmp_path / name, header, GARBAGE)
    assert refusal(path) == "too_many_columns"
    assert refusal(path, mapping={}) == "too_many_columns"
    with pytest.raises(FileRefused) as info:
        ingest_file(Pipeline(engine), path, "outages", IngestOptions(source="drop"))
    assert info.value.code == "too_many_columns"
    assert "200,002 columns > max_columns=500" in info.value.text


def test_hdr002_control_a_reader_of_that_body_says_undecodable(tmp_path):
    path = write(tmp_path / "small.csv", "outage_id,start", GARBAGE)
    assert refusal(path) == "undecodable"


@pytest.mark.parametrize("name", ["outages.csv", "outages.csv.gz"])
def test_hdr003_missing_required_column_refused_before_the_body(tmp_path, name):
    # Long header names push the body beyond the encoding sniffer's first megabyte.
    notes = ",".join(f"note{i}_" + "x" * 3000 for i in range(400))
    big_header = "outage_id,feeder," + notes
    assert len(big_header) > 1 << 20
    path = write(tmp_path / name, big_header, GARBAGE)
    with pytest.raises(FileRefused) as info:
        next(read_chunks(path, "outages", mapping={}))
    assert (info.value.code, info.value.text) == (
        "missing_column",
        "a required column is missing: start",
    )
    # Without the mapping (a caller that does not know it) the check is left to the pipeline,
    # and the body is read: refused for what it is.
    assert refusal(path) == "undecodable"


def test_hdr004_mapping_and_presets_are_applied_before_judging(engine, tmp_path):
    pipeline = Pipeline(engine)
    load_network(pipeline)
    chinese = tmp_path / "停电.csv"
    chinese.write_text(f"停电编号,线路编号,停电时间,停电户数\nZ1,F1,{START},10\n", "utf-8")
    summary = ingest_file(pipeline, chinese, "outages", IngestOptions(source="zh"))
    assert summary.upserted == 1
    own = write(tmp_path / "oms.csv", "OutageNo,feeder,Begin", f"M1,F1,{START}\n".encode())
    assert refusal(own, mapping={}) == "missing_column"
    options = IngestOptions(source="oms", mapping={"OutageNo": "outage_id", "Begin": "start"})
    summary = ingest_file(pipeline, own, "outages", options)
    assert summary.upserted == 1 and summary.quarantined_total == 0
    assert sorted(outages(engine)["outage_id"]) == ["M1", "Z1"]


def test_hdr005_wide_voltage_curves_are_held_to_max_columns_only(tmp_path):
    row = "T1,2025-06-01,A," + ",".join(["228.1"] * 96) + "\n"
    wide = write(tmp_path / "curve.csv", wide_header(), row.encode())
    frame = next(read_chunks(wide, "voltage", mapping={}))
    assert frame.shape == (1, 99)
    assert refusal(wide, "voltage", mapping={}, max_columns=98) == "too_many_columns"
    # The 中文 export (台区编号, 数据日期, 相别, U1 ... U96) is the same wide form.
    zh = ",".join(["台区编号", "数据日期", "相别", *(f"U{k}" for k in range(1, 97))])
    assert next(read_chunks(write(tmp_path / "曲线.csv", zh, row.encode()), "voltage", mapping={}))[
        "台区编号"
    ].tolist() == ["T1"]
    # A wide curve needs its phase; a long-form file needs its time.
    # (Readable bodies: read_chunks alone would yield them, the header check refuses them.)
    no_phase = write(tmp_path / "nophase.csv", wide_header(phase=False), row.encode())
    with pytest.raises(FileRefused) as info:
        next(read_chunks(no_phase, "voltage", mapping={}))
    assert (info.value.code, info.value.text.rsplit(": ", 1)[1]) == ("missing_column", "phase")
    long = write(tmp_path / "long.csv", "transformer,va,vb,vc", b"T1,228,229,230\n")
    assert refusal(long, "voltage", mapping={}) == "missing_column"


def test_hdr006_max_columns_option():
    assert FileOptions(type="file", path="drop").max_columns == 500
    assert FileOptions(type="file", path="drop", max_columns=2000).max_columns == 2000
    with pytest.raises(ValidationError):
        FileOptions(type="file", path="drop", max_columns=0)
