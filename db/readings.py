"""Raw voltage readings: recent ones one row each, closed days packed in blocks (issue 19).

A row per reading costs a floor of about 24 bytes on SQLite and 56 on PostgreSQL (tuple header,
item pointer and key index) before any value. So a reading lives in one of two places:

- ``voltage_readings``, one row per reading, keyed (ts, transformer_id): the landing table for
  days still open, where live batches append a reading per area every interval;
- ``voltage_blocks``, one row per area and local day with the day's readings packed
  (db/blocks.py): 10 bytes a reading for a regular series, plus one row per day.

A day is *closed* once readings stamped :data:`CLOSE_AFTER_SECONDS` past its end are stored
(counted from the newest data, not the clock, so an old export is packed as it arrives). A
batch's readings of closed days, of any area and day it brings at least :data:`PACK_AT`
readings of (a backfill, a daily export), and of days already packed up to their block's newest
reading (corrections, gaps filled) are merged straight into their blocks; its other readings (live batches: one per area) land as rows, and
:func:`compact` later packs the rows of days that closed meanwhile (a bounded number per call).
Every write of a block absorbs and deletes the rows of that area and day in the same
transaction, so a reading is never in both places once committed; readers still take a row
over a block reading of the same time (the newer write wins, as it does within each).

Blocks follow the site's local days (a fixed UTC offset, :func:`block_offset`) and the
end-of-interval stamps (docs/formats.md): a reading belongs to the day containing ``ts - 1 s``,
so 24:00 closes its own day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, delete, func, select

from db.blocks import (
    DAY,
    READING_COLUMNS,
    day_of,
    decode_blocks,
    empty_readings,
    encode_blocks,
    standard_offset,
)
from db.bulk import bulk_upsert, pg_copy_upsert
from db.models import StorageLayout, VoltageBlock, VoltageReading
from db.partitions import create_partitions, is_partitioned

#: a day is packed once readings this long after its end are stored (late data stays cheap)
CLOSE_AFTER_SECONDS = DAY
#: a batch bringing this many readings of one area and day packs them at once, open or not
#: (a backfill or a daily export; a live batch brings one reading per area)
PACK_AT = 24
#: readings packed by one call of :func:`compact` (a batch's transaction stays short)
COMPACT_BUDGET = 600_000


def block_offset(conn: Connection, zone: str | None = None) -> int:
    """The UTC offset the blocks' days begin at, fixed at the first block written.

    Blocks follow the site's local days (its standard offset: a daily export of a local day
    fills whole blocks, never two halves), and keep that alignment for good even if the
    configured zone changes: a block's ``day`` is its absolute start, so readers need no
    offset, but writers must agree on one. Stored at the first call with a ``zone`` (UTC
    without one)."""
    t = StorageLayout.__table__
    stored = conn.execute(select(t.c.block_offset_s).where(t.c.id == 1)).scalar_one_or_none()
    if stored is not None:
        return int(stored)
    from sqlalchemy.dialects import postgresql, sqlite

    # two first writers at once: the second waits for the first's row, then keeps it
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(t).values(id=1, block_offset_s=standard_offset(zone or "UTC"))
    conn.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
    return int(conn.execute(select(t.c.block_offset_s).where(t.c.id == 1)).scalar_one())


# --- reading --------------------------------------------------------------------------------
def read_readings(
    conn: Connection, ts_lo: int, ts_hi: int, transformer_ids: list[int] | None = None
) -> pd.DataFrame:
    """Readings with ts_lo < ts <= ts_hi (of these areas, all when None) from rows and blocks,
    in (transformer_id, ts) order; a row wins over a block reading of the same area and time."""
    wanted = None if transformer_ids is None else sorted(set(transformer_ids))
    rows = _read_rows(conn, ts_lo, ts_hi, wanted)
    blocks = _read_blocks(conn, ts_lo, ts_hi, wanted)
    if blocks.empty:
        frame = rows
    elif rows.empty:
        frame = blocks
    else:
        frame = pd.concat([blocks, rows], ignore_index=True)
        frame = frame.drop_duplicates(["transformer_id", "ts"], keep="last")
    if frame.empty:
        return empty_readings()
    tid = frame["transformer_id"].to_numpy(np.int64)
    ts = frame["ts"].to_numpy(np.int64)
    return frame.iloc[np.lexsort((ts, tid))].reset_index(drop=True)


def _listed(wanted: list[int] | None) -> bool:
    # a list the database can take as parameters (SQLite's limit is 32766); past it, the
    # window is read whole and the areas kept here
    return wanted is not None and len(wanted) <= 30_000


def _read_rows(conn: Connection, ts_lo: int, ts_hi: int, wanted: list[int] | None) -> pd.DataFrame:
    r = VoltageReading.__table__
    stmt = select(*(r.c[c] for c in READING_COLUMNS)).where(r.c.ts > ts_lo, r.c.ts <= ts_hi)
    if _listed(wanted):
        stmt = stmt.where(r.c.transformer_id.in_(wanted))
    # the driver's plain tuples: building Row objects and pandas probing each for named-tuple
    # fields took ten times as long, most of the time of a rollup redo
    frame = pd.DataFrame.from_records(
        conn.execute(stmt).cursor.fetchall(), columns=list(READING_COLUMNS)
    )
    if wanted is not None and not _listed(wanted):
        frame = frame[frame["transformer_id"].isin(wanted)]
    return frame


def _read_blocks(
    conn: Connection, ts_lo: int, ts_hi: int, wanted: list[int] | None
) -> pd.DataFrame:
    b = VoltageBlock.__table__
    # a block holds (day, day + 1 day]: it meets (ts_lo, ts_hi] when day is in
    # (ts_lo - 1 day, ts_hi), whatever the days' alignment
    stmt = select(b.c.day, b.c.transformer_id, b.c.fmt, b.c.n, b.c.data).where(
        b.c.day > ts_lo - DAY, b.c.day < ts_hi
    )
    if _listed(wanted):
        stmt = stmt.where(b.c.transformer_id.in_(wanted))
    frame = decode_blocks(conn.execute(stmt).cursor.fetchall())
    keep = (frame["ts"] > ts_lo) & (frame["ts"] <= ts_hi)
    if wanted is not None and not _listed(wanted):
        keep &= frame["transformer_id"].isin(wanted)
    return frame[keep] if not keep.all() else frame


def reading_span(conn: Connection) -> tuple[int | None, int | None]:
    """The oldest and newest reading times stored (rows and blocks)."""
    r, b = VoltageReading.__table__, VoltageBlock.__table__
    lo_r, hi_r = conn.execute(select(func.min(r.c.ts), func.max(r.c.ts))).one()
    lo_day, hi_day = conn.execute(select(func.min(b.c.day), func.max(b.c.day))).one()
    lo = [int(lo_r)] if lo_r is not None else []
    hi = [int(hi_r)] if hi_r is not None else []
    if lo_day is not None:
        # the oldest block's first reading and the newest block's last (a day's worth of rows)
        first = read_readings(conn, int(lo_day), int(lo_day) + DAY)
        if not first.empty:
            lo.append(int(first["ts"].min()))
        hi.append(
            int(conn.execute(select(func.max(b.c.ts_last)).where(b.c.day == hi_day)).scalar_one())
        )
    return (min(lo) if lo else None, max(hi) if hi else None)


def newest_reading_ts(conn: Connection) -> int | None:
    """The newest reading time stored: one step down each table's time-first key."""
    r, b = VoltageReading.__table__, VoltageBlock.__table__
    found = []
    newest_row = conn.execute(select(func.max(r.c.ts))).scalar_one_or_none()
    if newest_row is not None:
        found.append(int(newest_row))
    hi_day = conn.execute(select(func.max(b.c.day))).scalar_one_or_none()
    # the newest block's day ends before the newest row (live data): no need to look inside
    if hi_day is not None and (newest_row is None or int(hi_day) + DAY > int(newest_row)):
        found.append(
            int(conn.execute(select(func.max(b.c.ts_last)).where(b.c.day == hi_day)).scalar_one())
        )
    return max(found) if found else None


def count_readings(conn: Connection) -> int:
    """Readings stored, rows and blocks (a COUNT over the rows: for tests and small tables)."""
    r, b = VoltageReading.__table__, VoltageBlock.__table__
    rows = conn.execute(select(func.count()).select_from(r)).scalar_one()
    packed = conn.execute(select(func.coalesce(func.sum(b.c.n), 0))).scalar_one()
    return int(rows) + int(packed)


# --- writing --------------------------------------------------------------------------------
def store_readings(conn: Connection, rows: pd.DataFrame, zone: str | None = None) -> int:
    """Insert or replace readings (READING_COLUMNS, integers; a key repeated in the batch: the
    last row wins) in the caller's transaction: readings of closed days into their blocks,
    the others as rows; then pack a bounded number of rows whose days have closed.
    ``zone``: the site's time zone, whose local days the blocks follow (:func:`block_offset`)."""
    if rows.empty:
        return 0
    off = block_offset(conn, zone)
    data = rows[list(READING_COLUMNS)]
    ts = data["ts"].to_numpy(np.int64)
    newest = max(int(ts.max()), newest_reading_ts(conn) or int(ts.max()))
    closed_before = closed_until(newest)
    keys = _block_keys(data, off)
    _, where, count = np.unique(keys, return_inverse=True, return_counts=True)
    packed = (day_of(ts, off) + DAY <= closed_before) | (count[where] >= PACK_AT)
    if not packed.all():
        # an open day already packed (a backfill brought its first hours): a reading at or
        # before the block's newest may be one it holds (a correction, a gap filled) and is
        # merged into it, so a reading is never both a row and in a block; a newer one (the
        # live batches that follow) lands as a row and is packed when the day closes, instead
        # of every live batch rewriting every area's block
        stored, newest_in = _stored_blocks(conn, day_of(ts[~packed], off), off)
        if len(stored):
            at = pd.Index(stored).get_indexer(keys)
            packed |= (at >= 0) & (ts <= newest_in[np.maximum(at, 0)])
    if packed.any():
        merge_into_blocks(conn, data[packed], off)
    if not packed.all():
        _write_rows(conn, data[~packed])
    compact(conn, closed_before, off=off)
    return len(data)


def _stored_blocks(conn: Connection, days: np.ndarray, off: int):
    """The keys (:func:`_block_keys`) and newest reading times of the blocks of these days."""
    b = VoltageBlock.__table__
    found = conn.execute(
        select(b.c.day, b.c.transformer_id, b.c.ts_last).where(
            b.c.day.between(int(days.min()), int(days.max()))
        )
    ).all()
    if not found:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    arr = np.array(found, dtype=np.int64)
    return (((arr[:, 0] + off) // DAY) << 32) + arr[:, 1], arr[:, 2]


def closed_until(newest: int) -> int:
    """Days ending at or before this time are closed, given the newest reading stored."""
    return newest - CLOSE_AFTER_SECONDS


def _write_rows(conn: Connection, data: pd.DataFrame) -> None:
    ts = data["ts"].to_numpy(np.int64)
    tid = data["transformer_id"].to_numpy(np.int64)
    in_order = (ts[1:] > ts[:-1]) | ((ts[1:] == ts[:-1]) & (tid[1:] >= tid[:-1]))
    if not in_order.all():
        # In key order (ts, transformer_id): new readings append at the end of the b-tree.
        # Stable: a key repeated in the batch keeps its last row last.
        data = data.iloc[np.lexsort((tid, ts))]
    bulk_upsert(conn, "voltage_readings", data, list(READING_COLUMNS), ("transformer_id", "ts"))


def merge_into_blocks(conn: Connection, batch: pd.DataFrame, off: int) -> int:
    """Merge readings of closed days into their blocks: each touched block is rewritten whole
    from what it held, the rows of its area and day (absorbed and deleted) and the batch (the
    batch wins, then rows, then the block). Returns the blocks written."""
    if batch.empty:
        return 0
    days = day_of(batch["ts"].to_numpy(np.int64), off)
    tids = np.unique(batch["transformer_id"].to_numpy(np.int64)).tolist()
    rows = _absorb_rows(conn, int(days.min()), int(days.max()) + DAY, tids)
    return _pack(conn, off, rows, batch)


def _block_keys(frame: pd.DataFrame, off: int) -> np.ndarray:
    """One integer per (day, area): the day's number above the area id's 32 bits."""
    days = (day_of(frame["ts"].to_numpy(np.int64), off) + off) // DAY
    return (days << 32) + frame["transformer_id"].to_numpy(np.int64)


def _pack(conn: Connection, off: int, *newer: pd.DataFrame) -> int:
    """Write the blocks of the readings in ``newer`` (later frames win), each merged with what
    its block already held. Returns the blocks written."""
    if conn.dialect.name == "postgresql":
        # one block writer at a time: two writers of one block would each rewrite it whole
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('voltage_blocks'))")
    new = pd.concat([f[list(READING_COLUMNS)] for f in newer if not f.empty], ignore_index=True)
    if new.empty:
        return 0
    days = day_of(new["ts"].to_numpy(np.int64), off)
    tids = np.unique(new["transformer_id"].to_numpy(np.int64)).tolist()
    old = _read_blocks(conn, int(days.min()), int(days.max()) + DAY, tids)
    if not old.empty:
        # the blocks read span a rectangle of days and areas: keep those the new readings touch
        old = old[np.isin(_block_keys(old, off), np.unique(_block_keys(new, off)))]
        new = pd.concat([old, new], ignore_index=True)
    return _write_blocks(conn, encode_blocks(new, off))


def _absorb_rows(conn: Connection, lo: int, hi: int, tids: list[int]) -> pd.DataFrame:
    """The rows of these areas with lo < ts <= hi, deleted (their readings go into blocks)."""
    r = VoltageReading.__table__
    oldest = conn.execute(select(func.min(r.c.ts))).scalar_one_or_none()
    if oldest is None or int(oldest) > hi:
        return empty_readings()
    found = _read_rows(conn, lo, hi, tids)
    if not found.empty:
        window = and_(r.c.ts > lo, r.c.ts <= hi)
        for i in range(0, len(tids), 30_000):
            conn.execute(delete(r).where(window, r.c.transformer_id.in_(tids[i : i + 30_000])))
    return found


def _write_blocks(conn: Connection, blocks: pd.DataFrame) -> int:
    if blocks.empty:
        return 0
    cols = ["day", "transformer_id", "ts_last", "n", "fmt", "data"]
    key = ("transformer_id", "day")
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key)
    conflict = f"ON CONFLICT (day, transformer_id) DO UPDATE SET {updates}"
    values = list(zip(*(blocks[c].tolist() for c in cols), strict=True))
    raw = conn.connection.driver_connection
    if conn.dialect.name != "postgresql":
        cur = raw.cursor()
        try:
            cur.executemany(
                f"INSERT INTO voltage_blocks ({', '.join(cols)}) "
                f"VALUES ({', '.join(['?'] * len(cols))}) {conflict}",
                values,
            )
        finally:
            cur.close()
        return len(blocks)
    if is_partitioned(conn, "voltage_blocks"):
        # normally made ahead by the pipeline (ensure_reading_partitions)
        create_partitions(
            conn, "voltage_blocks", int(blocks["day"].min()), int(blocks["day"].max())
        )
    return pg_copy_upsert(raw, "voltage_blocks", blocks, cols, key, values, conflict)


def compact(
    conn: Connection, closed_before: int, budget: int = COMPACT_BUDGET, off: int | None = None
) -> int:
    """Pack the rows of closed days (ending at or before ``closed_before``) into blocks, oldest
    first, about ``budget`` readings per call (whole areas of a day at a time). Returns the
    readings packed."""
    r = VoltageReading.__table__
    if off is None:
        off = block_offset(conn)
    done = 0
    while done < budget:
        oldest = conn.execute(select(func.min(r.c.ts))).scalar_one_or_none()
        if oldest is None:
            break
        day = int(day_of(np.array([int(oldest)], dtype=np.int64), off)[0])
        if day + DAY > closed_before:
            break
        window = and_(r.c.ts > day, r.c.ts <= day + DAY)
        tids = [
            int(t)
            for (t,) in conn.execute(
                select(r.c.transformer_id).where(window).distinct().order_by(r.c.transformer_id)
            )
        ]
        per_area = max(1, (budget - done) // 96)
        rows = _absorb_rows(conn, day, day + DAY, tids[:per_area])
        _pack(conn, off, rows)
        done += len(rows)
    return done


def prune_readings(conn: Connection, cutoff: int) -> int:
    """Delete readings older than ``cutoff``. Rows go one by one; a block goes once its whole
    day is older than the cutoff (it is kept while any of its day is inside the retention).
    PostgreSQL drops whole months first. Returns the readings deleted one by one (rows, and
    the readings of the blocks deleted)."""
    from db.partitions import drop_before

    r, b = VoltageReading.__table__, VoltageBlock.__table__
    drop_before(conn, "voltage_readings", cutoff)
    drop_before(conn, "voltage_blocks", cutoff - DAY)
    gone = conn.execute(delete(r).where(r.c.ts < cutoff)).rowcount or 0
    old_blocks = b.c.day + DAY < cutoff
    gone += int(
        conn.execute(select(func.coalesce(func.sum(b.c.n), 0)).where(old_blocks)).scalar_one()
    )
    conn.execute(delete(b).where(old_blocks))
    return gone


def compact_all(engine: Engine, zone: str | None = None, budget: int = COMPACT_BUDGET) -> int:
    """Pack the rows of every closed day now (``feederwatch db compact``), ``budget`` readings
    a transaction, in the site zone's local days (:func:`block_offset`). Returns the readings
    packed."""
    with engine.begin() as conn:
        newest = newest_reading_ts(conn)
        block_offset(conn, zone)
    total = 0
    while newest is not None:
        with engine.begin() as conn:
            packed = compact(conn, closed_until(newest), budget)
        if not packed:
            break
        total += packed
    return total


def unpack_all(conn: Connection) -> int:
    """Every block back into rows (a downgrade below migration 0012), a month at a time.
    Returns the readings unpacked."""
    b = VoltageBlock.__table__
    lo, hi = conn.execute(select(func.min(b.c.day), func.max(b.c.day))).one()
    if lo is None:
        return 0
    total = 0
    for day in range(int(lo), int(hi) + 1, 31 * DAY):
        readings = _read_blocks(conn, day, day + 31 * DAY, None)
        if not readings.empty:
            _write_rows(conn, readings)
            total += len(readings)
        conn.execute(delete(b).where(b.c.day >= day, b.c.day < day + 31 * DAY))
    return total
