"""Per-source mutual exclusion across threads, processes and machines.

Each source runs at most once at a time, however many collector processes point at one
database. On PostgreSQL that is a session advisory lock (``pg_try_advisory_lock``) held on a
dedicated autocommit connection for the whole run: it needs no table, and it is released by the
server when the holder's connection dies, so a killed collector never leaves a stale lock. On
SQLite (one machine by nature) it is an OS lock on a file next to the database file, released by
the kernel when the process dies. Anything else gets a lock within this process only.

Because a run holds its source's lock for as long as it runs, a run record still marked
``running`` whose source lock can be taken belongs to a dead process (``collectors.runner.
mark_abandoned_runs``); this works across processes and machines without pids or host names.

Live work before history (SQLite has one writer at a time): ``live_writes()`` marks a live
collector run in progress in this process; a background load (the demo's readings backfill)
calls ``yield_to_live()`` before each of its short transactions and waits while live work is
in progress (at most ``LIVE_YIELD_MAX_SECONDS`` each time, so the backfill is never starved
either).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

_LOCAL: dict[str, threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()


def advisory_key(namespace: str, source: str) -> int:
    """A signed 64-bit key for ``pg_try_advisory_lock`` from a namespace and a source name."""
    digest = hashlib.blake2b(f"feederwatch:collect:{namespace}:{source}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_file_path(database: str, source: str) -> Path:
    """The lock file of ``source`` next to the SQLite database file."""
    # A URI filename ("file:/path/fw.db?mode=ro") names the same file as its path.
    database = database.removeprefix("file:").split("?", 1)[0]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", source)[:80]
    tag = hashlib.blake2b(source.encode(), digest_size=4).hexdigest()
    return Path(f"{database}.collect-{safe}-{tag}.lock")


class SourceLock:
    """``with SourceLock(engine, name) as held:`` — ``held`` is False when another holder has it
    (the caller skips the run; it never waits)."""

    def __init__(self, engine: Engine, source: str):
        self.engine = engine
        self.source = source
        self.held = False
        self._conn: Connection | None = None
        self._fd: int | None = None
        self._local: threading.Lock | None = None

    # --- acquire / release ------------------------------------------------------------------
    def acquire(self) -> bool:
        if self.held:
            return True
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            self.held = self._acquire_pg()
        elif dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self.held = self._acquire_file(self.engine.url.database)
        else:
            self.held = self._acquire_local()
        return self.held

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                conn.close()
            except Exception:  # a broken connection: the server dropped the lock with it
                log.warning("advisory unlock of %s failed; discarding the connection", self.source)
                try:
                    conn.invalidate()
                    conn.close()
                except Exception:
                    pass
        if self._fd is not None:
            fd, self._fd = self._fd, None
            _unlock_fd(fd)
            os.close(fd)
        if self._local is not None:
            lock, self._local = self._local, None
            lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    # --- back ends ----------------------------------------------------------------------------
    def _acquire_pg(self) -> bool:
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            # Advisory locks are per database; the schema keeps two installations (or two test
            # schemas) in one database apart.
            schema = conn.execute(text("SELECT current_schema()")).scalar() or "public"
            self._key = advisory_key(schema, self.source)
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar()
            )
        except Exception:
            conn.close()
            raise
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def _acquire_file(self, database: str) -> bool:
        path = lock_file_path(database, self.source)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if _try_lock_fd(fd):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._fd = fd
            return True
        os.close(fd)
        return False

    def _acquire_local(self) -> bool:
        key = f"{self.engine.url.render_as_string(hide_password=True)}|{self.source}"
        with _LOCAL_GUARD:
            lock = _LOCAL.setdefault(key, threading.Lock())
        if lock.acquire(blocking=False):
            self._local = lock
            return True
        return False


try:  # POSIX
    import fcntl

    def _try_lock_fd(fd: int) -> bool:
        try:
            # flock belongs to the open file description: a second open in the same process
            # conflicts too, so threads of one collector exclude each other as well.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows servers
    import msvcrt

    def _try_lock_fd(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


LIVE_YIELD_MAX_SECONDS = 5.0


class LiveGate:
    """Counts live runs in progress; background loads wait for none before writing."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0

    @contextmanager
    def live(self) -> Iterator[None]:
        with self._cond:
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @property
    def active(self) -> int:
        return self._active

    def wait_quiet(self, timeout: float) -> bool:
        """Wait until no live run is in progress; False when ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._active == 0, timeout)


LIVE_GATE = LiveGate()


def live_writes():
    """``with live_writes():`` around a live collector run (see the module docstring)."""
    return LIVE_GATE.live()


def yield_to_live(timeout: float = LIVE_YIELD_MAX_SECONDS) -> bool:
    """Called by background loads between transactions: waits while live runs are in
    progress in this process. True when it had to wait."""
    if LIVE_GATE.active == 0:
        return False
    LIVE_GATE.wait_quiet(timeout)
    return True


def source_lock(engine: Engine, source: str) -> SourceLock:
    """The lock that keeps ``source`` to one run at a time on ``engine``'s database."""
    return SourceLock(engine, source)


__all__ = [
    "LIVE_GATE",
    "LiveGate",
    "SourceLock",
    "advisory_key",
    "live_writes",
    "lock_file_path",
    "source_lock",
    "yield_to_live",
]
