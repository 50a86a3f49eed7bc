"""The schema: every entity of DESIGN.md's vocabulary, plus collection bookkeeping.

Network tables carry an integer surrogate ``id`` (compact foreign keys, above all in the
voltage readings) and the external ``code`` of docs/formats.md, unique. Times are UTC.
Voltage readings are stored compactly: integer epoch seconds and integer decivolts in a
WITHOUT ROWID table keyed (ts, transformer_id) on SQLite (migration 0010).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow

COMPLAINT_CATEGORIES = (
    "outage",
    "frequent_outage",
    "low_voltage",
    "voltage_fluctuation",
    "repair_timeout",
    "repair_quality",
    "customer_side_fault",
    "power_theft",
    "billing",
    "service_attitude",
    "other",
)
#: Categories that are not the grid's fault (DESIGN.md): counted and shown, never ranked on.
UNREASONABLE_CATEGORIES = ("customer_side_fault", "power_theft", "billing", "service_attitude")
OUTAGE_LEVELS = ("substation", "feeder", "transformer", "unknown")


class Substation(Base):
    __tablename__ = "substations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    voltage_kv: Mapped[float | None] = mapped_column(Float)
    capacity_mva: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    town: Mapped[str | None] = mapped_column(String(100))
    # The county (县公司) it belongs to; NULL in a single-county deployment (migration 0011).
    # Indexed: a county's pages read its substations, then their feeders and areas.
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)
    source: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class County(Base):
    """A county company (县/区供电公司) of a province deployment: its substations (and through
    them its feeders and areas) are its own. Named in config ``[[counties]]`` (issue 19)."""

    __tablename__ = "counties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))


class Feeder(Base):
    __tablename__ = "feeders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    voltage_kv: Mapped[float | None] = mapped_column(Float)
    # GeoJSON geometry (LineString or MultiLineString), WGS84 lon/lat.
    geometry: Mapped[str | None] = mapped_column(Text)
    length_km: Mapped[float | None] = mapped_column(Float)
    conductor: Mapped[str | None] = mapped_column(String(64))
    conductor_mm2: Mapped[float | None] = mapped_column(Float)
    year_built: Mapped[int | None] = mapped_column(Integer)
    rated_mva: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Transformer(Base):
    """A distribution transformer and its area (台区): public (公变) or dedicated (专变)."""

    __tablename__ = "transformers"
    __table_args__ = (CheckConstraint("customers >= 0", name="customers_nonneg"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="public")
    kva: Mapped[float | None] = mapped_column(Float)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    town: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    distance_km: Mapped[float | None] = mapped_column(Float)
    # Minutes one voltage reading stands for (15 for 96-point meters, 60 for hourly).
    reading_interval_min: Mapped[int] = mapped_column(SmallInteger, default=15)
    # Nominal voltage (volts) of what its readings measure; NULL = a 220 V terminal. Readings of
    # any other level are stored on a 220 V base (per-unit × 220, docs/formats.md).
    nominal_v: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Outage(Base):
    """One interruption on one feeder (a 35 kV fault is one event_id with a row per feeder)."""

    __tablename__ = "outages"
    __table_args__ = (
        UniqueConstraint("source", "natural_id", name="uq_outages_source_natural_id"),
        CheckConstraint("customers >= 0", name="customers_nonneg"),
        Index("ix_outages_active", "end_at", "start_at"),
        Index("ix_outages_feeder_start", "feeder_id", "start_at"),
        Index("ix_outages_start", "start_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    natural_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16), default="feeder")
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"))
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"))
    transformer_id: Mapped[int | None] = mapped_column(ForeignKey("transformers.id"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    area_text: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(100))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etr_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: the source gave no count (unknown, never the same as a real 0)
    customers: Mapped[int | None] = mapped_column(Integer)
    cause: Mapped[str | None] = mapped_column(String(100))
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    supply_shortage: Mapped[bool] = mapped_column(Boolean, default=False)
    inferred_end: Mapped[bool] = mapped_column(Boolean, default=False)
    suspicious: Mapped[bool] = mapped_column(Boolean, default=False)
    bad_location: Mapped[bool] = mapped_column(Boolean, default=False)
    # Source's version of the record (e.g. lastUpdated as epoch seconds); higher wins.
    version: Mapped[float | None] = mapped_column(Float)
    # Hash of the stored content: re-ingesting identical rows is detected as unchanged.
    row_hash: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoltageReading(Base):
    """A transformer-terminal reading: epoch seconds (UTC) and decivolts per phase.

    Keyed (ts, transformer_id), time first (migration 0010): new readings append at the end of
    the key order, so the table (WITHOUT ROWID on SQLite) and PostgreSQL's key index fill their
    pages instead of splitting pages in the middle of each area's range; a 15-minute reading
    costs about 24 bytes on SQLite. Nothing on a page reads raw readings: only the rollups
    (recomputing the periods of late readings, by area and time range: the key's time range)
    and retention (a time range). Columns widest first: no alignment padding on PostgreSQL.
    No other index: the key is the only one a query needs."""

    __tablename__ = "voltage_readings"
    # PostgreSQL: partitioned by UTC month (db/partitions.py, migration 0009)
    __table_args__ = (
        PrimaryKeyConstraint("ts", "transformer_id"),
        {"sqlite_with_rowid": False, "postgresql_partition_by": "RANGE (ts)"},
    )

    ts: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    transformer_id: Mapped[int] = mapped_column(Integer)
    # Active power in units of 0.1 kW.
    kw_dw: Mapped[int | None] = mapped_column(Integer)
    va_dv: Mapped[int | None] = mapped_column(SmallInteger)
    vb_dv: Mapped[int | None] = mapped_column(SmallInteger)
    vc_dv: Mapped[int | None] = mapped_column(SmallInteger)


class VoltageBlock(Base):
    """The readings of one area and local day, packed (db/readings.py, migration 0012).

    ``data`` holds ``n`` little-endian records in time order, laid out by ``fmt``
    (``db.readings.RECORDS``): 12 bytes a reading on whole minutes. A day's 96 readings cost
    about 1.2 kB here against 96 rows of about 24 (SQLite) or 80 (PostgreSQL) bytes each.
    Keyed (day, transformer_id), time first like the rows: blocks of a new day append.
    ``ts_last`` is the block's newest reading (the newest data without unpacking). A rowid
    table on SQLite, not WITHOUT ROWID: a record larger than about a quarter of a page spills
    into overflow pages in an index b-tree, not in a table b-tree. No other index."""

    __tablename__ = "voltage_blocks"
    __table_args__ = (
        PrimaryKeyConstraint("day", "transformer_id"),
        {"postgresql_partition_by": "RANGE (day)"},
    )

    day: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    ts_last: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    transformer_id: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(SmallInteger)
    fmt: Mapped[int] = mapped_column(SmallInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class StorageLayout(Base):
    """Storage choices fixed when first made (one row): the UTC offset the voltage blocks' days
    begin at (db/readings.py ``block_offset``)."""

    __tablename__ = "storage_layout"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_offset_s: Mapped[int] = mapped_column(Integer)


#: Phase column prefixes in the rollups: a, b, c, and x = the area as a whole (a reading is
#: below for x when any phase is below, or all phases with rule "all"; x_min/x_max span phases).
ROLLUP_PHASES = ("a", "b", "c", "x")


class _VoltageRollup:
    """Per transformer and period, one row with a column group per phase (a, b, c, x).

    One wide row instead of one row per phase: a quarter of the rows to write on every ingest,
    which is what bulk ingest of 15-minute readings is bound by. Voltages in decivolts.

    Keyed (transformer_id, period_start): the pages read the rollups of a few areas over a
    range of periods (detail pages, heat maps), and the ingest looks up the periods of the
    areas in its batch; both are ranges of this key. WITHOUT ROWID on SQLite: clustered on it.
    """

    transformer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Period start, epoch seconds UTC (daily: local midnight). A reading stamped at the end of
    # its interval belongs to the period containing (ts - 1 s): 24:00 is the day's last point.
    period_start: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    kw_max_dw: Mapped[int | None] = mapped_column(Integer)


#: The hourly rollups keep only the area as a whole (X): the heat maps and hourly figures read
#: nothing else, and per-phase hourly columns cost more than half of the write time of an ingest
#: and of the table's bytes (issues 13 and 19). Per-phase figures live in the daily rollups and,
#: for the retention, in the raw readings.
HOURLY_PHASES = ("x",)


def _phase_columns(phases: tuple[str, ...], hourly: bool):
    """The per-phase columns. Hourly ones are SMALLINT where an hour bounds them (at most 60
    readings of at most 60 minutes); sums of decivolts are INTEGER (a day's stays below 2^31)."""
    count = SmallInteger if hourly else Integer

    def add(cls):
        for p in phases:
            for suffix, kind in (
                ("n", count),
                ("sum", Integer),
                ("below_min", count),
                ("above_min", count),
                ("min", SmallInteger),
                ("max", SmallInteger),
            ):
                name = f"{p}_{suffix}"
                cls.__annotations__[name] = Mapped[int | None]
                setattr(cls, name, mapped_column(kind, nullable=True))
        return cls

    return add


@_phase_columns(HOURLY_PHASES, hourly=True)
class VoltageHourly(_VoltageRollup, Base):
    """Hourly: the area as a whole only (``x_n`` readings; the limits and rule are its day's,
    recorded on the daily row).

    No index besides the key (migration 0010 dropped the period index, 3.4 bytes a reading):
    the pages always name their areas, the ingest's existing-period check goes by the batch's
    areas, the newest hour comes from the readings' time key, and retention drops months on
    PostgreSQL (SQLite deletes by area and period through the key)."""

    __tablename__ = "voltage_hourly"
    __table_args__ = (
        {"sqlite_with_rowid": False, "postgresql_partition_by": "RANGE (period_start)"},
    )
    __annotations__ = {}

    minutes_monitored: Mapped[int] = mapped_column(SmallInteger)


@_phase_columns(ROLLUP_PHASES, hourly=False)
class VoltageDaily(_VoltageRollup, Base):
    """Daily, per phase. Its period index serves reads of every area over a range of days
    (``voltage_rollups(engine, "D", start, end)``: reports, the county pages) and costs about
    0.1 byte a reading (a row stands for 96 readings)."""

    __tablename__ = "voltage_daily"
    __table_args__ = (
        Index("ix_voltage_daily_period", "period_start"),
        {"sqlite_with_rowid": False, "postgresql_partition_by": "RANGE (period_start)"},
    )
    __annotations__ = {}

    minutes_monitored: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)  # readings with any phase present
    # The limits (decivolts) and rule in force when computed; `feederwatch rollups rebuild`
    # recomputes from raw readings when they change.
    low_dv: Mapped[int] = mapped_column(SmallInteger)
    high_dv: Mapped[int] = mapped_column(SmallInteger)
    rule: Mapped[str] = mapped_column(String(3))


class Complaint(Base):
    """A 95598 work order."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_feeder_time", "feeder_id", "received_at"),
        Index("ix_complaints_time", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    category: Mapped[str] = mapped_column(String(32))
    reasonable: Mapped[bool | None] = mapped_column(Boolean)
    merged_into: Mapped[str | None] = mapped_column(String(64))
    transformer_id: Mapped[int | None] = mapped_column(ForeignKey("transformers.id"))
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"))
    town: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    version: Mapped[float | None] = mapped_column(Float)
    row_hash: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CollectorRun(Base):
    """One run of one source: what it read, stored, skipped and refused."""

    __tablename__ = "collector_runs"
    __table_args__ = (Index("ix_collector_runs_source_started", "source", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # running, ok, partial (some quarantined), failed
    status: Mapped[str] = mapped_column(String(16), default="running")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_upserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    chunks_skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON)


class NetworkDiagnostic(Base):
    """A finding of the last network import of a source (issue 14): islands, loops, open
    points, buses without coordinates, references to unknown buses. Each import of a source
    replaces its earlier rows; ``run_id`` is the import's run. ``feeder`` and ``substation``
    are codes (text, not foreign keys: a finding may name a feeder that did not land)."""

    __tablename__ = "network_diagnostics"
    __table_args__ = (Index("ix_network_diagnostics_feeder", "feeder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("collector_runs.id"))
    source: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    feeder: Mapped[str | None] = mapped_column(String(64))
    substation: Mapped[str | None] = mapped_column(String(64))
    bus: Mapped[str | None] = mapped_column(String(100))
    line_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuarantinedRecord(Base):
    """A record refused by the pipeline, kept with its raw content and the reason."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_source_created", "source", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("collector_runs.id"))
    raw: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[str] = mapped_column(String(48), index=True)
    reason_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SourceWatermark(Base):
    """How far a source has been collected; advanced in the same transaction as its data."""

    __tablename__ = "source_watermarks"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IngestChunk(Base):
    """A committed chunk of a file ingest, so a killed ingest resumes after it."""

    __tablename__ = "ingest_chunks"

    file_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DataVersion(Base):
    """A single counter bumped by every ingest; the dashboard caches reads by it."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every signed-in session carries the generation it was made with; raising it (logout,
    # password or role change, disable) ends all of the user's sessions at once.
    session_gen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class AlertSent(Base):
    """One alert notification (issue 17): what was sent for which rule and key, when, and
    whether it was delivered. Its latest row per (rule, key) is the alert's state: sent on
    change only, re-notified quietly, cleared with a restoration message."""

    __tablename__ = "alerts_sent"
    __table_args__ = (
        Index("ix_alerts_sent_rule_key", "rule", "key", "id"),
        UniqueConstraint("rule", "key", "seq", name="uq_alerts_sent_rule_key_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    #: the (rule, key)'s message number (1, 2, ...): a process claims a message by inserting
    #: the next number before it sends, so two processes cannot send the same change (0013)
    seq: Mapped[int] = mapped_column(Integer)
    #: alert (a condition began), reminder (still on), restored (it ended)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
