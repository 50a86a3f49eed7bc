"""Browser tests (headless Chromium): the login page flow with login on, and a hostile 95598
ticket shown as text on the pages that show ticket text (nothing runs)."""

from __future__ import annotations

import pandas as pd
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By

from tests.conftest import chromium_available, require

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
VIEWER, VIEWER_PW = "browser-viewer", "browser-pass-123"


@pytest.fixture
def restore_store(settings, county_db):
    yield
    from dashboard import data

    data.configure(settings, county_db[1])


def _fresh_app(settings, engine, **dash):
    from dashboard.app import create_app

    s = settings.model_copy(
        update={"dashboard": settings.dashboard.model_copy(update={"refresh_seconds": 2, **dash})}
    )
    return create_app(s, engine)


def test_secb001_login_page_flow(dash_duo, settings, county_db, restore_store, monkeypatch):
    require(chromium_available(), "chromium not installed")
    from feederwatch.users import set_user

    _, engine = county_db
    set_user(engine, VIEWER, "viewer", VIEWER_PW)
    monkeypatch.setenv("FEEDERWATCH_SECRET_KEY", "browser-test-secret-0123456789abcdefghij")
    app = _fresh_app(settings, engine, login=True)
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/")
    d = dash_duo.driver
    d.get(base + "/reliability")
    until(lambda: "/login" in d.current_url, timeout=30)
    assert "用户名" in d.page_source  # Chinese by default
    d.find_element(By.ID, "login-lang").click()
    until(lambda: "User name" in d.page_source, timeout=30)
    d.find_element(By.ID, "login-user").send_keys(VIEWER)
    d.find_element(By.ID, "login-password").send_keys("not-the-password")
    d.find_element(By.ID, "login-submit").click()
    until(lambda: d.find_elements(By.ID, "login-error"), timeout=30)
    error = d.find_element(By.ID, "login-error").text
    assert error == "Wrong user name or password" and "not-the-password" not in d.page_source
    d.find_element(By.ID, "login-user").send_keys(VIEWER)
    d.find_element(By.ID, "login-password").send_keys(VIEWER_PW)
    d.find_element(By.ID, "login-submit").click()
    until(lambda: d.current_url.endswith("/reliability"), timeout=30)
    dash_duo.wait_for_element("#rel-body .main-svg", timeout=30)
    dash_duo.wait_for_text_to_equal("#account-user", VIEWER, timeout=30)
    # the session cookie is not readable by scripts
    assert "feederwatch_session" not in d.execute_script("return document.cookie")
    # under the Content-Security-Policy nothing was refused (Dash's inline script is hashed)
    assert not [e for e in dash_duo.get_logs() or [] if "Content Security Policy" in str(e)]
    # sign out: a POST form whose CSRF token the account callback filled in
    until(lambda: d.find_element(By.ID, "logout-csrf").get_attribute("value"), timeout=30)
    dash_duo.find_element("#logout").click()
    until(lambda: "/login" in d.current_url, timeout=30)
    d.get(base + "/")
    until(lambda: "/login" in d.current_url, timeout=30)


def test_secb002_script_ticket_runs_nothing(dash_duo, settings, county_db, restore_store):
    require(chromium_available(), "chromium not installed")
    from collectors.pipeline import IngestOptions, Pipeline

    _, engine = county_db
    frame = pd.DataFrame(
        [
            {
                "ticket_id": "XSS-1",
                "time": pd.Timestamp.now(tz="UTC").isoformat(),
                "category": "low_voltage",
                "feeder": "F0101",
                "text": HOSTILE,
                "address": '<b onmouseover="window.__pwned=3">城关镇</b>',
            }
        ]
    )
    Pipeline(engine).ingest("complaints", frame, IngestOptions(source="test"))
    sub = pd.read_sql(
        "SELECT s.code FROM feeders f JOIN substations s ON f.substation_id = s.id "
        "WHERE f.code = 'F0101'",
        engine,
    )["code"].iloc[0]
    app = _fresh_app(settings, engine)
    dash_duo.start_server(app)
    for path, body in (("/feeder/F0101", "#feeder-body"), (f"/substation/{sub}", "#sub-body")):
        dash_duo.wait_for_page(url=dash_duo.server_url + path)
        dash_duo.wait_for_contains_text(
            f"{body} .tickets", "<script>window.__pwned=1</script>", timeout=30
        )
        assert "onmouseover" in dash_duo.find_element(f"{body} .tickets").text
        d = dash_duo.driver
        assert d.execute_script("return typeof window.__pwned") == "undefined", path
        assert (
            d.execute_script(
                f"return document.querySelectorAll('{body} script, {body} img, {body} .tickets b')"
                ".length"
            )
            == 0
        ), path


def test_secb003_login_next_never_leaves_the_site(
    dash_duo, settings, county_db, restore_store, monkeypatch
):
    """``/login?next=/%09/host/phish`` (TAB dropped by the browser), a newline, a backslash and
    an encoded slash: after signing in the browser stays on this server, at ``/``."""
    require(chromium_available(), "chromium not installed")
    from feederwatch.users import set_user

    _, engine = county_db
    set_user(engine, VIEWER, "viewer", VIEWER_PW)
    monkeypatch.setenv("FEEDERWATCH_SECRET_KEY", "browser-test-secret-0123456789abcdefghij")
    app = _fresh_app(settings, engine, login=True)
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/")
    d = dash_duo.driver
    for bad in (
        "/%09/example.invalid/phish",
        "/%0a/example.invalid",
        "/%5Cexample.invalid",
        "/%2F%2Fexample.invalid",
    ):
        d.delete_all_cookies()
        d.get(f"{base}/login?lang=en&next={bad}")
        until(lambda: d.find_elements(By.ID, "login-user"), timeout=30)
        d.find_element(By.ID, "login-user").send_keys(VIEWER)
        d.find_element(By.ID, "login-password").send_keys(VIEWER_PW)
        d.find_element(By.ID, "login-submit").click()
        until(lambda: "/login" not in d.current_url, timeout=30)
        assert d.current_url == base + "/", (bad, d.current_url)
        # leave the live board for a page without scripts before signing out: a callback of
        # the board still in flight would answer after the cookies are gone with a fresh
        # session cookie, and the next form's CSRF token would no longer match it
        d.get(f"{base}/healthz")


def test_secb004_pages_work_under_the_csp(dash_duo, settings, county_db, restore_store):
    """The board, the map and the reliability page render with no Content-Security-Policy
    violation in the browser's console."""
    require(chromium_available(), "chromium not installed")
    _, engine = county_db
    app = _fresh_app(settings, engine)
    dash_duo.start_server(app)
    for path, ready in (
        ("/map", "#_pages_content .js-plotly-plot"),
        ("/reliability", "#rel-body .main-svg"),
    ):
        dash_duo.wait_for_page(url=dash_duo.server_url + path)
        dash_duo.wait_for_element(ready, timeout=30)
        logs = [e for e in dash_duo.get_logs() or [] if "Content Security Policy" in str(e)]
        assert not logs, (path, logs)
