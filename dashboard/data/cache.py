"""The version cache: results keyed by data version, shared by concurrent requests without a
lock held across a computation (docs/architecture.md "Locking rules")."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("feederwatch.dashboard")

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


class VersionCache:
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
