"""The tables a GIS segment export holds and the tables tracing gives (docs/formats.md), and
reading an export's CSV files from a folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: Required columns per table (formats.md); ``lines`` may also carry ``type`` and ``in_service``.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "buses": ("bus_id",),
    "lines": ("line_id", "from_bus", "to_bus"),
    "switches": ("bus", "element", "et", "closed"),
    "trafos": ("hv_bus", "lv_bus"),
}
#: Columns read when present (a missing one is blank for every row).
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "buses": ("name", "vn_kv", "lon", "lat"),
    "lines": ("length_km", "std_type", "geometry_geojson", "type", "in_service"),
    "switches": ("switch_id",),
    "trafos": ("trafo_id", "name", "sn_mva", "vn_hv_kv", "vn_lv_kv", "in_service"),
}

_FILE_PATTERNS: dict[str, str] = {
    "buses": "*bus*.csv",
    "lines": "*line*.csv",
    "switches": "*switch*.csv",
    "trafos": "*trafo*.csv",
}

SUBSTATION_COLUMNS = [
    "substation",
    "name",
    "voltage_kv",
    "capacity_mva",
    "lon",
    "lat",
    "busbar",
    "trafo_count",
    "feeder_count",
]
FEEDER_COLUMNS = [
    "feeder",
    "substation",
    "name",
    "length_km",
    "conductor",
    "geometry",
    "bus_count",
    "buses",
    "line_ids",
    "busbar",
    "first_bus",
    "start_line",
    "overhead_km",
    "has_loop",
    "voltage_kv",
    "buses_without_coordinates",
]
TRANSFORMER_COLUMNS = ["transformer", "feeder", "name", "kva", "lon", "lat", "bus"]
DIAGNOSTIC_COLUMNS = ["kind", "feeder", "substation", "bus", "line_id", "detail"]


def read_segment_export(folder: Path | str) -> dict[str, pd.DataFrame]:
    """Read a GIS segment export from ``folder``.

    Looks for one file per table: ``*bus*.csv`` (buses), ``*line*.csv`` (lines),
    ``*switch*.csv`` (switches) and ``*trafo*.csv`` (transformers). Returns
    ``{"buses", "lines", "switches", "trafos"}`` so that ``trace_feeders(**read_segment_export(p))``
    works. A missing switches file means "no switches" (an empty table); any other missing file
    raises ``FileNotFoundError``, several candidates for one table raise ``ValueError``, and a
    missing required column raises ``ValueError("<file>: missing column <name>")``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"segment export folder not found: {folder}")
    out: dict[str, pd.DataFrame] = {}
    for table, pattern in _FILE_PATTERNS.items():
        matches = sorted(p for p in folder.glob(pattern) if p.is_file())
        if not matches:
            if table == "switches":
                out[table] = pd.DataFrame(columns=list(REQUIRED_COLUMNS[table]))
                continue
            raise FileNotFoundError(f"{folder}: no {pattern} file for {table}")
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches)
            raise ValueError(f"{folder}: several {pattern} files for {table}: {names}")
        path = matches[0]
        frame = pd.read_csv(path)
        frame.columns = [str(c).strip() for c in frame.columns]
        check_columns(frame, table, label=path.name)
        out[table] = frame
    return out


def check_columns(frame: pd.DataFrame, table: str, *, label: str) -> None:
    """Raise ``ValueError("<label>: missing column <name>")`` for the first required column of
    ``table`` that ``frame`` lacks."""
    for column in REQUIRED_COLUMNS[table]:
        if column not in frame.columns:
            raise ValueError(f"{label}: missing column {column}")
