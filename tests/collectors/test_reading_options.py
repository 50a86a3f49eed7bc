"""Reading options per source (issue 13, part 1): real files written here, read by
configuration alone through the real runner and pipeline into SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import tomllib
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from analytics.reliability import outages_without_customers, system_indices
from collectors.runner import SourceInstances, run_source_once
from db.models import Outage
from db.queries import network, outages, quarantine
from feederwatch.config import ConfigError, parse_settings
from tests.conftest import real_data


def settings_for(db_url: str, folder: Path, extra: str = "", *, source_type: str = "file"):
    text = f'[database]\nurl = "{db_url}"\n[sources.src]\ntype = "{source_type}"\n' + extra
    if source_type == "file":
        text += 'path = "drop"\nsettle_seconds = 0\nkind = "outages"\n'
    return parse_settings(tomllib.loads(text), origin="test", config_dir=folder)


def drop_folder(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    return drop


def age(path: Path) -> None:
    past = time.time() - 60
    os.utime(path, (past, past))


def stored(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Outage.natural_id, Outage.customers, Outage.lon, Outage.lat, Outage.cause)
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def run_file_source(engine, db_url, tmp_path, name: str, content: bytes, extra: str):
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    (drop / name).write_bytes(content)
    age(drop / name)
    settings = settings_for(db_url, tmp_path, extra)
    return run_source_once(engine, settings, "src", instances=SourceInstances())


def test_read001_semicolon_csv_with_decimal_commas(engine, db_url, tmp_path):
    text = (
        "outage_id;start;end;customers;lon;lat;area_text\n"
        "A1;2025-07-01 10:00;2025-07-01 11:30;12;116,25;36,5;North of 1st, East of 2nd\n"
        "A2;2025-07-01 12:00;;-;-116,75;36,125;N/A\n"
    )
    result = run_file_source(
        engine,
        db_url,
        tmp_path,
        "export.csv",
        text.encode("utf-8"),
        'sep = ";"\ndecimal = ","\nna_values = ["-", "N/A"]\n',
    )
    assert result.status == "ok", result.error
    rows = stored(engine)
    assert rows["A1"][:3] == (12, 116.25, 36.5)
    assert rows["A2"][:3] == (None, -116.75, 36.125)
    with engine.connect() as conn:
        area = conn.execute(select(Outage.area_text).where(Outage.natural_id == "A1")).scalar()
        blank = conn.execute(select(Outage.area_text).where(Outage.natural_id == "A2")).scalar()
    assert area == "North of 1st, East of 2nd"  # text with a comma is not a number
    assert blank is None  # "N/A" is a blank marker
    assert result.summary.notes["customers_unknown"] == 1


def test_read001b_bad_row_alone_with_options(engine, db_url, tmp_path):
    # A row with a wrong field count in a ';' file below a title row: quarantined alone.
    text = (
        "Export 2025-07\n"
        "outage_id;start;customers;lat\n"
        "R1;2025-07-01 10:00;3;36,5\n"
        "R2;2025-07-01 11:00;1;36,0;extra\n"
        "R3;2025-07-01 12:00;-;36,25\n"
    )
    extra = 'sep = ";"\ndecimal = ","\nskiprows = 1\nna_values = ["-"]\n'
    result = run_file_source(engine, db_url, tmp_path, "o.csv", text.encode(), extra)
    assert result.summary.quarantined == {"bad_row_shape": 1}
    rows = stored(engine)
    assert set(rows) == {"R1", "R3"}
    assert (rows["R1"][0], rows["R1"][2], rows["R3"][0], rows["R3"][2]) == (3, 36.5, None, 36.25)


def test_read002_xlsx_with_title_and_units_rows(engine, db_url, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "cover"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("停电")
    sheet.append(["Outage report, July 2025"])
    sheet.append(["", "local time", "", "households"])
    sheet.append(["停电编号", "停电时间", "送电时间", "停电户数"])
    sheet.append(["X1", "2025-07-01 10:00", "2025-07-01 12:00", 40])
    sheet.append(["X2", "2025-07-02 10:00", None, 0])
    sheet.append(["X3", "2025-07-03 10:00", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = run_file_source(
        engine, db_url, tmp_path, "report.xlsx", buffer.getvalue(), 'header = 2\nsheet = "停电"\n'
    )
    assert result.status == "ok", result.error
    assert result.summary.read == 3
    rows = stored(engine)
    assert {k: v[0] for k, v in rows.items()} == {"X1": 40, "X2": 0, "X3": None}
    assert result.summary.notes["customers_unknown"] == 1


@pytest.mark.parametrize("sheet", ['"Sheet9"', "3"])
def test_read002b_missing_sheet_refuses_the_file(engine, db_url, tmp_path, sheet):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["outage_id", "start"])
    book.active.append(["X1", "2025-07-01 10:00"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = run_file_source(
        engine, db_url, tmp_path, "report.xlsx", buffer.getvalue(), f"sheet = {sheet}\n"
    )
    assert result.summary.quarantined == {"sheet_not_found": 1}
    assert (tmp_path / "drop" / "failed" / "report.xlsx.reason").exists()
    assert stored(engine) == {}


def test_read003_header_first_on_the_real_header_row(engine, db_url, tmp_path):
    # The title row above the header names no outage id: with header = 1 the real header
    # (which lacks the start column) is judged, and the file is refused before its body.
    text = "Outages export\noutage_id,customers\nA1,3\n"
    result = run_file_source(engine, db_url, tmp_path, "o.csv", text.encode(), "header = 1\n")
    assert result.summary.quarantined == {"missing_column": 1}
    reason = (tmp_path / "drop" / "failed" / "o.csv.reason").read_text()
    assert reason.startswith("missing_column") and reason.strip().endswith(": start")
    assert stored(engine) == {}


def test_read004_json_records_path(engine, db_url, tmp_path):
    doc = {
        "meta": {"count": 3},
        "data": {
            "rows": [
                {"outage_id": "J1", "start": "2025-07-01T10:00:00+08:00", "customers": 5},
                {"outage_id": "J2", "start": "2025-07-01T11:00:00+08:00", "customers": 0},
                7,
            ]
        },
    }
    result = run_file_source(
        engine,
        db_url,
        tmp_path,
        "feed.json",
        json.dumps(doc).encode(),
        'records_path = "data.rows"\n',
    )
    assert result.summary.read == 3
    assert result.summary.quarantined == {"not_an_object": 1}  # judged alone, not dropped
    assert {k: v[0] for k, v in stored(engine).items()} == {"J1": 5, "J2": 0}


def test_read005_json_records_path_not_found_refuses_the_file(engine, db_url, tmp_path):
    doc = {"data": {"rows": [{"outage_id": "J1", "start": "2025-07-01 10:00"}]}}
    result = run_file_source(
        engine, db_url, tmp_path, "feed.json", json.dumps(doc).encode(), 'records_path = "rows"\n'
    )
    assert result.summary.quarantined == {"records_path_not_found": 1}
    assert (tmp_path / "drop" / "failed" / "feed.json.reason").exists()
    assert quarantine(engine)["reason_code"].tolist() == ["records_path_not_found"]


@pytest.mark.parametrize("shape", ["no_type", "bare_list"])
def test_read006_geojson_points_become_lon_lat(engine, db_url, tmp_path, shape):
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-123.1, 49.25]},
            "properties": {"outage_id": "G1", "start": "2025-07-01 10:00", "customers": 9},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-122.5, 49.0]},
            "properties": {"outage_id": "G2", "start": "2025-07-01 11:00"},
        },
    ]
    doc = {"features": features} if shape == "no_type" else features
    result = run_file_source(
        engine, db_url, tmp_path, "points.geojson", json.dumps(doc).encode(), ""
    )
    assert result.status == "ok", result.error
    rows = stored(engine)
    assert rows["G1"][:3] == (9, -123.1, 49.25)
    assert rows["G2"][:3] == (None, -122.5, 49.0)


def test_read007_blank_customers_stay_unknown(engine, db_url, tmp_path):
    text = (
        "outage_id,start,customers\n"
        "B1,2025-07-01 10:00,\n"
        "B2,2025-07-01 11:00,0\n"
        "B3,2025-07-01 12:00,17\n"
        "B4,2025-07-01 13:00,\n"
    )
    result = run_file_source(engine, db_url, tmp_path, "o.csv", text.encode(), "")
    assert result.status == "ok", result.error
    assert {k: v[0] for k, v in stored(engine).items()} == {
        "B1": None,
        "B2": 0,
        "B3": 17,
        "B4": None,
    }
    assert result.summary.notes["customers_unknown"] == 2
    # the same records again: unchanged (NULL compares equal to a blank), still NULL
    more = text + "B5,2025-07-01 14:00,3\n"
    again = run_file_source(engine, db_url, tmp_path, "o2.csv", more.encode(), "")
    assert (again.summary.unchanged, again.summary.upserted) == (4, 1)
    assert stored(engine)["B1"][0] is None
    with engine.begin() as conn:  # B5 was not part of the first run: out of the way again
        conn.execute(delete(Outage).where(Outage.natural_id == "B5"))
    # NULL customers in the indices: 0 customers interrupted each, and said how many
    frame = system_indices(
        network(engine), outages(engine), window=(date(2025, 7, 1), date(2025, 7, 2))
    )
    assert frame.attrs["outages_without_customers"] == 2
    # the dashboard's live figures: unknown counts add nothing, nothing crashes
    from dashboard.data import DataStore

    store = DataStore(settings_for(db_url, tmp_path), engine)
    now = datetime(2025, 7, 1, 6, 0, tzinfo=UTC)  # 14:00 in Asia/Shanghai: all four active
    live = store.live_summary(now)
    assert (live["active_outages"], live["customers_out"]) == (4, 17)
    assert store.customers_out_series(hours=24, now=now)["customers"].max() == 17
    assert frame["customers_interrupted"].iloc[0] == pytest.approx(17)
    assert (
        outages_without_customers(outages(engine), window=(date(2025, 6, 1), date(2025, 7, 1))) == 0
    )


@pytest.mark.parametrize(
    "extra, words",
    [
        ('sep = ";;"\n', "sep"),
        ('sep = ","\ndecimal = ","\n', "sep and decimal"),
        ('encoding = "latin-99"\n', "encoding"),
        ('records_path = "data..rows"\n', "records_path"),
        ("header = -1\n", "header"),
    ],
)
def test_read008_reading_options_validated_at_start_up(tmp_path, extra, words):
    with pytest.raises(ConfigError, match=words):
        settings_for("sqlite:///x.db", tmp_path, extra)


def test_read009_encoding_override(engine, db_url, tmp_path):
    # Latin-1 bytes that happen to decode as GB18030 when sniffed: the override wins.
    text = "outage_id,start,cause\nL1,2025-07-01 10:00,Störung\n"
    result = run_file_source(
        engine, db_url, tmp_path, "o.csv", text.encode("latin-1"), 'encoding = "latin-1"\n'
    )
    assert result.status == "ok", result.error
    assert stored(engine)["L1"][3] == "Störung"


# --- an HTTP feed with its records under "outages" ----------------------------------------


GEO_PROPERTIES = {"outage_id": "P1", "start": "2025-07-01T10:00:00+08:00", "customers": 4}


class OutagesFeed(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/geo"):
            point = {"type": "Point", "coordinates": [-123.1, 49.25]}
            feature = {"type": "Feature", "geometry": point, "properties": GEO_PROPERTIES}
            return self._send(json.dumps({"features": [feature]}).encode())
        body = json.dumps(
            {
                "generated_at": "2025-07-01T03:00:00Z",
                "outages": [
                    {"outage_id": "H1", "start": "2025-07-01T10:00:00+08:00", "customers": 30},
                    {"outage_id": "H2", "start": "2025-07-01T10:30:00+08:00", "customers": "-"},
                    {"outage_id": "H3", "start": "2025-07-01T10:45:00+08:00", "customers": 0},
                ],
            }
        ).encode()
        self._send(body)

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def outages_feed():
    server = ThreadingHTTPServer(("127.0.0.1", 0), OutagesFeed)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed"
    server.shutdown()


def test_read010_http_feed_records_path(engine, db_url, tmp_path, outages_feed):
    extra = f'url = "{outages_feed}"\nrecords_path = "outages"\nna_values = ["-"]\n'
    settings = settings_for(db_url, tmp_path, extra, source_type="http")
    result = run_source_once(engine, settings, "src", instances=SourceInstances())
    assert result.status == "ok", result.error
    assert {k: v[0] for k, v in stored(engine).items()} == {"H1": 30, "H2": None, "H3": 0}
    assert result.summary.notes["customers_unknown"] == 1


def test_read010b_http_geojson_feed_without_type(engine, db_url, tmp_path, outages_feed):
    extra = f'url = "{outages_feed.replace("/feed", "/geo")}"\n'
    settings = settings_for(db_url, tmp_path, extra, source_type="http")
    result = run_source_once(engine, settings, "src", instances=SourceInstances())
    assert result.status == "ok", result.error
    assert stored(engine)["P1"][:3] == (4, -123.1, 49.25)


def test_read011_http_feed_without_records_there_fails_permanently(
    engine, db_url, tmp_path, outages_feed
):
    extra = f'url = "{outages_feed}"\nrecords_path = "items"\nretries = 0\n'
    settings = settings_for(db_url, tmp_path, extra, source_type="http")
    result = run_source_once(engine, settings, "src", instances=SourceInstances())
    assert result.status == "failed"
    assert "records_path='items'" in result.error
    assert stored(engine) == {}


# --- real third-party data, re-exported European style ------------------------------------

BC_CONFIG = """
[database]
url = "sqlite:///fw.db"

[site]
timezone = "America/Vancouver"

[sources.bchydro_eu]
type = "file"
path = "drop"
version_column = "lastUpdated"
sep = ";"
decimal = ","
header = 1
"""


def test_read012_real_bchydro_semicolon_decimal_comma(db_url, tmp_path):
    """BC Hydro's real outage records (three days), written the way a European export tool
    writes them (a title row, ';' between fields, ',' in decimals), loaded by configuration
    alone through `feederwatch ingest --source`; figures checked against the csv module."""
    export = real_data("bchydro-outages-2024", "bchydro_outages_threedays.csv.gz")
    with gzip.open(export, "rt", encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    target = tmp_path / "outages_eu.csv"
    with target.open("w", encoding="utf-8", newline="") as fh:
        fh.write("BC Hydro outages export\n")
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(records[0].keys())
        for rec in records:
            row = dict(rec)
            for key in ("latitude", "longitude"):
                row[key] = row[key].replace(".", ",")
            writer.writerow(row.values())
    (tmp_path / "fw.toml").write_text(BC_CONFIG)
    env = {**os.environ, "FEEDERWATCH_DATABASE_URL": db_url}
    result = subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", "--config", "fw.toml", "ingest", "outages"]
        + [str(target), "--source", "bchydro_eu"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(re.findall(r"^\s+(.+?)\s{2,}([\d,]+)$", result.stdout, re.MULTILINE))
    assert int(lines["read"].replace(",", "")) == len(records) == 71
    latest: dict[str, dict] = {}
    for rec in records:
        if rec["id"] not in latest or rec["lastUpdated"] >= latest[rec["id"]]["lastUpdated"]:
            latest[rec["id"]] = rec
    from db.engine import make_engine

    engine = make_engine(db_url)
    try:
        rows = stored(engine)
    finally:
        engine.dispose()
    assert set(rows) == set(latest)
    for outage_id, rec in latest.items():
        customers, lon, lat, _cause = rows[outage_id]
        assert customers == int(rec["numCustomersOut"])
        assert lon == pytest.approx(float(rec["longitude"]))
        assert lat == pytest.approx(float(rec["latitude"]))
    assert sum(r[0] for r in rows.values()) == sum(
        int(r["numCustomersOut"]) for r in latest.values()
    )
