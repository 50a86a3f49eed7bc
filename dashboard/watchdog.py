"""Requests in flight, so that a stuck worker is seen: by ``/healthz`` (unhealthy while a request
is older than ``[dashboard].stall_seconds``) and in the log (all thread stacks dumped once per
stall with :mod:`faulthandler`, which makes a deadlock diagnosable after the fact).

The registry's lock guards two dictionary operations and nothing else: it is never held while a
request runs, while stacks are dumped or while anything is logged.
"""

from __future__ import annotations

import faulthandler
import itertools
import logging
import sys
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("feederwatch.dashboard")


@dataclass(frozen=True)
class InFlight:
    path: str
    thread: str
    started: float  # time.monotonic()


class RequestWatch:
    """Requests being served now, with when each started."""

    def __init__(self, stall_seconds: float, clock=time.monotonic) -> None:
        self.stall_seconds = float(stall_seconds)
        self.clock = clock
        self._ids = itertools.count()
        self._live: dict[int, InFlight] = {}
        self._guard = threading.Lock()
        self._dumped: set[int] = set()
        self._monitor: threading.Thread | None = None
        self._stop = threading.Event()

    def begin(self, path: str) -> int:
        token = next(self._ids)
        item = InFlight(path, threading.current_thread().name, self.clock())
        with self._guard:
            self._live[token] = item
        return token

    def end(self, token: int) -> None:
        with self._guard:
            self._live.pop(token, None)

    def stuck(self) -> dict[int, InFlight]:
        """Requests older than ``stall_seconds``."""
        now = self.clock()
        with self._guard:
            live = dict(self._live)
        return {t: r for t, r in live.items() if now - r.started > self.stall_seconds}

    def report(self) -> dict:
        """For /healthz: how many requests are stuck, the oldest one's age and path."""
        stuck = self.stuck()
        if not stuck:
            return {"stuck_requests": 0}
        oldest = min(stuck.values(), key=lambda r: r.started)
        return {
            "stuck_requests": len(stuck),
            "oldest_request_seconds": round(self.clock() - oldest.started, 1),
            "oldest_request_path": oldest.path[:80],
        }

    def check(self, out=None) -> int:
        """Dump every thread's stack once for each newly stuck request; returns how many are
        stuck now."""
        stuck = self.stuck()
        new = [t for t in stuck if t not in self._dumped]
        if new:
            r = stuck[new[0]]
            log.error(
                "request %s on %s has run for %.0f s (stall_seconds=%g): thread stacks follow",
                r.path[:80],
                r.thread,
                self.clock() - r.started,
                self.stall_seconds,
            )
            stream = out or sys.stderr
            try:
                faulthandler.dump_traceback(file=stream, all_threads=True)
            except (ValueError, OSError, AttributeError):  # a stream without a file descriptor
                import traceback

                for ident, frame in sys._current_frames().items():
                    print(f"Thread {ident}:", file=stream)
                    traceback.print_stack(frame, file=stream)
        self._dumped = set(stuck)
        return len(stuck)

    def start_monitor(self, every_seconds: float | None = None) -> threading.Thread:
        """A daemon thread calling :meth:`check` every few seconds."""
        every = every_seconds or max(1.0, min(5.0, self.stall_seconds / 4))
        stop = self._stop

        def loop() -> None:
            while not stop.wait(every):
                try:
                    self.check()
                except Exception:  # noqa: BLE001 - the monitor must outlive any surprise
                    log.debug("request watch check failed", exc_info=True)

        self._monitor = threading.Thread(target=loop, name="request-watch", daemon=True)
        self._monitor.start()
        return self._monitor

    def stop_monitor(self) -> None:
        self._stop.set()


def install(server, stall_seconds: float) -> RequestWatch:
    """Track every request of the Flask ``server``; returns the registry."""
    from flask import g, request

    watch = RequestWatch(stall_seconds)

    @server.before_request
    def _begin():
        g.feederwatch_request = watch.begin(request.path)

    @server.teardown_request
    def _end(_exc):
        token = g.pop("feederwatch_request", None)
        if token is not None:
            watch.end(token)

    server.extensions["feederwatch_watch"] = watch
    return watch
