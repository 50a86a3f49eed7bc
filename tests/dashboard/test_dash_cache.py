"""The dashboard's version cache under concurrency: no lock is held while computing, so the
paths that froze the whole server (a compute asking the cache again, for a version older than
the oldest cached one) finish, and concurrent first requests still share one computation."""

from __future__ import annotations

import threading
import time
from collections import Counter

from dashboard.data import VersionCache

JOIN_SECONDS = 10


def _run_all(targets) -> list[threading.Thread]:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for th in threads:
        th.start()
    for th in threads:
        th.join(JOIN_SECONDS)
    return [th for th in threads if th.is_alive()]


def test_cache001_old_version_with_nested_compute_does_not_deadlock():
    cache = VersionCache()
    cache.get(5, ("network",), lambda: "v5")
    cache.get(6, ("network",), lambda: "v6")
    results = []

    def map_figure_of_version_3():
        # The map's compute asks the same cache for the network of the same (old) version.
        def compute():
            return "map of " + cache.get(3, ("network",), lambda: "v3")

        results.append(cache.get(3, ("map",), compute))

    stuck = _run_all([map_figure_of_version_3])
    assert stuck == [], "the old-version path deadlocked"
    assert results == ["map of v3"]
    # the old version was not resurrected
    assert cache.keys(3) == []


def test_cache002_reentrant_compute_of_its_own_key_finishes():
    cache = VersionCache()
    depth = []

    def compute():
        depth.append(1)
        if len(depth) < 3:
            return cache.get(1, ("same",), compute) + 1
        return 0

    stuck = _run_all([lambda: depth.append(cache.get(1, ("same",), compute))])
    assert stuck == []
    assert depth[-1] == 2


def test_cache003_concurrent_first_requests_share_one_computation_without_holding_locks():
    cache = VersionCache()
    calls = Counter()
    results = Counter()
    gate = threading.Event()

    def slow(name):
        def compute():
            calls[name] += 1
            # While this computes, the cache must answer other keys and versions at once.
            gate.wait(5)
            return name.upper()

        return compute

    def reader(name):
        def run():
            results[cache.get(7, (name,), slow(name))] += 1

        return run

    def other_keys():
        started = time.monotonic()
        for v in (1, 7, 8, 2):  # an old, the current, a newer and an older-than-oldest version
            cache.get(v, ("quick",), lambda v=v: v)
        results["other_seconds"] = time.monotonic() - started
        gate.set()

    stuck = _run_all([reader("analysis") for _ in range(8)] + [other_keys])
    assert stuck == []
    assert calls["analysis"] == 1, "concurrent first requests repeated the computation"
    assert results["ANALYSIS"] == 8
    assert results["other_seconds"] < 4, "another key waited for the slow computation"


def test_cache004_waiters_stop_waiting_after_the_bound_and_errors_are_not_cached():
    cache = VersionCache(wait_seconds=0.2)
    release = threading.Event()
    got = []

    def hung():
        release.wait(5)
        return "late"

    owner = threading.Thread(target=lambda: got.append(cache.get(1, ("k",), hung)), daemon=True)
    owner.start()
    time.sleep(0.05)
    # a second request does not wait for the hung computation longer than the bound
    assert cache.get(1, ("k",), lambda: "own") == "own"
    release.set()
    owner.join(JOIN_SECONDS)
    assert got == ["late"]

    def fails():
        raise RuntimeError("database gone")

    for _ in range(2):
        try:
            cache.get(2, ("e",), fails)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the error was swallowed")
    assert cache.get(2, ("e",), lambda: "recovered") == "recovered"


def test_cache005_storm_of_versions_and_readers_never_blocks():
    """Versions published every few milliseconds while readers of old and new versions,
    with nested computes, hammer the cache: every thread finishes."""
    cache = VersionCache(wait_seconds=1.0)
    stop = threading.Event()
    errors = []
    newest = [10]

    def publisher():
        while not stop.is_set():
            newest[0] += 1
            cache.get(newest[0], ("network",), lambda: newest[0])
            cache.publish(newest[0] - 1)
            time.sleep(0.002)

    def reader(offset):
        def run():
            try:
                for _ in range(300):
                    v = max(1, newest[0] - offset)

                    def outer(v=v):
                        return cache.get(v, ("network",), lambda: v) + 1

                    assert cache.get(v, ("figure",), outer) == v + 1
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        return run

    pub = threading.Thread(target=publisher, daemon=True)
    pub.start()
    stuck = _run_all([reader(o) for o in (0, 1, 3, 7, 0, 2)])
    stop.set()
    pub.join(JOIN_SECONDS)
    assert stuck == [] and not pub.is_alive()
    assert errors == []


def test_cache006_the_version_being_warmed_survives_newer_versions():
    """With a new data version every second, the warmer's version must not be dropped while
    it computes (it would then compute everything uncached and never finish in time)."""
    cache = VersionCache()
    cache.get(4, ("network",), lambda: "v4")
    cache.publish(4)
    cache.start_warming(5)
    cache.get(5, ("network",), lambda: "v5")
    for newer in range(6, 12):  # the live board asks for each newest version meanwhile
        cache.get(newer, ("active",), lambda n=newer: n)
    assert cache.keys(5) == [("network",)]
    assert cache.keys(4) == [("network",)]  # still what pages are shown
    computed = []
    assert cache.get(5, ("network",), lambda: computed.append(1) or "again") == "v5"
    assert computed == []
    cache.publish(5)
    assert cache.keys(4) == [] and cache.warming is None
    assert sorted(v for v in range(4, 12) if cache.keys(v)) == [5, 10, 11]
