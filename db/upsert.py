"""Bulk, idempotent upserts by natural key, chunked, one transaction per chunk.

Version rule for records that may arrive more than once (outages, complaints): when both the
stored and the incoming record carry a version, the higher version wins; on a tie the later end
wins (an ended outage beats an active one) and, when the ends differ, the tie is counted as a
conflict in the run summary. A record without a version replaces the stored one (arrival order:
sources without versions are trusted to send their newest state last). Identical content is
detected by a row hash and counted as unchanged, so re-ingesting the same rows changes nothing.

An inferred end (``inferred_end``: a snapshot collector ended an outage because it vanished) is
weaker than any real record: it never replaces a real end, whatever the versions; and a stored
inferred end is replaced by a real record of the same or a higher version — an outage that
reappears active is reopened (a later observation beats an inference). Both are counted
(``real_end_kept``, ``reopened``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    null,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from db.base import utcnow
from db.models import (
    Complaint,
    County,
    DataVersion,
    Feeder,
    Outage,
    SourceWatermark,
    Substation,
    Transformer,
)
from db.readings import store_readings

DEFAULT_CHUNK_ROWS = 5_000


@dataclass
class UpsertCounts:
    """What one upsert did: rows offered, inserted or changed, already identical, tie conflicts."""

    read: int = 0
    upserted: int = 0
    unchanged: int = 0
    conflicts: int = 0
    superseded: int = 0  # duplicates within the batch that lost to a newer version
    reopened: int = 0  # stored inferred ends replaced by an active real record
    real_end_kept: int = 0  # inferred ends refused because a real end is stored (or in the batch)
    ids: dict[str, int] = field(default_factory=dict)

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.read += other.read
        self.upserted += other.upserted
        self.unchanged += other.unchanged
        self.conflicts += other.conflicts
        self.superseded += other.superseded
        self.reopened += other.reopened
        self.real_end_kept += other.real_end_kept
        self.ids.update(other.ids)
        return self


def dialect_insert(conn: Connection, table: Table):
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are implemented for SQLite and PostgreSQL, not {dialect}")


def _records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as plain Python values (NaN/NaT -> None, numpy scalars -> Python)."""
    out = df.astype(object).where(df.notna(), None)
    return out.to_dict("records")


def row_hash(df: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """A stable 16-hex hash of the given columns per row, for unchanged-row detection.

    Values are hashed as text so that the same content hashes alike whatever the dtype or
    time resolution pandas chose for a batch."""
    sub = df[list(columns)]
    text = sub.astype(object).where(sub.notna(), "").astype(str)
    hashed = pd.util.hash_pandas_object(text, index=False)
    return pd.Series([format(v, "016x") for v in hashed.tolist()], index=df.index, dtype=object)


def _end_key(values: pd.Series) -> pd.Series:
    # An active record (no end) ranks below any ended one on a version tie.
    return values.map(lambda v: v.timestamp() if v is not None and not pd.isna(v) else -np.inf)


def _inferred(df: pd.DataFrame, inferred: str | None) -> np.ndarray | None:
    if not inferred or inferred not in df:
        return None
    return np.array([bool(v) if v is not None and not pd.isna(v) else False for v in df[inferred]])


def _shadowed(df: pd.DataFrame, key: str, end: str | None, inferred: str | None) -> np.ndarray:
    """Rows that are inferred ends of an outage the same batch gives a real end for."""
    guess = _inferred(df, inferred)
    if guess is None or not end or not guess.any():
        return np.zeros(len(df), dtype=bool)
    real_end = ~guess & df[end].notna().to_numpy(bool)
    return guess & df[key].isin(df.loc[real_end, key]).to_numpy(bool)


def resolve_batch_duplicates(
    df: pd.DataFrame, key: str, end: str | None, inferred: str | None = None
) -> tuple[pd.DataFrame, int, int]:
    """Keep one row per ``key`` by the version rule; return (rows, conflicts, superseded).

    With ``inferred`` (the inferred-end flag column): an inferred end never wins over a real
    end of the same key in the batch, and on a version tie a real record beats an inferred one."""
    if not df[key].duplicated().any():
        return df, 0, 0
    guess = _inferred(df, inferred)
    work = df.assign(
        _order=np.arange(len(df)),
        _ver=df["version"].astype("float64").fillna(-np.inf) if "version" in df else -np.inf,
        _end=_end_key(df[end]) if end else 0.0,
        _real=0 if guess is None else (~guess).astype(int),
    )
    work = work[~_shadowed(df, key, end, inferred)]
    dup = work[work[key].duplicated(keep=False)]
    # Conflicts: same id and same version with different ends.
    conflicts = 0
    if end:
        groups = dup.groupby([key, "_ver"], sort=False)["_end"].nunique()
        conflicts = int((groups - 1).clip(lower=0).sum())
    has_version = "version" in df and df["version"].notna().any()
    order = ["_ver", "_real", "_end", "_order"] if has_version else ["_order"]
    kept = work.sort_values(order, kind="stable").drop_duplicates(key, keep="last")
    kept = kept.sort_values("_order").drop(columns=["_order", "_ver", "_end", "_real"])
    return kept, conflicts, len(df) - len(kept)


def _wins(
    incoming_ver,
    incoming_end,
    stored_ver,
    stored_end,
    incoming_inferred: bool = False,
    stored_inferred: bool = False,
) -> tuple[bool, bool]:
    """(incoming replaces stored, counted as a conflict) under the version rule (module doc):
    an inferred end never replaces a real end; a real record replaces a stored inferred end
    unless its version is lower."""
    stored_ended = stored_end is not None and not pd.isna(stored_end)
    if incoming_inferred and stored_ended and not stored_inferred:
        return False, False
    if incoming_ver is None or stored_ver is None or pd.isna(incoming_ver) or pd.isna(stored_ver):
        return True, False
    if incoming_ver != stored_ver:
        return incoming_ver > stored_ver, False
    if stored_inferred and not incoming_inferred:
        return True, False
    ie = -np.inf if incoming_end is None or pd.isna(incoming_end) else incoming_end.timestamp()
    se = -np.inf if stored_end is None or pd.isna(stored_end) else stored_end.timestamp()
    return ie > se, ie != se


@contextmanager
def _transaction(target: Engine | Connection):
    """The caller's transaction when given a Connection; a new one per use for an Engine."""
    if isinstance(target, Connection):
        yield target
    else:
        with target.begin() as conn:
            yield conn


def _upsert_versioned(
    target: Engine | Connection,
    table: Table,
    rows: pd.DataFrame,
    key_cols: Sequence[str],
    end_col: str | None,
    hash_cols: Sequence[str],
    chunk_rows: int,
    inferred_col: str | None = None,
) -> UpsertCounts:
    counts = UpsertCounts(read=len(rows))
    natural = key_cols[-1]
    counts.real_end_kept += int(_shadowed(rows, natural, end_col, inferred_col).sum())
    rows, conflicts, superseded = resolve_batch_duplicates(rows, natural, end_col, inferred_col)
    counts.conflicts += conflicts
    counts.superseded += superseded
    rows = rows.assign(row_hash=row_hash(rows, hash_cols), updated_at=utcnow())
    for start in range(0, len(rows), chunk_rows):
        chunk = rows.iloc[start : start + chunk_rows]
        with _transaction(target) as conn:
            done = _upsert_versioned_chunk(conn, table, chunk, key_cols, end_col, inferred_col)
            if done.upserted:
                bump_data_version(conn)
        counts += done
    return counts


def _upsert_versioned_chunk(
    conn: Connection,
    table: Table,
    chunk: pd.DataFrame,
    key_cols: Sequence[str],
    end_col: str | None,
    inferred_col: str | None = None,
) -> UpsertCounts:
    counts = UpsertCounts(read=0)
    keys = list(chunk[list(key_cols)].itertuples(index=False, name=None))
    cols = [table.c[c] for c in key_cols]
    stored = {}
    fetch = [*cols, table.c.version, table.c.row_hash]
    fetch += [
        table.c[end_col] if end_col else null(),
        table.c[inferred_col] if inferred_col else null(),
    ]
    for i in range(0, len(keys), 500):
        part = keys[i : i + 500]
        cond = tuple_(*cols).in_(part) if len(cols) > 1 else cols[0].in_([k[0] for k in part])
        for row in conn.execute(select(*fetch).where(cond)):
            stored[tuple(row[: len(cols)])] = row[len(cols) :]
    write = []
    for rec, key in zip(_records(chunk), keys, strict=True):
        old = stored.get(key)
        if old is None:
            write.append(rec)
            continue
        old_version, old_hash, old_end, old_inferred = old
        if old_hash == rec["row_hash"]:
            counts.unchanged += 1
            continue
        new_end = rec.get(end_col) if end_col else None
        new_inferred = bool(rec.get(inferred_col)) if inferred_col else False
        wins, conflict = _wins(
            rec.get("version"), new_end, old_version, old_end, new_inferred, bool(old_inferred)
        )
        counts.conflicts += int(conflict)
        if wins:
            write.append(rec)
            counts.reopened += int(bool(old_inferred) and not new_inferred and new_end is None)
        else:
            counts.unchanged += 1
            real_end = old_end is not None and not old_inferred
            counts.real_end_kept += int(new_inferred and real_end)
    if write:
        stmt = dialect_insert(conn, table)
        update_cols = {c: stmt.excluded[c] for c in write[0] if c not in key_cols and c != "id"}
        stmt = stmt.on_conflict_do_update(index_elements=list(key_cols), set_=update_cols)
        conn.execute(stmt, write)
    counts.upserted += len(write)
    return counts


OUTAGE_COLUMNS = (
    "natural_id",
    "event_id",
    "level",
    "substation_id",
    "feeder_id",
    "transformer_id",
    "lon",
    "lat",
    "area_text",
    "region",
    "start_at",
    "end_at",
    "etr_at",
    "customers",
    "cause",
    "planned",
    "supply_shortage",
    "inferred_end",
    "suspicious",
    "bad_location",
    "version",
)
COMPLAINT_COLUMNS = (
    "ticket_id",
    "received_at",
    "category",
    "reasonable",
    "merged_into",
    "transformer_id",
    "feeder_id",
    "town",
    "address",
    "text",
    "version",
)


def upsert_outages(
    target: Engine | Connection,
    rows: pd.DataFrame,
    source: str,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> UpsertCounts:
    """Upsert validated outage rows (OUTAGE_COLUMNS, ids resolved) of one source by natural id.

    Given an Engine, each chunk commits on its own; given a Connection, everything happens in
    the caller's transaction."""
    rows = rows.reindex(columns=list(OUTAGE_COLUMNS)).assign(source=source)
    hash_cols = [c for c in OUTAGE_COLUMNS if c != "natural_id"]
    return _upsert_versioned(
        target,
        Outage.__table__,
        rows,
        ("source", "natural_id"),
        "end_at",
        hash_cols,
        chunk_rows,
        inferred_col="inferred_end",
    )


def upsert_complaints(
    target: Engine | Connection,
    rows: pd.DataFrame,
    source: str,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> UpsertCounts:
    """Upsert validated complaint rows (COMPLAINT_COLUMNS) by ticket id."""
    rows = rows.reindex(columns=list(COMPLAINT_COLUMNS)).assign(source=source)
    hash_cols = [c for c in COMPLAINT_COLUMNS if c != "ticket_id"]
    return _upsert_versioned(
        target, Complaint.__table__, rows, ("ticket_id",), None, hash_cols, chunk_rows
    )


def upsert_by_code(conn: Connection, table: Table, rows: pd.DataFrame) -> UpsertCounts:
    """Insert or update network rows by their external ``code``; returns counts and code -> id."""
    counts = UpsertCounts(read=len(rows))
    if rows.empty:
        return counts
    rows = rows.drop_duplicates("code", keep="last").assign(updated_at=utcnow())
    records = _records(rows)
    stmt = dialect_insert(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["code"],
        set_={c: stmt.excluded[c] for c in records[0] if c not in ("code", "id")},
    )
    conn.execute(stmt, records)
    counts.upserted = len(records)
    counts.ids = dict(
        conn.execute(
            select(table.c.code, table.c.id).where(table.c.code.in_(rows["code"].tolist()))
        ).all()
    )
    return counts


def county_ids(conn: Connection, substations: pd.DataFrame) -> pd.DataFrame:
    """A ``county`` code column becomes ``county_id`` (blank: None); unknown: ValueError."""
    if "county" not in substations:
        return substations
    known = dict(conn.execute(select(County.code, County.id)).all())
    if unknown := sorted(set(substations["county"].dropna()) - set(known)):
        raise ValueError(f"unknown county {unknown[0]!r} (counties: {sorted(known)})")
    ids = substations["county"].map(known).astype(object)
    return substations.drop(columns="county").assign(county_id=ids.where(ids.notna(), None))


def upsert_network(
    target: Engine | Connection,
    substations: pd.DataFrame | None = None,
    feeders: pd.DataFrame | None = None,
    transformers: pd.DataFrame | None = None,
) -> dict[str, UpsertCounts]:
    """Upsert network tables in one transaction. Rows carry ``code`` and resolved parent ids;
    substations may carry their county's ``county`` code instead of ``county_id``."""
    out: dict[str, UpsertCounts] = {}
    with _transaction(target) as conn:
        if substations is not None:
            substations = county_ids(conn, substations)
        for name, table, rows in (
            ("substations", Substation.__table__, substations),
            ("feeders", Feeder.__table__, feeders),
            ("transformers", Transformer.__table__, transformers),
        ):
            if rows is not None:
                out[name] = upsert_by_code(conn, table, rows)
        bump_data_version(conn)
    return out


def upsert_readings(conn: Connection, rows: pd.DataFrame, zone: str | None = None) -> int:
    """Insert or replace voltage readings (READING_COLUMNS, integers) in the caller's
    transaction: closed days packed in blocks of the ``zone``'s local days, open ones as rows
    (db/readings.py)."""
    return store_readings(conn, rows, zone)


def bump_data_version(conn: Connection) -> None:
    """Advance the data version the dashboard caches by (in the caller's transaction)."""
    conn.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(version=DataVersion.version + 1, updated_at=utcnow())
    )


def upsert_watermark(conn: Connection, source: str, value: str) -> None:
    """Store a source's watermark in the caller's transaction (so it covers exactly its data)."""
    stmt = dialect_insert(conn, SourceWatermark.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source"],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
    )
    conn.execute(stmt, [{"source": source, "value": value, "updated_at": utcnow()}])


__all__ = [
    "UpsertCounts",
    "upsert_outages",
    "upsert_complaints",
    "upsert_network",
    "county_ids",
    "upsert_readings",
    "upsert_by_code",
    "bump_data_version",
    "upsert_watermark",
    "resolve_batch_duplicates",
    "row_hash",
]


def upsert_user(engine: Engine, name: str, role: str, password_hash: str) -> None:
    """Create or update a dashboard user (role and password hash) by name."""
    from db.models import User

    with engine.begin() as conn:
        stmt = dialect_insert(conn, User.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "role": stmt.excluded.role,
                "password_hash": stmt.excluded.password_hash,
                # a new password or role ends every session signed in before
                "session_gen": User.__table__.c.session_gen + 1,
            },
        )
        conn.execute(stmt, [{"name": name, "role": role, "password_hash": password_hash}])


def end_user_sessions(engine: Engine, name: str, disable: bool | None = None) -> bool:
    """Raise the user's session generation (every session signed in before ends); with
    ``disable`` also set whether the user may sign in. False when there is no such user."""
    from sqlalchemy import update

    from db.models import User

    values: dict = {"session_gen": User.session_gen + 1}
    if disable is not None:
        values["disabled"] = disable
    with engine.begin() as conn:
        done = conn.execute(update(User).where(User.name == name).values(**values))
    return done.rowcount > 0
