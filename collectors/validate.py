"""Vectorised validation of canonical raw records into storable rows, with reasons for the rest.

Every check works on whole columns (pandas), never row by row. A record fails with the FIRST
reason found, in the order the checks are written; the reason codes are listed in REASONS and in
docs/formats.md. Conversions that keep a record (kV or line-to-line voltages, a (0, 0) point)
are counted in ``notes`` instead.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from analytics.voltage import LV_MAX_NOMINAL_V, STORAGE_BASE_V
from collectors.parse import (
    blank,
    clean_text,
    epoch_seconds,
    mask,
    parse_bools,
    parse_numbers,
    parse_times,
    parse_times_checked,
)
from db.models import COMPLAINT_CATEGORIES

MAX_ID_LEN = 64
MAX_TEXT_LEN = 10_000
MAX_CUSTOMERS = 5_000_000
EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")
FUTURE_SLACK = timedelta(days=2)
ETR_HORIZON_DAYS = 60
STUCK_RUN = 8  # identical readings in a row (2 h at 15 min) = a stuck meter
PLAUSIBLE_VOLTS = (100.0, 300.0)
KV_RANGE = (0.1, 0.3)
LINE_TO_LINE_RANGE = (300.0, 460.0)

REASONS: dict[str, str] = {
    # whole input
    "empty_file": "the file has no records",
    "undecodable": "the file is not text in UTF-8, UTF-8 with BOM, GBK or GB18030",
    "missing_column": "a required column is missing",
    "duplicate_header": "two columns have the same header",
    "malformed_file": "the file cannot be parsed as CSV, XLSX or JSON",
    "file_too_large": "the file exceeds the size limit",
    "zip_bomb": "the XLSX archive expands beyond the size limit",
    "unknown_kind": "the kind of records cannot be told from the file name or its columns",
    "path_outside_folder": "the file lies outside the source folder",
    "too_many_columns": "the header has more columns than max_columns allows",
    "records_path_not_found": "the JSON document has no list of records at records_path",
    "sheet_not_found": "the XLSX workbook has no sheet of the configured name or position",
    "unreadable_file": "the file cannot be opened or read (permissions, I/O error)",
    # any record
    "missing_id": "the record has no id",
    "id_too_long": f"the id is longer than {MAX_ID_LEN} characters",
    "formula_like_id": "the id starts with =, +, -, or @ (a spreadsheet formula)",
    "huge_field": f"a text field is longer than {MAX_TEXT_LEN} characters",
    "truncated_row": "the last row of the file is cut off",
    "bad_row_shape": "the row has more or fewer fields than the header",
    "not_an_object": "the item of a JSON list or feed is not an object (a number, text, null)",
    # shaping (collectors/shaping.py)
    "id_from_blank": "a column the derived id is made from (id_from) is blank",
    "combine_blank_part": "a column combined into one value is blank (e.g. a date without time)",
    "missing_time": "the record has no time",
    "bad_time": "a time cannot be parsed",
    "ambiguous_time": "a day-first or month-first date (01/07/2025) is ambiguous",
    "time_nonexistent_dst": "the local time does not exist (skipped when clocks went forward)",
    "time_ambiguous_dst": "the local time occurs twice (clocks went back) and has no offset",
    "time_in_future": "the time lies in the future",
    "time_too_old": "the time is before 1990",
    "bad_version": "the version is neither a number nor a time",
    "unknown_substation": "the substation is not in the network",
    "unknown_feeder": "the feeder is not in the network",
    "unknown_transformer": "the transformer area is not in the network",
    # network models (collectors/network_import, issue 14): broken references in the model
    "network_unknown_bus": "a line, switch or transformer names a bus missing from the bus table",
    "network_unknown_line": "a switch sits on a line missing from the line table",
    "network_bad_value": "a switch or line state cannot be read (taken as open)",
    "feeder_mismatch": "the transformer area belongs to another feeder",
    "bad_boolean": "a yes/no field has another value",
    # outages
    "end_before_start": "the end is before the start",
    "bad_customers": "customers is not a whole number",
    "negative_customers": "customers is negative",
    "absurd_customers": f"customers is above {MAX_CUSTOMERS:,}",
    "customers_exceed_served": "more customers out than the feeder or area serves",
    "bad_coordinate": "longitude or latitude is not a number",
    "bad_level": "level is not substation, feeder or transformer",
    # voltage
    "voltage_missing": "no phase voltage given",
    "voltage_not_numeric": "a voltage is not a number",
    "voltage_zero": "a phase voltage is 0 (meter or wiring fault)",
    "voltage_out_of_range": "a voltage is outside 100-300 V after unit conversion",
    "voltage_out_of_level_range": "a voltage is outside plausible_pu × its nominal voltage",
    "bad_nominal": "the nominal voltage is not a positive number",
    "voltage_stuck": f"the meter repeated the same values {STUCK_RUN} or more times",
    "bad_power": "active power is not a plausible number",
    "conflicting_duplicate": "the same area and time appear twice with different values",
    "bad_phase": "phase is not A, B, C or P",
    "bad_date": "the date of a daily curve cannot be parsed",
    "bad_point_count": "a daily curve does not have 24 or 96 points",
    # complaints
    "unknown_category": "the category is not one of the complaint categories",
    # network
    "bad_geometry": "the geometry is neither WKT nor GeoJSON lines",
    "bad_number": "a numeric attribute is not a number or is negative",
    "bad_kind": "kind is not public/dedicated (公变/专变)",
}

CATEGORY_NAMES = {
    "停电": "outage",
    "频繁停电": "frequent_outage",
    "低电压": "low_voltage",
    "电压波动": "voltage_fluctuation",
    "抢修超时": "repair_timeout",
    "抢修质量": "repair_quality",
    "客户内部故障": "customer_side_fault",
    "窃电": "power_theft",
    "电费": "billing",
    "服务态度": "service_attitude",
    "其他": "other",
}


REQUIRED_COLUMNS = {
    "outages": ("outage_id", "start"),
    "voltage": ("transformer", "time"),
    "complaints": ("ticket_id", "time"),
    "substations": ("substation",),
    "feeders": ("feeder", "substation"),
    "transformers": ("transformer", "feeder"),
}


class InputRefused(Exception):
    """An input refused whole; ``code`` is one of REASONS."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.text = REASONS[code] + (f": {detail}" if detail else "")
        super().__init__(self.text)


def check_columns(frame: pd.DataFrame, kind: str) -> None:
    """Refuse a batch whose (mapped) columns lack one that every record of ``kind`` needs."""
    for name in REQUIRED_COLUMNS[kind]:
        if name not in frame.columns:
            raise InputRefused("missing_column", name)


@dataclass
class Context:
    """What validation needs to know about the world: the network and the clock."""

    tz: str = "Asia/Shanghai"
    substations: dict[str, int] = field(default_factory=dict)
    feeders: dict[str, int] = field(default_factory=dict)
    transformers: dict[str, int] = field(default_factory=dict)
    feeder_of_substation: dict[str, str] = field(
        default_factory=dict
    )  # feeder code -> substation code
    feeder_of_transformer: dict[str, str] = field(default_factory=dict)
    served_feeder: dict[str, int] = field(default_factory=dict)
    served_transformer: dict[str, int] = field(default_factory=dict)
    authoritative: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    suspicious_hours: float = 168.0
    version_column: str | None = None
    # --- times --- (a source's own: timezone is in tz; None = the usual forms only)
    time_format: str | None = None
    zone_abbreviations: dict[str, str] | None = None
    # Voltage levels (docs/formats.md "Voltage at any level"); the defaults keep 220 V areas'
    # long-standing unit rules.
    voltage_unit: str = "auto"
    nominal_v: float | None = None
    plausible_pu: tuple[float, float] = (0.5, 1.5)


@dataclass
class Checked:
    """The outcome of validating one batch: rows to store, rows refused, counted notes."""

    good: pd.DataFrame
    rejected: pd.DataFrame  # index = raw row index; columns reason_code, reason_text
    notes: Counter = field(default_factory=Counter)
    new_codes: dict[str, set[str]] = field(default_factory=dict)  # authoritative registrations


class Rejects:
    """First-reason-wins accumulator of rejected rows (numpy arrays: it is asked for every
    check of every row, so it must cost next to nothing for the good ones)."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.bad = np.zeros(len(index), dtype=bool)
        self.code = np.full(len(index), None, dtype=object)
        self.text = np.full(len(index), None, dtype=object)

    def add(self, where, code: str, detail: str | pd.Series | None = None) -> None:
        if isinstance(where, pd.Series):
            where = (
                where.reindex(self.index, fill_value=False)
                if not where.index.equals(self.index)
                else where
            )
            where = where.to_numpy(dtype=bool, na_value=False)
        new = np.asarray(where, dtype=bool) & ~self.bad
        if not new.any():
            return
        self.bad |= new
        self.code[new] = code
        if isinstance(detail, pd.Series):
            # Format only the offending values: a million good rows cost nothing here.
            shown = detail[new].astype(object).astype(str).str.slice(0, 60)
            self.text[new] = (REASONS[code] + ": " + shown).to_numpy(dtype=object)
        else:
            self.text[new] = REASONS[code] + (f": {detail}" if detail else "")

    @property
    def ok(self) -> pd.Series:
        return pd.Series(~self.bad, index=self.index)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"reason_code": self.code[self.bad], "reason_text": self.text[self.bad]},
            index=self.index[self.bad],
        )


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def _check_id(
    rej: Rejects, values: pd.Series, what: str = "id", required: bool = True
) -> pd.Series:
    # Ids repeat (a million readings of a few thousand areas): check each distinct id once.
    codes, uniques = pd.factorize(clean_text(values), use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype="string")
    too_long = (distinct.str.len() > MAX_ID_LEN).to_numpy(bool)
    formula = mask(distinct.str.match(r"^[=+\-@]")).to_numpy(bool)
    text = pd.Series(np.append(np.asarray(uniques, dtype=object), None)[codes], index=values.index)
    if required:
        rej.add(pd.Series(codes < 0, index=values.index), "missing_id", what)
    present = codes >= 0
    rej.add(
        pd.Series(present & np.append(too_long, False)[codes], index=values.index),
        "id_too_long",
        what,
    )
    rej.add(
        pd.Series(present & np.append(formula, False)[codes], index=values.index),
        "formula_like_id",
        what,
    )
    return text


def _check_texts(rej: Rejects, frame: pd.DataFrame, columns) -> None:
    for name in columns:
        if name in frame:
            lengths = frame[name].astype("string").str.len().fillna(0)
            rej.add(lengths > MAX_TEXT_LEN, "huge_field", name)


def _check_time(
    rej: Rejects,
    values: pd.Series,
    ctx: Context,
    what: str,
    required: bool,
    future_ok: bool = False,
    notes: Counter | None = None,
) -> pd.Series:
    parsed = parse_times_checked(
        values, ctx.tz, time_format=ctx.time_format, abbreviations=ctx.zone_abbreviations
    )
    times = parsed.times
    if required:
        rej.add(blank(values), "missing_time", what)
    rej.add(parsed.ambiguous, "ambiguous_time", what)
    in_zone = f" in {ctx.tz}"
    if parsed.nonexistent.any():
        detail = _shown(values, parsed.nonexistent, what, in_zone)
        rej.add(parsed.nonexistent, "time_nonexistent_dst", detail)
    if parsed.dst_ambiguous.any():
        detail = _shown(values, parsed.dst_ambiguous, what, in_zone)
        rej.add(parsed.dst_ambiguous, "time_ambiguous_dst", detail)
    rej.add(parsed.bad, "bad_time", values)
    # Readable but beyond what can be stored (year 0001, 2300, 9999): refused for this row only.
    if parsed.too_late.any() and not future_ok:
        rej.add(parsed.too_late, "time_in_future", _shown(values, parsed.too_late, what))
    elif parsed.too_late.any() and notes is not None:
        # An estimate centuries ahead is the typo an ETR years ahead is: cleared (NaT already).
        notes["etr_implausible_cleared"] += int((parsed.too_late & rej.ok).sum())
    if parsed.too_early.any():
        rej.add(parsed.too_early, "time_too_old", _shown(values, parsed.too_early, what))
    if not future_ok:
        rej.add(times > pd.Timestamp(ctx.now + FUTURE_SLACK), "time_in_future", what)
    rej.add(times < EARLIEST, "time_too_old", what)
    return times


def _shown(values: pd.Series, where: pd.Series, what: str, after: str = "") -> pd.Series:
    """``what VALUE after`` for the rows ``where`` (the others blank): only offending values
    are formatted (a million parsed times formatted as text cost seconds)."""
    out = pd.Series("", index=values.index, dtype=object)
    out[where] = what + " " + values[where].astype(str) + after
    return out


def _check_version(rej: Rejects, frame: pd.DataFrame, ctx: Context) -> pd.Series:
    column = ctx.version_column if ctx.version_column in frame else "version"
    raw = _col(frame, column)
    numbers, bad_number = parse_numbers(raw)
    times, bad_time, _ = parse_times(
        raw.where(bad_number, None),
        ctx.tz,
        time_format=ctx.time_format,
        abbreviations=ctx.zone_abbreviations,
    )
    version = numbers.where(~bad_number, epoch_seconds(times))
    rej.add(bad_number & bad_time, "bad_version", raw)
    return version


def _lookup(
    rej: Rejects,
    codes: pd.Series,
    known: dict[str, int],
    reason: str,
    ctx: Context,
    new_codes: dict[str, set[str]],
    table: str,
) -> pd.Series:
    positions, uniques = pd.factorize(codes, use_na_sentinel=True)
    found = np.array([known.get(u, np.nan) for u in uniques] + [np.nan], dtype=np.float64)
    ids = pd.Series(found[positions], index=codes.index)
    unknown = pd.Series(positions >= 0, index=codes.index) & ids.isna()
    if ctx.authoritative:
        if unknown.any():
            new_codes.setdefault(table, set()).update(codes[unknown & rej.ok].tolist())
    else:
        rej.add(unknown, reason, codes)
    return ids


def validate_outages(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Outage records -> rows for ``upsert_outages`` (see db.upsert.OUTAGE_COLUMNS)."""
    rej = Rejects(frame.index)
    notes: Counter = Counter()
    new_codes: dict[str, set[str]] = {}
    natural_id = _check_id(rej, _col(frame, "outage_id"), "outage_id")
    event_id = _check_id(rej, _col(frame, "event_id"), "event_id", required=False)
    substation = _check_id(rej, _col(frame, "substation"), "substation", required=False)
    feeder = _check_id(rej, _col(frame, "feeder"), "feeder", required=False)
    transformer = _check_id(rej, _col(frame, "transformer"), "transformer", required=False)
    _check_texts(rej, frame, ("area_text", "cause", "region"))
    start = _check_time(rej, _col(frame, "start"), ctx, "start", required=True)
    end = _check_time(rej, _col(frame, "end"), ctx, "end", required=False)
    etr = _check_time(
        rej, _col(frame, "etr"), ctx, "etr", required=False, future_ok=True, notes=notes
    )
    rej.add(end < start, "end_before_start")
    # An estimate years ahead is a typo in the estimate, not a reason to lose the outage.
    implausible_etr = (etr - start) > pd.Timedelta(days=ETR_HORIZON_DAYS)
    notes["etr_implausible_cleared"] += int((implausible_etr & rej.ok).sum())
    etr = etr.where(~implausible_etr)
    customers, bad = parse_numbers(_col(frame, "customers"))
    rej.add(bad | (customers.notna() & (customers % 1 != 0)), "bad_customers")
    rej.add(customers < 0, "negative_customers")
    rej.add(customers > MAX_CUSTOMERS, "absurd_customers")
    planned, bad_planned = parse_bools(_col(frame, "planned"))
    shortage, bad_shortage = parse_bools(_col(frame, "supply_shortage"))
    # Set by collectors that end an outage themselves (snapshot feeds: it vanished).
    inferred_end, bad_inferred = parse_bools(_col(frame, "inferred_end"))
    rej.add(bad_planned | bad_shortage | bad_inferred, "bad_boolean")
    lon, bad_lon = parse_numbers(_col(frame, "lon"))
    lat, bad_lat = parse_numbers(_col(frame, "lat"))
    rej.add(bad_lon | bad_lat, "bad_coordinate")
    version = _check_version(rej, frame, ctx)

    substation_id = _lookup(
        rej, substation, ctx.substations, "unknown_substation", ctx, new_codes, "substations"
    )
    feeder_id = _lookup(rej, feeder, ctx.feeders, "unknown_feeder", ctx, new_codes, "feeders")
    transformer_id = _lookup(
        rej, transformer, ctx.transformers, "unknown_transformer", ctx, new_codes, "transformers"
    )
    owner = transformer.map(ctx.feeder_of_transformer)
    rej.add(feeder.notna() & owner.notna() & (owner != feeder), "feeder_mismatch", transformer)
    # Fill the parents the network knows, so every row sits as deep in the tree as it can.
    feeder = feeder.where(feeder.notna(), owner)
    feeder_id = feeder_id.where(feeder_id.notna(), feeder.map(ctx.feeders))
    substation = substation.where(substation.notna(), feeder.map(ctx.feeder_of_substation))
    substation_id = substation_id.where(substation_id.notna(), substation.map(ctx.substations))

    level_raw = clean_text(_col(frame, "level"))
    derived = pd.Series(
        np.select(
            [transformer.notna(), feeder.notna(), substation.notna()],
            ["transformer", "feeder", "substation"],
            "unknown",
        ),
        index=frame.index,
    )
    level = level_raw.where(level_raw.notna(), derived)
    rej.add(~level.isin(["substation", "feeder", "transformer", "unknown"]), "bad_level", level_raw)
    served = pd.Series(
        np.where(
            level == "transformer",
            transformer.map(ctx.served_transformer),
            feeder.map(ctx.served_feeder),
        ),
        index=frame.index,
        dtype="float64",
    )
    rej.add(
        customers > served,
        "customers_exceed_served",
        customers.astype(str) + " > " + served.astype(str),
    )

    now = pd.Timestamp(ctx.now)
    duration_h = ((end.where(end.notna(), now) - start).dt.total_seconds() / 3600).fillna(0)
    suspicious = duration_h > ctx.suspicious_hours
    bad_location = ((lon == 0) & (lat == 0)) | (lon.abs() > 180) | (lat.abs() > 90)
    notes["flag_suspicious"] += int((suspicious & rej.ok).sum())
    notes["flag_bad_location"] += int((bad_location & rej.ok).sum())
    # A blank count is unknown (stored NULL), never a real 0 customers.
    notes["customers_unknown"] += int((customers.isna() & rej.ok).sum())

    good = pd.DataFrame(
        {
            "natural_id": natural_id,
            "event_id": event_id.where(event_id.notna(), natural_id),
            "level": level,
            "substation_id": substation_id,
            "feeder_id": feeder_id,
            "transformer_id": transformer_id,
            "lon": lon,
            "lat": lat,
            "area_text": clean_text(_col(frame, "area_text")),
            "region": clean_text(_col(frame, "region")),
            "start_at": start,
            "end_at": end,
            "etr_at": etr,
            "customers": customers,
            "cause": clean_text(_col(frame, "cause")),
            "planned": planned,
            "supply_shortage": shortage,
            "inferred_end": inferred_end,
            "suspicious": suspicious,
            "bad_location": bad_location.fillna(False),
            "version": version,
            # Codes travel along for authoritative registration.
            "_substation": substation,
            "_feeder": feeder,
            "_transformer": transformer,
        }
    )[rej.ok]
    return Checked(good, rej.frame(), notes, new_codes)


def validate_complaints(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Complaint (95598 work order) records -> rows for ``upsert_complaints``."""
    rej = Rejects(frame.index)
    new_codes: dict[str, set[str]] = {}
    ticket = _check_id(rej, _col(frame, "ticket_id"), "ticket_id")
    merged = _check_id(rej, _col(frame, "merged_into"), "merged_into", required=False)
    feeder = _check_id(rej, _col(frame, "feeder"), "feeder", required=False)
    transformer = _check_id(rej, _col(frame, "transformer"), "transformer", required=False)
    _check_texts(rej, frame, ("text", "address", "town"))
    time = _check_time(rej, _col(frame, "time"), ctx, "time", required=True)
    raw_category = clean_text(_col(frame, "category"))
    category = raw_category.map(lambda c: CATEGORY_NAMES.get(c, c) if c is not None else "other")
    rej.add(~category.isin(COMPLAINT_CATEGORIES), "unknown_category", raw_category)
    reasonable, bad_reasonable = parse_bools(_col(frame, "reasonable"))
    rej.add(bad_reasonable, "bad_boolean", "reasonable")
    given_reasonable = ~blank(_col(frame, "reasonable"))
    version = _check_version(rej, frame, ctx)
    transformer_id = _lookup(
        rej, transformer, ctx.transformers, "unknown_transformer", ctx, new_codes, "transformers"
    )
    feeder_id = _lookup(rej, feeder, ctx.feeders, "unknown_feeder", ctx, new_codes, "feeders")
    owner = transformer.map(ctx.feeder_of_transformer)
    rej.add(feeder.notna() & owner.notna() & (owner != feeder), "feeder_mismatch", transformer)
    feeder_id = feeder_id.where(feeder_id.notna(), owner.map(ctx.feeders))
    good = pd.DataFrame(
        {
            "ticket_id": ticket,
            "received_at": time,
            "category": category,
            "reasonable": reasonable.astype(object).where(given_reasonable, None),
            "merged_into": merged,
            "transformer_id": transformer_id,
            "feeder_id": feeder_id,
            "town": clean_text(_col(frame, "town")),
            "address": clean_text(_col(frame, "address")),
            "text": clean_text(_col(frame, "text")),
            "version": version,
            "_feeder": feeder,
            "_transformer": transformer,
        }
    )[rej.ok]
    return Checked(good, rej.frame(), Counter(), new_codes)


def _phase_volts(rej: Rejects, frame: pd.DataFrame, notes: Counter) -> dict[str, pd.Series]:
    """Phase voltages in volts phase-to-neutral. A meter reports all its phases in one unit,
    so units are judged per reading on its highest phase: kV (0.1-0.3) are multiplied by 1000,
    line-to-line values (above 300 V, up to 460 V) divided by sqrt(3) — 322 V line-to-line is a
    real 186 V low voltage, not an error."""
    volts = {}
    for p in "abc":
        values, bad = parse_numbers(_col(frame, f"v{p}"))
        rej.add(bad, "voltage_not_numeric", p.upper())
        volts[p] = values
    highest = pd.concat(volts.values(), axis=1).max(axis=1)
    kv = highest.between(*KV_RANGE)
    line = (highest > PLAUSIBLE_VOLTS[1]) & (highest <= LINE_TO_LINE_RANGE[1])
    for p in "abc":
        present = volts[p].notna()
        notes["converted_kv"] += int((kv & present & rej.ok).sum())
        notes["converted_line_to_line"] += int((line & present & rej.ok).sum())
        volts[p] = volts[p].where(~kv, volts[p] * 1000).where(~line, volts[p] / math.sqrt(3))
    for p in "abc":
        rej.add(volts[p] == 0, "voltage_zero", p.upper())
    for p in "abc":
        rej.add(
            volts[p].notna() & ~volts[p].between(*PLAUSIBLE_VOLTS),
            "voltage_out_of_range",
            _col(frame, f"v{p}"),
        )
    return volts


LV_NOMINAL = 220.0


def _nominal(rej: Rejects, frame: pd.DataFrame, ctx: Context) -> pd.Series | None:
    """Each reading's nominal voltage (volts): its ``nominal_v`` column (or ``nominal_kv`` ×
    1000), else the source's ``nominal_v``. None when neither is given and the unit is auto:
    a plain 220 V source keeps the long-standing unit rules of ``_phase_volts``."""
    column = None
    for name, scale in (("nominal_v", 1.0), ("nominal_kv", 1000.0)):
        if name in frame:
            values, bad = parse_numbers(frame[name])
            rej.add(bad | (values <= 0), "bad_nominal", frame[name])
            column = values * scale
            break
    if column is None and ctx.nominal_v is None and ctx.voltage_unit == "auto":
        return None
    default = ctx.nominal_v if ctx.nominal_v is not None else LV_NOMINAL
    if column is None:
        return pd.Series(default, index=frame.index, dtype=float)
    return column.fillna(default)


def _phase_levels(
    rej: Rejects, frame: pd.DataFrame, ctx: Context, nominal: pd.Series, notes: Counter
) -> dict[str, pd.Series]:
    """Phase voltages of a source with a declared level, in stored volts (as measured up to
    1 kV nominal, per-unit × 220 above: analytics.voltage.storage_base_v).

    The unit is the source's (V, kV, pu), or with ``auto`` judged per reading on its highest
    phase against the nominal: volts when it lies within ``plausible_pu`` × nominal, else kV
    when ×1000 does, else per-unit when it does itself. A reading outside the band after that
    is refused (voltage_out_of_level_range), never rescaled into it: a 0.19 kV dropout on a
    10 kV bus is 1.9 % of nominal, not 190 V. A 0 is a dropout as for 220 V (voltage_zero)."""
    low, high = ctx.plausible_pu
    volts = {}
    for p in "abc":
        values, bad = parse_numbers(_col(frame, f"v{p}"))
        rej.add(bad, "voltage_not_numeric", p.upper())
        volts[p] = values
    if ctx.voltage_unit == "auto":
        highest = pd.concat(volts.values(), axis=1).max(axis=1)
        as_volts = (highest / nominal).between(low, high)
        as_kv = ~as_volts & (highest * 1000 / nominal).between(low, high)
        as_pu = ~as_volts & ~as_kv & highest.between(low, high)
        scale = pd.Series(1.0, index=frame.index).where(~as_kv, 1000.0)
        scale = scale.where(~as_pu, nominal)
        live = rej.ok & highest.notna()
        notes["converted_kv"] += int((as_kv & live).sum())
        notes["converted_pu"] += int((as_pu & live).sum())
    else:
        factor = {"V": 1.0, "kV": 1000.0}.get(ctx.voltage_unit)
        scale = nominal if factor is None else pd.Series(factor, index=frame.index)
    for p in "abc":
        rej.add(volts[p] == 0, "voltage_zero", p.upper())
    # Stored as measured up to 1 kV nominal, per-unit × 220 above (analytics.storage_base_v).
    base = nominal.where(nominal <= LV_MAX_NOMINAL_V, STORAGE_BASE_V)
    stored = {}
    for p in "abc":
        pu = volts[p] * scale / nominal
        # The raw value as detail: only offending rows are formatted (Rejects.add).
        rej.add(
            pu.notna() & ~pu.between(low, high), "voltage_out_of_level_range", _col(frame, f"v{p}")
        )
        stored[p] = pu * base
    return stored


def validate_voltage(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Long-form voltage readings -> rows for ``upsert_readings`` (decivolts, epoch seconds)."""
    rej = Rejects(frame.index)
    notes: Counter = Counter()
    new_codes: dict[str, set[str]] = {}
    transformer = _check_id(rej, _col(frame, "transformer"), "transformer")
    time = _check_time(rej, _col(frame, "time"), ctx, "time", required=True)
    nominal = _nominal(rej, frame, ctx)
    if nominal is None:
        phases = _phase_volts(rej, frame, notes)
    else:
        phases = _phase_levels(rej, frame, ctx, nominal, notes)
    rej.add(phases["a"].isna() & phases["b"].isna() & phases["c"].isna(), "voltage_missing")
    kw, bad_kw = parse_numbers(_col(frame, "kw"))
    rej.add(bad_kw | (kw.abs() > 100_000), "bad_power")
    transformer_id = _lookup(
        rej, transformer, ctx.transformers, "unknown_transformer", ctx, new_codes, "transformers"
    )

    dv = {p: (phases[p] * 10).round() for p in "abc"}
    ts = epoch_seconds(time)
    rows = pd.DataFrame(
        {
            "transformer_id": transformer_id,
            "ts": ts,
            "va_dv": dv["a"],
            "vb_dv": dv["b"],
            "vc_dv": dv["c"],
            "kw_dw": (kw * 10).round(),
        }
    )
    if nominal is not None:
        rows["nominal_v"] = nominal.where(nominal != LV_NOMINAL)
    # One integer key per area and time (ids are known for every row still ok).
    key = (transformer_id.fillna(-1).to_numpy(np.int64) << 34) + ts.fillna(0).to_numpy(np.int64)
    rows["_key"] = key
    # Duplicates of one area and time: identical ones are one reading; different ones refused.
    extra = pd.Series(False, index=frame.index)
    keyed = rows[rej.ok]
    dup = keyed["_key"].duplicated(keep=False)
    if dup.any():
        d = keyed[dup]
        distinct = d.drop_duplicates(subset=["_key", *READING_VALUES]).groupby("_key").size()
        clash = d["_key"].isin(distinct[distinct > 1].index)
        rej.add(clash.reindex(frame.index, fill_value=False), "conflicting_duplicate")
        extra = (
            rows.loc[rej.ok, "_key"].duplicated(keep="first").reindex(frame.index, fill_value=False)
        )
        notes["duplicate_identical"] += int(extra.sum())
    _reject_stuck(rej, rows[~extra])
    good = rows[rej.ok & ~extra].drop(columns="_key")
    return Checked(good, rej.frame(), notes, new_codes)


READING_VALUES = ["va_dv", "vb_dv", "vc_dv", "kw_dw"]


def _reject_stuck(rej: Rejects, rows: pd.DataFrame) -> None:
    """A run of STUCK_RUN or more identical readings of one meter is a stuck meter.

    On numpy arrays and row positions throughout: taking the whole frame in key order cost
    more than half of the validation of a county batch."""
    ok = rej.ok.reindex(rows.index).to_numpy(bool)
    if ok.sum() < STUCK_RUN:
        return
    pos = np.flatnonzero(ok)
    key = rows["_key"].to_numpy()[pos]
    if not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
        pos, key = pos[order], key[order]
    same = (key[1:] >> 34) == (key[:-1] >> 34)
    for column in ("va_dv", "vb_dv", "vc_dv"):
        values = rows[column].to_numpy(np.float64, na_value=-1.0)[pos]
        same &= values[1:] == values[:-1]
    run_id = np.cumsum(np.concatenate(([True], ~same)))
    run_len = np.bincount(run_id)[run_id]
    stuck = np.zeros(len(rows), dtype=bool)
    stuck[pos[run_len >= STUCK_RUN]] = True
    rej.add(
        pd.Series(stuck, index=rows.index).reindex(rej.index, fill_value=False), "voltage_stuck"
    )


def wide_to_long(frame: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A 96-point (or 24-point) daily curve export -> long-form readings.

    Point k is the value at local 00:00 + k × (24 h / points): point 1 of a 96-point curve is
    00:15, point 96 is 24:00 (docs/formats.md). Returns (long frame, rejected wide rows)."""
    rej = Rejects(frame.index)
    points = sorted(
        (c for c in frame.columns if str(c).startswith("p") and str(c)[1:].isdigit()),
        key=lambda c: int(str(c)[1:]),
    )
    n_points = len(points)
    if n_points not in (24, 96):
        rej.add(pd.Series(True, index=frame.index), "bad_point_count", f"{n_points} points")
        return pd.DataFrame(columns=["transformer", "time", "va", "vb", "vc", "kw"]), rej.frame()
    transformer = _check_id(rej, _col(frame, "transformer"), "transformer")
    day, bad_day, ambiguous = parse_times(_col(frame, "date"), ctx.tz)
    rej.add(blank(_col(frame, "date")) | bad_day | ambiguous, "bad_date", _col(frame, "date"))
    phase = clean_text(_col(frame, "phase")).astype("string").str.upper()
    rej.add(~phase.isin(["A", "B", "C", "P"]).fillna(False), "bad_phase", phase)
    ok = frame[rej.ok]
    step = pd.Timedelta(minutes=24 * 60 // n_points)
    local_midnight = day[rej.ok].dt.tz_convert(ctx.tz).dt.normalize()
    long = ok[points].set_axis(range(1, n_points + 1), axis=1)
    long.insert(0, "_midnight", local_midnight)
    long.insert(1, "transformer", transformer[rej.ok])
    long.insert(2, "phase", phase[rej.ok].map({"A": "va", "B": "vb", "C": "vc", "P": "kw"}))
    melted = long.melt(id_vars=["_midnight", "transformer", "phase"], var_name="k", value_name="v")
    melted["time"] = (melted["_midnight"] + melted["k"].astype(int) * step).dt.tz_convert("UTC")
    # Keep the cell text as is: the long-form checks then apply unchanged (units, zeros...).
    table = melted.pivot_table(
        index=["transformer", "time"], columns="phase", values="v", aggfunc="first", dropna=False
    ).reset_index()
    for column in ("va", "vb", "vc", "kw"):
        if column not in table:
            table[column] = None
    table = table.dropna(subset=["va", "vb", "vc", "kw"], how="all")
    return table[["transformer", "time", "va", "vb", "vc", "kw"]], rej.frame()


def raw_json(frame: pd.DataFrame, index: pd.Index) -> list[str]:
    """The raw records at ``index`` as JSON text, for the quarantine."""
    sub = frame.loc[index]
    out = sub.astype(object).where(sub.notna(), None)
    return [
        json.dumps(rec, ensure_ascii=False, default=str)[: MAX_TEXT_LEN * 2]
        for rec in out.to_dict("records")
    ]


# --- network ------------------------------------------------------------------------------

_WKT_LINE = re.compile(r"^\s*(MULTI)?LINESTRING\s*(?:Z\s*)?\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def _coords(text: str) -> list[list[float]]:
    points = []
    for pair in text.split(","):
        parts = pair.strip().strip("()").split()
        if len(parts) < 2:
            raise ValueError("a point needs x and y")
        lon, lat = float(parts[0]), float(parts[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError("coordinate out of range")
        points.append([lon, lat])
    if len(points) < 2:
        raise ValueError("a line needs two points")
    return points


def parse_geometry(value) -> str | None:
    """WKT (MULTI)LINESTRING or a GeoJSON (Multi)LineString -> GeoJSON MultiLineString text.

    Raises ValueError for anything else; returns None for a blank value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dict):
        geo = value
    else:
        text = str(value).strip()
        if not text:
            return None
        if text.startswith("{"):
            geo = json.loads(text)
        else:
            match = _WKT_LINE.match(text)
            if not match:
                raise ValueError("not a WKT line")
            body = match.group(2)
            if match.group(1):
                lines = [_coords(part) for part in re.findall(r"\(([^()]*)\)", body)]
            else:
                lines = [_coords(body)]
            return json.dumps({"type": "MultiLineString", "coordinates": lines})
    kind = geo.get("type")
    if kind == "Feature":
        return parse_geometry(geo.get("geometry"))
    if kind == "LineString":
        lines = [geo["coordinates"]]
    elif kind == "MultiLineString":
        lines = geo["coordinates"]
    else:
        raise ValueError(f"GeoJSON {kind} is not a line")
    lines = [_coords(",".join(f"{p[0]} {p[1]}" for p in line)) for line in lines]
    return json.dumps({"type": "MultiLineString", "coordinates": lines})


def _numbers(rej: Rejects, frame: pd.DataFrame, names) -> dict[str, pd.Series]:
    out = {}
    for name in names:
        values, bad = parse_numbers(_col(frame, name))
        rej.add(bad | (values < 0), "bad_number", name)
        out[name] = values
    return out


def validate_substations(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Substation rows -> rows for ``upsert_network`` (code, name, ...)."""
    rej = Rejects(frame.index)
    code = _check_id(rej, _col(frame, "substation"), "substation")
    _check_texts(rej, frame, ("name", "town"))
    nums = _numbers(rej, frame, ("voltage_kv", "capacity_mva"))
    lon, bad_lon = parse_numbers(_col(frame, "lon"))
    lat, bad_lat = parse_numbers(_col(frame, "lat"))
    rej.add(bad_lon | bad_lat | (lon.abs() > 180) | (lat.abs() > 90), "bad_coordinate")
    good = pd.DataFrame(
        {
            "code": code,
            "name": clean_text(_col(frame, "name")),
            "voltage_kv": nums["voltage_kv"],
            "capacity_mva": nums["capacity_mva"],
            "lon": lon,
            "lat": lat,
            "town": clean_text(_col(frame, "town")),
        }
    )[rej.ok]
    return Checked(good, rej.frame())


def validate_feeders(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Feeder rows -> rows for ``upsert_network``; a substation named must exist (or come
    first). A feeder naming none (a GIS export labelled by feeder only) is kept without one
    and counted in the note ``feeder_without_substation``: it is mapped, ranked and gets its
    outages; substation figures leave it out."""
    rej = Rejects(frame.index)
    code = _check_id(rej, _col(frame, "feeder"), "feeder")
    substation = _check_id(rej, _col(frame, "substation"), "substation", required=False)
    _check_texts(rej, frame, ("name", "conductor"))
    nums = _numbers(
        rej, frame, ("length_km", "conductor_mm2", "year_built", "rated_mva", "voltage_kv")
    )
    substation_id = substation.map(ctx.substations)
    rej.add(substation.notna() & substation_id.isna(), "unknown_substation", substation)
    geometry = pd.Series(None, index=frame.index, dtype=object)
    for idx, value in _col(frame, "geometry").items():
        try:
            geometry[idx] = parse_geometry(value)
        except (ValueError, KeyError, TypeError, IndexError):
            rej.add(
                pd.Series(frame.index == idx, index=frame.index), "bad_geometry", str(value)[:40]
            )
    good = pd.DataFrame(
        {
            "code": code,
            "substation_id": substation_id,
            "name": clean_text(_col(frame, "name")),
            "voltage_kv": nums["voltage_kv"].fillna(10.0),
            "geometry": geometry,
            "length_km": nums["length_km"],
            "conductor": clean_text(_col(frame, "conductor")),
            "conductor_mm2": nums["conductor_mm2"],
            "year_built": nums["year_built"],
            "rated_mva": nums["rated_mva"],
        }
    )[rej.ok]
    notes = Counter()
    if without := int(good["substation_id"].isna().sum()):
        notes["feeder_without_substation"] = without
    return Checked(good, rej.frame(), notes)


KIND_NAMES = {
    "public": "public",
    "公变": "public",
    "公用": "public",
    "dedicated": "dedicated",
    "专变": "dedicated",
    "专用": "dedicated",
}


def validate_transformers(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Transformer-area rows -> rows for ``upsert_network``; the feeder must exist."""
    rej = Rejects(frame.index)
    code = _check_id(rej, _col(frame, "transformer"), "transformer")
    feeder = _check_id(rej, _col(frame, "feeder"), "feeder")
    _check_texts(rej, frame, ("name", "town", "address"))
    nums = _numbers(rej, frame, ("kva", "distance_km"))
    customers, bad = parse_numbers(_col(frame, "customers"))
    # a blank count is no count (0 customers), not a bad one
    rej.add(bad | (customers.notna() & (customers % 1 != 0)), "bad_customers")
    rej.add(customers < 0, "negative_customers")
    raw_kind = clean_text(_col(frame, "kind"))
    kind = raw_kind.map(
        lambda k: KIND_NAMES.get(str(k).lower(), KIND_NAMES.get(k)) if k else "public"
    )
    rej.add(kind.isna(), "bad_kind", raw_kind)
    feeder_id = feeder.map(ctx.feeders)
    rej.add(feeder.notna() & feeder_id.isna(), "unknown_feeder", feeder)
    lon, bad_lon = parse_numbers(_col(frame, "lon"))
    lat, bad_lat = parse_numbers(_col(frame, "lat"))
    rej.add(bad_lon | bad_lat | (lon.abs() > 180) | (lat.abs() > 90), "bad_coordinate")
    good = pd.DataFrame(
        {
            "code": code,
            "feeder_id": feeder_id,
            "name": clean_text(_col(frame, "name")),
            "kind": kind,
            "kva": nums["kva"],
            "customers": customers.fillna(0),
            "town": clean_text(_col(frame, "town")),
            "address": clean_text(_col(frame, "address")),
            "lon": lon,
            "lat": lat,
            "distance_km": nums["distance_km"],
        }
    )[rej.ok]
    return Checked(good, rej.frame())


VALIDATORS = {
    "outages": validate_outages,
    "complaints": validate_complaints,
    "voltage": validate_voltage,
    "substations": validate_substations,
    "feeders": validate_feeders,
    "transformers": validate_transformers,
}
