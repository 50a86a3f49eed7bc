"""Real third-party exports of several shapes, each loaded by configuration alone (issue 13).

Every data set is a small slice committed under tests/data/real/<name>/ with its PROVENANCE.md
(source, licence, what was cut). Each test writes a config.toml exactly as a new user would, runs
the real `feederwatch ingest KIND FILE --source NAME` (in-process through click's runner), and
compares what the database holds with figures computed here from the raw file with plain
pandas: counts, sums per region / category, quarantine reasons, the unmapped-value list,
low-voltage minutes. No code was written for any of these publishers. Runs on SQLite and
PostgreSQL (the ``db_url`` fixture); one load per data set and back end.

| data set | shape |
|---|---|
| DOE OE-417 2012 (US DOE, public domain) | XLSX, title row above the header, date and time in separate cells (from July both cells hold a full date-time), month-name separator rows, repeated header rows, `N/A`/`Unknown`/`UNK` customers, no event id, event type text -> cause classes and supply_shortage |
| DOE OE-417 2023 (public domain) | month-first text dates among date cells (`time_format`), four spellings of "unknown", events listed twice, a blank block of begin dates |
| Purdue major outages, California (CC BY 4.0) | XLSX, five title lines, a label column, a units row under the header, 57 columns of which 8 are used, times in the state's zone (one on a DST fall-back night), cause categories -> cause classes |
| DC 311 service requests (Open Data DC, CC BY 4.0) | ticket export with service codes -> complaint categories, `NA`/`NULL` blanks, 36 columns of which 5 are used |
| UCI household voltage (CC BY 4.0) | `;`-separated 230 V one-minute series without an area column |

BC Hydro's outage year (CSV, repeated ids, version column) is loaded by
tests/collectors/test_real_data.py; the GIS segment export (Oberrhein 20 kV) there too.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from db.engine import make_engine
from db.queries import complaints, outages, quarantine, voltage_rollups

REAL = Path(__file__).parents[1] / "data" / "real"
OE417 = REAL / "doe-oe417-2012" / "oe417_2012.xlsx"
OE417_2023 = REAL / "doe-oe417-2012" / "oe417_2023.xlsx"
PURDUE = REAL / "purdue-major-outages" / "outage_california.xlsx"
DC311 = REAL / "dc-311-requests" / "dc_311-2016_100.csv"
UCI = REAL / "uci-household-voltage" / "household_voltage_2007-02-01_02.csv"

# The configurations, as docs/onboarding.md shows them (tests/cli/test_check.py removes one key
# of each and checks that `feederwatch check` names what is then missing).
OE417_CONFIG = """
[sources.oe417]
type = "file"
path = "drop/oe417"
kind = "outages"
header = 1                                  # a title row above the header
na_values = ["N/A", "Unknown", "UNK", "Ongoing"]
timezone = "America/New_York"
mapping = { "Area Affected" = "area_text", "NERC Region" = "region", "Event Type" = "cause", "Number of Customers Affected" = "customers" }
combine = { start = ["Date Event Began", "Time Event Began"], end = ["Date of Restoration", "Time of Restoration"] }
id_from = ["start", "area_text"]

[sources.oe417.value_map.cause]
patterns = { "weather|storm|hurricane|heat|wind|ice|snow|lightning" = "weather", "attack|sabotage|vandalism|theft" = "third_party", "load shed|public appeal|voltage reduction|fuel supply" = "supply_shortage", "transmission|equipment|fault|failure" = "equipment" }

[sources.oe417.value_map.supply_shortage]
from = "cause"
patterns = { "load shed|public appeal|voltage reduction|fuel supply" = true, "." = false }
"""

OE417_2023_CONFIG = """
[sources.oe417_2023]
type = "file"
path = "drop/oe417_2023"
kind = "outages"
header = 1
na_values = ["Unknown", "Unknown ", "- Unknown", "Unkonwn"]   # as the 2023 table writes it
timezone = "America/New_York"
time_format = "%m/%d/%Y %H:%M:%S"           # US month-first dates: 01/09/2023 is 9 January
mapping = { "Area Affected" = "area_text", "NERC Region" = "region", "Event Type" = "cause", "Number of Customers Affected" = "customers" }
combine = { start = ["Date Event Began", "Time Event Began"], end = ["Date of Restoration", "Time of Restoration"] }
id_from = ["start", "area_text"]
"""

PURDUE_CONFIG = """
[sources.purdue]
type = "file"
path = "drop/purdue"
kind = "outages"
header = 5                                  # five title lines; the units row follows the header
timezone = "America/Los_Angeles"            # a one-state slice: the state's zone
mapping = { "OBS" = "outage_id", "CUSTOMERS.AFFECTED" = "customers", "CAUSE.CATEGORY" = "cause", "NERC.REGION" = "region" }
combine = { start = ["OUTAGE.START.DATE", "OUTAGE.START.TIME"], end = ["OUTAGE.RESTORATION.DATE", "OUTAGE.RESTORATION.TIME"] }

[sources.purdue.value_map.cause]
values = { "severe weather" = "weather", "equipment failure" = "equipment", "intentional attack" = "third_party", "public appeal" = "supply_shortage", "fuel supply emergency" = "supply_shortage" }

[sources.purdue.value_map.supply_shortage]
from = "cause"
values = { "public appeal" = true, "fuel supply emergency" = true }
patterns = { "." = false }
"""

DC311_CONFIG = """
[sources.dc311]
type = "file"
path = "drop/dc311"
kind = "complaints"
na_values = ["NA", "NULL"]
mapping = { "SERVICEREQUESTID" = "ticket_id", "ADDDATE" = "time", "SERVICECODE" = "category", "SITEADDRESS" = "address", "SERVICENOTES" = "text" }

[sources.dc311.value_map.category]
values = { S05SL = "outage", S05AL = "outage" }   # street and alley light out
default = "other"
"""

UCI_CONFIG = """
[sources.uci]
type = "file"
path = "drop/uci"
kind = "voltage"
sep = ";"
timezone = "Europe/Paris"
mapping = { "DateTime" = "time", "Voltage" = "va", "Global_active_power" = "kw" }
constants = { transformer = "SCEAUX" }      # one meter, no area column
nominal_v = 230
voltage_unit = "V"
authoritative = true                        # registers the area SCEAUX
"""

CONFIGS = {
    "oe417": OE417_CONFIG,
    "oe417_2023": OE417_2023_CONFIG,
    "purdue": PURDUE_CONFIG,
    "dc311": DC311_CONFIG,
    "uci": UCI_CONFIG,
}
SUMMARY_LINE = re.compile(r"^\s+(.+?)\s{2,}([\d,]+)$", re.MULTILINE)


def ingest(tmp_path: Path, db_url: str, name: str, kind: str, path: Path):
    """`feederwatch ingest KIND PATH --source NAME` with only the source's config, in-process."""
    from click.testing import CliRunner

    from feederwatch.cli import cli

    config = tmp_path / "fw.toml"
    config.write_text(CONFIGS[name], encoding="utf-8")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(
            cli,
            ["--config", str(config), "ingest", kind, str(path), "--source", name],
            env={"FEEDERWATCH_DATABASE_URL": db_url},
            catch_exceptions=False,
        )
    finally:
        os.chdir(here)
    lines = {k.strip(): int(v.replace(",", "")) for k, v in SUMMARY_LINE.findall(result.stdout)}
    return result, lines


def notes_of(lines: dict[str, int], column: str) -> dict[str, int]:
    prefix = f"note: unmapped {column}: "
    return {k[len(prefix) :]: v for k, v in lines.items() if k.startswith(prefix)}


def at(date, clock) -> pd.Timestamp | None:
    """A date cell and a time cell as one naive time: the date cell's date, the time cell's
    time of day (a time cell may hold a full date-time, as OE-417's do from July 2012)."""
    if not isinstance(date, dt.datetime):
        return None
    if isinstance(clock, dt.datetime):
        clock = clock.time()
    if not isinstance(clock, dt.time):
        return None
    return pd.Timestamp(dt.datetime.combine(date.date(), clock))


def local_utc(naive: pd.Series, zone: str) -> pd.Series:
    return naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")


# --- DOE OE-417 2012 --------------------------------------------------------------------------
def test_real_shape001_doe_oe417_xlsx_title_row_split_times_no_id(db_url, tmp_path):
    raw = pd.read_excel(OE417, header=1, dtype=object)
    first = raw.columns[0]
    dated = raw[raw[first].map(lambda v: isinstance(v, dt.datetime))].copy()
    text_rows = raw[first].map(lambda v: isinstance(v, str))
    headers_again = int((raw[first] == first).sum())  # the header repeated on every page
    separators = int(raw[first].notna().sum()) - len(dated) - headers_again  # months, footnote
    dated["start"] = local_utc(
        pd.Series(
            [at(d, t) for d, t in zip(dated.iloc[:, 0], dated.iloc[:, 1])], index=dated.index
        ),
        "America/New_York",
    )
    dated["end"] = local_utc(
        pd.Series(
            [at(d, t) for d, t in zip(dated.iloc[:, 2], dated.iloc[:, 3])],
            index=dated.index,
            dtype="datetime64[ns]",
        ),
        "America/New_York",
    )
    unknown = {"N/A", "Unknown", "UNK"}
    customers = pd.to_numeric(
        dated["Number of Customers Affected"].map(
            lambda v: None if (isinstance(v, str) and v.strip() in unknown) else v
        ),
        errors="coerce",
    )
    dated["region"] = dated["NERC Region"].astype(str).str.strip()
    dated["Event Type"] = dated["Event Type"].fillna("").astype(str).str.strip()  # one is blank

    result, lines = ingest(tmp_path, db_url, "oe417", "outages", OE417)
    assert result.exit_code == 3, result.stdout + result.stderr  # some rows set aside
    assert lines["read"] == len(raw) - int(raw.isna().all(axis=1).sum())
    assert lines["upserted"] == len(dated) == 196
    # Repeated header rows cannot be read as times; month rows have a date cell but no time.
    assert lines["quarantined: bad_time"] == headers_again == 7
    assert lines["quarantined: combine_blank_part"] == separators == int(text_rows.sum()) - 7
    assert lines["note: customers_unknown"] == int(customers.isna().sum())

    engine = make_engine(db_url)
    stored = outages(engine, source="oe417").sort_values("start").reset_index(drop=True)
    truth = dated.sort_values("start").reset_index(drop=True)
    assert len(stored) == len(truth)
    assert stored["outage_id"].is_unique  # derived from start and area: every event distinct
    assert (stored["start"].to_numpy() == truth["start"].to_numpy()).all()
    assert int(stored["end"].isna().sum()) == int(truth["end"].isna().sum())  # "Ongoing"
    # per-region customer sums and counts, NULL (unknown) customers left out as pandas does
    by_region = stored.groupby("region")["customers"].agg(["sum", "size"])
    expected = truth.assign(customers=customers.reindex(dated.index).to_numpy()).groupby("region")[
        "customers"
    ]
    assert by_region["size"].to_dict() == expected.size().to_dict()
    assert by_region["sum"].to_dict() == pytest.approx(expected.sum().to_dict())
    # Hurricane Sandy rows: the time cell carries a wrong date; the date column's date is used
    sandy = stored[stored["start"] == pd.Timestamp("2012-10-29 22:46", tz="UTC")]
    assert sandy["end"].tolist() == [pd.Timestamp("2012-11-03 14:45", tz="UTC")]
    # Event types -> cause classes by pattern; what no pattern takes is listed with its count
    # (the source's own typo "Vandalsim" among them), and the repeated header's text too.
    patterns = re.compile(r"weather|storm|hurricane|heat|wind|ice|snow|lightning", re.I)
    others = re.compile(
        r"attack|sabotage|vandalism|theft|load shed|public appeal|voltage reduction"
        r"|fuel supply|transmission|equipment|fault|failure",
        re.I,
    )
    events = raw["Event Type"].dropna().astype(str).str.strip()
    unmatched = events[~events.map(lambda e: bool(patterns.search(e) or others.search(e)))]
    assert notes_of(lines, "cause") == unmatched.value_counts().to_dict()
    assert "Vandalsim" in notes_of(lines, "cause")
    assert notes_of(lines, "supply_shortage") == {}  # the catch-all pattern "." = false
    shortage = truth["Event Type"].str.contains(
        "load shed|public appeal|voltage reduction|fuel supply", case=False
    )
    assert int(stored["supply_shortage"].sum()) == int(shortage.sum()) > 0
    assert (stored.loc[stored["cause"] == "weather"].shape[0]) == int(
        truth["Event Type"].map(lambda e: bool(patterns.search(e))).sum()
    )
    engine.dispose()


# --- DOE OE-417 2023: month-first text dates among date cells, four spellings of "unknown" ---
def _date_cell(value):
    """A date cell as a date: a date-time cell, or text written month-first (US)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str) and re.fullmatch(r"\d{2}/\d{2}/\d{4}", value):
        return dt.datetime.strptime(value, "%m/%d/%Y").date()
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else "bad"


def _time_cell(value):
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value):
        return dt.datetime.strptime(value, "%H:%M").time()
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else "bad"


def test_real_shape006_doe_oe417_2023_us_dates_by_time_format(db_url, tmp_path):
    raw = pd.read_excel(OE417_2023, header=1, dtype=object)
    unknown = {"Unknown", "Unknown ", "- Unknown", "Unkonwn"}
    cells = raw.iloc[:, 1:5].map(lambda v: None if isinstance(v, str) and v in unknown else v)
    expected = {"land": [], "combine_blank_part": 0, "bad_time": 0, "end_before_start": 0}
    for index, (d0, t0, d1, t1) in cells.iterrows():
        parts = [_date_cell(d0), _time_cell(t0), _date_cell(d1), _time_cell(t1)]
        if (parts[0] is None) != (parts[1] is None) or (parts[2] is None) != (parts[3] is None):
            expected["combine_blank_part"] += 1  # a date without its time, or the reverse
        elif "bad" in parts or parts[0] is None:
            expected["bad_time"] += 1
        else:
            start = dt.datetime.combine(parts[0], parts[1])
            end = dt.datetime.combine(parts[2], parts[3]) if parts[2] is not None else None
            if end is not None and end < start:
                expected["end_before_start"] += 1
            else:
                expected["land"].append((index, start, end))
    landed = pd.DataFrame(expected["land"], columns=["row", "start", "end"]).set_index("row")
    landed["start"] = local_utc(landed["start"], "America/New_York")
    landed["area"] = raw.loc[landed.index, "Area Affected"].map(_norm_text)
    landed["region"] = raw.loc[landed.index, "NERC Region"].astype(str).str.strip()
    landed["customers"] = pd.to_numeric(
        raw.loc[landed.index, "Number of Customers Affected"], errors="coerce"
    )
    # The table lists some events twice (same start, same area): one derived id, one record.
    keys = landed.groupby(["start", "area"]).size()

    result, lines = ingest(tmp_path, db_url, "oe417_2023", "outages", OE417_2023)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert lines["upserted"] + lines["unchanged"] == len(landed) == 314
    assert lines["upserted"] == len(keys) == 304
    assert lines["quarantined: combine_blank_part"] == expected["combine_blank_part"] == 33
    assert lines["quarantined: bad_time"] == expected["bad_time"] == 1  # "1/0/1900"
    assert lines.get("quarantined: end_before_start", 0) == expected["end_before_start"]
    engine = make_engine(db_url)
    stored = outages(engine, source="oe417_2023")
    assert len(stored) == len(keys)
    stored["area"] = stored["area_text"].map(_norm_text)
    assert sorted(zip(stored["start"], stored["area"])) == sorted(keys.index)
    # per-region customers over the events listed once (a repeated one keeps one report)
    once = keys[keys == 1].index
    truth_once = landed.set_index(["start", "area"]).loc[once]
    stored_once = stored.set_index(["start", "area"]).loc[once]
    assert stored_once.groupby("region")["customers"].sum().to_dict() == pytest.approx(
        truth_once.groupby("region")["customers"].sum().to_dict()
    )
    assert int(stored_once["end"].isna().sum()) == int(truth_once["end"].isna().sum())
    engine.dispose()


def _norm_text(value) -> str:
    return re.sub(r"\s+", " ", str(value).strip()).upper()


# --- Purdue major outages, California -------------------------------------------------------
def test_real_shape002_purdue_xlsx_units_row_state_zone(db_url, tmp_path):
    raw = pd.read_excel(PURDUE, header=5, dtype=object)
    units = raw["variables"] == "Units"
    rows = raw[~units & raw["OBS"].notna()].copy()
    start_naive = pd.Series(
        [at(d, t) for d, t in zip(rows["OUTAGE.START.DATE"], rows["OUTAGE.START.TIME"])],
        index=rows.index,
        dtype="datetime64[ns]",
    )
    rows["start"] = local_utc(start_naive, "America/Los_Angeles")
    in_overlap = rows["start"].isna() & start_naive.notna()  # 01:xx on a fall-back night
    landed = rows[rows["start"].notna()]
    customers = pd.to_numeric(landed["CUSTOMERS.AFFECTED"], errors="coerce")

    result, lines = ingest(tmp_path, db_url, "purdue", "outages", PURDUE)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert lines["upserted"] == len(landed) == 209
    assert lines["quarantined: missing_id"] == int(units.sum()) == 1  # the units row
    assert lines["quarantined: time_ambiguous_dst"] == int(in_overlap.sum()) == 1
    assert lines["note: customers_unknown"] == int(customers.isna().sum())
    assert notes_of(lines, "cause") == (
        rows["CAUSE.CATEGORY"]
        .loc[
            ~rows["CAUSE.CATEGORY"].isin(
                [
                    "severe weather",
                    "equipment failure",
                    "intentional attack",
                    "public appeal",
                    "fuel supply emergency",
                ]
            )
        ]
        .value_counts()
        .to_dict()
    )  # "system operability disruption" and "islanding" are listed, never folded in

    engine = make_engine(db_url)
    stored = outages(engine, source="purdue").set_index("outage_id")
    truth = landed.assign(customers=customers).set_index(landed["OBS"].astype(int).astype(str))
    assert sorted(stored.index) == sorted(truth.index)
    assert (stored["start"] == truth["start"].reindex(stored.index)).all()
    assert stored["customers"].sum() == pytest.approx(truth["customers"].sum())
    assert int(stored["customers"].isna().sum()) == int(truth["customers"].isna().sum())
    named = {
        "severe weather": "weather",
        "equipment failure": "equipment",
        "intentional attack": "third_party",
        "public appeal": "supply_shortage",
        "fuel supply emergency": "supply_shortage",
    }
    expected_cause = truth["CAUSE.CATEGORY"].map(lambda c: named.get(c, c))
    assert stored.groupby("cause")["customers"].sum().to_dict() == pytest.approx(
        truth.groupby(expected_cause)["customers"].sum().to_dict()
    )
    shortage = truth["CAUSE.CATEGORY"].isin(["public appeal", "fuel supply emergency"])
    assert int(stored["supply_shortage"].sum()) == int(shortage.sum()) == 26
    # outages with a restoration date and time end; the rest stay open (NULL end)
    restored = truth["OUTAGE.RESTORATION.DATE"].notna() & truth["OUTAGE.RESTORATION.TIME"].notna()
    assert int(stored["end"].notna().sum()) == int(restored.sum())
    engine.dispose()


# --- DC 311 service requests ------------------------------------------------------------------
def test_real_shape003_dc311_service_codes_to_complaint_categories(db_url, tmp_path):
    raw = pd.read_csv(DC311, dtype=str, keep_default_na=False)
    lights = raw["SERVICECODE"].isin(["S05SL", "S05AL"])

    result, lines = ingest(tmp_path, db_url, "dc311", "complaints", DC311)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert lines["read"] == lines["upserted"] == len(raw) == 99
    # every code the map does not know is listed with its count (the 20 most frequent by name)
    unmapped = raw.loc[~lights, "SERVICECODE"].value_counts()
    listed = notes_of(lines, "category")
    assert sum(listed.values()) == int(unmapped.sum())
    for code, count in listed.items():
        if code != "(other values)":
            assert unmapped[code] == count
    assert set(unmapped[unmapped >= 2].index) <= set(listed)

    engine = make_engine(db_url)
    stored = complaints(engine).set_index("ticket_id")
    assert sorted(stored.index) == sorted(raw["SERVICEREQUESTID"])
    truth = raw.set_index("SERVICEREQUESTID").reindex(stored.index)
    expected = truth["SERVICECODE"].map(lambda c: "outage" if c in ("S05SL", "S05AL") else "other")
    assert stored["category"].value_counts().to_dict() == expected.value_counts().to_dict()
    assert (stored["category"] == expected).all()
    assert (stored["time"] == pd.to_datetime(truth["ADDDATE"], utc=True)).all()  # "...Z": UTC
    # "NA" and "NULL" cells are blanks, not text
    assert int(stored["text"].isna().sum()) == int(
        truth["SERVICENOTES"].isin(["NA", "NULL", ""]).sum()
    )
    assert quarantine(engine, source="dc311").empty
    engine.dispose()


# --- UCI household voltage, by configuration --------------------------------------------------
def test_real_shape004_uci_230v_series_by_configuration(db_url, tmp_path):
    raw = pd.read_csv(UCI, sep=";")
    volts = (raw["Voltage"].astype(float) * 10).round() / 10  # stored to 0.1 V
    above = int((volts > 1.07 * 230).sum())

    result, lines = ingest(tmp_path, db_url, "uci", "voltage", UCI)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert lines["upserted"] == len(raw) == 2880
    engine = make_engine(db_url)
    hourly = voltage_rollups(engine, "h", transformers=["SCEAUX"])
    x = hourly[hourly["phase"] == "X"]
    assert x["minutes_monitored"].sum() == len(raw)  # one-minute readings, interval from data
    assert x["minutes_above"].sum() == above == 2
    assert x["minutes_below"].sum() == int((volts < 0.90 * 230).sum()) == 0
    assert x["v_max"].max() == pytest.approx(volts.max(), abs=0.051)
    engine.dispose()


def test_real_shape005_onboarding_shows_these_configurations_verbatim():
    """docs/onboarding.md's recipes for these exports are the configurations tested here."""
    text = (Path(__file__).parents[2] / "docs" / "onboarding.md").read_text("utf-8")
    for name, config in CONFIGS.items():
        assert f"```toml\n{config.strip()}\n```" in text, name


def test_real_shape007_combine_date_and_time_cells_that_each_hold_a_date_time():
    """The combine rule OE-417 needed, on its own cells (read as text as the XLSX reader gives
    them), and what it must leave alone: a zone column after a full date-time."""
    from collectors.options import ShapingOptions
    from collectors.shaping import shape

    raw = pd.read_excel(OE417, header=1, dtype=str)
    begin, began_at = raw.columns[0], raw.columns[1]
    july = raw[raw[begin].str.startswith("2012-07-19", na=False)].head(1)
    assert july[began_at].iloc[0].startswith("2012-07-19 ")  # both cells hold date and time
    cells = pd.concat(
        [
            july[[begin, began_at]],
            pd.DataFrame({begin: ["2012-10-29 00:00:00"], began_at: ["2012-10-25 10:45:00"]}),
            pd.DataFrame({begin: ["2026-08-09 11:34:00"], began_at: ["MST"]}),
        ],
        ignore_index=True,
    )
    options = ShapingOptions(combine={"start": [begin, began_at]})
    shaped = shape(cells, "outages", options, "UTC")
    assert shaped.frame["start"].tolist() == [
        july[began_at].iloc[0],  # date from the date cell, time of day from the time cell
        "2012-10-29 10:45:00",  # where they disagree, the date column says the date
        "2026-08-09 11:34:00 MST",  # a zone column: the date-time stays whole
    ]
    assert shaped.rejected.empty
