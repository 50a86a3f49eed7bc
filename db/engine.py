"""Engine factory: SQLite tuned for one writer and many readers; any other URL as given.

SQLite allows one writer at a time. A write that finds the database locked waits (the busy
timeout, at most ``SQLITE_BUSY_TIMEOUT_MS`` per statement) and callers retry whole
transactions with ``retry_locked`` for at most ``lock_wait_seconds()`` in total
(``FEEDERWATCH_LOCK_WAIT_SECONDS``, default 30 s); after that ``DatabaseLocked`` says which
database, and the command line prints one line and exits 2. Writers in this code base keep
their transactions short (the simulated history backfill: at most ``collectors.simulator.load``'s
``MAX_ROWS_PER_TRANSACTION`` readings, a second or two for the largest county), so a waiting
writer waits for one transaction, not for a whole load.

The WAL stays bounded: ``journal_size_limit`` truncates it back to ``SQLITE_JOURNAL_LIMIT_BYTES``
each time it restarts, and long writers call ``checkpoint_wal`` between their transactions.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = -65_536  # negative: KiB, not pages
SQLITE_JOURNAL_LIMIT_BYTES = 32 * 2**20
LOCK_WAIT_ENV = "FEEDERWATCH_LOCK_WAIT_SECONDS"
DEFAULT_LOCK_WAIT_SECONDS = 30.0

T = TypeVar("T")


def lock_wait_seconds() -> float:
    """How long a write keeps retrying a locked database in total (env
    ``FEEDERWATCH_LOCK_WAIT_SECONDS``, default 30 s; a bad value means the default)."""
    try:
        value = float(os.environ.get(LOCK_WAIT_ENV, DEFAULT_LOCK_WAIT_SECONDS))
    except ValueError:
        return DEFAULT_LOCK_WAIT_SECONDS
    return max(0.0, value)


def _busy_timeout_ms() -> int:
    return int(min(SQLITE_BUSY_TIMEOUT_MS, max(lock_wait_seconds() * 1000, 50)))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while a collector writes; NORMAL is durable at each
    # checkpoint and several times faster than FULL for bulk ingest.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_busy_timeout_ms()}")
    # A WAL that grew during a big transaction shrinks back to this at its next restart.
    cursor.execute(f"PRAGMA journal_size_limit={SQLITE_JOURNAL_LIMIT_BYTES}")
    # 64 MiB of page cache per connection: bulk readings land in B-tree pages still in memory.
    cursor.execute(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
    cursor.close()


def sqlite_file(url) -> Path | None:
    """The database file of an SQLite URL (str or URL); None for other back ends, in-memory
    databases and URI filenames ("file:...?mode=ro", which name an existing database)."""
    parsed = make_url(str(url)) if not hasattr(url, "get_backend_name") else url
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for ``url``; SQLite files get WAL, foreign keys, a busy timeout and
    synchronous=NORMAL, and their folder is created on demand."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = sqlite_file(parsed)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", _busy_timeout_ms() / 1000)
        connect_args.setdefault("check_same_thread", False)
        if file is not None:  # a file: a QueuePool (memory databases get a single connection)
            _pool_defaults(kwargs)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    _pool_defaults(kwargs)
    return create_engine(url, **kwargs)


#: connections kept open / opened beyond them at peak. The dashboard serves with 32 threads
#: beside the warmer and the collectors; SQLAlchemy's default pool (5 + 10) made live requests
#: wait up to 30 s for a connection while slow reads held the others (storm soak).
POOL_SIZE = 10
POOL_MAX_OVERFLOW = 40


def _pool_defaults(kwargs: dict) -> None:
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_MAX_OVERFLOW)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# --- a locked database ---------------------------------------------------------------------


class DatabaseLocked(Exception):
    """Another writer kept the database locked longer than the lock wait."""

    def __init__(self, where: str, waited: float):
        self.where = where
        self.waited = waited
        super().__init__(
            f"database is locked by another writer: {where}; gave up after {waited:.0f} s, "
            "try again later"
        )


def is_locked_error(exc: BaseException) -> bool:
    """SQLite's 'database is locked' / 'database table is locked' (SQLITE_BUSY, SQLITE_LOCKED,
    including a stale WAL snapshot), however SQLAlchemy wrapped it."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError) and not isinstance(exc, OperationalError):
        return False
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message


def database_label(engine: Engine) -> str:
    """The database file (SQLite) or the URL without its password."""
    file = sqlite_file(engine.url)
    return str(file) if file is not None else engine.url.render_as_string(hide_password=True)


def retry_locked(
    engine: Engine,
    action: Callable[[], T],
    *,
    wait: float | None = None,
    before_retry: Callable[[], object] | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """``action()`` (one or more whole transactions), retried with backoff while the database
    is locked by another writer, for at most ``wait`` seconds in total (default
    ``lock_wait_seconds()``); then ``DatabaseLocked``. ``before_retry`` resets caller state
    that a rolled-back transaction may have left behind. Other errors pass through."""
    wait = lock_wait_seconds() if wait is None else wait
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return action()
        except OperationalError as exc:
            if not is_locked_error(exc):
                raise
            waited = time.monotonic() - started
            if waited >= wait:
                raise DatabaseLocked(database_label(engine), waited) from exc
            attempt += 1
            pause = min(2.0, 0.05 * 2**attempt) * (1 + 0.25 * random.random())
            pause = min(pause, max(0.0, wait - waited))
            log.info("database locked; retrying in %.2f s (attempt %d)", pause, attempt)
            sleep(pause)
            if before_retry is not None:
                before_retry()


def checkpoint_wal(engine: Engine, mode: str = "PASSIVE", busy_ms: int = 200) -> tuple | None:
    """Copy the WAL back into an SQLite database file (``PASSIVE`` never waits; ``TRUNCATE``
    also empties the file, waiting at most ``busy_ms`` for readers and writers so it never
    holds up a live write for long). Returns SQLite's (busy, log pages, checkpointed pages)
    — busy 1 when it could not finish — or None for other back ends."""
    if not is_sqlite(engine) or mode.upper() not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
        return None
    with engine.connect() as conn:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_ms)}")
        try:
            row = conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode.upper()})").first()
        except OperationalError as exc:
            if not is_locked_error(exc):
                raise
            row = (1, -1, -1)
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={_busy_timeout_ms()}")
    return tuple(row) if row is not None else None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
