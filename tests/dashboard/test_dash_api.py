"""/api/live and /healthz through Flask's test client and through a real waitress server."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import free_port
from tests.dashboard.conftest import ingest_active_outage

LIVE_KEYS = {
    "generated_at",
    "active_outages",
    "customers_out",
    "feeders_affected",
    "started_last_hour",
    "longest_active_minutes",
    "data_version",
    "stale",
    "stale_sources",
}


@pytest.fixture(scope="module")
def server(settings, county_db):
    from dashboard.server import make_server

    return make_server(settings, county_db[1])


def test_api001_live_json(server, county_db):
    client = server.test_client()
    body = client.get("/api/live").get_json()
    assert set(body) == LIVE_KEYS
    assert body["generated_at"].endswith("Z")
    ingest_active_outage(county_db[1], "API-LIVE-1", "F0105", 40, 90)
    after = client.get("/api/live").get_json()
    assert after["active_outages"] == body["active_outages"] + 1
    assert after["customers_out"] == body["customers_out"] + 40
    assert after["data_version"] > body["data_version"]
    assert after["longest_active_minutes"] >= 90
    # the simulator source is configured but never ran in this database: stale
    assert after["stale"] is True and after["stale_sources"] == ["sim"]


def test_api002_healthz_unhealthy_when_every_collector_stale(server):
    r = server.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json() == {
        "status": "unhealthy",
        "database": "ok",
        "sources": {"sim": {"last_success": None, "stale": True}},
        "requests": {"stuck_requests": 0},
        # no analysis process in this server: pages compute on demand, nothing published yet
        "analysis": {"ready": True, "published_version": None},
    }


def test_api003_healthz_ok_after_a_run(settings, county_db):
    from collectors.pipeline import BatchSummary, Pipeline
    from dashboard.server import make_server

    pipeline = Pipeline(county_db[1])
    run = pipeline.start_run("sim", "outages")
    pipeline.finish_run(run, BatchSummary())
    client = make_server(settings, county_db[1]).test_client()
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["status"] == "ok"
    assert client.get("/api/live").get_json()["stale"] is False


def test_api004_healthz_database_unreachable(settings, tmp_path):
    from dashboard.server import make_server
    from db.engine import make_engine

    (tmp_path / "x").mkdir()
    broken = make_engine(f"sqlite:///{tmp_path / 'x'}")  # a directory: cannot be opened
    client = make_server(settings, broken).test_client()
    r = client.get("/healthz")
    assert r.status_code == 503 and r.get_json()["database"] == "unreachable"
    assert client.get("/api/live").status_code == 503


def test_api005_through_waitress(settings, county_db):
    from waitress.server import create_server

    from dashboard.server import make_server

    app = make_server(settings, county_db[1])
    port = free_port()
    srv = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"{base}/api/live", timeout=5) as r:
                    body = json.loads(r.read())
                    assert r.headers["Content-Type"].startswith("application/json")
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        assert set(body) == LIVE_KEYS
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
                code = r.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        assert code in (200, 503)
        with urllib.request.urlopen(f"{base}/", timeout=5) as r:
            html = r.read().decode()
        assert "_dash-renderer" in html or "dash_renderer" in html
        # every script and stylesheet is the server's own (a bare "cdn" search also matched
        # the random cache-busting tokens in the page config)
        refs = re.findall(r'(?:src|href)="([^"]*)"', html)
        assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    finally:
        srv.close()
        thread.join(timeout=5)


def test_api006_loud_warning_beyond_localhost(settings, monkeypatch, capsys):
    import sys
    import types

    import waitress

    from feederwatch import serve as srvmod

    cfg = settings.model_copy(
        update={"dashboard": settings.dashboard.model_copy(update={"host": "0.0.0.0", "port": 0})}
    )
    monkeypatch.setattr(waitress, "serve", lambda *a, **k: None)
    calls = []

    class FakeScheduler:
        def shutdown(self):
            calls.append("shutdown")

    fake = types.ModuleType("collectors.scheduler")
    fake.start_scheduler = lambda s, e: calls.append("start") or FakeScheduler()
    monkeypatch.setitem(sys.modules, "collectors.scheduler", fake)
    assert srvmod.serve_command(cfg, with_collectors=True) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and "login" in err
    assert calls == ["start", "shutdown"]
    # without a scheduler module: a warning, and it serves anyway
    monkeypatch.setitem(sys.modules, "collectors.scheduler", None)
    assert srvmod.serve_command(cfg, with_collectors=True) == 0
