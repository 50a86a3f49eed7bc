"""Options of each source type, validated with the whole config before anything runs.

Each ``[sources.NAME]`` table in config.toml is checked against the model of its ``type``; a
typo or an impossible value fails at start-up with one line naming the key, never when the job
first fires. The source classes themselves live in ``collectors.registry``.
"""

from __future__ import annotations

import codecs
import re
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RecordKind = Literal["outages", "voltage", "complaints", "network"]


# --- shaping --------------------------------------------------------------------------------
# How a source's records are shaped into the canonical columns, after reading and the column
# mapping and before validation (docs/formats.md "Shaping"; applied by collectors/shaping.py in
# the one pipeline every source type feeds). Every source type has these keys.

ShapeValue = bool | int | float | str


class Unpivot(BaseModel):
    """A wide table whose columns are ids (one column per bus or transformer) made long:
    every column whose header matches ``columns`` (a regular expression, searched as pandas'
    ``filter(regex=...)`` does) becomes one row per cell, its header in ``id`` and its value
    in ``value``; the other columns (the time) are kept on every row (pandas ``melt``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: str
    id: str
    value: str

    @field_validator("columns")
    @classmethod
    def _regex(cls, value: str) -> str:
        return _compiles(value, "unpivot.columns")

    @model_validator(mode="after")
    def _distinct(self) -> Unpivot:
        if self.id == self.value:
            raise ValueError(f"unpivot id and value must differ (both {self.id!r})")
        return self


class ValueMap(BaseModel):
    """Values of one canonical column translated: ``values`` by exact value (trimmed, case
    ignored), else ``patterns`` (regular expressions searched in the text, case ignored, the
    first that matches wins); read from the column ``from`` (default: the column itself).
    Values matched by neither take ``default`` when given, else stay as they are; either way
    they are listed with their counts in the run summary (notes ``unmapped COLUMN: VALUE``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str | None = Field(default=None, alias="from")
    values: dict[str, ShapeValue] = Field(default_factory=dict)
    patterns: dict[str, ShapeValue] = Field(default_factory=dict)
    default: ShapeValue | None = None

    @field_validator("patterns")
    @classmethod
    def _regexes(cls, value: dict[str, ShapeValue]) -> dict[str, ShapeValue]:
        for pattern in value:
            _compiles(pattern, "value_map pattern")
        return value

    @model_validator(mode="after")
    def _something(self) -> ValueMap:
        if not self.values and not self.patterns:
            raise ValueError("a value_map needs values or patterns")
        return self


def _compiles(pattern: str, what: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{what} is not a regular expression: {pattern!r} ({exc})") from None
    return pattern


class ShapingOptions(BaseModel):
    """The shaping keys of every source (docs/formats.md "Shaping")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Columns whose values make a stable id when the input has none (outages, complaints).
    id_from: list[str] = Field(default_factory=list)
    # Canonical column -> the columns joined into it, e.g. {start = ["OUT_DATE", "OUT_TIME"]}.
    combine: dict[str, list[str]] = Field(default_factory=dict)
    # Canonical column -> one value for every record, e.g. {transformer = "BUS41"}.
    constants: dict[str, ShapeValue] = Field(default_factory=dict)
    unpivot: Unpivot | None = None
    # Canonical column -> its value map (codes -> categories, cause text -> planned).
    value_map: dict[str, ValueMap] = Field(default_factory=dict)

    @property
    def shapes(self) -> bool:
        """True when any shaping is configured."""
        return bool(
            self.id_from or self.combine or self.constants or self.unpivot or self.value_map
        )

    @model_validator(mode="after")
    def _shaping_fits_kind(self) -> ShapingOptions:
        for target, parts in self.combine.items():
            if len(parts) < 2:
                raise ValueError(f"combine.{target} needs two or more columns: {parts!r}")
        if len(set(self.id_from)) != len(self.id_from):
            raise ValueError(f"id_from names a column twice: {self.id_from!r}")
        kind = getattr(self, "kind", None)
        if kind not in SHAPED_KINDS:
            return self  # "auto", "network" or no kind: judged per file
        if self.id_from and kind not in ID_COLUMNS:
            raise ValueError(f"id_from makes outage and complaint ids, not {kind}")
        targets = [
            *(("combine", t) for t in self.combine),
            *(("constants", t) for t in self.constants),
            *(("value_map", t) for t in self.value_map),
        ]
        if self.unpivot is not None:
            targets += [("unpivot.id", self.unpivot.id), ("unpivot.value", self.unpivot.value)]
        for key, target in targets:
            if target not in SHAPED_KINDS[kind]:
                raise ValueError(
                    f"{key}: {target!r} is not a column of {kind} records "
                    f"(one of {', '.join(sorted(SHAPED_KINDS[kind]))})"
                )
        return self


# The canonical columns shaping may write, per kind (docs/formats.md), and the id id_from makes.
SHAPED_KINDS: dict[str, frozenset[str]] = {
    "outages": frozenset(
        "outage_id event_id level substation feeder transformer start end etr customers cause "
        "planned supply_shortage lon lat area_text region version".split()
    ),
    "voltage": frozenset("transformer time va vb vc kw date phase".split()),
    "complaints": frozenset(
        "ticket_id time category transformer feeder town address merged_into reasonable text "
        "version".split()
    ),
}
ID_COLUMNS = {"outages": "outage_id", "complaints": "ticket_id"}


# --- voltage levels -----------------------------------------------------------------------
VOLTAGE_UNITS = ("auto", "V", "kV", "pu")


class VoltageLevelOptions(BaseModel):
    """How a source's voltage readings are expressed (docs/formats.md "Voltage at any level").

    ``nominal_v``: the nominal voltage of the areas or buses it reads, in volts (220 for a
    transformer terminal phase-to-neutral, 10000 for a 10 kV bus); a ``nominal_v`` column in
    the records overrides it per reading. ``voltage_unit``: V, kV, per-unit (pu), or auto
    (judged per reading against the nominal). ``plausible_pu``: readings outside this band
    around the nominal are quarantined, never rescaled into it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    voltage_unit: Literal["auto", "V", "kV", "pu"] = "auto"
    nominal_v: Annotated[float, Field(gt=0, le=1_000_000)] | None = None
    plausible_pu: tuple[float, float] = (0.5, 1.5)

    @field_validator("plausible_pu")
    @classmethod
    def _band(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 < low < 1 < high <= 3:
            raise ValueError(
                f"plausible_pu must be (low, high) with 0 < low < 1 < high <= 3: {value}"
            )
        return value


def voltage_level_options(options: SourceOptions | None) -> dict:
    """The voltage-level keywords of ``collectors.pipeline.IngestOptions`` a source sets."""
    if options is None:
        return {}
    return {
        "voltage_unit": options.voltage_unit,
        "nominal_v": options.nominal_v,
        "plausible_pu": tuple(options.plausible_pu),
    }


# --- end of voltage levels ------------------------------------------------------------------


class SourceOptions(ShapingOptions, VoltageLevelOptions):
    """Options every source has: its schedule, staleness limit and version rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    enabled: bool = True
    # Either a fixed interval or a 5-field cron expression (minute hour day month weekday).
    interval_seconds: Annotated[float, Field(gt=0)] | None = None
    cron: str | None = None
    stale_after_seconds: Annotated[float, Field(gt=0)] | None = None
    # A column whose higher value marks the newer version of a repeated id (e.g. lastUpdated).
    version_column: str | None = None
    # Authoritative sources register unknown feeders/areas instead of quarantining their records.
    authoritative: bool = False
    # Source column -> canonical column (docs/formats.md), on top of the built-in presets.
    mapping: dict[str, str] = Field(default_factory=dict)
    # The county (a `[[counties]]` code) this source's records belong to (issue 19): network
    # rows without a county get it; records naming no substation, feeder or area count there.
    county: str | None = None

    # --- times --- (docs/formats.md "Times of a source")
    # The zone of the source's naive times (an IANA name, e.g. "America/Denver"); unset: the
    # site's [site].timezone. Times with an offset or a zone abbreviation keep their own.
    timezone: str | None = None
    # A strftime format tried first (e.g. "%d/%m/%Y %H:%M", "%m/%d/%Y %I:%M %p %Z").
    time_format: str | None = None
    # Zone abbreviation -> UTC offset, over the built-in ones (collectors.parse), e.g.
    # {CST = "-06:00"} for US Central instead of China Standard Time.
    zone_abbreviations: dict[str, str] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown timezone {value!r} (an IANA name, e.g. 'America/Denver')"
                ) from None
        return value

    @field_validator("time_format")
    @classmethod
    def _strftime_format(cls, value: str | None) -> str | None:
        if value is not None and not re.search(r"%[a-zA-Z]", value):
            raise ValueError(
                f"time_format must be a strftime format, e.g. '%d/%m/%Y %H:%M': {value!r}"
            )
        return value

    @field_validator("zone_abbreviations")
    @classmethod
    def _offsets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, offset in value.items():
            if not re.fullmatch(r"[A-Z]{2,5}", name):
                raise ValueError(f"zone abbreviation must be 2-5 capital letters: {name!r}")
            if not re.fullmatch(r"[+-](0\d|1[0-4]):[0-5]\d", offset):
                raise ValueError(
                    f"offset of {name} must look like '-06:00' or '+08:00': {offset!r}"
                )
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> SourceOptions:
        if self.interval_seconds is not None and self.cron is not None:
            raise ValueError("give interval_seconds or cron, not both")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(
                f"cron must have 5 fields (minute hour day month weekday): {self.cron!r}"
            )
        return self


class SimulatorOptions(SourceOptions):
    """The embedded simulated county (collectors/simulator)."""

    type: Literal["simulator"]
    preset: Literal["small", "medium", "county"] = "county"
    seed: int = 1
    # Simulated seconds per real second for the live stream.
    speed: Annotated[float, Field(gt=0)] = 1.0
    # Days of history to backfill before going live; start defaults to today minus history_days.
    history_days: Annotated[int, Field(ge=1, le=3660)] = 365
    start: date | None = None
    resolution: Literal["15min", "1h"] = "15min"


def _records_path_ok(value: str | None) -> str | None:
    if value is not None and (not value.strip() or any(not p.strip() for p in value.split("."))):
        raise ValueError(f"records_path must be keys joined by dots, e.g. 'data.rows': {value!r}")
    return value


# --- network import (issue 14) -------------------------------------------------------------
NETWORK_TABLES_IN = ("buses", "lines", "switches", "trafos", "coordinates")


class NetworkOptions(BaseModel):
    """How a source's network model is read (docs/formats.md "Network models"): the format,
    which file holds which table, the columns per table, the coordinate reference and units.
    ``[sources.NAME.network]`` of a file source; ``feederwatch ingest network PATH --source
    NAME`` and the source's collections use it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["auto", "tables", "pandapower", "opendss", "gis"] = "auto"
    # table -> glob pattern of its file in the folder, e.g. {buses = "*nodes*.csv"}
    files: dict[str, str] = Field(default_factory=dict)
    # table -> {source column = canonical column}; the source's `mapping` applies to all tables
    columns: dict[str, dict[str, str]] = Field(default_factory=dict)
    # CSV separator of the tables; unset: the source's `sep` when not ",", else sniffed
    sep: str | None = None
    # coordinates: "EPSG:4326" (lon/lat), any EPSG code (CGCS2000 "EPSG:4490", its
    # Gauss-Krueger zones "EPSG:4491".."EPSG:4554"), or "local" (x/y from `origin`)
    crs: str = "EPSG:4326"
    origin: tuple[float, float] | None = None
    coordinate_unit: Literal["m", "km", "ft", "kft", "mi"] = "m"
    # line lengths when the model does not say (OpenDSS `units=none`, plain tables)
    length_unit: Literal["m", "km", "ft", "kft", "mi"] = "km"
    # the level of buses without one (kV)
    voltage_kv: Annotated[float, Field(gt=0, le=1000)] | None = None
    # buses a feeder starts from when the model has no HV/MV transformer (OpenDSS: the source)
    roots: list[str] = Field(default_factory=list)
    # transformers whose low side is below this (kV) are distribution areas (台区)
    area_below_kv: Annotated[float, Field(gt=0)] = 1.0
    feeder_prefix: str = "F"
    substation_prefix: str = "SS"
    # GIS: the layer of lines (and of substation points) in a GeoPackage
    line_layer: str | None = None
    point_layer: str | None = None

    @field_validator("files", "columns")
    @classmethod
    def _known_tables(cls, value: dict) -> dict:
        for table in value:
            if table not in NETWORK_TABLES_IN:
                raise ValueError(
                    f"unknown network table {table!r} (one of {', '.join(NETWORK_TABLES_IN)})"
                )
        return value

    @field_validator("crs")
    @classmethod
    def _crs(cls, value: str) -> str:
        if value != "local" and not re.fullmatch(r"(?i)(EPSG:\d{4,6}|OGC:CRS84)", value):
            raise ValueError(f"crs must be 'EPSG:<code>' or 'local': {value!r}")
        return value

    @model_validator(mode="after")
    def _local_needs_origin(self) -> NetworkOptions:
        if self.crs == "local" and self.origin is None:
            raise ValueError("crs = 'local' needs origin = [lon, lat]")
        if self.sep is not None and len(self.sep) != 1:
            raise ValueError(f"sep must be one character: {self.sep!r}")
        return self


class FileOptions(SourceOptions):
    """A watched folder of CSV / XLSX / JSON exports (file drop)."""

    type: Literal["file"]
    path: str
    kind: RecordKind | Literal["auto"] = "auto"
    pattern: str = "*"
    # How to read the files (docs/formats.md "Reading options"); names as pandas uses them.
    # "auto" sniffs UTF-8 (with or without BOM) or GB18030; any Python codec name overrides it.
    encoding: str = "auto"
    sep: str = ","
    decimal: str = "."
    # header: row number (0 = first row) of the header; skiprows: rows skipped before it.
    header: Annotated[int, Field(ge=0, le=1000)] = 0
    skiprows: Annotated[int, Field(ge=0, le=1000)] = 0
    # XLSX sheet: its name, or its position (0 = first).
    sheet: str | Annotated[int, Field(ge=0)] = 0
    # Extra cell values read as blank (besides the empty cell), e.g. ["-", "N/A"].
    na_values: list[str] = Field(default_factory=list)
    # JSON: the dotted path to the list of records, e.g. "outages" or "data.rows".
    records_path: str | None = None
    # Seconds a file's size must stay unchanged before it is taken (still being written otherwise).
    settle_seconds: Annotated[float, Field(ge=0)] = 2.0
    max_file_mb: Annotated[float, Field(gt=0)] = 512.0
    # A header with more columns is refused before the body is read (too_many_columns); a
    # wide 96-point voltage curve has about 100.
    max_columns: Annotated[int, Field(ge=1)] = 500
    # How a network model is read (kind = "network"; docs/formats.md "Network models").
    network: NetworkOptions | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r} (a codec name or auto)") from None
        return value

    _records_path = field_validator("records_path")(_records_path_ok)

    @model_validator(mode="after")
    def _one_char_separators(self) -> FileOptions:
        for key in ("sep", "decimal"):
            value = getattr(self, key)
            if len(value) != 1 or value in ('"', "\n", "\r"):
                raise ValueError(f"{key} must be one character (not a quote or newline): {value!r}")
        if self.sep == self.decimal:
            raise ValueError(f"sep and decimal must differ (both {self.sep!r})")
        return self


class HttpOptions(SourceOptions):
    """An HTTP JSON feed polled in snapshot or incremental mode."""

    type: Literal["http"]
    url: str
    kind: RecordKind = "outages"
    mode: Literal["snapshot", "incremental"] = "snapshot"
    # Name of the environment variable holding the auth token (never the token itself).
    token_env: str | None = None
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    verify_tls: bool = True
    page_size: Annotated[int, Field(gt=0)] = 500
    max_pages: Annotated[int, Field(gt=0)] = 1000
    max_response_mb: Annotated[float, Field(gt=0)] = 50.0
    retries: Annotated[int, Field(ge=0)] = 3
    # Snapshot mode: empty polls in a row (after a non-empty one) before the outages that were
    # active are ended; a single empty poll is suspect (a restarting feed, a proxy's empty page).
    empty_snapshots_to_end: Annotated[int, Field(ge=1)] = 2
    # The dotted path to the list of records in each page, e.g. "outages" or "data.rows";
    # unset: a bare list or the page's "items".
    records_path: str | None = None
    # Extra values read as blank (besides null and ""), e.g. ["-", "N/A"].
    na_values: list[str] = Field(default_factory=list)

    _records_path = field_validator("records_path")(_records_path_ok)


class SqlOptions(SourceOptions):
    """Another database read by SQLAlchemy URL, a query and a watermark column."""

    type: Literal["sql"]
    # Either a URL without secrets, or the name of an environment variable holding the URL.
    url: str | None = None
    url_env: str | None = None
    query: str
    kind: RecordKind = "outages"
    watermark_column: str | None = None
    retries: Annotated[int, Field(ge=0)] = 3

    @model_validator(mode="after")
    def _one_url(self) -> SqlOptions:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        return self


READING_KEYS = ("encoding", "sep", "decimal", "header", "skiprows", "sheet", "na_values")


def reading_options(options: SourceOptions | None) -> dict:
    """The keyword arguments of ``collectors.file_reading.read_chunks`` a source's options set (none
    for a source without reading options, or no source): how its files are read."""
    if options is None:
        return {}
    found = {key: getattr(options, key) for key in READING_KEYS if hasattr(options, key)}
    if "na_values" in found:
        found["na_values"] = tuple(found["na_values"])
    if getattr(options, "records_path", None) is not None:
        found["records_path"] = options.records_path
    return found


def time_options(options: SourceOptions | None) -> dict:
    """``IngestOptions``'s time fields (tz, time_format, zone_abbreviations) of a source."""
    if options is None:
        return {}
    return {
        "tz": options.timezone,
        "time_format": options.time_format,
        "zone_abbreviations": dict(options.zone_abbreviations),
    }


OPTIONS_BY_TYPE: dict[str, type[SourceOptions]] = {
    "simulator": SimulatorOptions,
    "file": FileOptions,
    "http": HttpOptions,
    "sql": SqlOptions,
}
