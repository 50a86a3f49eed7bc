"""Packing voltage readings into blocks: one record array per area and day (issue 19).

The layouts (:data:`RECORDS`), the days blocks follow (:func:`day_of`) and the vectorised
encoding and decoding of many blocks at once. Where readings are stored, and when they are
packed, is db/readings.py's business.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

DAY = 86400
READING_COLUMNS = ("transformer_id", "ts", "va_dv", "vb_dv", "vc_dv", "kw_dw")
VALUE_COLUMNS = ("va_dv", "vb_dv", "vc_dv", "kw_dw")

#: Block layouts (column ``fmt``): packed little-endian records, one per reading in time order.
#: 1: minutes since the block's day, then the values (readings on whole minutes);
#: 2: seconds since the block's day, then the values (any readings);
#: 3: a header of two u16, the first reading's minute and the step in minutes, then the
#:    values alone (a regular series, the usual case: 10 bytes a reading).
#: NULL is the type's smallest value.
_VALUES = [("va_dv", "<i2"), ("vb_dv", "<i2"), ("vc_dv", "<i2"), ("kw_dw", "<i4")]
RECORDS = {
    1: np.dtype([("off", "<u2"), *_VALUES]),
    2: np.dtype([("off", "<u4"), *_VALUES]),
    3: np.dtype(_VALUES),
}
HEADER = {1: 0, 2: 0, 3: 4}
_NULL = {"va_dv": -(2**15), "vb_dv": -(2**15), "vc_dv": -(2**15), "kw_dw": -(2**31)}
_LIMIT = {"va_dv": 2**15, "vb_dv": 2**15, "vc_dv": 2**15, "kw_dw": 2**31}


def day_of(ts: np.ndarray, off: int = 0) -> np.ndarray:
    """The block of each end-of-interval stamp: the start (epoch seconds) of its day, days
    beginning at midnight of the fixed UTC offset ``off`` (seconds; :func:`block_offset`)."""
    inside = ts - 1 + off
    return inside - inside % DAY - off


def standard_offset(zone: str) -> int:
    """A time zone's standard (winter) UTC offset in seconds."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    year = datetime.now().year
    return int(
        min(
            datetime(year, 1, 1, tzinfo=tz).utcoffset().total_seconds(),
            datetime(year, 7, 1, tzinfo=tz).utcoffset().total_seconds(),
        )
    )


# --- encoding -------------------------------------------------------------------------------
def encode_blocks(readings: pd.DataFrame, off: int = 0) -> pd.DataFrame:
    """Readings (READING_COLUMNS) -> block rows (day, transformer_id, ts_last, n, fmt, data),
    each block's readings in time order; of a key repeated in ``readings`` the last row wins."""
    tid = readings["transformer_id"].to_numpy(np.int64)
    ts = readings["ts"].to_numpy(np.int64)
    day = day_of(ts, off)
    order = np.lexsort((ts, tid, day))  # stable: of a repeated key, its last row stays last
    same = (tid[order][1:] == tid[order][:-1]) & (ts[order][1:] == ts[order][:-1])
    order = order[np.r_[~same, True]]
    tid, ts, day = tid[order], ts[order], day[order]
    since = ts - day
    starts = np.flatnonzero(np.r_[True, (day[1:] != day[:-1]) | (tid[1:] != tid[:-1])])
    ends = np.r_[starts[1:], len(ts)]
    values = _value_columns(readings, order)
    fmt, header = _layouts(since, starts, ends)
    per_reading = np.repeat(fmt, ends - starts)
    data: list[bytes] = [b""] * len(starts)
    for code, dtype in RECORDS.items():
        rows = per_reading == code
        if not rows.any():
            continue
        rec = np.empty(int(rows.sum()), dtype=dtype)
        if code != 3:
            rec["off"] = since[rows] // 60 if code == 1 else since[rows]
        for col in VALUE_COLUMNS:
            rec[col] = values[col][rows]
        buf = rec.tobytes()
        blocks = np.flatnonzero(fmt == code)
        pos = np.r_[0, np.cumsum((ends - starts)[blocks])] * dtype.itemsize
        heads = header[blocks].tobytes() if code == 3 else b""
        for j, blk in enumerate(blocks.tolist()):
            head = heads[4 * j : 4 * j + 4] if code == 3 else b""
            data[blk] = head + buf[pos[j] : pos[j + 1]]
    return pd.DataFrame(
        {
            "day": day[starts],
            "transformer_id": tid[starts],
            "ts_last": ts[ends - 1],
            "n": ends - starts,
            "fmt": fmt,
            "data": data,
        }
    )


def _value_columns(readings: pd.DataFrame, order: np.ndarray) -> dict[str, np.ndarray]:
    """The value columns in ``order`` as integers, NULL as the type's sentinel; a value the
    record cannot hold is refused, never wrapped around."""
    values = {}
    for col in VALUE_COLUMNS:
        raw = readings[col].to_numpy(np.float64, na_value=np.nan)[order]
        present = ~np.isnan(raw)
        if present.any():
            lo, hi = raw[present].min(), raw[present].max()
            if lo <= -_LIMIT[col] or hi >= _LIMIT[col]:
                raise ValueError(f"{col}: a value out of range for a reading block")
        values[col] = np.where(present, raw, _NULL[col]).astype(np.int64)
    return values


def _layouts(since: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """Each block's layout (RECORDS) and, for regular ones, its header (first minute, step)."""
    whole = np.logical_and.reduceat(since % 60 == 0, starts)
    minute = since // 60
    n = ends - starts
    first = minute[starts]
    # the step of each block: its first two readings' (0 for a block of one reading)
    second = minute[np.minimum(starts + 1, len(minute) - 1)]
    step = np.where(n > 1, second - first, 0)
    expected = np.repeat(first, n) + np.repeat(step, n) * (
        np.arange(len(minute)) - np.repeat(starts, n)
    )
    regular = np.logical_and.reduceat(minute == expected, starts) & whole
    regular &= (first < 2**16) & (step < 2**16)
    fmt = np.where(regular, 3, np.where(whole, 1, 2))
    header = np.stack([first, step], axis=1).astype("<u2")
    return fmt, header


def decode_blocks(rows: Iterable[tuple]) -> pd.DataFrame:
    """Block rows (day, transformer_id, fmt, n, data) -> readings (READING_COLUMNS; values
    as floats, NaN for NULL), in no particular order."""
    rows = list(rows)
    parts = []
    for code, dtype in RECORDS.items():
        chosen = [r for r in rows if r[2] == code]
        if not chosen:
            continue
        skip = HEADER[code]
        raw = [bytes(r[4]) for r in chosen]
        rec = np.frombuffer(b"".join(x[skip:] for x in raw), dtype=dtype)
        n = np.array([r[3] for r in chosen], dtype=np.int64)
        day = np.repeat(np.array([r[0] for r in chosen], dtype=np.int64), n)
        tid = np.repeat(np.array([r[1] for r in chosen], dtype=np.int64), n)
        if code == 3:
            head = np.frombuffer(b"".join(x[:skip] for x in raw), dtype="<u2").reshape(-1, 2)
            head = head.astype(np.int64)
            within = np.arange(len(rec)) - np.repeat(np.cumsum(n) - n, n)
            since = (np.repeat(head[:, 0], n) + np.repeat(head[:, 1], n) * within) * 60
        else:
            since = rec["off"].astype(np.int64) * (60 if code == 1 else 1)
        frame = {"transformer_id": tid, "ts": day + since}
        for col in VALUE_COLUMNS:
            v = rec[col].astype(np.float64)
            v[rec[col] == _NULL[col]] = np.nan
            frame[col] = v
        parts.append(pd.DataFrame(frame))
    if not parts:
        return empty_readings()
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def empty_readings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype=np.int64 if c in ("transformer_id", "ts") else float)
            for c in READING_COLUMNS
        }
    )
