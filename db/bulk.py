"""Bulk upserts at bulk speed, in the caller's transaction: SQLite's executemany on the raw
cursor, PostgreSQL's binary COPY (straight into the table when every key is new, else through a
staging table merged with ON CONFLICT). For readings and rollups, millions of rows a batch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Connection, Integer, LargeBinary, SmallInteger, String

from db.models import Base
from db.partitions import PARTITIONED, create_partitions, is_partitioned


def bulk_upsert(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    key: Sequence[str],
    text_columns: Sequence[str] = (),
) -> int:
    """Insert or replace rows by ``key`` in the caller's transaction, at bulk speed.

    Integer ``columns`` (NaN -> NULL) then ``text_columns``. A key repeated in the batch: the
    last row wins, as row-by-row upserts would have it. SQLite: one executemany on the raw
    cursor. PostgreSQL: COPY into a temporary staging table, then one set-based
    INSERT ... SELECT ... ON CONFLICT (psycopg's COPY is several times faster than any
    parameterised insert, executemany's pipeline included)."""
    if frame.empty:
        return 0
    cols = [*columns, *text_columns]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key)
    conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    if conn.dialect.name == "postgresql":
        frame = frame.drop_duplicates(list(key), keep="last")
    raw = conn.connection.driver_connection
    pg_binary = conn.dialect.name == "postgresql" and not text_columns
    # rows made one at a time as the driver takes them (a list of millions of tuples cost more
    # than building each when it is bound); PostgreSQL encodes integer columns itself
    values = (
        None
        if pg_binary
        else zip(
            *int_columns(frame, columns),
            *(frame[c].astype(str).tolist() for c in text_columns),
            strict=True,
        )
    )
    if conn.dialect.name != "postgresql":
        sql = (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['?'] * len(cols))}) "
            + conflict
        )
        cur = raw.cursor()
        try:
            cur.executemany(sql, values)
        finally:
            cur.close()
        return len(frame)
    if table in PARTITIONED and is_partitioned(conn, table):
        # normally made ahead by the pipeline in a transaction of their own
        # (ensure_reading_partitions); here only for a writer that did not
        create_partitions(conn, table, int(frame[key[1]].min()), int(frame[key[1]].max()))
    # integer columns only: encoded column-wise; else listed (a COPY that loses a race is
    # redone through the staging table)
    rows = None if values is None else list(values)
    return pg_copy_upsert(raw, table, frame, cols, key, rows, conflict)


#: Binary COPY needs each column's PostgreSQL type (the with_variant types are BigInteger's).
_PG_TYPES = {
    Integer: "int4",
    BigInteger: "int8",
    SmallInteger: "int2",
    String: "text",
    LargeBinary: "bytea",
}


def pg_copy_upsert(raw, table, frame, cols, key, values, conflict) -> int:
    """PostgreSQL: rows whose keys are all new (the common case: new readings, new periods)
    are COPYed straight into the table, inside a savepoint; otherwise, or when a concurrent
    writer stored one of the keys meanwhile, COPY into a staging table and merge with
    INSERT ... SELECT ... ON CONFLICT (its per-row speculative insertion costs about twice a
    COPY, so it is kept for batches that need it).

    ``values``: None for integer columns only, whose COPY data is then encoded column-wise
    (:func:`binary_copy_data`); otherwise the rows to write one by one."""
    import psycopg

    names = ", ".join(cols)
    first, second = key[0], key[1]
    types = [_PG_TYPES[type(Base.metadata.tables[table].c[c].type)] for c in cols]
    data = binary_copy_data(frame, cols, types) if values is None else None

    def send(copy) -> None:
        if data is not None:
            copy.write(data)
            return
        copy.set_types(types)
        for row in values:
            copy.write_row(row)

    with raw.cursor() as cur:
        overlap = cur.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {first} = ANY(%s) "
            f"AND {second} BETWEEN %s AND %s)",
            (
                np.unique(frame[first].to_numpy(np.int64)).tolist(),
                int(frame[second].min()),
                int(frame[second].max()),
            ),
        ).fetchone()[0]
        if not overlap:
            try:
                with raw.transaction():  # a savepoint: the caller's transaction goes on
                    with cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                        send(copy)
                return len(frame)
            except psycopg.errors.UniqueViolation:
                pass  # stored meanwhile by another writer: merge instead
        stage = f"_stage_{table}"
        # per session, emptied at commit; LIKE copies the column types (search_path applies)
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS")
        cur.execute(f"TRUNCATE {stage}")
        with cur.copy(f"COPY {stage} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            send(copy)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} {conflict}")
    return len(frame)


_PGCOPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # flags 0, no header extension
_BINARY_INT = {"int2": (">i2", 2**15), "int4": (">i4", 2**31), "int8": (">i8", 2**63)}


def binary_copy_data(frame: pd.DataFrame, cols: Sequence[str], types: Sequence[str]) -> bytes:
    """The whole of a binary COPY stream for integer columns (NaN -> NULL), built column-wise
    with numpy: per row a field count, then per field its length (-1 for NULL) and big-endian
    value. Rows are grouped by which fields are NULL (a few patterns: each a fixed-width
    record), since COPY takes rows in any order. Writing row by row through psycopg cost
    about 4 us a reading, more than the server's own work for the COPY."""
    n = len(frame)
    columns = [frame[c].to_numpy(np.float64, na_value=np.nan) for c in cols]
    missing = np.zeros((len(cols), n), dtype=bool)
    for i, (values, kind) in enumerate(zip(columns, types, strict=True)):
        missing[i] = np.isnan(values)
        present = values[~missing[i]]
        limit = _BINARY_INT[kind][1]
        if present.size and (present.min() < -limit or present.max() >= limit):
            raise ValueError(f"{cols[i]}: a value out of range for {kind}")
    pattern = np.zeros(n, dtype=np.int64)
    for i in range(len(cols)):
        pattern |= missing[i].astype(np.int64) << i
    parts = [_PGCOPY_SIGNATURE]
    for code in np.unique(pattern):
        rows = pattern == code
        fields = [("count", ">i2")]
        for i, kind in enumerate(types):
            fields.append((f"len{i}", ">i4"))
            if not (code >> i) & 1:
                fields.append((f"v{i}", _BINARY_INT[kind][0]))
        record = np.empty(int(rows.sum()), dtype=np.dtype(fields))
        record["count"] = len(cols)
        for i, kind in enumerate(types):
            if (code >> i) & 1:
                record[f"len{i}"] = -1
            else:
                record[f"len{i}"] = np.dtype(_BINARY_INT[kind][0]).itemsize
                record[f"v{i}"] = columns[i][rows].astype(np.int64)
        parts.append(record.tobytes())
    parts.append(b"\xff\xff")
    return b"".join(parts)


def int_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[list]:
    """Integer columns as Python lists (NaN -> None), ready to zip into executemany rows.

    Column by column through numpy: an order of magnitude faster than converting values one
    by one, which matters at millions of readings a batch."""
    out = []
    for column in columns:
        values = frame[column].to_numpy(np.float64, na_value=np.nan)
        missing = np.isnan(values)
        ints = np.where(missing, 0, values).astype(np.int64)
        if missing.any():
            boxed = ints.astype(object)
            boxed[missing] = None
            out.append(boxed.tolist())
        else:
            out.append(ints.tolist())
    return out
