"""The warmer: computes the shared analysis of each new data version (in a thread, or asks the
analysis process for it, dashboard/warmproc.py) and publishes it, so no page view pays for it."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dashboard.data.analysis import StoreAnalysis

if TYPE_CHECKING:
    from dashboard.data import DataStore

log = logging.getLogger("feederwatch.dashboard")

#: after a warm-up that took d seconds the warmer rests at least this many times d
REWARM_PAUSE_FACTOR = 3.0

#: the same with the analysis in its own process (it takes none of the server's core, but on a
#: small machine the collectors and a backfill share the cores with it)
REMOTE_REWARM_PAUSE_FACTOR = 1.0

#: name -> function(store) computing a page's default view; pages register theirs.
WARMERS: dict[str, Callable[[DataStore], Any]] = {}


class StoreWarmer(StoreAnalysis):
    """Warm-up and publication of data versions."""

    def warm(self) -> int:
        """Compute the shared inputs for the newest data version (every page's raw reads, the
        priority analysis and indices for the configured window and every offered window a
        page has asked for since start, the per-feeder / per-substation tables the detail
        pages slice and the pages' default views), then publish that version; returns it.
        ``warm_keys`` lists what it computed."""
        version = self.latest_version()
        self._local.version = version
        self.cache.start_warming(version)
        try:
            self._warm_views()
            # each county's views too, of the counties pages have asked for (issue 19): a
            # county nobody looks at costs nothing
            for county in sorted(set(self.county_codes()) & self.counties_in_use):
                with self.in_county(county):
                    self._warm_views()
        finally:
            self._local.version = None
        self.warm_keys = set(self.cache.keys(version))
        self.published = version
        self.cache.publish(version)
        release_memory()
        return version

    def _warm_views(self) -> None:
        """The shared inputs and default views of this thread's county (or the province)."""
        self.network(), self.outages(), self.complaints(), self.voltage_daily(), self.active()
        self.feeder_lines(), self.ranking("feeder"), self.ranking("substation")
        self.indices("feeder", monthly=True), self.indices("substation", monthly=True)
        self.frequent("feeder"), self.area_voltage(), self.etr_model()
        self.voltage_compliance_daily(), self.voltage_last_day()
        for warm_view in WARMERS.values():  # pages' default views (e.g. the map figure)
            warm_view(self)
        # the configured window, then those in use: rankings (priorities, map) and the
        # reliability page's indices (a window nobody looks at costs nothing)
        days = self.settings.ranking.window_days
        for w in sorted({days, *self.windows_in_use}, key=lambda w: w != days):
            self.ranking("feeder", w), self.ranking("substation", w)
            self.system_indices(w), self.indices("system", w, monthly=True)
            self.major_event_days(w), self.indices("substation", w)

    def install(self, version: int, values: dict[tuple, Any]) -> int:
        """Publish ``version`` with ``values`` computed elsewhere (the analysis process)."""
        self.cache.install(version, values)
        self.warm_keys = set(values)
        self.published = version
        self.cache.publish(version)
        release_memory()
        return version

    def _warm_once(self) -> int:
        counties = set(self.counties_in_use)
        if self._elsewhere is None:
            version = self.warm()
        else:
            version = self.install(*self._elsewhere.warm(set(self.windows_in_use), counties))
        self.counties_published = counties
        return version

    def _wanted(self) -> bool:
        """A new data version, or a county a page asked for since the last publication."""
        return self.latest_version() != self.published or bool(
            self.counties_in_use - self.counties_published
        )

    def start_warmer(
        self, every_seconds: float, first: bool = False, elsewhere=None
    ) -> threading.Thread:
        """A daemon thread that re-warms the shared inputs whenever the data version changes;
        pages keep being shown the last warmed version meanwhile, so that no page view after an
        ingest pays for the whole analysis. With ``first`` the first warm-up runs here, before
        returning (tests and benchmarks that want a known starting point). With ``elsewhere``
        (dashboard.warmproc.AnalysisProcess: ``warm(windows) -> (version, results)``, ``stop()``)
        the analysis is computed there and only published here; until the first is, pages asking
        for analysis get AnalysisNotReady."""
        self._elsewhere = elsewhere
        if first:
            try:
                self._warm_once()
            except Exception as exc:  # noqa: BLE001 - an empty or unreachable database
                log.warning(
                    "dashboard warm-up failed (%s): pages compute on demand", exc.__class__.__name__
                )

        stop = self._stop_warmer = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                pause = every_seconds
                try:
                    if self._wanted():
                        started = time.perf_counter()
                        first = self.published is None
                        version = self._warm_once()
                        took = time.perf_counter() - started
                        (log.info if first else log.debug)(
                            "analysis ready for data version %s in %.1f s", version, took
                        )
                        # With data versions every second (a backfill, a storm) the warmer
                        # would never rest: it takes at most 1/(1+REWARM_PAUSE_FACTOR) of a
                        # core, and pages show the last warmed version meanwhile.
                        factor = (
                            REWARM_PAUSE_FACTOR
                            if self._elsewhere is None
                            else REMOTE_REWARM_PAUSE_FACTOR
                        )
                        pause = max(every_seconds, factor * took)
                except Exception as exc:  # noqa: BLE001 - a database hiccup: try again next tick
                    if not stop.is_set():
                        log.warning("analysis warm-up failed: %s", str(exc)[:300])
                # the pause bounds the warmer's share of a core under frequent data versions;
                # a county a page asks for (a person waiting) ends it
                resume = time.monotonic() + pause
                while not stop.is_set() and time.monotonic() < resume:
                    if self.counties_in_use - self.counties_published:
                        break
                    stop.wait(min(0.25, every_seconds))

        self._warmer = threading.Thread(target=loop, name="dashboard-warmer", daemon=True)
        self._warmer.start()
        return self._warmer

    def stop_warmer(self) -> None:
        """Stop the background warmer (pages are then shown the newest version)."""
        self._stop_warmer.set()
        if self._elsewhere is not None:
            self._elsewhere.stop()  # ends a warm-up in progress there at once
        if self._warmer is not None:
            self._warmer.join()
            self._warmer = None
        self._elsewhere = None


def release_memory() -> None:
    """Hand the memory of dropped data versions back to the system. With many threads glibc
    keeps freed blocks in per-thread arenas, so the server's RSS grew by the size of one
    analysis at every published version (storm soak: 0.2 -> 2.3 GB in 20 minutes)."""
    gc.collect()
    if _LIBC is not None:
        try:
            _LIBC.malloc_trim(0)
        except Exception:  # noqa: BLE001 - not glibc after all: nothing to trim
            pass


def _load_libc():
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only (musl has none)
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _load_libc()
