"""A named corpus of bad input: each case states the good rows that must land and the reason
code the bad ones get. Every case runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collectors.file_reading import FileRefused, read_chunks
from collectors.ingest import ingest_file
from collectors.pipeline import IngestOptions, Pipeline
from collectors.validate import REASONS
from db.models import Outage, QuarantinedRecord
from tests.collectors.helpers import load_network

OUT_HEADER = "outage_id,feeder,transformer,start,end,customers,planned,lon,lat,area_text\n"


def good_outage(i: int, case: str) -> str:
    return f"{case}-{i},F1,,2025-07-0{1 + i % 5} 19:30:00,2025-07-0{1 + i % 5} 21:00:00,100,0,116.2,36.5,村东\n"


def outages(case: str, bad_rows: list[str], n_good: int = 3, header: str = OUT_HEADER) -> str:
    return header + "".join(good_outage(i, case) for i in range(n_good)) + "".join(bad_rows)


VOLT_HEADER = "transformer,time,va,vb,vc,kw\n"


def readings(day: int, bad_rows: list[str], n_good: int = 4) -> str:
    rows = [
        f"T1,2025-06-{day:02d} {h:02d}:00:00,{220 + h / 10:.1f},{221 + h / 10:.1f},{219 + h / 10:.1f},30\n"
        for h in range(1, n_good + 1)
    ]
    return VOLT_HEADER + "".join(rows) + "".join(bad_rows)


@dataclass
class Case:
    name: str
    kind: str
    content: str | bytes
    good: int
    reason: str
    bad: int = 1
    filename: str = "data.csv"
    whole: bool = False  # refused whole: nothing lands


def curve(points: int) -> str:
    return ",".join(f"{221 + (k % 7) / 10:.1f}" for k in range(points))


def stuck_rows(day: int) -> list[str]:
    return [f"T2,2025-06-{day:02d} {h:02d}:00:00,213.4,214.0,212.9,12\n" for h in range(1, 11)]


def xlsx_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", " " * (20 << 20))
    return buf.getvalue()


CASES = [
    Case(
        "bad_time", "outages", outages("bt", ["bt-x,F1,,2025-13-45 10:00,,5,0,,,\n"]), 3, "bad_time"
    ),
    Case(
        "ambiguous_time",
        "outages",
        outages("at", ["at-x,F1,,01/07/2025 19:30,,5,0,,,\n"]),
        3,
        "ambiguous_time",
    ),
    Case("missing_time", "outages", outages("mt", ["mt-x,F1,,,,5,0,,,\n"]), 3, "missing_time"),
    Case(
        "time_in_future",
        "outages",
        outages("tf", ["tf-x,F1,,2099-01-01 10:00,,5,0,,,\n"]),
        3,
        "time_in_future",
    ),
    Case(
        "time_too_old",
        "outages",
        outages("to", ["to-x,F1,,1970-01-01 10:00,,5,0,,,\n"]),
        3,
        "time_too_old",
    ),
    Case(
        "end_before_start",
        "outages",
        outages("eb", ["eb-x,F1,,2025-07-01 19:30,2025-07-01 18:00,5,0,,,\n"]),
        3,
        "end_before_start",
    ),
    Case(
        "negative_customers",
        "outages",
        outages("nc", ["nc-x,F1,,2025-07-01 10:00,,-4,0,,,\n"]),
        3,
        "negative_customers",
    ),
    Case(
        "absurd_customers",
        "outages",
        outages("ac", ["ac-x,,,2025-07-01 10:00,,900000000,0,,,\n"]),
        3,
        "absurd_customers",
    ),
    Case(
        "bad_customers",
        "outages",
        outages("bc", ["bc-x,F1,,2025-07-01 10:00,,many,0,,,\n"]),
        3,
        "bad_customers",
    ),
    Case(
        "customers_exceed_served",
        "outages",
        outages(
            "ce", ["ce-x,F1,,2025-07-01 10:00,,231,0,,,\n", "ce-y,,T3,2025-07-01 10:00,,41,0,,,\n"]
        ),
        3,
        "customers_exceed_served",
        bad=2,
    ),
    Case(
        "unknown_feeder",
        "outages",
        outages("uf", ["uf-x,F99,,2025-07-01 10:00,,5,0,,,\n"]),
        3,
        "unknown_feeder",
    ),
    Case(
        "unknown_transformer",
        "outages",
        outages("ut", ["ut-x,,T99,2025-07-01 10:00,,5,0,,,\n"]),
        3,
        "unknown_transformer",
    ),
    Case(
        "feeder_mismatch",
        "outages",
        outages("fm", ["fm-x,F2,T1,2025-07-01 10:00,,5,0,,,\n"]),
        3,
        "feeder_mismatch",
    ),
    Case(
        "missing_id", "outages", outages("mi", [",F1,,2025-07-01 10:00,,5,0,,,\n"]), 3, "missing_id"
    ),
    Case(
        "id_too_long",
        "outages",
        outages("il", ["x" * 65 + ",F1,,2025-07-01 10:00,,5,0,,,\n"]),
        3,
        "id_too_long",
    ),
    Case(
        "formula_like_id",
        "outages",
        outages("fi", ['"=HYPERLINK(""http://x"")",F1,,2025-07-01 10:00,,5,0,,,\n']),
        3,
        "formula_like_id",
    ),
    Case(
        "huge_field",
        "outages",
        outages("hf", ["hf-x,F1,,2025-07-01 10:00,,5,0,,," + "长" * 20000 + "\n"]),
        3,
        "huge_field",
    ),
    Case(
        "bad_boolean",
        "outages",
        outages("bb", ["bb-x,F1,,2025-07-01 10:00,,5,maybe,,,\n"]),
        3,
        "bad_boolean",
    ),
    Case(
        "bad_coordinate",
        "outages",
        outages("bo", ["bo-x,F1,,2025-07-01 10:00,,5,0,east,36.5,\n"]),
        3,
        "bad_coordinate",
    ),
    Case(
        "bad_row_shape",
        "outages",
        outages("rs", ["rs-x,F1,,2025-07-01 10:00,,5,0,1,2,3,4,5\n"]),
        3,
        "bad_row_shape",
    ),
    Case("truncated_row", "outages", outages("tr", ["tr-x,F1,,2025-07-01 1"]), 3, "truncated_row"),
    Case(
        "bad_level",
        "outages",
        outages(
            "bl",
            ["bl-x,F1,,2025-07-01 10:00,,5,0,,,district\n"],
            header=OUT_HEADER.replace("area_text", "level"),
        ).replace("村东", "feeder"),
        3,
        "bad_level",
    ),
    Case(
        "bad_version",
        "outages",
        "outage_id,feeder,start,version\nbv-1,F1,2025-07-01 10:00,3\nbv-2,F1,2025-07-01 10:00,soon\n",
        1,
        "bad_version",
    ),
    Case(
        "voltage_zero",
        "voltage",
        readings(1, ["T1,2025-06-01 09:00,0,221,220,3\n"]),
        4,
        "voltage_zero",
    ),
    Case(
        "voltage_missing",
        "voltage",
        readings(2, ["T1,2025-06-02 09:00,,,,3\n"]),
        4,
        "voltage_missing",
    ),
    Case(
        "voltage_not_numeric",
        "voltage",
        readings(3, ["T1,2025-06-03 09:00,22O.1,221,220,3\n"]),
        4,
        "voltage_not_numeric",
    ),
    Case(
        "voltage_out_of_range",
        "voltage",
        readings(4, ["T1,2025-06-04 09:00,52.0,221,220,3\n"]),
        4,
        "voltage_out_of_range",
    ),
    Case("voltage_stuck", "voltage", readings(5, stuck_rows(5)), 4, "voltage_stuck", bad=10),
    Case(
        "conflicting_duplicate",
        "voltage",
        readings(6, ["T1,2025-06-06 01:00,199.0,221,220,3\n"]),
        3,
        "conflicting_duplicate",
        bad=2,
    ),
    Case(
        "bad_power",
        "voltage",
        readings(7, ["T1,2025-06-07 09:00,220,221,220,lots\n"]),
        4,
        "bad_power",
    ),
    Case(
        "unknown_transformer_voltage",
        "voltage",
        readings(8, ["T77,2025-06-08 09:00,220,221,220,3\n"]),
        4,
        "unknown_transformer",
    ),
    Case(
        "bad_phase",
        "voltage",
        "transformer,date,phase,"
        + ",".join(f"p{k}" for k in range(1, 25))
        + "\n"
        + "T1,2025-06-09,A,"
        + curve(24)
        + "\n"
        + "T1,2025-06-09,N,"
        + curve(24)
        + "\n",
        24,
        "bad_phase",
    ),
    Case(
        "bad_date",
        "voltage",
        "transformer,date,phase,"
        + ",".join(f"p{k}" for k in range(1, 25))
        + "\n"
        + "T1,2025-06-10,A,"
        + curve(24)
        + "\n"
        + "T1,someday,B,"
        + curve(24)
        + "\n",
        24,
        "bad_date",
    ),
    Case(
        "bad_point_count",
        "voltage",
        "transformer,date,phase,"
        + ",".join(f"p{k}" for k in range(1, 48))
        + "\n"
        + "T1,2025-06-11,A,"
        + curve(47)
        + "\n",
        0,
        "bad_point_count",
    ),
    Case(
        "unknown_category",
        "complaints",
        "ticket_id,time,category,transformer,text\nuc-1,2025-07-01 10:00,停电,T1,又停电了\n"
        "uc-2,2025-07-01 11:00,外星人,T1,看到飞碟\n",
        1,
        "unknown_category",
    ),
    Case(
        "bad_geometry",
        "feeders",
        'feeder,substation,geometry\nG1,S1,"LINESTRING(1 2, 3 4)"\nG2,S1,POINT(1 2)\n',
        1,
        "bad_geometry",
    ),
    Case(
        "unknown_substation",
        "feeders",
        "feeder,substation\nG3,S1\nG4,S404\n",
        1,
        "unknown_substation",
    ),
    Case(
        "bad_kind",
        "transformers",
        "transformer,feeder,customers,kind\nK1,F1,10,公变\nK2,F1,10,农排\n",
        1,
        "bad_kind",
    ),
    Case(
        "bad_number",
        "transformers",
        "transformer,feeder,customers,kva\nK3,F1,10,200\nK4,F1,10,-5\n",
        1,
        "bad_number",
    ),
    # refused whole: nothing of the file lands
    Case("empty_file", "outages", "", 0, "empty_file", whole=True),
    Case("header_only", "outages", OUT_HEADER, 0, "empty_file", whole=True),
    Case(
        "missing_column", "outages", "outage_id,feeder\nmc-1,F1\n", 0, "missing_column", whole=True
    ),
    Case(
        "duplicate_header",
        "outages",
        "outage_id,start,start\nx,2025-07-01 10:00,2025-07-01 10:00\n",
        0,
        "duplicate_header",
        whole=True,
    ),
    Case(
        "undecodable",
        "outages",
        b"outage_id,start\n\xff\xfe\xff\xfe,2025\n",
        0,
        "undecodable",
        whole=True,
    ),
    Case(
        "malformed_json",
        "outages",
        '[{"outage_id": 1,',
        0,
        "malformed_file",
        whole=True,
        filename="o.json",
    ),
    Case("zip_bomb", "outages", xlsx_bomb(), 0, "zip_bomb", whole=True, filename="o.xlsx"),
]


def test_bad001_corpus_covers_thirty_distinct_reason_codes():
    codes = {case.reason for case in CASES}
    assert len(codes) >= 30
    assert codes <= set(REASONS)


@pytest.fixture(scope="module")
def pipeline(module_engine):
    pipe = Pipeline(module_engine, tz="Asia/Shanghai")
    load_network(pipe)
    return pipe


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad002_case(case: Case, pipeline: Pipeline, tmp_path: Path):
    path = tmp_path / case.filename
    path.write_bytes(
        case.content if isinstance(case.content, bytes) else case.content.encode("utf-8")
    )
    source = f"case-{case.name}"
    options = IngestOptions(source=source, version_column="version")
    if case.whole:
        with pytest.raises(FileRefused) as info:
            ingest_file(pipeline, path, case.kind, options)
        assert info.value.code == case.reason
        return
    summary = ingest_file(pipeline, path, case.kind, options)
    assert summary.upserted == case.good, summary
    assert dict(summary.quarantined) == {case.reason: case.bad}
    assert (
        summary.read
        == summary.upserted + summary.unchanged + case.bad + summary.notes["duplicate_identical"]
    )
    with pipeline.engine.connect() as conn:
        stored = conn.execute(
            select(QuarantinedRecord.reason_code, QuarantinedRecord.raw).where(
                QuarantinedRecord.source == source
            )
        ).all()
        assert [code for code, _ in stored] == [case.reason] * case.bad
        assert all(raw.startswith("{") for _, raw in stored)
        if case.kind == "outages":
            landed = conn.execute(
                select(func.count()).select_from(Outage).where(Outage.source == source)
            ).scalar_one()
            assert landed == case.good


def test_bad003_size_limit_refuses_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(OUT_HEADER + good_outage(1, "big") * 100)
    with pytest.raises(FileRefused) as info:
        next(read_chunks(path, "outages", max_bytes=1000))
    assert info.value.code == "file_too_large"


def test_bad004_units_are_converted_not_refused(pipeline, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        VOLT_HEADER + "T3,2025-06-20 01:00,0.2201,0.2195,0.2210,1\n"
        "T3,2025-06-20 02:00,381.0,382.5,380.1,1\n"
    )
    summary = ingest_file(pipeline, path, "voltage", IngestOptions(source="units"))
    assert summary.upserted == 2 and summary.quarantined_total == 0
    assert summary.notes["converted_kv"] == 3
    assert summary.notes["converted_line_to_line"] == 3
    from db.queries import voltage_rollups

    daily = voltage_rollups(pipeline.engine, "D", transformers=["T3"])
    a = daily[daily["phase"] == "A"].iloc[0]
    assert (a["v_min"], a["v_max"]) == (220.0, 220.1)  # 381.0 / sqrt(3) = 219.97 -> 220.0 V
