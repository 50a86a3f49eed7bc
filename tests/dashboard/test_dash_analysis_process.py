"""The analysis in its own process (dashboard/warmproc.py): the same results as computed in the
server, published into the server's cache; pages wait for the first one with a notice instead of
computing it beside the process, and fill in by themselves; a server that dies leaves no child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until

from tests.conftest import chromium_available, free_port, require
from tests.dashboard.conftest import ingest_active_outage

# slow: starts the analysis child process and the server
pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    """The analysis processes of server ``pid`` (spawned children; not multiprocessing's
    resource tracker, another child)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                out.append(int(child))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_proc001_same_results_as_in_the_server(settings, county_db):
    """What the child sends for a data version equals what the server computes itself."""
    from dashboard import data
    from dashboard.warmproc import AnalysisProcess

    url, engine = county_db
    ingest_active_outage(engine, "T-PROC-1", "F0102", 77, 20)
    proc = AnalysisProcess(settings, url)
    try:
        version, values = proc.warm({90})
        assert version == data.DataStore(settings, engine).latest_version()
        assert {("analysis", 365), ("analysis", 90), ("ranking", "feeder", 365)} <= set(values)
        here = data.DataStore(settings, engine)
        pd.testing.assert_frame_equal(values[("ranking", "feeder", 365)], here.ranking("feeder"))
        pd.testing.assert_frame_equal(
            values[("ranking", "substation", 90)], here.ranking("substation", 90)
        )
        assert "T-PROC-1" in set(values[("active",)]["outage_id"])
        child = proc.pid
        assert child is not None and child != os.getpid()
    finally:
        proc.stop()
    assert not _alive(child)


def test_proc002_pages_wait_for_the_first_analysis_then_use_the_published_one(settings, county_db):
    from dashboard import data
    from dashboard.warmproc import AnalysisProcess

    url, engine = county_db
    store = data.DataStore(settings, engine)
    proc = AnalysisProcess(settings, url)
    store.start_warmer(3600, elsewhere=proc)
    try:
        # nothing published yet: analysis is refused at once, plain reads and live work
        if store.published is None:
            with pytest.raises(data.AnalysisNotReady):
                store.ranking("feeder")
            assert not store.analysis_ready()
        assert store.live_summary()["data_version"] == store.latest_version()
        assert len(store.network()["feeders"]) > 0
        until(lambda: store.published is not None, timeout=120)
        assert store.analysis_ready() and store.version() == store.published
        published = store.ranking("feeder")
        assert ("ranking", "feeder", 365) in store.warm_keys
        assert store.ranking("feeder") is published  # served from what the child sent
        pd.testing.assert_frame_equal(published, data.DataStore(settings, engine).ranking("feeder"))
    finally:
        store.stop_warmer()
    assert proc.pid is None


def test_proc005_stopping_mid_warm_up_is_prompt(settings, county_db):
    """Stopping the server's warmer while the child computes ends it at once (no wait for
    the analysis to finish) and leaves no child behind."""
    import time

    from dashboard import data
    from dashboard.warmproc import AnalysisProcess

    url, engine = county_db
    store = data.DataStore(settings, engine)
    proc = AnalysisProcess(settings, url)
    store.start_warmer(3600, elsewhere=proc)
    until(lambda: proc.pid is not None, timeout=30, poll=0.02)
    child = proc.pid
    started = time.monotonic()
    store.stop_warmer()
    assert time.monotonic() - started < 10
    assert store.published is None  # it was stopped before its first analysis
    assert not _alive(child) and proc.pid is None
    with pytest.raises(RuntimeError, match="stopped"):
        proc.warm(set())


def test_proc003_child_ends_when_the_server_is_killed(county_db, tmp_path):
    """kill -9 of the server: its analysis process exits by itself (no orphan computing)."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{county_db[0]}"\n\n[dashboard]\nport = {free_port()}\n',
        encoding="utf-8",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "feederwatch.cli", "--config", str(config), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until(lambda: _children(server.pid), timeout=60)
        child = _children(server.pid)[0]
        assert _alive(child)
    finally:
        server.kill()
        server.wait(10)
    until(lambda: not _alive(child), timeout=60)


def _health(url: str) -> dict | None:
    import json

    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:  # 503 while sources are stale: the server is up
        return json.loads(exc.read())
    except OSError:
        return None


@pytest.mark.browser
def test_proc004_planner_page_says_wait_then_fills_in_by_itself(dash_br, county_db, tmp_path):
    """A real `feederwatch serve`: its analysis process is frozen (SIGSTOP) before the first
    analysis; the priorities page says the analysis is being prepared, in Chinese and in
    English; thawed, the page shows the ranking without a reload and the notice goes."""
    require(chromium_available(), "headless Chromium is not installed")
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{county_db[0]}"\n\n[dashboard]\nport = {port}\nrefresh_seconds = 1\n',
        encoding="utf-8",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "feederwatch.cli", "--config", str(config), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    child = None
    driver = dash_br.driver
    try:
        until(lambda: _children(server.pid), timeout=60, poll=0.02)
        child = _children(server.pid)[0]
        os.kill(child, signal.SIGSTOP)  # its start-up alone takes seconds: nothing published
        url = f"http://127.0.0.1:{port}"
        until(lambda: _health(url) is not None, timeout=60)
        assert _health(url)["analysis"] == {"ready": False, "published_version": None}
        driver.get(url + "/priorities")
        banner = lambda: driver.find_element("id", "analysis-banner")  # noqa: E731
        until(lambda: banner().is_displayed(), timeout=30)
        assert "首次分析正在计算中" in banner().text
        driver.execute_script("window.localStorage.setItem('lang-store', '\"en\"')")
        driver.refresh()
        until(lambda: "is being computed" in banner().text, timeout=30)
        assert not driver.find_elements("css selector", "#pri-grid .ag-row")
        os.kill(child, signal.SIGCONT)
        until(lambda: not banner().is_displayed(), timeout=120)
        until(lambda: driver.find_elements("css selector", "#pri-grid .ag-row"), timeout=30)
        body = _health(url)["analysis"]
        assert body["ready"] is True and body["published_version"] >= 1
    finally:
        if child is not None:
            try:
                os.kill(child, signal.SIGCONT)
            except OSError:
                pass
        server.kill()
        server.wait(10)
        driver.execute_script("window.localStorage.clear()")
