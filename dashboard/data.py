"""The dashboard's one door to the data: read queries and analytics, memoised by data version.

Pages never touch SQLAlchemy or ``db.queries`` directly; they call a :class:`DataStore`. Every
expensive result is cached under the database's ``data_version`` (bumped by every ingest), so a
new batch invalidates everything at once and nothing ever expires by wall-clock guesswork.
Figures that depend on "now" (durations of active outages, the last 24 hours) are computed per
request from cached inputs.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analytics import complaints as an_complaints
from analytics import etr
from analytics import handover as an_handover
from analytics import priorities as an_priorities
from analytics import reliability as an_reliability
from analytics import voltage as an_voltage
from analytics.settings import AnalyticsSettings
from collectors.health import collectors_health
from collectors.health import health as installation_health
from collectors.validate import InputRefused
from db import alerts as db_alerts
from db import queries
from db.engine import make_engine, sqlite_file

if TYPE_CHECKING:
    from sqlalchemy import Engine


log = logging.getLogger("feederwatch.dashboard")

DRIVERS = ("from_interruptions", "from_duration", "from_repeated_outages", "from_low_voltage")
#: the analysis windows (days) the pages offer; the warmer computes those in use
WINDOWS = (90, 180, 365, 730)
MEASURES = ("saidi", "saifi", "low_voltage_days", "complaints_per_1000", "score")


#: how long the sources' health is shared between requests
HEALTH_SECONDS = 2
#: the planned-outage list is read at most this often (every open board shares it)
PLANNED_SECONDS = 30.0
#: after a warm-up that took d seconds the warmer rests at least this many times d
REWARM_PAUSE_FACTOR = 3.0
#: the same with the analysis in its own process (it takes none of the server's core, but on a
#: small machine the collectors and a backfill share the cores with it)
REMOTE_REWARM_PAUSE_FACTOR = 1.0
#: how long a request waits for another thread's computation of the same result before
#: computing it itself (a bound, so that no wait can last forever whatever goes wrong)
SHARED_WAIT_SECONDS = 30.0
#: results that are analysis (not a plain read): with the analysis process running, a page
#: asking for one before the first analysis is published is told to wait (AnalysisNotReady)
#: instead of computing it in the server beside the process
ANALYSIS_KEYS = frozenset(
    {"analysis", "classified_all", "ranking", "indices", "system", "med", "frequent"}
    | {"area_voltage", "reliability_cache"}
    | {"etr_model"}  # issue 17: the restoration-time model, fitted once per data version
)


class AnalysisNotReady(RuntimeError):
    """The server's first analysis is still being computed in the analysis process; pages say
    so and fill in by themselves when it is published."""


class _Pending:
    """A computation in progress: its owner thread, and the value or error once done."""

    __slots__ = ("done", "error", "owner", "value")

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class _VersionCache:
    """Results keyed by (data_version, name, args), for a few data versions at a time: the one
    pages are shown (published) and the newest one being computed; older ones are dropped.

    Locking rule (why this cannot deadlock): ``_guard`` protects the dictionaries only and is
    never held across ``compute()`` or any other call this class does not own. The first
    request for a key registers a :class:`_Pending` and computes with no lock held; concurrent
    requests for that key wait on its event, for at most ``SHARED_WAIT_SECONDS``, then compute
    it themselves. A thread never waits for a computation it is running itself (a compute that
    asks the cache for its own key computes it directly). Every wait is bounded and none is
    entered while holding a lock, so no cycle of waiting threads can form.
    """

    def __init__(self, wait_seconds: float | None = None) -> None:
        self._values: dict[int, dict[tuple, Any]] = {}
        self._pending: dict[tuple, _Pending] = {}
        self._guard = threading.Lock()
        self.wait_seconds = SHARED_WAIT_SECONDS if wait_seconds is None else wait_seconds
        #: a version kept whatever newer ones arrive (the one pages are shown)
        self.protected: int | None = None
        #: the version the warmer is computing: kept too, however many versions arrive
        #: meanwhile (else, with data versions every second, its results would be dropped
        #: before it finishes and it would compute everything uncached)
        self.warming: int | None = None

    def get(self, version: int, key: tuple, compute: Callable[[], Any]) -> Any:
        full = (version, *key)
        with self._guard:
            values = self._values.get(version)
            old = values is None and bool(self._values) and version < min(self._values)
            if not old:
                if values is None:
                    values = self._values[version] = {}
                    self._trim()
                if key in values:
                    return values[key]
                pending = self._pending.get(full)
                mine = pending is None
                if mine:
                    pending = self._pending[full] = _Pending()
                elif pending.owner == threading.get_ident():
                    pending, mine = None, False  # re-entrant: compute it here, do not wait
        if old or pending is None:
            return compute()  # an old version nobody keeps: do not resurrect it
        if not mine:
            # one computation per key: concurrent first requests wait instead of repeating it
            if pending.done.wait(self.wait_seconds) and pending.error is None:
                return pending.value
            if not pending.done.is_set():
                log.warning(
                    "cache: %s took over %.0f s in another thread; computing it here",
                    key[0],
                    self.wait_seconds,
                )
            return compute()
        try:
            pending.value = value = compute()
        except BaseException as exc:
            pending.error = exc
            raise
        else:
            with self._guard:
                if version in self._values:
                    self._values[version][key] = value
            return value
        finally:
            with self._guard:
                if self._pending.get(full) is pending:
                    del self._pending[full]
            pending.done.set()

    def _trim(self, keep: int = 2) -> None:
        """Keep the ``keep`` newest versions, the protected one and the one being warmed."""
        for v in sorted(self._values)[:-keep]:
            if v != self.protected and v != self.warming:
                del self._values[v]

    def snapshot(self, version: int) -> dict[tuple, Any]:
        """A copy of what is cached for ``version`` (to send it to another process)."""
        with self._guard:
            return dict(self._values.get(version, {}))

    def install(self, version: int, values: dict[tuple, Any]) -> None:
        """Add results computed elsewhere for ``version`` (the analysis process)."""
        with self._guard:
            self._values.setdefault(version, {}).update(values)

    def start_warming(self, version: int) -> None:
        """Keep ``version`` (and what is computed for it) until it is published."""
        with self._guard:
            self.warming = version
            self._values.setdefault(version, {})

    def publish(self, version: int) -> None:
        """Protect ``version`` and drop every older one."""
        with self._guard:
            self.protected = version
            if self.warming is not None and self.warming <= version:
                self.warming = None
            self._values = {v: d for v, d in self._values.items() if v >= version}

    def keys(self, version: int | None = None) -> list[tuple]:
        """The cached keys of ``version`` (default: the newest)."""
        with self._guard:
            if not self._values:
                return []
            return list(self._values.get(max(self._values) if version is None else version, {}))

    def clear(self, keep: Callable[[tuple], bool] | None = None) -> None:
        """Forget cached results (all, or those for which ``keep(key)`` is false)."""
        with self._guard:
            if keep is None:
                self._values, self.protected, self.warming = {}, None, None
            else:
                self._values = {
                    v: {k: x for k, x in d.items() if keep(k)} for v, d in self._values.items()
                }


class DataStore:
    """Reads and analytics for one database and one configuration."""

    def __init__(self, settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.tz = settings.site.timezone
        self.analytics_settings = AnalyticsSettings.from_config(settings)
        self.cache = _VersionCache()
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

    # --- plumbing -------------------------------------------------------------------------
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
        if key[0] in ANALYSIS_KEYS and not self.analysis_ready():
            raise AnalysisNotReady("the first analysis is being computed")
        return self.cache.get(self.version() if version is None else version, key, compute)

    def analysis_ready(self) -> bool:
        """False only while the analysis process computes the server's first analysis (pages
        then wait for it rather than compute it beside the process); True otherwise."""
        return self._elsewhere is None or self.published is not None

    def fresh(self, key: tuple, seconds: float, compute: Callable[[], Any]) -> Any:
        """``compute()`` shared by every request for ``seconds`` (and the same newest data
        version): for what depends on the clock too (health lags, the last 24 hours), which
        every open live board asks for at each refresh. The guard covers the dictionary only."""
        version = self.latest_version()
        now = time.monotonic()
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

    # --- raw reads (cached) ---------------------------------------------------------------
    def network(self) -> dict[str, pd.DataFrame]:
        return self._cached(("network",), lambda: queries.network(self.engine))

    def outages(self) -> pd.DataFrame:
        return self._cached(("outages",), lambda: queries.outages(self.engine))

    def complaints(self) -> pd.DataFrame:
        return self._cached(("complaints",), lambda: queries.complaints(self.engine))

    def voltage_daily(self) -> pd.DataFrame:
        return self._cached(("voltage_daily",), lambda: queries.voltage_rollups(self.engine, "D"))

    def active(self) -> pd.DataFrame:
        """Active outages with feeder names, newest first."""

        def compute() -> pd.DataFrame:
            df = queries.active_outages(self.engine)
            names = self.network()["feeders"].set_index("feeder")["name"]
            df["feeder_name"] = df["feeder"].map(names)
            return df

        return self._cached(("active",), compute, version=self.latest_version())

    def feeder_lines(self) -> pd.DataFrame:
        """Per feeder: id, substation, name, and its polylines as lists of (lon, lat)."""

        def compute() -> pd.DataFrame:
            f = self.network()["feeders"]
            lines = []
            for geom in f["geometry"]:
                try:
                    g = json.loads(geom) if isinstance(geom, str) else None
                except ValueError:
                    g = None
                if not g:
                    lines.append([])
                elif g["type"] == "LineString":
                    lines.append([g["coordinates"]])
                else:
                    lines.append(g["coordinates"])
            out = f[["feeder", "substation", "name", "length_km"]].copy()
            out["lines"] = lines
            return out

        return self._cached(("feeder_lines",), compute)

    # --- live -----------------------------------------------------------------------------
    def live_summary(self, now: datetime | None = None) -> dict:
        """The ``/api/live`` body (docs/formats.md)."""
        asked, now = now, now or datetime.now(UTC)
        version = self.latest_version()
        act = self.active()
        start = act["start"]
        minutes = (pd.Timestamp(now) - start).dt.total_seconds() / 60.0 if len(act) else pd.Series()
        stale = self.stale_sources(asked)
        return {
            "generated_at": pd.Timestamp(now).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "active_outages": len(act),
            "customers_out": int(pd.to_numeric(act["customers"]).fillna(0).sum())
            if len(act)
            else 0,
            "feeders_affected": int(act["feeder"].dropna().nunique()) if len(act) else 0,
            "started_last_hour": int((minutes <= 60).sum()) if len(act) else 0,
            "longest_active_minutes": int(max(0.0, float(minutes.max()))) if len(act) else 0,
            "data_version": version,
            "stale": bool(stale),
            "stale_sources": stale,
        }

    def sources_health(self, now: datetime | None = None) -> dict[str, dict]:
        def read() -> dict[str, dict]:
            return self._fallback(
                ("health",), lambda: collectors_health(self.engine, self.settings, now)
            )

        # a second-old answer is as good for a refresh; a given ``now`` is read as asked
        return read() if now is not None else self.fresh(("health",), HEALTH_SECONDS, read)

    def health(self) -> tuple[int, dict]:
        """(HTTP status, body) of ``/healthz`` for the database and the collectors."""
        return installation_health(self.engine, self.settings)

    def data_updated_at(self) -> datetime | None:
        """When the newest ingested change landed (UTC); the last one read if the database
        cannot be read now."""
        return self._fallback(("data_updated_at",), lambda: queries.data_updated_at(self.engine))

    def stale_sources(self, now: datetime | None = None) -> list[str]:
        return sorted(name for name, s in self.sources_health(now).items() if s["stale"])

    def customers_out_series(
        self, now: datetime | None = None, hours: int = 24, step_minutes: int = 10
    ) -> pd.DataFrame:
        """Customers out at each step of the last ``hours`` (time UTC, customers)."""
        now = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
        start = now - pd.Timedelta(hours=hours)
        o = self._fallback(
            ("outages_24h", hours),
            lambda: queries.outages(
                self.engine, start=start.to_pydatetime(), end=now.to_pydatetime()
            ),
        )
        grid = pd.date_range(start.floor(f"{step_minutes}min"), now, freq=f"{step_minutes}min")
        total = np.zeros(len(grid))
        if len(o):
            st = o["start"].astype("datetime64[ns, UTC]").to_numpy("datetime64[ns]")
            en = (
                o["end"]
                .astype("datetime64[ns, UTC]")
                .fillna(now + pd.Timedelta(minutes=1))
                .to_numpy("datetime64[ns]")
            )
            cust = pd.to_numeric(o["customers"]).fillna(0).to_numpy(float)
            g = grid.tz_convert(None).to_numpy("datetime64[ns]")
            on = (st[None, :] <= g[:, None]) & (en[None, :] > g[:, None])
            total = on.astype(float) @ cust
        return pd.DataFrame({"time": grid, "customers": total})

    # --- analysis -------------------------------------------------------------------------
    def _settings_for(self, window_days: int | None) -> AnalyticsSettings:
        s = self.analytics_settings
        if window_days and int(window_days) in WINDOWS and self._local_version() is None:
            self.windows_in_use.add(int(window_days))  # a page asked: keep it warm from now on
        return s if not window_days else s.replace(window_days=int(window_days))

    def _local_version(self) -> int | None:
        """The version the warmer pins in its own thread (None in the pages' threads)."""
        return getattr(self._local, "version", None)

    def analysis(self, window_days: int | None = None):
        """The priority analysis (analytics.priorities.analyse) for the last ``window_days``."""
        s = self._settings_for(window_days)
        return self._cached(
            ("analysis", s.window_days),
            lambda: an_priorities.analyse(
                self.network(),
                self.outages(),
                self.complaints(),
                self.voltage_daily(),
                s,
                classified=self.classified_all(),
                reliability_cache=self._reliability_cache(),
            ),
        )

    def classified_all(self) -> pd.DataFrame:
        """Every complaint classified (repeats merged, unreasonable ones set apart, matched to
        an area): independent of the window, so computed once per data version."""
        return self._cached(
            ("classified_all",),
            lambda: an_complaints.classify_complaints(
                self.complaints(),
                network=self.network(),
                outages=None,
                voltage_daily=None,
                settings=self.analytics_settings,
            ),
        )

    def ranking(self, level: str, window_days: int | None = None) -> pd.DataFrame:
        """analytics.priorities.rank for ``level`` with SAIDI/SAIFI/CAIDI, config weights."""

        def compute() -> pd.DataFrame:
            a = self.analysis(window_days)
            out = a.rank(level)
            missing = [c for c in ("saidi", "saifi", "caidi") if c not in out]
            if missing:
                idx = an_reliability.indices(
                    level, a.network, a.outages, window=a.window, settings=a.settings
                )
                out = out.merge(idx[[level, *missing]], on=level, how="left")
            return out

        return self._cached(
            ("ranking", level, self._settings_for(window_days).window_days), compute
        )

    def reranked(
        self, level: str, window_days: int | None, weights: tuple[float, float, float]
    ) -> pd.DataFrame:
        """The ranking re-scored with other weights: the score of analytics.priorities
        (complaints + w_h · customer-hours/1000 + w_lv · low-voltage customer-hours/1000)."""
        wc, wh, wl = (max(0.0, float(w or 0)) for w in weights)
        out = self.ranking(level, window_days).copy()
        out["score"] = (
            wc * out["avoidable_complaints"]
            + wh * out["customer_hours_avoided"] / 1000.0
            + wl * out["lv_customer_hours_removed"] / 1000.0
        )
        out = out.sort_values(["score", level], ascending=[False, True], kind="stable")
        out = out.reset_index(drop=True)
        out["rank"] = np.arange(1, len(out) + 1)
        return out

    def window(self, window_days: int | None = None) -> tuple:
        return self.analysis(window_days).window

    def feeder_measures(self, window_days: int | None = None) -> pd.DataFrame:
        return self.ranking("feeder", window_days)

    def substation_measures(self, window_days: int | None = None) -> pd.DataFrame:
        return self.ranking("substation", window_days)

    def classified_complaints(self) -> pd.DataFrame:
        """Complaints of the default window as classified by the priority analysis."""
        return self.analysis().complaints

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
        finally:
            self._local.version = None
        self.warm_keys = set(self.cache.keys(version))
        self.published = version
        self.cache.publish(version)
        release_memory()
        return version

    def install(self, version: int, values: dict[tuple, Any]) -> int:
        """Publish ``version`` with ``values`` computed elsewhere (the analysis process)."""
        self.cache.install(version, values)
        self.warm_keys = set(values)
        self.published = version
        self.cache.publish(version)
        release_memory()
        return version

    def _warm_once(self) -> int:
        if self._elsewhere is None:
            return self.warm()
        return self.install(*self._elsewhere.warm(set(self.windows_in_use)))

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
                    if self.latest_version() != self.published:
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
                stop.wait(pause)

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

    def etr_model(self):
        """The restoration-time model of this data version (analytics/etr.py, issue 17), fitted
        on the whole outage history once (by the warmer); None with too little history."""

        def compute():
            o = self.outages()
            classes = etr.feeder_classes(self.network()["feeders"])
            return etr.fit(o.assign(feeder_class=o["feeder"].map(classes)), self.tz)

        return self._cached(("etr_model",), compute)

    def frequent(self, level: str = "feeder") -> pd.DataFrame:
        return self._cached(
            ("frequent", level),
            lambda: an_complaints.frequent_outages(
                self.network(),
                self.outages(),
                asof=pd.Timestamp.now(tz="UTC").floor("D"),
                level=level,
                settings=self.analytics_settings,
            ),
        )

    def area_voltage(self, window_days: int | None = None) -> pd.DataFrame:
        s = self._settings_for(window_days)
        return self._cached(
            ("area_voltage", s.window_days),
            lambda: an_voltage.area_voltage(
                self.voltage_daily(),
                self.network()["transformers"],
                window=self.window(window_days),
                settings=s,
                freq="D",
            ),
        )

    def indices(
        self, by: str, window_days: int | None = None, monthly: bool = False
    ) -> pd.DataFrame:
        s = self._settings_for(window_days)
        return self._cached(
            ("indices", by, s.window_days, monthly),
            lambda: an_reliability.indices(
                by,
                self.network(),
                self.outages(),
                window=self.window(window_days),
                settings=s,
                freq="M" if monthly else None,
                now=self._indices_now(),
                cache=self._reliability_cache(),
            ),
        )

    def system_indices(self, window_days: int | None = None) -> pd.DataFrame:
        s = self._settings_for(window_days)
        return self._cached(
            ("system", s.window_days),
            lambda: an_reliability.system_indices(
                self.network(),
                self.outages(),
                window=self.window(window_days),
                settings=s,
                now=self._indices_now(),
                cache=self._reliability_cache(),
            ),
        )

    def major_event_days(self, window_days: int | None = None) -> tuple[pd.DataFrame, dict]:
        s = self._settings_for(window_days)
        return self._cached(
            ("med", s.window_days),
            lambda: an_reliability.major_event_days(
                self.network(),
                self.outages(),
                window=self.window(window_days),
                settings=s,
                now=self._indices_now(),
                cache=self._reliability_cache(),
            ),
        )

    def _indices_now(self) -> pd.Timestamp:
        """One "now" per data version for the indices: open outages count up to it (issue 15),
        and every window's figures of a version share the placed outages."""
        return self._cached(("indices_now",), lambda: pd.Timestamp.now(tz="UTC").floor("min"))

    def _reliability_cache(self) -> dict:
        """Placed and merged outages shared by every window's reliability figures (one data
        version: the same network, outages and settings but the window)."""
        return self._cached(("reliability_cache",), dict)

    def voltage_compliance_daily(self) -> pd.DataFrame:
        """System voltage compliance (GB/T 12325: time within limits / time monitored) per day."""

        def compute() -> pd.DataFrame:
            v = self.voltage_daily()
            v = v[v["phase"] != "X"]
            if v.empty:
                return pd.DataFrame({"day": [], "compliance": []})
            g = (
                v.assign(ok=v["minutes_monitored"] - v["minutes_below"] - v["minutes_above"])
                .groupby("period_start")[["ok", "minutes_monitored"]]
                .sum()
            )
            return pd.DataFrame(
                {"day": g.index, "compliance": (g["ok"] / g["minutes_monitored"]).to_numpy()}
            )

        return self._cached(("compliance_daily",), compute)

    def voltage_last_day(self) -> pd.Timestamp | None:
        """The newest day with readings (None without readings)."""

        def compute() -> pd.Timestamp | None:
            daily = self.voltage_daily()
            return None if daily.empty else daily["period_start"].max()

        return self._cached(("voltage_last_day",), compute)

    # --- details --------------------------------------------------------------------------
    def voltage_hourly(self, transformers: list[str], days: int = 21) -> pd.DataFrame:
        """Hourly phase-X rollups of these areas over the last ``days`` days of readings."""

        def compute() -> pd.DataFrame:
            last = self.voltage_last_day()
            if last is None:
                return pd.DataFrame()
            start = last - pd.Timedelta(days=days - 1)
            return queries.voltage_rollups(
                self.engine,
                "h",
                start=start.to_pydatetime(),
                transformers=transformers,
                phases=("x",),
            )

        return self._cached(("voltage_hourly", tuple(transformers), days), compute)

    # --- data page ------------------------------------------------------------------------
    def collector_status(self) -> pd.DataFrame:
        return self._fallback(("source_status",), lambda: queries.source_status(self.engine))

    def quarantine(
        self, source: str | None = None, limit: int = 50, offset: int = 0
    ) -> pd.DataFrame:
        return self._fallback(
            ("quarantine", source or None, limit, offset),
            lambda: queries.quarantine(
                self.engine, source=source or None, limit=limit, offset=offset
            ),
        )

    # --- network import findings (issue 14) ---------------------------------------------
    def network_diagnostics(self) -> pd.DataFrame:
        """The current findings of the last network import of each source
        (``db.queries.network.network_diagnostics``)."""
        from db.queries.network import network_diagnostics

        return self._fallback(("network_diagnostics",), lambda: network_diagnostics(self.engine))

    def feeder_flags(self) -> pd.DataFrame:
        """Feeders named by a network finding: ``feeder, flags, loops,
        buses_without_coordinates, open_points, findings`` (for the map: draw them dashed)."""
        from db.queries.network import feeder_flags

        return self._cached(("feeder_flags",), lambda: feeder_flags(self.engine))

    def planned(self, days: float = 7.0, now: datetime | None = None) -> pd.DataFrame:
        """Planned outages announced to start within ``days`` (issue 17), soonest first, with
        feeder names; shared by every open board for PLANNED_SECONDS (they start by the clock,
        not by a data version)."""

        def read() -> pd.DataFrame:
            df = queries.planned_outages(self.engine, days, now)
            names = self.network()["feeders"].set_index("feeder")["name"]
            df["feeder_name"] = df["feeder"].map(names)
            return df

        if now is not None:
            return read()
        return self.fresh(
            ("planned", days), PLANNED_SECONDS, lambda: self._fallback(("planned", days), read)
        )

    def alerts_sent(self, limit: int = 50) -> pd.DataFrame:
        """The latest alert notifications (issue 17), newest first; none when unreadable."""
        return self._fallback(
            ("alerts_sent", limit), lambda: db_alerts.alerts_sent(self.engine, limit=limit)
        )

    def handover(self, start: datetime, end: datetime) -> dict:
        """The shift handover's figures for [start, end) (analytics/handover.py, issue 17):
        read when asked (a button or the command), never at a refresh."""
        th = self.settings.thresholds
        since = pd.Timestamp(start) - pd.Timedelta(days=th.frequent_feeder_days)
        return an_handover.shift_summary(
            queries.outages(self.engine, start=since.to_pydatetime(), end=end),
            queries.complaints(self.engine, start=start, end=end),
            db_alerts.alerts_sent(self.engine, start=start, end=end),
            queries.quarantine(self.engine, limit=100_000),
            self.stale_sources(end if end < datetime.now(UTC) else None),
            start,
            end,
            frequent_days=th.frequent_feeder_days,
            frequent_count=th.frequent_feeder_count,
            momentary_minutes=th.momentary_minutes,
        )

    def table_counts(self) -> dict[str, int]:
        return self._cached(("counts",), lambda: queries.table_counts(self.engine))

    def database_size(self) -> int | None:
        """Bytes of a SQLite file (with its WAL); None for other back ends."""
        path = sqlite_file(self.engine.url)
        if path is None:
            return None
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())

    def upload(self, kind: str, path: Path, source: str = "upload"):
        """Ingest an uploaded export through the same pipeline as the file source; a
        configured source of the name ``source`` lends its mapping, reading options and
        shaping (docs/formats.md "Shaping")."""
        from collectors.ingest import ingest_path
        from collectors.options import reading_options
        from collectors.pipeline import IngestOptions, Pipeline

        pipeline = Pipeline.from_settings(self.engine, self.settings)
        configured = self.settings.source_options().get(source) if self.settings else None
        options = IngestOptions(
            source=source,
            mapping=dict(configured.mapping) if configured else {},
            shaping=configured,
        )
        return ingest_path(pipeline, kind, path, options, read_options=reading_options(configured))


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

_STORE: DataStore | None = None
#: name -> function(store) computing a page's default view; pages register theirs.
WARMERS: dict[str, Callable[[DataStore], Any]] = {}


#: run statuses shown as failures (a run left running by a dead process is "abandoned")
FAILED_STATUSES = queries.FAILED_STATUSES

#: an upload refused whole (unreadable, wrong columns, too large): pages say why
UploadRefused = InputRefused


def configure(settings, engine: Engine | None = None) -> DataStore:
    """The store pages read from: ``settings`` on ``engine`` (made from the settings' database
    URL when omitted)."""
    global _STORE
    _STORE = DataStore(
        settings, engine if engine is not None else make_engine(settings.database_url)
    )
    return _STORE


def store_on(settings, url: str) -> DataStore:
    """The store for ``settings`` on a new engine for ``url`` (the analysis process's own)."""
    return configure(settings, make_engine(url))


def database_folder(url) -> Path | None:
    """The folder of an SQLite database file, None for other databases."""
    path = sqlite_file(url)
    return path.resolve().parent if path is not None else None


def user_credentials(engine: Engine, name: str) -> tuple[str, str] | None:
    """(role, password hash) of a dashboard user, None when unknown."""
    return queries.user_credentials(engine, name)


def user_session_state(engine: Engine, name: str) -> tuple[str, int, bool] | None:
    """(role, session generation, disabled) of a dashboard user, None when unknown."""
    return queries.user_session_state(engine, name)


def end_user_sessions(engine: Engine, name: str) -> bool:
    """End every session of ``name`` (its session generation goes up)."""
    from db.upsert import end_user_sessions as end

    return end(engine, name)


def store() -> DataStore:
    if _STORE is None:
        raise RuntimeError("dashboard.data.configure(settings, engine) has not been called")
    return _STORE
