"""The watchdog a shift lead can see: /healthz reports a stuck worker, a stall dumps every thread's
stack, the header shows the time of the newest data, and the page itself shows a red banner
when its refresh fails (server gone) or gets no answer (server hangs), in both languages."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pandas as pd
import pytest
from dash.testing.wait import until

from tests.conftest import chromium_available, free_port, require
from tests.dashboard.conftest import ingest_active_outage


def _with_dashboard(settings, **values):
    return settings.model_copy(update={"dashboard": settings.dashboard.model_copy(update=values)})


def test_watch001_healthz_reports_a_stuck_request_and_dumps_stacks(settings, county_db, tmp_path):
    from collectors.health import health
    from dashboard.server import make_server

    server = make_server(_with_dashboard(settings, stall_seconds=1), county_db[1])
    release = threading.Event()

    @server.get("/slow-report")
    def slow_report_waiting_on_release():  # a request that really hangs inside the server
        release.wait(20)
        return "done"

    client = server.test_client()
    hung = threading.Thread(target=lambda: client.get("/slow-report"), daemon=True)
    hung.start()
    try:
        assert client.get("/healthz").get_json()["requests"] == {"stuck_requests": 0}
        time.sleep(1.3)
        response = client.get("/healthz")
        body = response.get_json()
        assert response.status_code == 503 and body["status"] == "unhealthy"
        assert body["requests"]["stuck_requests"] == 1
        assert body["requests"]["oldest_request_path"] == "/slow-report"
        assert body["requests"]["oldest_request_seconds"] >= 1
        # the monitor's check dumps every thread's stack once per stall
        watch = server.extensions["feederwatch_watch"]
        dump = tmp_path / "stacks.txt"
        with dump.open("w") as out:
            assert watch.check(out=out) == 1
            assert watch.check(out=out) == 1  # the same stall is not dumped twice
        text = dump.read_text()
        assert text.count("slow_report_waiting_on_release") == 1
    finally:
        release.set()
        hung.join(10)
    body = client.get("/healthz").get_json()
    assert body["requests"] == {"stuck_requests": 0}
    assert body["status"] == ("ok" if health(county_db[1], settings)[0] == 200 else "unhealthy")


def test_watch002_header_shows_the_time_of_the_newest_data(app, county_db):
    from dashboard import data
    from dashboard.app import status_bar
    from db.queries import data_updated_at

    ingest_active_outage(county_db[1], "T-WATCH-ASOF", "F0101", 12, 5)
    changed = pd.Timestamp(data_updated_at(county_db[1]))
    changed = changed.tz_localize("UTC") if changed.tzinfo is None else changed
    later = pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=3)
    health = data.store().sources_health(later.to_pydatetime())
    newest = max(
        [changed] + [pd.Timestamp(s["last_success"]) for s in health.values() if s["last_success"]]
    )
    local = newest.tz_convert(data.store().tz)
    for lang, prefix in (("zh", "数据截至"), ("en", "Data as of")):
        # asked three hours later, the header still shows when the data is from
        text = status_bar(lang, later.to_pydatetime())[0]
        assert text.startswith(prefix)
        assert text.endswith(local.strftime("%H:%M:%S"))


def _state(driver) -> str:
    return driver.find_element("id", "watchdog-banner").get_attribute("data-state")


def _banner_text(driver) -> str:
    return driver.find_element("id", "watchdog-banner").text


@pytest.mark.browser
def test_watch003_banner_when_the_server_hangs_or_is_gone(dash_br, county_db, tmp_path):
    """A real `feederwatch serve` process, frozen with SIGSTOP (it accepts connections but
    never answers: a hung server), thawed, then killed: the page says so each time."""
    require(chromium_available(), "headless Chromium is not installed")
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{county_db[0]}"\n\n[dashboard]\nport = {port}\nrefresh_seconds = 1\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "feederwatch.cli", "--config", str(config), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    driver = dash_br.driver
    try:
        url = f"http://127.0.0.1:{port}"
        until(lambda: _answers(url + "/healthz"), timeout=60)
        driver.get(url + "/")
        until(lambda: "数据截至" in driver.find_element("id", "last-updated").text, timeout=30)
        assert _state(driver) == "ok"
        assert not driver.find_element("id", "watchdog-banner").is_displayed()

        # hung: no answer within the limit (5 s) -> red banner, in Chinese by default
        proc.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        until(lambda: _state(driver) == "stalled", timeout=15)
        assert time.monotonic() - frozen < 5 + 1 + 2  # the limit, a refresh, the check
        assert "看板刷新无响应" in _banner_text(driver)
        assert driver.find_element("id", "watchdog-banner").is_displayed()
        assert "watchdog-down" in driver.find_element("tag name", "body").get_attribute("class")
        driver.execute_script("window.localStorage.setItem('lang-store', '\"en\"')")
        until(lambda: "no answer for over 5 s" in _banner_text(driver), timeout=5)

        # back: the banner goes away by itself
        proc.send_signal(signal.SIGCONT)
        until(lambda: _state(driver) == "ok", timeout=20)
        assert not driver.find_element("id", "watchdog-banner").is_displayed()

        # gone: the next refresh fails -> red banner within one refresh and a check
        proc.kill()
        proc.wait(10)
        gone = time.monotonic()
        until(lambda: _state(driver) == "failed", timeout=10)
        assert time.monotonic() - gone < 1 + 1 + 2
        assert "The board cannot refresh" in _banner_text(driver)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # 503 while sources are stale: the server is up
    except OSError:
        return False
