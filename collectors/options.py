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


class SourceOptions(BaseModel):
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
    """The keyword arguments of ``collectors.files.read_chunks`` a source's options set (none
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
