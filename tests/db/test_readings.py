"""Raw readings as rows and packed blocks (db/readings.py), on SQLite and PostgreSQL: every
write is read back exactly as a plain last-write-wins table of (area, time) would hold it,
whichever mix of rows and blocks it ended in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from db.blocks import DAY
from db.readings import (
    compact_all,
    count_readings,
    read_readings,
    store_readings,
)

VALUES = ("va_dv", "vb_dv", "vc_dv", "kw_dw")
T0 = 1_767_225_600  # 2026-01-01 00:00 UTC


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["transformer_id", "ts", *VALUES])


def _model_apply(model: dict, rows: list[tuple]) -> None:
    """The reference: a dict keyed by (area, time); a later row replaces the earlier."""
    for tid, ts, *values in rows:
        model[(tid, ts)] = tuple(None if v is None else int(v) for v in values)


def _stored(conn) -> dict:
    got = read_readings(conn, -(2**40), 2**40)
    out = {}
    for tid, ts, *values in got.itertuples(index=False, name=None):
        out[(int(tid), int(ts))] = tuple(None if pd.isna(v) else int(v) for v in values)
    return out


def _tables(conn) -> tuple[int, int]:
    rows = conn.exec_driver_sql("SELECT count(*) FROM voltage_readings").scalar_one()
    blocks = conn.exec_driver_sql("SELECT count(*) FROM voltage_blocks").scalar_one()
    return int(rows), int(blocks)


def test_read001_closed_days_packed_open_days_rows_every_value_back(engine):
    """Three days of 15-minute readings for two areas, NULLs in every column and values at
    the ends of their types, in one batch: every day is packed (closed, or a whole day
    brought at once: one block per area and day), and every reading reads back exactly."""
    rows = []
    for i in range(1, 3 * 96 + 1):
        for tid in (7, 2**31 - 1):
            va = None if i % 5 == 0 else 2200 + i % 40
            vb = None if i % 7 == 0 else 32767 if i == 3 else -32767 if i == 4 else 2210
            vc = None if i % 3 == 0 else 2230
            kw = None if i % 11 == 0 else (2**31 - 1 if i == 6 else -(2**31) + 1 if i == 8 else i)
            rows.append((tid, T0 + 900 * i, va, vb, vc, kw))
    with engine.begin() as conn:
        assert store_readings(conn, _frame(rows)) == len(rows)
    model: dict = {}
    _model_apply(model, rows)
    with engine.connect() as conn:
        assert _stored(conn) == model
        assert count_readings(conn) == len(rows)
        assert _tables(conn) == (0, 3 * 2)


def test_read002_late_and_corrected_readings_merge_into_their_blocks(engine):
    """A correction of a packed reading replaces it in its block, in a closed day and in the
    open day alike; a late reading joins its block; readings off the whole minute use the
    seconds layout; nothing is duplicated (the count equals the distinct keys)."""
    first = [(5, T0 + 900 * i, 2200, 2201, 2202, 10) for i in range(1, 4 * 96 + 1)]
    with engine.begin() as conn:
        store_readings(conn, _frame(first))
    later = [
        (5, T0 + 900 * 10, 1990, None, 2000, 11),  # a correction in day 1 (packed)
        (5, T0 + 900 * 10 + 17, 2100, 2100, 2100, 12),  # a new reading 17 s later
        (6, T0 + 86400 + 60, 2300, None, None, None),  # a new area in day 2
        (5, T0 + 4 * 86400 - 900, 2222, 2222, 2222, 1),  # a correction in the open day
    ]
    with engine.begin() as conn:
        store_readings(conn, _frame(later))
    model: dict = {}
    _model_apply(model, first)
    _model_apply(model, later)
    with engine.connect() as conn:
        assert _stored(conn) == model
        assert count_readings(conn) == len(model)


def test_read003_rows_of_days_that_close_later_are_packed_once(engine):
    """Live-style batches, one interval at a time across four days: each day's rows are
    packed once a day has passed after it; a forced compaction packs the rest of the closed
    days; the readings are the same throughout."""
    model: dict = {}
    with engine.begin() as conn:
        for i in range(1, 4 * 96 + 1):
            batch = [(tid, T0 + 900 * i, 2200 + tid, 2210, None, i) for tid in (1, 2, 3)]
            store_readings(conn, _frame(batch))
            _model_apply(model, batch)
    with engine.connect() as conn:
        rows, blocks = _tables(conn)
        assert _stored(conn) == model
    # the newest reading is day 4's 24:00: days 1-3 ended at least a day before it (packed,
    # 3 days x 3 areas), day 4 is open (rows)
    assert blocks == 9 and rows == 3 * 96
    assert compact_all(engine) == 0  # nothing more is closed
    with engine.connect() as conn:
        assert _stored(conn) == model


@pytest.mark.parametrize("seed", [1, 2])
def test_read004_random_batches_read_back_as_a_last_write_wins_table(engine, seed):
    """Random batches over eight days and five areas, in random order, with repeated keys
    inside a batch, corrections of old readings, NULLs and off-minute times: after each batch
    what is read back equals the reference dict."""
    rng = np.random.default_rng(seed)
    model: dict = {}
    for _ in range(12):
        n = int(rng.integers(1, 400))
        tids = rng.integers(1, 6, n)
        days = rng.integers(0, 8, n)
        slot = rng.integers(1, 97, n) * 900 - rng.choice([0, 0, 0, 30], n)
        rows = []
        for tid, day, s in zip(tids, days, slot, strict=True):
            vals = [int(v) if rng.random() > 0.15 else None for v in rng.integers(1900, 2500, 3)]
            kw = int(rng.integers(-500, 5000)) if rng.random() > 0.2 else None
            rows.append((int(tid), T0 + int(day) * DAY + int(s), *vals, kw))
        with engine.begin() as conn:
            store_readings(conn, _frame(rows))
        _model_apply(model, rows)
        with engine.connect() as conn:
            assert _stored(conn) == model
            assert count_readings(conn) == len(model)


def test_read005_window_and_area_filters(engine):
    """A read names a time window (ts_lo < ts <= ts_hi) and optionally areas, across rows
    and blocks alike."""
    rows = [
        (tid, T0 + 900 * i, 2200 + i % 50, None, None, None)
        for i in range(1, 300)
        for tid in (1, 2, 3)
    ]
    with engine.begin() as conn:
        store_readings(conn, _frame(rows))
    lo, hi = T0 + 900 * 50, T0 + 900 * 250
    want = sorted((t, ts) for t, ts, *_ in rows if lo < ts <= hi and t in (1, 3))
    with engine.connect() as conn:
        got = read_readings(conn, lo, hi, [3, 1])
    assert list(zip(got["transformer_id"].tolist(), got["ts"].tolist(), strict=True)) == want


def test_read006_downgrade_unpacks_every_block_into_rows(db_url):
    """Below migration 0012 there are no blocks: going down unpacks them into rows, every
    reading kept; going up again reads them all the same."""
    from db.engine import make_engine
    from db.migrate import downgrade, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    rows = [(9, T0 + 900 * i, 2200 + i % 30, None, 2230, i) for i in range(1, 3 * 96 + 1)]
    with engine.begin() as conn:
        store_readings(conn, _frame(rows))
        assert _tables(conn)[1] > 0
    model: dict = {}
    _model_apply(model, rows)
    downgrade(engine, "0011")
    with engine.connect() as conn:
        back = conn.exec_driver_sql(
            "SELECT transformer_id, ts, va_dv, vb_dv, vc_dv, kw_dw FROM voltage_readings"
        ).all()
    assert {(r[0], r[1]): tuple(r[2:]) for r in back} == model
    upgrade(engine)
    with engine.connect() as conn:
        assert _stored(conn) == model
    engine.dispose()


def test_read007_rows_stored_before_the_blocks_are_packed_by_db_compact(db_url):
    """A database upgraded from 0011 keeps its readings as rows; ``feederwatch db compact``
    packs every closed day (the open newest day stays rows) and reads back the same."""
    from click.testing import CliRunner

    from db.engine import make_engine
    from db.migrate import downgrade, upgrade
    from feederwatch.cli import cli

    engine = make_engine(db_url)
    upgrade(engine)
    downgrade(engine, "0011")
    rows = [
        (tid, T0 + 900 * i, 2200 + i % 30, 2210, None, i)
        for i in range(1, 5 * 96 + 1)
        for tid in (4, 8)
    ]
    with engine.begin() as conn:
        from db.partitions import create_partitions, is_partitioned

        if is_partitioned(conn, "voltage_readings"):
            create_partitions(conn, "voltage_readings", T0, T0 + 6 * DAY)
        conn.exec_driver_sql(
            "INSERT INTO voltage_readings (transformer_id, ts, va_dv, vb_dv, vc_dv, kw_dw) "
            + (
                "VALUES (?, ?, ?, ?, ?, ?)"
                if engine.dialect.name == "sqlite"
                else "VALUES (%s, %s, %s, %s, %s, %s)"
            ),
            rows,
        )
    upgrade(engine)
    model: dict = {}
    _model_apply(model, rows)
    result = CliRunner().invoke(
        cli, ["db", "compact"], env={"FEEDERWATCH_DATABASE_URL": db_url}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    # packed: the readings of the local days (the site's zone, from the default config) that
    # ended at least a day before the newest reading
    with engine.connect() as conn:
        off = conn.exec_driver_sql("SELECT block_offset_s FROM storage_layout").scalar_one()
        newest = max(ts for _, ts, *_ in rows)
        day_end = {ts: (ts - 1 + off) // DAY * DAY - off + DAY for _, ts, *_ in rows}
        packed = [r for r in rows if day_end[r[1]] <= newest - DAY]
        assert off == 8 * 3600  # Asia/Shanghai
        assert f"packed {len(packed):,} readings" in result.output
        assert _tables(conn)[0] == len(rows) - len(packed)
        assert _stored(conn) == model
    engine.dispose()


def test_read008_blocks_follow_the_sites_local_days_fixed_at_the_first_write(engine):
    """Daily exports of local (UTC+8) days fill one block per area and day, never two
    halves; the alignment is fixed by the first write, even if a later write names another
    zone; every reading reads back."""
    local_midnight = T0 - 8 * 3600  # 2026-01-01 00:00 in Asia/Shanghai
    model: dict = {}
    for day, zone in ((0, "Asia/Shanghai"), (1, "Europe/Berlin"), (2, None)):
        start = local_midnight + day * DAY
        rows = [(3, start + 900 * i, 2200 + i, None, None, i) for i in range(1, 97)]
        with engine.begin() as conn:
            store_readings(conn, _frame(rows), zone)
        _model_apply(model, rows)
    with engine.connect() as conn:
        blocks = conn.exec_driver_sql(
            "SELECT day, n, fmt, data FROM voltage_blocks ORDER BY day"
        ).all()
        assert [tuple(b[:2]) for b in blocks] == [(local_midnight + d * DAY, 96) for d in range(3)]
        # a regular series: a 4-byte header (first minute, step) and 10 bytes a reading
        assert {(b[2], len(bytes(b[3]))) for b in blocks} == {(3, 4 + 96 * 10)}
        assert _stored(conn) == model


def test_read009_live_readings_after_a_packed_open_day_land_as_rows(engine):
    """Today's first hours packed by a backfill, then live batches (one reading per area):
    the new readings land as rows after the block (no block rewritten per live batch), a
    correction of a packed reading goes into the block, and the rows are packed once the day
    closes; every reading reads back, none twice."""
    backfill = [(tid, T0 + 900 * i, 2200, 2210, 2220, i) for i in range(1, 41) for tid in (1, 2)]
    with engine.begin() as conn:
        store_readings(conn, _frame(backfill))
        packed = conn.exec_driver_sql("SELECT transformer_id, n FROM voltage_blocks").all()
    assert sorted(tuple(r) for r in packed) == [(1, 40), (2, 40)]
    model: dict = {}
    _model_apply(model, backfill)
    for i in range(41, 61):
        live = [(tid, T0 + 900 * i, 2230, None, None, i) for tid in (1, 2)]
        with engine.begin() as conn:
            store_readings(conn, _frame(live))
        _model_apply(model, live)
    correction = [(1, T0 + 900 * 5, 1990, 1990, 1990, 0)]
    with engine.begin() as conn:
        store_readings(conn, _frame(correction))
    _model_apply(model, correction)
    with engine.connect() as conn:
        blocks = dict(conn.exec_driver_sql("SELECT transformer_id, n FROM voltage_blocks").all())
        assert _tables(conn)[0] == 2 * 20 - 20  # area 1's rows went in with its correction
        assert blocks == {1: 60, 2: 40}
        assert _stored(conn) == model and count_readings(conn) == len(model)
    # a day later the day is closed: the next batch packs what is left
    later = [(tid, T0 + 2 * DAY + 900, 2200, None, None, 1) for tid in (1, 2)]
    with engine.begin() as conn:
        store_readings(conn, _frame(later))
    _model_apply(model, later)
    with engine.connect() as conn:
        blocks = dict(
            conn.exec_driver_sql(
                "SELECT transformer_id, n FROM voltage_blocks WHERE day < %d" % (T0 + DAY)
            ).all()
        )
        assert blocks == {1: 60, 2: 60}
        assert _stored(conn) == model and count_readings(conn) == len(model)
