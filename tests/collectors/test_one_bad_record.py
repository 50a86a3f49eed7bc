"""One bad record never sinks a batch, for every source kind: a CSV, a JSON and an XLSX file
(collectors.ingest.ingest_path), an HTTP feed (a real server on 127.0.0.1) and an SQL source
(a real SQLite file), each landing on SQLite and PostgreSQL. Times outside what pandas can hold
(years 0001, 2300, 9999), items that are not objects and values of the wrong type are each
quarantined with their reason; the good records land."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from collectors.ingest import ingest_path
from collectors.pipeline import IngestOptions, Pipeline
from collectors.runner import SourceInstances, run_source_once
from db.queries import outages, quarantine
from feederwatch.config import parse_settings
from tests.collectors.helpers import load_network

START = "2025-06-01T08:00:00+08:00"
GOOD = [
    {"outage_id": "G1", "feeder": "F1", "start": START, "customers": 10},
    # An ETR in year 9999 is a typo in the estimate: cleared, the outage kept.
    {
        "outage_id": "G2",
        "feeder": "F1",
        "start": START,
        "etr": "9999-12-31 00:00:00",
        "customers": 12,
    },
]
# Bad in any source (text values a CSV or a database can hold too): id -> (changes, reason).
BAD_TEXT = {
    "Y9999": ({"start": "9999-12-31T10:00:00+08:00"}, "time_in_future"),
    "Y0001": ({"start": "0001-01-01T00:00:00Z"}, "time_too_old"),
    "Y2300": ({"start": "2300-01-01 00:00:00"}, "time_in_future"),
    "E9999": ({"end": "9999-12-31 00:00:00"}, "time_in_future"),
    "MANY": ({"customers": "many"}, "bad_customers"),
    "TRUE": ({"start": "true"}, "bad_time"),
}
# Bad only where JSON types exist.
BAD_JSON = {
    "LIST": ({"customers": [1, 2]}, "bad_customers"),
    "DICT": ({"customers": {"n": 3}}, "bad_customers"),
    "BOOL": ({"start": True}, "bad_time"),
}
NOT_OBJECTS = [5, "just text", None, [1, 2]]


def bad_records(cases: dict) -> list[dict]:
    return [{**GOOD[0], "outage_id": oid, **changes} for oid, (changes, _) in cases.items()]


def json_items() -> list:
    return [*GOOD, *bad_records(BAD_TEXT), *bad_records(BAD_JSON), *NOT_OBJECTS]


def expected_json() -> dict[str, str]:
    return {oid: code for oid, (_, code) in {**BAD_TEXT, **BAD_JSON}.items()}


def check(engine, source: str, expected: dict[str, str], not_objects: int = 0) -> None:
    landed = outages(engine, source=source).set_index("outage_id")
    assert sorted(landed.index) == ["G1", "G2"]
    assert pd.isna(landed.loc["G2", "etr"])
    q = quarantine(engine, source=source)
    got: dict[str, str] = {}
    items = []
    for raw, code in zip(q["raw"], q["reason_code"], strict=True):
        record = json.loads(raw)
        if record.get("outage_id"):
            got[record["outage_id"]] = code
        else:
            items.append((record.get("_item"), code))
    assert got == expected
    assert len(items) == not_objects
    assert all(code == "not_an_object" for _, code in items)
    # Each kept with its raw value (as JSON text).
    assert sorted(i for i, _ in items) == sorted(json.dumps(v) for v in NOT_OBJECTS[:not_objects])
    # Each out-of-range time is named in its reason.
    texts = dict(zip(q["raw"].map(lambda r: json.loads(r).get("outage_id")), q["reason_text"]))
    assert "9999-12-31T10:00:00+08:00" in texts["Y9999"]
    assert "0001-01-01" in texts["Y0001"]


@pytest.fixture
def pipeline(engine):
    pipe = Pipeline(engine)
    load_network(pipe)
    return pipe


def test_one001_csv_file(pipeline, tmp_path):
    rows = [*GOOD, *bad_records(BAD_TEXT)]
    path = tmp_path / "outages.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    summary = ingest_path(pipeline, "outages", path, IngestOptions(source="csv"))
    assert summary.upserted == 2 and summary.quarantined_total == len(BAD_TEXT)
    assert summary.notes["etr_implausible_cleared"] == 1
    check(pipeline.engine, "csv", {oid: code for oid, (_, code) in BAD_TEXT.items()})


def test_one002_json_file(pipeline, tmp_path):
    path = tmp_path / "outages.json"
    path.write_text(json.dumps(json_items()), "utf-8")
    summary = ingest_path(pipeline, "outages", path, IngestOptions(source="json"))
    assert summary.upserted == 2
    assert summary.quarantined["not_an_object"] == len(NOT_OBJECTS)
    check(pipeline.engine, "json", expected_json(), not_objects=len(NOT_OBJECTS))


def test_one003_xlsx_file(pipeline, tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "outages.xlsx"
    pd.DataFrame([*GOOD, *bad_records(BAD_TEXT)]).to_excel(path, index=False)
    summary = ingest_path(pipeline, "outages", path, IngestOptions(source="xlsx"))
    assert summary.upserted == 2 and summary.quarantined_total == len(BAD_TEXT)
    check(pipeline.engine, "xlsx", {oid: code for oid, (_, code) in BAD_TEXT.items()})


class ItemsFeed(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps(
            {"mode": "incremental", "generated_at": "2025-06-01T03:00:00Z", "items": json_items()}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("mode", ["incremental", "snapshot"])
def test_one004_http_feed(pipeline, tmp_path, mode):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ItemsFeed)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/feed"
        settings = parse_settings(
            {"sources": {"oms": {"type": "http", "url": url, "mode": mode}}},
            origin="test",
            config_dir=tmp_path,
        )
        result = run_source_once(
            pipeline.engine, settings, "oms", sleep=lambda s: None, instances=SourceInstances()
        )
    finally:
        server.shutdown()
        server.server_close()
    # Landed with some quarantined: "partial", never "failed".
    assert result.status == "partial", result.error
    assert result.summary.upserted == 2
    check(pipeline.engine, "oms", expected_json(), not_objects=len(NOT_OBJECTS))


def test_one005_sql_source(pipeline, tmp_path):
    peer = tmp_path / "oms.db"
    with sqlite3.connect(peer) as conn:
        conn.execute(
            "CREATE TABLE oms_outages (outage_id TEXT, feeder TEXT, start TEXT, "
            '"end" TEXT, etr TEXT, customers INTEGER)'
        )
        rows = [*GOOD, *bad_records(BAD_TEXT)]
        # A boolean stored as SQLite's 1 in the start column: a number is not a time.
        rows.append({**GOOD[0], "outage_id": "ONE", "start": 1})
        conn.executemany(
            "INSERT INTO oms_outages VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    r["outage_id"],
                    r["feeder"],
                    r["start"],
                    r.get("end"),
                    r.get("etr"),
                    r["customers"],
                )
                for r in rows
            ],
        )
    settings = parse_settings(
        {
            "sources": {
                "oms_db": {
                    "type": "sql",
                    "url": f"sqlite:///{peer}",
                    "query": "SELECT * FROM oms_outages",
                }
            }
        },
        origin="test",
        config_dir=tmp_path,
    )
    result = run_source_once(
        pipeline.engine, settings, "oms_db", sleep=lambda s: None, instances=SourceInstances()
    )
    assert result.status == "partial", result.error
    assert result.summary.upserted == 2
    expected = {oid: code for oid, (_, code) in BAD_TEXT.items()}
    check(pipeline.engine, "oms_db", {**expected, "ONE": "bad_time"})
