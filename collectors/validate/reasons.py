"""What validation refuses and why: the reason codes (REASONS, listed in docs/formats.md), the
columns every record of a kind needs, and the error that refuses a whole input."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

MAX_ID_LEN = 64
MAX_TEXT_LEN = 10_000
MAX_CUSTOMERS = 5_000_000
EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")
FUTURE_SLACK = timedelta(days=2)
#: how far ahead a planned outage (计划停电) may be announced and stored: the 7-day notice rule
#: with room for monthly maintenance plans
PLANNED_HORIZON = timedelta(days=45)
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
    "unknown_county": "the county is not one of the configured counties",
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
