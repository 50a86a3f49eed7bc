"""Reads of outages, complaints, voltage rollups and collection bookkeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import aliased

from db.models import (
    HOURLY_PHASES,
    ROLLUP_PHASES,
    CollectorRun,
    Complaint,
    DataVersion,
    Feeder,
    Outage,
    QuarantinedRecord,
    SourceWatermark,
    Substation,
    Transformer,
    VoltageDaily,
    VoltageHourly,
)

UTC_COLUMNS_OUTAGES = ("start", "end", "etr", "updated_at")


def _utc(df: pd.DataFrame, columns) -> pd.DataFrame:
    for col in columns:
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True)
    return df


def _outage_select() -> Select:
    o, s, f, t = Outage, Substation, Feeder, Transformer
    return (
        select(
            o.id,
            o.source,
            o.natural_id.label("outage_id"),
            o.event_id,
            o.level,
            s.code.label("substation"),
            f.code.label("feeder"),
            t.code.label("transformer"),
            o.start_at.label("start"),
            o.end_at.label("end"),
            o.etr_at.label("etr"),
            o.customers,
            o.cause,
            o.planned,
            o.supply_shortage,
            o.inferred_end,
            o.suspicious,
            o.bad_location,
            o.lon,
            o.lat,
            o.area_text,
            o.region,
            o.version,
            o.updated_at,
        )
        .join(s, o.substation_id == s.id, isouter=True)
        .join(f, o.feeder_id == f.id, isouter=True)
        .join(t, o.transformer_id == t.id, isouter=True)
    )


def outages(
    engine: Engine,
    start: datetime | None = None,
    end: datetime | None = None,
    source: str | None = None,
    announced: bool = False,
) -> pd.DataFrame:
    """Outages overlapping [start, end) (all when omitted), canonical columns, UTC times.

    Planned outages announced ahead (starting after now) are left out unless ``announced``:
    what has not happened yet is no interruption to count, rank or draw
    (:func:`planned_outages` lists them)."""
    stmt = _outage_select()
    if not announced:
        stmt = stmt.where(Outage.start_at <= _now())
    if end is not None:
        stmt = stmt.where(Outage.start_at < end)
    if start is not None:
        stmt = stmt.where((Outage.end_at.is_(None)) | (Outage.end_at > start))
    if source is not None:
        stmt = stmt.where(Outage.source == source)
    with engine.connect() as conn:
        df = pd.read_sql(stmt.order_by(Outage.start_at, Outage.id), conn)
    return _utc(df, UTC_COLUMNS_OUTAGES)


def _now() -> datetime:
    return datetime.now(UTC)


def active_outages(engine: Engine) -> pd.DataFrame:
    """Outages without an end that have started (active now), newest first."""
    stmt = (
        _outage_select()
        .where(Outage.end_at.is_(None), Outage.start_at <= _now())
        .order_by(Outage.start_at.desc())
    )
    with engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    return _utc(df, UTC_COLUMNS_OUTAGES)


def complaints(
    engine: Engine, start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    """Complaints received in [start, end), canonical columns."""
    c, f, t = Complaint, Feeder, Transformer
    tf = aliased(Feeder)
    stmt = (
        select(
            c.ticket_id,
            c.received_at.label("time"),
            c.category,
            c.reasonable,
            c.merged_into,
            t.code.label("transformer"),
            func.coalesce(f.code, tf.code).label("feeder"),
            c.town,
            c.address,
            c.text,
            c.source,
        )
        .join(t, c.transformer_id == t.id, isouter=True)
        .join(f, c.feeder_id == f.id, isouter=True)
        .join(tf, t.feeder_id == tf.id, isouter=True)
    )
    if start is not None:
        stmt = stmt.where(c.received_at >= start)
    if end is not None:
        stmt = stmt.where(c.received_at < end)
    with engine.connect() as conn:
        df = pd.read_sql(stmt.order_by(c.received_at, c.ticket_id), conn)
    return _utc(df, ("time",))


def voltage_rollups(
    engine: Engine,
    freq: str = "D",
    start: datetime | None = None,
    end: datetime | None = None,
    transformers: list[str] | None = None,
    long: bool = True,
    phases: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Hourly (``freq="h"``) or daily (``"D"``) voltage rollups in volts and minutes.

    Long form (default): one row per transformer, period and phase (A, B, C, and X = the area
    under the any/all-phase rule) with n, v_min, v_max, v_sum, minutes_monitored,
    minutes_below, minutes_above, kw_max, and v_low / v_high: the limits the row was judged
    under (the area's level, on the 220 V storage base). ``long=False`` keeps the stored wide layout.
    ``phases`` (of "a", "b", "c", "x"; long form) reads only those phases' columns; the
    default is every phase stored: A, B, C and X daily, X alone hourly (HOURLY_PHASES)."""
    r = VoltageDaily if freq == "D" else VoltageHourly
    stored = ROLLUP_PHASES if freq == "D" else HOURLY_PHASES
    if phases is None:
        phases = stored
    if long and any(p not in stored for p in phases):
        raise ValueError(f"{r.__tablename__} keeps the phases {stored}, not {phases!r}")
    read = stored if not long else tuple(p for p in stored if p in phases)
    wide = _wide_rollups(engine, r, read, start, end, transformers)
    if not long:
        return wide
    return pd.concat([_phase_rows(wide, phase) for phase in read], ignore_index=True)[
        _LONG_ROLLUP_COLUMNS
    ]


_LONG_ROLLUP_COLUMNS = [
    "transformer",
    "period_start",
    "phase",
    "n",
    "v_min",
    "v_max",
    "v_sum",
    "minutes_monitored",
    "minutes_below",
    "minutes_above",
    "kw_max",
    "v_low",
    "v_high",
]


def _wide_rollups(engine: Engine, r, read: tuple[str, ...], start, end, transformers):
    """The stored rows of rollup table ``r`` with the columns of the phases ``read``, in volts
    (and kW), with the limits each row was judged under."""
    t = Transformer
    cols = [
        c
        for c in r.__table__.c
        if c.name not in ("transformer_id", "rule")
        and (c.name[:2] not in {f"{p}_" for p in ROLLUP_PHASES} or c.name[0] in read)
        and (c.name != "n" or read != ("x",))
    ]
    stmt = select(t.code.label("transformer"), *cols).join(t, r.transformer_id == t.id)
    if start is not None:
        stmt = stmt.where(r.period_start >= int(start.timestamp()))
    if end is not None:
        stmt = stmt.where(r.period_start < int(end.timestamp()))
    if transformers is not None:
        stmt = stmt.where(t.code.in_(transformers))
    with engine.connect() as conn:
        wide = pd.read_sql(stmt.order_by(t.code, r.period_start), conn)
    wide["period_start"] = pd.to_datetime(wide["period_start"], unit="s", utc=True)
    wide["kw_max"] = wide.pop("kw_max_dw") / 10.0
    # the limits each row was judged under (volts on the 220 V storage base); hourly rows
    # carry none (their day's are on the daily row)
    if "low_dv" in wide:
        wide["v_low"], wide["v_high"] = wide.pop("low_dv") / 10.0, wide.pop("high_dv") / 10.0
    else:
        wide["v_low"] = wide["v_high"] = np.nan
    return wide


def _phase_rows(wide: pd.DataFrame, phase: str) -> pd.DataFrame:
    """One phase's long-form rows of the wide rollups (rows without readings left out)."""
    part = wide[
        ["transformer", "period_start", "minutes_monitored", "kw_max", "v_low", "v_high"]
    ].copy()
    part["minutes_monitored"] = part["minutes_monitored"].astype(float)
    part["phase"] = phase.upper()
    part["n"] = wide[f"{phase}_n"]
    for stat in ("min", "max", "sum"):
        part[f"v_{stat}"] = wide[f"{phase}_{stat}"] / 10.0
    part["minutes_below"] = wide[f"{phase}_below_min"]
    part["minutes_above"] = wide[f"{phase}_above_min"]
    if phase != "x":
        # Per phase, time monitored is that phase's readings times the interval.
        per_reading = wide["minutes_monitored"] / wide["n"].where(wide["n"] > 0)
        part["minutes_monitored"] = (wide[f"{phase}_n"] * per_reading).fillna(0)
    return part[part["n"] > 0]


def collector_runs(engine: Engine, source: str | None = None, limit: int = 200) -> pd.DataFrame:
    """The latest collector runs, newest first."""
    stmt = select(CollectorRun).order_by(CollectorRun.started_at.desc(), CollectorRun.id.desc())
    if source is not None:
        stmt = stmt.where(CollectorRun.source == source)
    cols = [c for c in CollectorRun.__table__.c if c.name != "detail"]
    stmt = stmt.with_only_columns(*cols).limit(limit)
    with engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    return _utc(df, ("started_at", "finished_at"))


def quarantine(
    engine: Engine, source: str | None = None, limit: int = 1000, offset: int = 0
) -> pd.DataFrame:
    """Quarantined records, newest first."""
    q = QuarantinedRecord
    stmt = (
        select(q.id, q.source, q.kind, q.run_id, q.reason_code, q.reason_text, q.raw, q.created_at)
        .order_by(q.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if source is not None:
        stmt = stmt.where(q.source == source)
    with engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    return _utc(df, ("created_at",))


def table_counts(engine: Engine) -> dict[str, int]:
    """Row counts of the main tables."""
    models = (
        Substation,
        Feeder,
        Transformer,
        Outage,
        Complaint,
        VoltageHourly,
        VoltageDaily,
        CollectorRun,
        QuarantinedRecord,
    )
    with engine.connect() as conn:
        counts = {
            m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one()
            for m in models
        }
        # Readings can be hundreds of millions: estimate cheaply from rollups instead of COUNT(*).
        counts["voltage_readings"] = int(
            conn.execute(select(func.coalesce(func.sum(VoltageHourly.x_n), 0))).scalar_one()
        )
    return counts


def data_version(engine: Engine) -> int:
    """The data version: bumped by every ingest; the dashboard's cache key."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(DataVersion.version).where(DataVersion.id == 1)
            ).scalar_one_or_none()
            or 0
        )


def data_updated_at(engine: Engine) -> datetime | None:
    """When the data version last advanced (UTC): the time of the newest ingested change."""
    with engine.connect() as conn:
        value = conn.execute(
            select(DataVersion.updated_at).where(DataVersion.id == 1)
        ).scalar_one_or_none()
    return value


def watermark(engine: Engine, source: str) -> str | None:
    """A source's stored watermark, or None."""
    with engine.connect() as conn:
        return conn.execute(
            select(SourceWatermark.value).where(SourceWatermark.source == source)
        ).scalar_one_or_none()


def source_status(engine: Engine) -> pd.DataFrame:
    """Per source: the last run (start, end, status, rows, error, detail: its quarantine
    reasons and notes) and the last success time."""
    r = CollectorRun
    last_id = select(r.source, func.max(r.id).label("last_id")).group_by(r.source).subquery()
    ok = (
        select(r.source, func.max(r.finished_at).label("last_success"))
        .where(r.status.in_(("ok", "partial")))
        .group_by(r.source)
        .subquery()
    )
    stmt = (
        select(
            r.source,
            r.started_at,
            r.finished_at,
            r.status,
            r.rows_read,
            r.rows_upserted,
            r.rows_quarantined,
            r.error,
            r.detail,
            ok.c.last_success,
        )
        .join(last_id, r.id == last_id.c.last_id)
        .join(ok, ok.c.source == r.source, isouter=True)
        .order_by(r.source)
    )
    with engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    return _utc(df, ("started_at", "finished_at", "last_success"))


# Run statuses (collector_runs.status): a run is running, then ok or partial (some records
# quarantined) when it succeeded, failed or abandoned (its process died: killed, crashed, out
# of disk) when it did not. Read abandoned exactly like failed.
SUCCESS_STATUSES = ("ok", "partial")
FAILED_STATUSES = ("failed", "abandoned")


def running_sources(engine: Engine) -> list[str]:
    """Sources with a run record still marked running (live, or left by a dead process)."""
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                select(CollectorRun.source).where(CollectorRun.status == "running").distinct()
            ).scalars()
        )


def committed_chunks(engine: Engine, file_key: str) -> set[int]:
    """Chunk numbers of a file already committed (by an interrupted or finished ingest)."""
    from db.models import IngestChunk

    with engine.connect() as conn:
        return set(
            conn.execute(
                select(IngestChunk.chunk_no).where(IngestChunk.file_key == file_key)
            ).scalars()
        )


def planned_outages(engine: Engine, days: float = 7.0, now: datetime | None = None) -> pd.DataFrame:
    """Planned outages announced to start within ``days`` from now, soonest first."""
    now = now or _now()
    stmt = (
        _outage_select()
        .where(
            Outage.planned.is_(True),
            Outage.start_at > now,
            Outage.start_at <= now + timedelta(days=days),
        )
        .order_by(Outage.start_at, Outage.id)
    )
    with engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    return _utc(df, UTC_COLUMNS_OUTAGES)


def last_outage_start(engine: Engine) -> pd.Timestamp | None:
    """When the newest outage started (UTC; announced planned outages aside), or None."""
    with engine.connect() as conn:
        value = conn.execute(
            select(func.max(Outage.start_at)).where(Outage.start_at <= _now())
        ).scalar_one_or_none()
    return None if value is None else pd.Timestamp(value)


def user_credentials(engine: Engine, name: str) -> tuple[str, str] | None:
    """A dashboard user's (role, password hash), or None when there is no such user."""
    from db.models import User

    with engine.connect() as conn:
        row = conn.execute(select(User.role, User.password_hash).where(User.name == name)).first()
    return None if row is None else (row.role, row.password_hash)


def user_session_state(engine: Engine, name: str) -> tuple[str, int, bool] | None:
    """A dashboard user's (role, session generation, disabled), or None when unknown."""
    from db.models import User

    with engine.connect() as conn:
        row = conn.execute(
            select(User.role, User.session_gen, User.disabled).where(User.name == name)
        ).first()
    return None if row is None else (row.role, int(row.session_gen), bool(row.disabled))


def list_users(engine: Engine) -> list[tuple[str, str, bool]]:
    """(name, role, disabled) of every dashboard user, by name."""
    from db.models import User

    with engine.connect() as conn:
        rows = conn.execute(select(User.name, User.role, User.disabled).order_by(User.name))
        return [(r.name, r.role, bool(r.disabled)) for r in rows]
