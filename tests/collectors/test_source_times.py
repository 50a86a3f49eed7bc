"""Times per source: a source's own timezone, time_format and zone abbreviations; DST gaps and
overlaps quarantined as such. Real BC Hydro outage records (UTC in the export) are rewritten in
the test as the same moments in Vancouver local time (naive, or with PST/PDT) and must land on
the same UTC instants as the original; the expected figures come from ``zoneinfo``, not from
the code under test."""

from __future__ import annotations

import csv
import gzip
import io
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from click.testing import CliRunner

from collectors.parse import parse_times_checked
from collectors.runner import SourceInstances, run_source_once
from db.queries import outages, quarantine
from feederwatch.cli import cli
from feederwatch.config import ConfigError, parse_settings
from tests.conftest import real_data

VANCOUVER = ZoneInfo("America/Vancouver")
TIME_COLUMNS = ("dateOff", "dateOn", "estDateOn")
KEPT = ("id", "numCustomersOut", "cause", "latitude", "longitude", *TIME_COLUMNS)


def bc_rows() -> list[dict]:
    """The three-day file and the year file's outages starting around both 2024 DST changes
    (10 March, 3 November), read with the csv module."""
    folder = real_data("bchydro-outages-2024")
    rows = []
    with gzip.open(folder / "bchydro_outages_threedays.csv.gz", "rt", encoding="utf-8") as fh:
        rows += list(csv.DictReader(fh))
    windows = [
        (datetime(2024, 3, 8, tzinfo=UTC), datetime(2024, 3, 12, tzinfo=UTC)),
        (datetime(2024, 11, 1, tzinfo=UTC), datetime(2024, 11, 5, tzinfo=UTC)),
    ]
    with gzip.open(folder / "bchydro_outages_2024_365days.csv.gz", "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            start = datetime.fromisoformat(row["dateOff"])
            if any(a <= start < b for a, b in windows):
                rows.append(row)
    return [{k: row[k] for k in KEPT} for row in rows]


def local_text(value: str, with_abbreviation: bool) -> str:
    if not value:
        return value
    local = datetime.fromisoformat(value).astimezone(VANCOUVER)
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text} {local.tzname()}" if with_abbreviation else text


def repeated_local_time(text: str) -> bool:
    """A naive Vancouver time that occurs twice (independently of the code under test)."""
    if not text:
        return False
    naive = datetime.fromisoformat(text)
    first = naive.replace(tzinfo=VANCOUVER, fold=0).utcoffset()
    return first != naive.replace(tzinfo=VANCOUVER, fold=1).utcoffset()


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(KEPT), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), "utf-8")


CONFIG = """
[database]
url = "{db_url}"
[site]
timezone = "Asia/Shanghai"
[sources.bc_utc]
type = "file"
path = "utc"
settle_seconds = 0
[sources.bc_local]
type = "file"
path = "local"
settle_seconds = 0
timezone = "America/Vancouver"
[sources.bc_abbrev]
type = "file"
path = "abbrev"
settle_seconds = 0
"""


def test_times001_bchydro_in_local_time_lines_up_in_utc(engine, db_url, tmp_path):
    rows = bc_rows()
    assert len(rows) > 1000
    local = [{**r, **{c: local_text(r[c], False) for c in TIME_COLUMNS}} for r in rows]
    abbrev = [{**r, **{c: local_text(r[c], True) for c in TIME_COLUMNS}} for r in rows]
    # A real record moved into the hour skipped on 10 March 2024 (02:00 -> 03:00 in Vancouver).
    gap = {**local[0], "id": "GAP-0310", "dateOff": "2024-03-10 02:30:00", "dateOn": ""}
    write_csv(tmp_path / "utc" / "outages_bc.csv", rows)
    write_csv(tmp_path / "local" / "outages_bc.csv", [*local, gap])
    write_csv(tmp_path / "abbrev" / "outages_bc.csv", abbrev)
    settings = parse_settings(
        tomllib.loads(CONFIG.format(db_url=db_url)), origin="test", config_dir=tmp_path
    )
    results = {
        name: run_source_once(engine, settings, name, instances=SourceInstances())
        for name in ("bc_utc", "bc_local", "bc_abbrev")
    }

    # The control (UTC as exported) and the abbreviated local times land whole.
    assert results["bc_utc"].summary.quarantined_total == 0, results["bc_utc"].error
    assert results["bc_abbrev"].summary.quarantined_total == 0, results["bc_abbrev"].error
    # Naive local times: the repeated hour of 3 November is ambiguous, the skipped one absent.
    repeated = {r["id"] for r in local if any(repeated_local_time(r[c]) for c in TIME_COLUMNS)}
    repeated_rows = sum(any(repeated_local_time(r[c]) for c in TIME_COLUMNS) for r in local)
    assert repeated_rows > 0  # the real data has starts and ends in that hour
    assert dict(results["bc_local"].summary.quarantined) == {
        "time_ambiguous_dst": repeated_rows,
        "time_nonexistent_dst": 1,
    }
    reasons = quarantine(engine, source="bc_local")
    gap_text = reasons.loc[reasons["reason_code"] == "time_nonexistent_dst", "reason_text"]
    assert gap_text.str.contains("2024-03-10 02:30:00 in America/Vancouver").all()

    def instants(source: str) -> dict:
        frame = outages(engine, source=source).set_index("outage_id")
        return {i: (r["start"], r["end"]) for i, r in frame.iterrows()}

    control = instants("bc_utc")
    # Expected from the export itself: distinct ids; each id's start one of its own UTC starts.
    assert len(control) == len({r["id"] for r in rows})
    for row in rows[:50]:
        starts = {pd.Timestamp(r["dateOff"]) for r in rows if r["id"] == row["id"]}
        assert control[row["id"]][0] in starts
    assert instants("bc_abbrev") == control
    in_local = instants("bc_local")
    assert set(in_local) == set(control) - repeated
    assert in_local == {i: v for i, v in control.items() if i not in repeated}


ABBREVIATED = [
    # text, zone whose local wall time it is (independent truth), CST override
    ("2026-08-09 11:34:00 MST", "America/Phoenix", None),
    ("2026-01-09 11:34:00 MST", "America/Denver", None),
    ("2026-07-09 11:34:00 MDT", "America/Denver", None),
    ("2026-01-09 11:34 PST", "America/Los_Angeles", None),
    ("2026-07-09 11:34 PDT", "America/Los_Angeles", None),
    ("2026-01-09 11:34 EST", "America/New_York", None),
    ("2026-07-09 11:34 EDT", "America/New_York", None),
    ("2026-07-09 11:34 CDT", "America/Chicago", None),
    ("2026-01-09 11:34 CST", "Asia/Shanghai", None),
    ("2026-07-09 11:34 CST", "Asia/Shanghai", None),
    ("2026-01-09 11:34 CST", "America/Chicago", "-06:00"),
    ("2026/1/9 11:34 UTC", "UTC", None),
    ("2026-01-09 11:34:00 GMT", "Europe/London", None),
]


@pytest.mark.parametrize(("text", "zone", "cst"), ABBREVIATED)
def test_times002_zone_abbreviations(text, zone, cst):
    # A site zone far from all of them: the abbreviation must win over it.
    extra = {"CST": cst} if cst else None
    parsed = parse_times_checked(pd.Series([text]), "Asia/Tokyo", abbreviations=extra)
    wall = datetime.strptime(
        text.rsplit(" ", 1)[0].replace("/", "-"),
        "%Y-%m-%d %H:%M" + (":%S" if text.count(":") == 2 else ""),
    )
    expected = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert not parsed.bad.iloc[0]
    assert parsed.times.iloc[0] == pd.Timestamp(expected)


def test_times003_unknown_or_lower_case_abbreviations_are_bad_not_guessed():
    parsed = parse_times_checked(
        pd.Series(["2026-01-09 11:34 IST", "2026-01-09 11:34 est", "2026-01-09 11:34 XST"]),
        "Asia/Shanghai",
    )
    assert parsed.bad.tolist() == [True, True, True]
    assert parsed.times.isna().all()


def test_times004_dst_gap_and_overlap_have_their_own_masks():
    values = pd.Series(
        [
            "2024-03-10 02:30",  # skipped in Chicago
            "2024-11-03 01:30",  # twice in Chicago
            "2024-11-03 01:30 CDT",  # the abbreviation settles it
            "2024-11-03 01:30-06:00",  # so does an offset
            "2024-11-03 03:30",
        ]
    )
    parsed = parse_times_checked(values, "America/Chicago")
    assert parsed.nonexistent.tolist() == [True, False, False, False, False]
    assert parsed.dst_ambiguous.tolist() == [False, True, False, False, False]
    assert parsed.bad.tolist() == [False] * 5
    chicago = ZoneInfo("America/Chicago")
    assert parsed.times.iloc[2] == pd.Timestamp(
        datetime(2024, 11, 3, 1, 30, tzinfo=chicago, fold=0).astimezone(UTC)
    )
    assert parsed.times.iloc[3] == pd.Timestamp(
        datetime(2024, 11, 3, 1, 30, tzinfo=chicago, fold=1).astimezone(UTC)
    )
    assert parsed.times.iloc[4] == pd.Timestamp("2024-11-03 09:30", tz="UTC")


def test_times005_time_format_reads_day_first_and_falls_back():
    values = pd.Series(["01/07/2025 19:30", "2025-07-01T11:30:00Z", "13/13/2025 10:00", ""])
    parsed = parse_times_checked(values, "Asia/Shanghai", time_format="%d/%m/%Y %H:%M")
    moment = pd.Timestamp("2025-07-01 11:30", tz="UTC")
    assert parsed.times.iloc[0] == moment  # day first, local Shanghai
    assert parsed.times.iloc[1] == moment  # not the format: read the usual way
    assert parsed.ambiguous.iloc[2]  # neither: still refused as ambiguous, never guessed
    assert not parsed.bad.iloc[3] and pd.isna(parsed.times.iloc[3])
    without = parse_times_checked(values, "Asia/Shanghai")
    assert without.ambiguous.iloc[0]


def test_times006_cst_china_by_default_us_central_by_config(engine, db_url, tmp_path):
    """Through ``feederwatch collect --once``: the options come from config.toml."""
    for name in ("china", "us", "dayfirst"):
        (tmp_path / name).mkdir()
    text = "outage_id,start,end,customers\nC1,2025-01-15 11:34:00 CST,2025-01-15 12:04 CST,7\n"
    (tmp_path / "china" / "outages.csv").write_text(text, "utf-8")
    (tmp_path / "us" / "outages.csv").write_text(text, "utf-8")
    (tmp_path / "dayfirst" / "outages.csv").write_text(
        "outage_id,start,customers\nD1,15/01/2025 11:34,3\n", "utf-8"
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n'
        '[sources.china]\ntype = "file"\npath = "china"\nsettle_seconds = 0\n'
        '[sources.us]\ntype = "file"\npath = "us"\nsettle_seconds = 0\n'
        'zone_abbreviations = {CST = "-06:00"}\n'
        '[sources.dayfirst]\ntype = "file"\npath = "dayfirst"\nsettle_seconds = 0\n'
        'time_format = "%d/%m/%Y %H:%M"\ntimezone = "America/Denver"\n',
        "utf-8",
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "collect", "--once"])
    assert result.exit_code == 0, result.output
    china = outages(engine, source="china").iloc[0]
    us = outages(engine, source="us").iloc[0]
    wall = datetime(2025, 1, 15, 11, 34)
    assert china["start"] == pd.Timestamp(
        wall.replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    )
    assert us["start"] == pd.Timestamp(
        wall.replace(tzinfo=ZoneInfo("America/Chicago")).astimezone(UTC)
    )
    assert us["start"] - china["start"] == timedelta(hours=14)
    assert us["end"] - us["start"] == timedelta(minutes=30)
    dayfirst = outages(engine, source="dayfirst").iloc[0]
    assert dayfirst["start"] == pd.Timestamp(
        wall.replace(tzinfo=ZoneInfo("America/Denver")).astimezone(UTC)
    )


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('timezone = "Mars/Olympus"', "timezone"),
        ('time_format = "dd/mm/yyyy"', "time_format"),
        ('zone_abbreviations = {CST = "-6"}', "zone_abbreviations"),
        ('zone_abbreviations = {cst = "-06:00"}', "zone_abbreviations"),
    ],
)
def test_times007_options_checked_at_start_up(line, key, tmp_path):
    text = f'[sources.x]\ntype = "file"\npath = "x"\n{line}\n'
    with pytest.raises(ConfigError) as caught:
        parse_settings(tomllib.loads(text), origin="config.toml", config_dir=tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert key in message and "config.toml" in message


def test_times008_ingest_reads_with_the_source_time_options(engine, db_url, tmp_path):
    """``feederwatch ingest --source`` applies the source's timezone as collect does; the DST
    reasons are listed in its summary and its exit status is 3 (some quarantined)."""
    rows = bc_rows()
    local = [{**r, **{c: local_text(r[c], False) for c in TIME_COLUMNS}} for r in rows]
    path = tmp_path / "outages_local.csv"
    write_csv(path, local)
    (tmp_path / "local").mkdir()
    (tmp_path / "utc").mkdir()
    (tmp_path / "abbrev").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(db_url=db_url), "utf-8")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "ingest", "outages", str(path), "--source", "bc_local"]
    )
    repeated_rows = sum(any(repeated_local_time(r[c]) for c in TIME_COLUMNS) for r in local)
    assert result.exit_code == 3, result.output
    assert any(
        line.split() == ["quarantined:", "time_ambiguous_dst", str(repeated_rows)]
        for line in result.output.splitlines()
    ), result.output
    first = next(
        r
        for r in rows
        if not any(repeated_local_time(local_text(r[c], False)) for c in TIME_COLUMNS)
    )
    stored = outages(engine, source="bc_local").set_index("outage_id")
    starts = {pd.Timestamp(r["dateOff"]) for r in rows if r["id"] == first["id"]}
    assert stored.loc[first["id"], "start"] in starts
