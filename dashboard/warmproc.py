"""The analysis process: the dashboard's shared analysis computed outside the server process.

The analysis of a data version (rankings, indices, the map's default figures: ``DataStore.warm``)
is pandas work that holds the GIL for seconds at a time. Computed in a thread of the server, it
made every live refresh wait behind it (storm soak, docs/reliability.md: live callbacks p95
1.1-1.3 s, planners' first requests over 5 s). Here it runs in a child process on its own core:
the server's warmer thread asks the child to warm the newest data version, receives the results
(pickled) and publishes them into its cache; the server's threads only serve.

The child is started with ``spawn`` (never ``fork``: the server has threads and open database
connections), builds the same Dash app (so that pages register their default views) on its own
engine, and exits when the server's end of the pipe closes, so a killed server leaves no
orphan computing. A child that dies or gives no answer within ``ANSWER_SECONDS`` is restarted
at the next request.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import threading
import time
from typing import Any

from dashboard import data

log = logging.getLogger("feederwatch.dashboard")

#: the longest a warm-up may take in the child before it is killed and started again
ANSWER_SECONDS = 900.0
#: how often a wait for the child's answer looks whether it should stop
POLL_SECONDS = 0.25
#: results not sent to the server: the daily readings rollups (250 MB for a year of a county,
#: half a second to unpickle); the pages use what is computed from them (sent), and a page that
#: needs them after all reads them itself
STAYS_HERE = frozenset({("voltage_daily",)})


class AnalysisProcess:
    """The server's handle on the child (``DataStore.start_warmer(elsewhere=...)``): ``warm``
    is called by the warmer thread only; ``stop`` may be called from any thread and ends a
    ``warm`` in progress within ``POLL_SECONDS``."""

    def __init__(self, settings, url: str) -> None:
        self.settings = settings
        self.url = url
        self._proc = None
        self._conn = None
        self._stopping = threading.Event()
        self._exchange = threading.Lock()  # held by warm() while it talks to the child

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_end = ctx.Pipe()
        self._proc = ctx.Process(
            target=child_main,
            args=(child_end, self.settings, self.url),
            name="feederwatch-analysis",
            daemon=True,
        )
        self._proc.start()
        child_end.close()
        log.info("analysis process started (pid %s)", self._proc.pid)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    def warm(self, windows: set[int], counties=()) -> tuple[int, dict[tuple, Any]]:
        """Have the child warm the newest data version (and ``windows``, and the ``counties``
        pages have asked for); returns the version and its results. Raises RuntimeError when the child failed, died, did not answer within
        ``ANSWER_SECONDS`` or was stopped."""
        with self._exchange:
            if self._stopping.is_set():
                raise RuntimeError("analysis process stopped")
            if self._proc is None or not self._proc.is_alive():
                self._discard()
                self._start()
            try:
                self._conn.send((sorted(windows), sorted(counties)))
                deadline = time.monotonic() + ANSWER_SECONDS
                while not self._conn.poll(POLL_SECONDS):
                    if self._stopping.is_set():
                        raise RuntimeError("analysis process stopped")
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"no answer within {ANSWER_SECONDS:g} s")
                reply = self._conn.recv()
                if reply[0] != "ok":
                    raise ValueError(reply[1])
                _, version, count = reply
                # one message per result: the interpreter is free between them (one pickle of
                # everything held it for most of a second in the storm soak)
                values = {}
                for _ in range(count):
                    key, value = self._conn.recv()
                    values[key] = value
                took = self._conn.recv()
            except ValueError as exc:
                raise RuntimeError(f"analysis failed in the analysis process: {exc}") from exc
            except (OSError, EOFError, TimeoutError, RuntimeError) as exc:
                self._discard()
                raise RuntimeError(f"analysis process lost: {exc}"[:300]) from exc
        log.debug("analysis process warmed data version %s in %.1f s", version, took)
        return version, values

    def _discard(self) -> None:
        """Close the pipe (the child exits when it reads next) and make sure the child is gone."""
        conn, proc, self._conn, self._proc = self._conn, self._proc, None, None
        if conn is not None:
            conn.close()
        if proc is not None:
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join(5)

    def stop(self) -> None:
        """End the child (killing a warm-up in progress) and refuse further warm-ups."""
        self._stopping.set()
        proc = self._proc
        if proc is not None and proc.is_alive() and self._exchange.locked():
            proc.kill()  # mid warm-up: nothing in it to save
        with self._exchange:
            self._discard()


def child_main(conn, settings, url: str) -> None:
    """The child's loop: for each request (the windows in use) warm the newest version and send
    ``("ok", version, n)``, then n pickled ``(key, value)`` messages, then the seconds it took
    (or ``("error", text)``); end when the pipe closes."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s analysis %(name)s: %(message)s"
    )
    from dashboard.app import create_app

    store = data.store_on(settings, url)
    create_app(settings, store.engine)  # the pages register their default views (WARMERS)
    store = data.store()
    while True:
        try:
            windows, counties = conn.recv()
        except (EOFError, OSError):
            return  # the server is gone
        started = time.perf_counter()
        try:
            store.windows_in_use, store.counties_in_use = set(windows), set(counties)
            version = store.warm()
            values = store.cache.snapshot(version)
        except Exception as exc:  # noqa: BLE001 - reported to the server, which retries
            conn.send(("error", f"{exc.__class__.__name__}: {str(exc)[:300]}"))
            continue
        try:
            sendable = _sendable(values)
            conn.send(("ok", version, len(sendable)))
            for item in sendable:
                conn.send_bytes(item)
            conn.send(time.perf_counter() - started)
        except (BrokenPipeError, OSError):
            return


def _sendable(values: dict[tuple, Any]) -> list[bytes]:
    """Each result as a pickled (key, value) message; what the server's pages do not need
    (``STAYS_HERE``) or what cannot be pickled (a page computes it when asked) stays behind."""
    out = []
    for key, value in values.items():
        if tuple(k for k in key if not (isinstance(k, tuple) and k[:1] == ("county",))) in (
            STAYS_HERE
        ):  # a county's too
            continue
        try:
            out.append(pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))
        except Exception:  # noqa: BLE001 - whatever fails to pickle stays behind
            log.warning("analysis result %s cannot be sent to the server", key[0])
    return out
