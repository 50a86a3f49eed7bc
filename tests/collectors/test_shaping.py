"""Shaping per source (issue 13, part 2): derived ids, combined date and time, constants,
unpivoted wide tables and value maps, by configuration alone, through the real runner, the
real ``feederwatch ingest`` command and the real pipeline into SQLite and PostgreSQL.

Real data: BC Hydro's 2024 outage records (../shared/data/real/bchydro-outages-2024, see its
PROVENANCE.md), read where they lie; the figures they are checked against are computed here
with pandas on the raw file. Where no public file of a shape was at hand (a wide SCADA table,
a 95598 ticket export with codes), the test writes a small one of its own, said so below."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from collectors.runner import SourceInstances, run_source_once
from collectors.shaping import derived_ids
from db.models import Transformer
from db.queries import complaints, outages, quarantine, source_status
from db.readings import read_readings
from feederwatch.config import ConfigError, parse_settings
from tests.conftest import real_data

BC_YEAR = ("bchydro-outages-2024", "bchydro_outages_2024_365days.csv.gz")
BC_THREE_DAYS = ("bchydro-outages-2024", "bchydro_outages_threedays.csv.gz")


def bc_hydro(*parts: str) -> pd.DataFrame:
    """The raw BC Hydro export as text, exactly as the file source reads it."""
    return pd.read_csv(real_data(*parts), dtype=str, keep_default_na=False)


def settings_for(db_url: str, folder: Path, source: str, *, top: str = ""):
    text = f'{top}[database]\nurl = "{db_url}"\n[sources.src]\n{source}'
    return parse_settings(tomllib.loads(text), origin="test", config_dir=folder)


def run_drop(engine, db_url, tmp_path: Path, name: str, frame: pd.DataFrame, source: str):
    """Write ``frame`` as a CSV into a drop folder and run a file source on it once."""
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    frame.to_csv(drop / name, index=False)
    past = time.time() - 60
    os.utime(drop / name, (past, past))
    extra = 'type = "file"\npath = "drop"\nsettle_seconds = 0\n' + source
    settings = settings_for(db_url, tmp_path, extra, top='[site]\ntimezone = "UTC"\n')
    return run_source_once(engine, settings, "src", instances=SourceInstances())


def unmapped(notes, column: str) -> dict[str, int]:
    prefix = f"unmapped {column}: "
    return {k[len(prefix) :]: v for k, v in notes.items() if k.startswith(prefix) and v}


# --- id_from and value maps on a real year of outages -------------------------------------------
BC_SHAPED = """kind = "outages"
version_column = "lastUpdated"
id_from = ["gisId", "start"]
[sources.src.value_map.cause]
patterns = { "tree|wind|storm" = "vegetation_weather", "equipment failure|cable fault" = "equipment" }
[sources.src.value_map.planned]
from = "cause"
patterns = { "^planned work" = true }
values = { "Under investigation" = false }
default = false
"""


def test_shape001_bchydro_without_ids_gets_stable_derived_ids(engine, db_url, tmp_path):
    raw = bc_hydro(*BC_YEAR)
    feb = raw[raw["dateOff"].str.startswith("2024-02")]
    export = feb.drop(columns="id")  # an export without ids: the shape this is for
    result = run_drop(engine, db_url, tmp_path, "outages.csv", export, BC_SHAPED)
    assert result.status == "partial", result.error

    # Independent figures: one outage per (gisId, dateOff); the newest report of each wins.
    keyed = feb[feb["gisId"] != ""]
    latest = keyed.sort_values("lastUpdated").groupby(["gisId", "dateOff"]).tail(1)
    stored = outages(engine, source="src")
    assert len(stored) == len(latest) == keyed.groupby(["gisId", "dateOff"]).ngroups
    assert stored["outage_id"].is_unique
    assert result.summary.quarantined == {"id_from_blank": int((feb["gisId"] == "").sum())}
    by_region = stored.groupby("region")["customers"].sum().astype(int).to_dict()
    expected = latest.groupby("regionName")["numCustomersOut"].apply(lambda s: s.astype(int).sum())
    assert by_region == expected.to_dict()

    # A BC Hydro outage re-reported (same gisId and start, alone on that key): one derived id.
    per_id = feb.groupby("id").agg(n=("id", "size"), starts=("dateOff", "nunique"))
    alone = keyed.groupby(["gisId", "dateOff"])["id"].transform("nunique") == 1
    candidates = per_id[(per_id["starts"] == 1) & per_id.index.isin(keyed.loc[alone, "id"])]
    repeated = feb[feb["id"] == candidates["n"].idxmax()]
    assert len(repeated) >= 2
    ids, _ = derived_ids(repeated.rename(columns={"dateOff": "start"}), ["gisId", "start"], "UTC")
    assert ids.nunique() == 1 and ids.iloc[0] in set(stored["outage_id"])
    newest = repeated.sort_values("lastUpdated").iloc[-1]
    row = stored.set_index("outage_id").loc[ids.iloc[0]]
    assert int(row["customers"]) == int(newest["numCustomersOut"])
    # The documented limit: a start revised by the source is another id (another outage).
    revised = feb.groupby("id")["dateOff"].nunique()
    for outage in revised[revised > 1].index:
        again, _ = derived_ids(
            feb[feb["id"] == outage].rename(columns={"dateOff": "start"}), ["gisId", "start"], "UTC"
        )
        assert again.nunique() == 2 and set(again) <= set(stored["outage_id"])

    # planned from the cause text: pattern and exact value; the rest listed, never folded.
    planned = latest["cause"].str.match(r"(?i)^planned work")
    assert int(stored["planned"].sum()) == int(planned.sum()) > 0
    others = feb.loc[
        ~feb["cause"].str.match(r"(?i)^planned work") & (feb["cause"] != "Under investigation"),
        "cause",
    ]
    assert unmapped(result.summary.notes, "planned") == others.value_counts().to_dict()
    assert unmapped(result.summary.notes, "planned")["Tree down across our wires"] == 209

    # Cause text -> cause classes, read from the same text as planned (maps read the input).
    def cause_class(text: str) -> str | None:
        if re.search("tree|wind|storm", text, re.IGNORECASE):
            return "vegetation_weather"
        if re.search("equipment failure|cable fault", text, re.IGNORECASE):
            return "equipment"
        return None

    classes = latest["cause"].map(lambda c: cause_class(c) or c)
    assert stored["cause"].value_counts().to_dict() == classes.value_counts().to_dict()
    assert (stored["cause"] == "vegetation_weather").sum() > 0
    left = feb["cause"][feb["cause"].map(cause_class).isna()]
    assert unmapped(result.summary.notes, "cause") == left.value_counts().head(20).to_dict()


def test_shape002_derived_id_rule_is_stable_and_normalised():
    frame = pd.DataFrame(
        {
            "feeder": ["F12", " f12 ", "F12", "F12", None],
            "start": [
                "2025-07-01 10:00",
                "2025-07-01T10:00:00+08:00",
                "2025-07-01T02:00:00Z",
                "2025-07-01 10:05",
                "2025-07-01 10:00",
            ],
        }
    )
    ids, missing = derived_ids(frame, ["feeder", "start"], "Asia/Shanghai")
    assert ids[0] == ids[1] == ids[2]  # the same instant and feeder, written three ways
    assert ids[3] != ids[0]  # a revised start is another id
    assert missing.tolist() == [False, False, False, False, True] and ids[4] is None
    assert re.fullmatch(r"F12-[0-9a-f]{16}", ids[0])
    # Stable across releases: the documented rule pins the value.
    assert ids[0] == derived_ids(frame.iloc[:1], ["feeder", "start"], "Asia/Shanghai")[0][0]
    formula = derived_ids(pd.DataFrame({"f": ["=cmd"], "s": ["1"]}), ["f", "s"], "UTC")[0][0]
    assert not formula.startswith(("=", "+", "-", "@"))


# --- combine: a date column and a time column ----------------------------------------------------
def run_cli(args, cwd, db_url):
    env = {**os.environ, "FEEDERWATCH_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_shape003_date_and_time_columns_combined_by_ingest_command(engine, db_url, tmp_path):
    raw = bc_hydro(*BC_THREE_DAYS)
    off = pd.to_datetime(raw["dateOff"], utc=True)
    # The real records, written as an OMS that keeps the date and the time apart (HHMMSS).
    export = raw.drop(columns="dateOff").assign(
        OUT_DATE=off.dt.strftime("%Y-%m-%d"), OUT_TIME=off.dt.strftime("%H%M%S")
    )
    export.loc[0, "OUT_TIME"] = ""  # a date without its time: refused alone, never midnight
    path = tmp_path / "oms_outages.csv"
    export.to_csv(path, index=False)
    (tmp_path / "fw.toml").write_text(
        '[site]\ntimezone = "UTC"\n[sources.oms]\ntype = "file"\npath = "drop"\n'
        'kind = "outages"\nversion_column = "lastUpdated"\n'
        'combine = { start = ["OUT_DATE", "OUT_TIME"] }\n'
    )
    result = run_cli(
        ["--config", "fw.toml", "ingest", "outages", str(path), "--source", "oms"], tmp_path, db_url
    )
    assert result.returncode == 3, result.stderr  # landed, one record quarantined
    assert re.search(r"quarantined: combine_blank_part\s+1$", result.stdout, re.MULTILINE)
    stored = outages(engine, source="oms").set_index("outage_id")
    kept = raw.iloc[1:].assign(start=off.iloc[1:])
    newest = kept.sort_values("lastUpdated").groupby("id").tail(1).set_index("id")
    assert sorted(stored.index) == sorted(newest.index)
    assert (stored.loc[newest.index, "start"] == newest["start"]).all()
    assert (raw["id"] == raw.loc[0, "id"]).sum() > 1 or raw.loc[0, "id"] not in stored.index
    [refused] = quarantine(engine)["reason_code"].tolist()
    assert refused == "combine_blank_part"


# --- constants and unpivot: voltage ------------------------------------------------------------
def readings(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        codes = dict(conn.execute(select(Transformer.id, Transformer.code)).all())
        stored = read_readings(conn, -(2**40), 2**40)
    return pd.DataFrame(
        {
            "transformer": stored["transformer_id"].map(codes),
            "ts": stored["ts"],
            "va_dv": stored["va_dv"],
        }
    )


SCADA_START = (pd.Timestamp.now("UTC").floor("D") - pd.Timedelta(days=3)).tz_localize(None)


def scada_wide() -> pd.DataFrame:
    # Written here (no public wide SCADA export of LV buses in volts was at hand): one column
    # per bus, hourly, varying values, a few blank cells (a bus not measured that hour).
    # Recent days: raw readings older than raw_retention_days (400) are pruned at ingest.
    times = pd.date_range(SCADA_START, periods=48, freq="h")
    frame = pd.DataFrame({"Timestamp": times.strftime("%Y-%m-%d %H:%M")})
    for n, bus in enumerate(("BUS41", "BUS42", "BUS7")):
        frame[bus] = [f"{200 + n * 7 + (i * 13 + n) % 29 + 0.1 * (i % 10):.1f}" for i in range(48)]
    frame.loc[[3, 17], "BUS42"] = ""
    frame["QUALITY"] = "good"  # a column that is no bus stays on every row
    return frame


def test_shape004_wide_scada_table_unpivoted(engine, db_url, tmp_path):
    wide = scada_wide()
    source = (
        'kind = "voltage"\nauthoritative = true\n'
        'unpivot = { columns = "^BUS\\\\d+$", id = "transformer", value = "va" }\n'
    )
    result = run_drop(engine, db_url, tmp_path, "scada_voltage.csv", wide, source)
    assert result.status == "ok", result.error
    cells = wide.melt(id_vars=["Timestamp", "QUALITY"], var_name="bus", value_name="v")
    cells = cells[cells["v"] != ""]
    assert result.summary.read == len(cells) == 3 * 48 - 2
    assert result.summary.notes["unpivot_blank_cells"] == 2
    got = readings(engine)
    assert got.groupby("transformer").size().to_dict() == cells.groupby("bus").size().to_dict()
    sums = got.groupby("transformer")["va_dv"].sum().to_dict()
    expected = cells.assign(dv=(cells["v"].astype(float) * 10).round().astype(int))
    assert sums == expected.groupby("bus")["dv"].sum().to_dict()
    t0 = int(SCADA_START.tz_localize("UTC").timestamp())
    assert got["ts"].min() == t0 and got["ts"].max() == t0 + 47 * 3600
    # Hourly readings: each bus's interval is taken from the unpivoted data (60 minutes).
    with engine.connect() as conn:
        intervals = dict(
            conn.execute(select(Transformer.code, Transformer.reading_interval_min)).all()
        )
    assert intervals == {"BUS41": 60, "BUS42": 60, "BUS7": 60}


def test_shape005_constant_transformer_for_a_one_meter_export(engine, db_url, tmp_path):
    wide = scada_wide()
    one = wide[["Timestamp", "BUS7"]].rename(columns={"BUS7": "va"})
    source = 'kind = "voltage"\nauthoritative = true\nconstants = { transformer = "BUS41" }\n'
    result = run_drop(engine, db_url, tmp_path, "meter_voltage.csv", one, source)
    assert result.status == "ok", result.error
    got = readings(engine)
    assert set(got["transformer"]) == {"BUS41"} and len(got) == 48
    assert got["va_dv"].sum() == (one["va"].astype(float) * 10).round().astype(int).sum()


# --- value maps: complaint codes through a SQL source ---------------------------------------------
TICKETS = [
    ("T1", "2025-07-01 09:00", "LV"),
    ("T2", "2025-07-01 09:10", "lv"),
    ("T3", "2025-07-01 09:20", "HV"),
    ("T4", "2025-07-01 09:30", "FLK"),
    ("T5", "2025-07-01 09:40", "客户窃电"),
    ("T6", "2025-07-01 09:50", "欠费"),
    ("T7", "2025-07-01 10:00", "ZZ9"),
    ("T8", "2025-07-01 10:10", "ZZ9"),
    ("T9", "2025-07-01 10:20", "low_voltage"),
]
CODES = {
    "LV": "low_voltage",
    "HV": "voltage_fluctuation",
    "FLK": "voltage_fluctuation",
    "客户窃电": "power_theft",
    "欠费": "billing",
}


def test_shape006_category_codes_mapped_unmapped_listed_never_other(engine, db_url, tmp_path):
    # A ticket system's table (written here: no public 95598 export with codes was at hand).
    oms = tmp_path / "tickets.db"
    with sqlite3.connect(oms) as conn:
        conn.execute("CREATE TABLE wo (no TEXT, accepted TEXT, code TEXT)")
        conn.executemany("INSERT INTO wo VALUES (?, ?, ?)", TICKETS)
    values = ", ".join(f'"{k}" = "{v}"' for k, v in CODES.items())
    source = (
        f'type = "sql"\nurl = "sqlite:///{oms}"\nkind = "complaints"\n'
        'query = "SELECT no AS ticket_id, accepted AS time, code AS category FROM wo"\n'
        f"[sources.src.value_map.category]\nvalues = {{ {values} }}\n"
    )
    settings = settings_for(db_url, tmp_path, source)
    result = run_source_once(engine, settings, "src", instances=SourceInstances())
    assert result.status == "partial", result.error
    stored = complaints(engine).set_index("ticket_id")["category"].to_dict()
    expected = {t: CODES.get(c.upper(), CODES.get(c, c)) for t, _, c in TICKETS if c != "ZZ9"}
    assert stored == expected
    # The unknown code is listed with its count and quarantined, not folded into "other".
    assert unmapped(result.summary.notes, "category") == {"ZZ9": 2}
    assert result.summary.quarantined == {"unknown_category": 2}
    assert "other" not in stored.values()
    # ... and stored with the run, where the Data page's sources table reads its notes.
    status = source_status(engine).set_index("source").loc["src"]
    assert status["detail"]["notes"]["unmapped category: ZZ9"] == 2


# --- HTTP snapshots: the same outage in every poll keeps its derived id ----------------------------
class SnapshotFeed(BaseHTTPRequestHandler):
    polls: list[list[dict]] = []
    served = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        cls = type(self)
        page = cls.polls[min(cls.served, len(cls.polls) - 1)]
        cls.served += 1
        body = json.dumps({"generated_at": f"2025-02-0{cls.served}T00:00:00Z", "data": page})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_shape007_snapshot_feed_without_ids(engine, db_url, tmp_path):
    raw = bc_hydro(*BC_THREE_DAYS)
    # The five latest real outages, as a feed lists them while they are active (no dateOn).
    active = (
        raw[raw["gisId"] != ""]
        .sort_values("dateOff")
        .drop_duplicates(["gisId", "dateOff"])
        .tail(5)
        .assign(dateOn="")
    )
    items = [
        {k: v for k, v in rec.items() if k != "id" and v != ""} for rec in active.to_dict("records")
    ]
    # Poll 2: the same outages re-reported (new lastUpdated, other counts), minus the first.
    later = [{**i, "numCustomersOut": "1", "lastUpdated": "2025-02-01T12:00:00Z"} for i in items]
    SnapshotFeed.polls, SnapshotFeed.served = [items, later[1:], later[1:]], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), SnapshotFeed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/feed"
        source = (
            f'type = "http"\nurl = "{url}"\nmode = "snapshot"\nrecords_path = "data"\n'
            'version_column = "lastUpdated"\nid_from = ["gisId", "start"]\n'
        )
        settings = settings_for(db_url, tmp_path, source)
        instances = SourceInstances()
        for _ in range(2):
            result = run_source_once(engine, settings, "src", instances=instances)
            assert result.status == "ok", result.error
    finally:
        server.shutdown()
    stored = outages(engine, source="src")
    assert len(stored) == len(items)  # not twice as many: the ids held from poll to poll
    assert int(stored["inferred_end"].sum()) == 1
    assert result.summary.notes["inferred_end"] == 1
    assert sorted(stored["customers"].astype(int)) == sorted(
        [int(items[0]["numCustomersOut"])] + [1] * (len(items) - 1)
    )


# --- bad configuration fails at start-up, one line naming the key ----------------------------------
@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('constants = { transfomer = "BUS41" }\n', "transfomer"),
        ('id_from = ["feeder", "feeder"]\n', "id_from"),
        ('combine = { start = ["OUT_DATE"] }\n', "combine.start"),
        ('unpivot = { columns = "^BUS(", id = "transformer", value = "va" }\n', "unpivot.columns"),
        ("[sources.src.value_map.category]\ndefault = 'other'\n", "values or patterns"),
        ('[sources.src.value_map.planned]\npatterns = { "[" = true }\n', "regular expression"),
    ],
)
def test_shape008_shaping_validated_at_start_up(tmp_path, extra, words):
    source = 'type = "file"\npath = "drop"\nkind = "complaints"\n' + extra
    with pytest.raises(ConfigError) as caught:
        settings_for("sqlite:///x.db", tmp_path, source)
    assert words in str(caught.value)


def test_shape009_missing_named_column_refuses_the_file_first(engine, db_url, tmp_path):
    frame = pd.DataFrame({"feeder": ["F1"], "start": ["2025-07-01 10:00"]})
    result = run_drop(
        engine, db_url, tmp_path, "o.csv", frame, 'kind = "outages"\nid_from = ["gisId", "start"]\n'
    )
    assert result.summary.quarantined == {"missing_column": 1}
    reason = (tmp_path / "drop" / "failed" / "o.csv.reason").read_text()
    assert "gisId" in reason and reason.startswith("missing_column")
    assert outages(engine).empty


def test_shape010_xlsx_date_and_time_cells_and_bad_parts(engine, db_url, tmp_path):
    # XLSX keeps a date cell as a date-time at midnight and a time cell as a time: combined
    # into one start; a record whose parts cannot make a time is quarantined, never a crash.
    openpyxl = pytest.importorskip("openpyxl")
    from datetime import date, datetime
    from datetime import time as clock

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["停电编号", "停电日期", "停电时刻", "停电户数"])
    sheet.append(["X1", date(2025, 7, 1), clock(10, 30), 12])
    sheet.append(["X2", datetime(2025, 7, 2), "0930", 3])
    sheet.append(["X3", date(2025, 7, 3), None, 5])  # no time: combine_blank_part
    sheet.append(["X4", "someday", "10:00", 1])  # not a date: bad_time
    drop = tmp_path / "drop"
    drop.mkdir()
    book.save(drop / "outages.xlsx")
    past = time.time() - 60
    os.utime(drop / "outages.xlsx", (past, past))
    source = (
        'type = "file"\npath = "drop"\nsettle_seconds = 0\nkind = "outages"\n'
        'combine = { start = ["停电日期", "停电时刻"] }\n'
    )
    settings = settings_for(db_url, tmp_path, source)  # site timezone Asia/Shanghai
    result = run_source_once(engine, settings, "src", instances=SourceInstances())
    assert result.status == "partial", result.error
    assert result.summary.quarantined == {"combine_blank_part": 1, "bad_time": 1}
    starts = outages(engine).set_index("outage_id")["start"].to_dict()
    assert starts == {
        "X1": pd.Timestamp("2025-07-01 02:30", tz="UTC"),
        "X2": pd.Timestamp("2025-07-02 01:30", tz="UTC"),
    }
