"""The store's plumbing: which data version pages are shown, the cached, shared and fallback
ways every read goes through. The reads, the analysis, the warmer and the writes build on it
(``reads.py``, ``analysis.py``, ``warmer.py``, ``writes.py``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from analytics.settings import AnalyticsSettings
from dashboard.data.cache import ANALYSIS_KEYS, AnalysisNotReady, VersionCache
from db import queries
from db.queries import counties as county_queries

if TYPE_CHECKING:
    from sqlalchemy import Engine

DRIVERS = ("from_interruptions", "from_duration", "from_repeated_outages", "from_low_voltage")

#: the analysis windows (days) the pages offer; the warmer computes those in use
WINDOWS = (90, 180, 365, 730)

MEASURES = ("saidi", "saifi", "low_voltage_days", "complaints_per_1000", "score")


class StoreCore:
    """One database and one configuration: the data version, the cache, the fallbacks."""

    def __init__(self, settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.tz = settings.site.timezone
        self.analytics_settings = AnalyticsSettings.from_config(settings)
        self.cache = VersionCache()
        self.warm_keys: set[tuple] = set()
        #: True while the database cannot be read (pages show the last good data and a warning)
        self.degraded = False
        self.last_good_at: datetime | None = None
        self._last_version: int | None = None
        self._last_good: dict[tuple, Any] = {}
        self._fresh: dict[tuple, tuple[float, int, Any]] = {}
        self._fresh_guard = threading.Lock()
        #: the newest data version whose shared analysis the warmer has computed
        self.published: int | None = None
        self._warmer: threading.Thread | None = None
        self._stop_warmer = threading.Event()
        #: the analysis process the warmer asks, when the analysis runs outside the server
        self._elsewhere = None
        self._local = threading.local()
        #: the offered windows (WINDOWS) pages have asked for: the warmer keeps them computed
        self.windows_in_use: set[int] = set()
        #: the counties pages have asked for (issue 19): the warmer keeps them computed too
        self.counties_in_use: set[str] = set()
        #: the counties whose analysis the last published version carries
        self.counties_published: set[str] = set()

    def version(self) -> int:
        """The data version pages are shown. While the background warmer runs, that is the
        newest version it has finished (a new ingest is shown once its analysis is ready, so
        no page view waits for it); without a warmer, the newest. The live figures always use
        :meth:`latest_version`."""
        pinned = self._local_version()
        if pinned is not None:
            return pinned
        v = self.latest_version()
        if self._warmer is None or not self._warmer.is_alive():
            return v
        p = self.published
        if p is not None and p < v:
            return p
        w = self.cache.warming
        if p is None and w is not None and w < v:
            return w  # nothing published yet: share the warmer's first computations
        return v

    def latest_version(self) -> int:
        """The database's data version; when it cannot be read, the last one read (so that
        cached results keep being served) with ``degraded`` set; raises if none was ever read."""
        try:
            v = queries.data_version(self.engine)
        except Exception:
            self.degraded = True
            if self._last_version is None:
                raise
            return self._last_version
        self._last_version, self.degraded, self.last_good_at = v, False, datetime.now(UTC)
        return v

    def _fallback(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` (an uncached read); when it fails, its last good result (``degraded``
        set), or the error if there is none."""
        try:
            value = compute()
        except Exception:
            self.degraded = True
            if key not in self._last_good:
                raise
            return self._last_good[key]
        self._last_good[key] = value
        return value

    def _cached(self, key: tuple, compute: Callable[[], Any], version: int | None = None) -> Any:
        if key[0] in ANALYSIS_KEYS and not self.analysis_ready(self.county()):
            raise AnalysisNotReady("the analysis is being computed")
        return self.cache.get(
            self.version() if version is None else version, self._county_key(key), compute
        )

    # --- counties (issue 19) --------------------------------------------------------------
    # A request's county is set for its thread (``in_county``); every read and analysis then
    # narrows the province's cached frames to it and caches the result under (version, key,
    # county). Without a county (the province, and every single-county deployment) keys and
    # results are exactly as before.
    def county(self) -> str | None:
        """The county this thread's request is for (None: the province, the whole company)."""
        return getattr(self._local, "county", None)

    @contextmanager
    def in_county(
        self,
        code: str | None,
        owner: tuple[str, str | None] | None = None,
        remember: bool = True,
    ) -> Iterator[str | None]:
        """Reads and analysis in this block are the county's (an unknown or blank code, or a
        database with one county or none: the province). ``owner`` (``("feeder", code)`` or
        ``("substation", code)``, a detail page's): the province unless the county owns it.
        ``remember``: a page's county is kept warm from now on (the live API's is not)."""
        chosen = code if code and code in self.county_codes() else None
        if chosen is not None and owner is not None and not self._owns(chosen, *owner):
            chosen = None
        if chosen is not None and remember and self._local_version() is None:
            self.counties_in_use.add(chosen)  # a page asked: keep it warm from now on
        before = self.county()
        self._local.county = chosen
        try:
            yield chosen
        finally:
            self._local.county = before

    def province(self, compute: Callable[[], Any]) -> Any:
        """``compute()`` for the whole company, whatever this thread's county."""
        before = self.county()
        self._local.county = None
        try:
            return compute()
        finally:
            self._local.county = before

    def _owns(self, county: str, level: str, code: str | None) -> bool:
        before = self.county()
        self._local.county = county
        try:
            members = self.county_members()
        finally:
            self._local.county = before
        return code in (members.feeders if level == "feeder" else members.substations)

    def county_codes(self) -> list[str]:
        """Codes of the counties to choose from: none unless the database has two or more."""
        try:
            table = self.counties()
        except Exception:  # noqa: BLE001 - the database is down: the codes last read
            return self._last_good.get(("county_codes",), [])
        codes = list(table["code"]) if len(table) > 1 else []
        self._last_good[("county_codes",)] = codes
        return codes

    def counties(self):
        """The database's counties (``db.queries.counties.counties``), shared by every county."""
        return self.province(
            lambda: self.cache.get(
                self.latest_version(), ("counties",), lambda: county_queries.counties(self.engine)
            )
        )

    def _county_key(self, key: tuple) -> tuple:
        county = self.county()
        return key if county is None else (*key, ("county", county))

    def analysis_ready(self, county: str | None = None) -> bool:
        """False only while the analysis process computes the server's first analysis, or a
        ``county``'s first (pages then wait for it rather than compute it beside the process,
        in the server, where seconds of pandas work would stall every live board); True
        otherwise."""
        if self._elsewhere is None:
            return True
        if self.published is None:
            return False
        return (
            county is None
            or county not in self.county_codes()
            or (county in self.counties_published)
        )

    def fresh(self, key: tuple, seconds: float, compute: Callable[[], Any]) -> Any:
        """``compute()`` shared by every request for ``seconds`` (and the same newest data
        version): for what depends on the clock too (health lags, the last 24 hours), which
        every open live board asks for at each refresh. The guard covers the dictionary only."""
        version = self.latest_version()
        now = time.monotonic()
        key = self._county_key(key)
        with self._fresh_guard:
            hit = self._fresh.get(key)
        if hit is not None and hit[0] > now and hit[1] == version:
            return hit[2]
        value = compute()
        with self._fresh_guard:
            self._fresh[key] = (now + seconds, version, value)
        return value

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` memoised under the current data version (for pages' own results)."""
        return self._cached(key, compute)

    def latest_memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` memoised under the newest data version (for the live figures)."""
        return self._cached(key, compute, version=self.latest_version())

    def _settings_for(self, window_days: int | None) -> AnalyticsSettings:
        s = self.analytics_settings
        if window_days and int(window_days) in WINDOWS and self._local_version() is None:
            self.windows_in_use.add(int(window_days))  # a page asked: keep it warm from now on
        return s if not window_days else s.replace(window_days=int(window_days))

    def _local_version(self) -> int | None:
        """The version the warmer pins in its own thread (None in the pages' threads)."""
        return getattr(self._local, "version", None)
