"""Another database read by SQLAlchemy URL, a query and a watermark column (OMS and metering
tables as utilities expose them).

Sample configuration::

    [sources.oms_db]
    type = "sql"
    url_env = "OMS_DB_URL"     # or url = "postgresql+psycopg://reader@oms/oms" (no password)
    query = "SELECT id AS outage_id, feeder, start_time AS start, end_time AS \\"end\\", updated_at FROM oms_outages WHERE updated_at >= :since ORDER BY updated_at"
    watermark_column = "updated_at"
    interval_seconds = 60

With ``watermark_column`` the query either uses a ``:since`` parameter itself (as above), or
names none and is wrapped as ``SELECT * FROM (query) WHERE col >= :since ORDER BY col``. The
watermark is the greatest value of that column read, stored with the last batch (or with every
chunk when the source orders by it), so it advances only with the data it covers. ``>=`` rather
than ``>`` re-reads the rows at the watermark itself: rows committed late with the same
timestamp are not lost, and re-reading is harmless (the upsert counts them unchanged).

On the first run there is no watermark: ``:since`` is bound to the lowest value of the column's
type (found from a zero-row probe), so the whole table is read.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from collectors.base import Batch, CollectorError, Source
from collectors.options import SqlOptions

CHUNK_ROWS = 20_000
_SINCE = re.compile(r"(?<![:\w]):since\b")
# PostgreSQL type OIDs -> the lowest value of that type, for the first run.
_PG_NUMERIC = {20, 21, 23, 26, 700, 701, 1700}
_PG_TIME = {1114, 1184}
_PG_DATE = {1082}


class SqlSource(Source):
    """Reads rows from another database (``type = "sql"``)."""

    options_model = SqlOptions
    chunk_rows = CHUNK_ROWS

    def __init__(self, name: str, options: SqlOptions, *, settings=None, state=None):
        super().__init__(name, options, settings=settings, state=state)
        self._engine: Engine | None = None
        self._engine_url: str | None = None

    @property
    def engine(self) -> Engine:
        o = self.options
        url = o.url
        if o.url_env:
            url = os.environ.get(o.url_env)
            if not url:
                raise CollectorError(
                    f"environment variable {o.url_env} (url_env) is not set", permanent=True
                )
        # The URL may come from the environment and change between runs (a rotated password).
        if self._engine is not None and self._engine_url != url:
            self.close()
        if self._engine is None:
            try:
                parsed = make_url(url)
                kwargs = {} if parsed.get_backend_name() == "sqlite" else {"pool_pre_ping": True}
                self._engine = create_engine(parsed, **kwargs)
                self._engine_url = url
            except (ArgumentError, NoSuchModuleError, ValueError) as exc:
                raise CollectorError(
                    f"bad database URL for source {self.name}: {type(exc).__name__}", permanent=True
                ) from None
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def where(self) -> str:
        """The peer, without credentials, for messages."""
        try:
            return make_url(
                self.options.url or os.environ.get(self.options.url_env or "", "")
            ).render_as_string(hide_password=True)
        except Exception:
            return f"source {self.name}"

    # --- query --------------------------------------------------------------------------
    def _statement(self, since_given: bool) -> tuple[str, bool]:
        """(SQL text, ordered by the watermark column)."""
        o = self.options
        query = o.query.strip().rstrip(";")
        col = o.watermark_column
        if col is None or _SINCE.search(query):
            return query, False
        quoted = '"' + col.replace('"', '""') + '"'
        where = f" WHERE fw_src.{quoted} >= :since" if since_given else ""
        return f"SELECT * FROM ({query}) fw_src{where} ORDER BY fw_src.{quoted}", True

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        try:
            yield from self._batches(watermark)
        except CollectorError:
            raise
        except DBAPIError as exc:
            raise self._classify(exc) from None
        except SQLAlchemyError as exc:
            raise CollectorError(
                f"{self.where()}: {type(exc).__name__}: {_first(exc)}", permanent=True
            ) from None
        except OSError as exc:
            raise CollectorError(f"{self.where()}: {type(exc).__name__}: {_first(exc)}") from None

    def _batches(self, watermark: str | None) -> Iterator[Batch]:
        o = self.options
        col = o.watermark_column
        state = _load(watermark)
        engine = self.engine
        uses_since = bool(col and _SINCE.search(o.query))
        params: dict = {}
        if col is not None and uses_since:
            params["since"] = (
                _typed(state, engine.dialect.name) if state is not None else self._lowest(engine)
            )
        elif col is not None and state is not None:
            params["since"] = _typed(state, engine.dialect.name)
        if uses_since:
            sql, ordered = o.query.strip().rstrip(";"), False
        else:
            sql, ordered = self._statement("since" in params)
        best = state
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.chunk_rows).execute(
                text(sql), params
            )
            keys = list(result.keys())
            if col is not None and col not in keys:
                raise CollectorError(
                    f"{self.where()}: the query returns no column {col!r} (watermark_column)",
                    permanent=True,
                )
            pending: pd.DataFrame | None = None
            best_before = best
            for rows in result.partitions(self.chunk_rows):
                frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=keys)
                if col is not None:
                    best = _max_state(best, frame[col])
                if pending is not None:
                    yield Batch(
                        o.kind,
                        pending,
                        _dump(best_before) if ordered else None,
                        label=f"{self.name} chunk",
                    )
                pending, best_before = frame, best
            if pending is not None:
                mark = _dump(best) if col is not None and best != state else None
                yield Batch(o.kind, pending, mark, label=f"{self.name} last chunk")

    def _lowest(self, engine: Engine):
        """The lowest value of the watermark column's type, for ``:since`` on the first run."""
        if engine.dialect.name == "sqlite":
            # Numbers sort before text in SQLite, so this is below any number or ISO time.
            return -(2**63)
        if engine.dialect.name != "postgresql":
            return None
        col = self.options.watermark_column
        with engine.connect() as conn:
            result = conn.execute(
                text(f"SELECT * FROM ({self.options.query.strip().rstrip(';')}) fw_probe LIMIT 0"),
                {"since": None},
            )
            desc = {d[0]: d[1] for d in result.cursor.description}
            result.close()
        oid = desc.get(col)
        if oid in _PG_NUMERIC:
            return -(2**63)
        if oid in _PG_TIME:
            return (
                datetime(1, 1, 2)
                if oid == 1114
                else datetime.fromisoformat("0001-01-02T00:00:00+00:00")
            )
        if oid in _PG_DATE:
            return date(1, 1, 2)
        return ""

    def _classify(self, exc: DBAPIError) -> CollectorError:
        message = f"{self.where()}: {type(exc.orig).__name__ if exc.orig else type(exc).__name__}: {_first(exc.orig or exc)}"
        text_ = str(exc.orig or exc).lower()
        permanent = not exc.connection_invalidated and (
            "no such table" in text_
            or "no such column" in text_
            or "syntax error" in text_
            or "does not exist" in text_
            or "permission denied" in text_
            or "password authentication failed" in text_
            or type(exc).__name__ in ("ProgrammingError", "IntegrityError", "DataError")
        )
        return CollectorError(message, permanent=permanent)


def _first(exc: BaseException) -> str:
    text_ = str(exc).strip() or type(exc).__name__
    return text_.splitlines()[0][:300]


def _load(watermark: str | None) -> dict | None:
    if watermark is None:
        return None
    try:
        value = json.loads(watermark)
    except json.JSONDecodeError:
        return {"since": watermark, "type": "str"}
    if isinstance(value, dict) and "since" in value:
        return value
    return {"since": str(value), "type": "str"}


def _encode(value) -> dict | None:
    if value is None or (not isinstance(value, (str, bytes)) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        return {"since": int(value), "type": "int"}
    if isinstance(value, int):
        return {"since": value, "type": "int"}
    if isinstance(value, float):
        return {"since": value, "type": "float"}
    if isinstance(value, Decimal):
        return {"since": str(value), "type": "decimal"}
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return {"since": value.isoformat(sep=" "), "type": "datetime"}
    if isinstance(value, date):
        return {"since": value.isoformat(), "type": "date"}
    return {"since": str(value), "type": "str"}


def _typed(state: dict, dialect: str):
    value, kind = state["since"], state.get("type", "str")
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "decimal":
        return Decimal(value)
    if kind == "datetime" and dialect != "sqlite":
        return datetime.fromisoformat(value)
    if kind == "date" and dialect != "sqlite":
        return date.fromisoformat(value)
    # SQLite stores times as text: compare with the text exactly as it was read.
    return value


def _order_key(state: dict):
    kind = state.get("type")
    if kind in ("int", "float", "decimal"):
        return (0, float(state["since"]), "")
    return (1, 0.0, str(state["since"]))


def _max_state(best: dict | None, column: pd.Series) -> dict | None:
    values = [
        v
        for v in column.tolist()
        if v is not None and not (not isinstance(v, (str, bytes)) and pd.isna(v))
    ]
    if not values:
        return best
    try:
        top = max(values)
    except TypeError:
        top = max(values, key=str)
    candidate = _encode(top)
    if candidate is None:
        return best
    if best is None or _order_key(candidate) > _order_key(best):
        return candidate
    return best


def _dump(state: dict | None) -> str | None:
    return None if state is None else json.dumps(state)


__all__ = ["SqlSource"]
