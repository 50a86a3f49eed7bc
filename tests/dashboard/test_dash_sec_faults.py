"""Faults in the dashboard: when the database stops being readable after a first good read,
pages keep the last good data and show a warning, never a traceback or an error page; callbacks
with nothing cached leave the screen as it was and raise the banner; /api/live says 503."""

from __future__ import annotations

import importlib
import json
import sqlite3

import pytest


@pytest.fixture
def broken_later(settings, county_db, tmp_path):
    """(flask server, engine, path, break()) on a private copy of the session database."""
    from dashboard import data
    from dashboard.server import make_server
    from db.engine import make_engine

    src = county_db[0].removeprefix("sqlite:///")
    path = tmp_path / "copy.db"
    with sqlite3.connect(src) as a, sqlite3.connect(path) as b:
        a.backup(b)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    s = settings.model_copy(update={"database": settings.database.model_copy(update={"url": url})})
    server = make_server(s, engine)

    def break_it():
        engine.dispose()
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            p.unlink(missing_ok=True)
        path.write_bytes(b"this is not a database" * 100)  # every read now fails

    yield server, engine, break_it
    engine.dispose()
    data.configure(settings, county_db[1])


def _page(name):
    return importlib.import_module(f"dashboard.pages.{name}")


def test_fault001_last_good_data_with_warning(broken_later):
    from dashboard import data
    from dashboard.app import status_bar

    _server, _engine, break_it = broken_later
    live = _page("live")
    store = data.store()
    before = live.update_live(0, "en", None)
    charts = live.update_live_charts(0, "en")
    status_ok = status_bar("en")
    dp = _page("data")
    tables = dp.render_status(0, "en", None)
    assert not store.degraded and "database cannot be read" not in str(status_ok[1])
    break_it()
    after = live.update_live(1, "en", None)
    assert after[:5] == before[:5] and [r["outage_id"] for r in after[5]] == [
        r["outage_id"] for r in before[5]
    ]
    assert store.degraded
    assert live.update_live_charts(1, "en")[1] == charts[1]
    _updated, banner, style = status_bar("en")
    assert style == {"display": "block"} and "The database cannot be read" in str(banner)
    zh = status_bar("zh")[1]
    assert "数据库暂时无法读取" in str(zh)
    # the data page's tables too (uncached reads keep their last good result)
    again = dp.render_status(1, "en", None)
    assert str(again[0]) == str(tables[0])  # sources (counts are cached; the file size is live)
    assert (
        str(again[1]).split("MB")[0].rsplit("children=", 1)[0]
        == str(tables[1]).split("MB")[0].rsplit("children=", 1)[0]
    )


def test_fault002_callbacks_never_show_a_traceback(broken_later):
    server, _engine, break_it = broken_later
    c = server.test_client()
    assert c.get("/").status_code == 200
    payload = {
        "output": "..rel-body.children...rel-shown.data..",
        "outputs": [
            {"id": "rel-body", "property": "children"},
            {"id": "rel-shown", "property": "data"},
        ],
        "inputs": [
            {"id": "rel-window", "property": "value", "value": 30},
            {"id": "lang-store", "property": "data", "value": "en"},
            {"id": "analysis-ready", "property": "data", "value": 0},
            {"id": "county-store", "property": "data", "value": None},
        ],
        "changedPropIds": ["rel-window.value"],
        "state": [{"id": "rel-shown", "property": "data", "value": None}],
    }
    ok = c.post(
        "/_dash-update-component",
        json={
            **payload,
            "inputs": [
                {"id": "rel-window", "property": "value", "value": 365},
                {"id": "lang-store", "property": "data", "value": "en"},
                {"id": "analysis-ready", "property": "data", "value": 0},
                {"id": "county-store", "property": "data", "value": None},
            ],
        },
    )
    assert ok.status_code == 200
    assert c.get("/api/live").status_code == 200
    break_it()
    # computed from cached inputs: still served
    r = c.post("/_dash-update-component", json=payload)
    assert r.status_code == 200 and "rel-body" in r.get_json()["response"]
    # a read with nothing cached (another quarantine filter): no traceback, screen unchanged,
    # the warning banner raised
    q = {
        "output": "..data-quarantine.rowData...data-quarantine.columnDefs..",
        "outputs": [
            {"id": "data-quarantine", "property": "rowData"},
            {"id": "data-quarantine", "property": "columnDefs"},
        ],
        "inputs": [
            {"id": "data-q-source", "property": "value", "value": "never-read"},
            {"id": "data-q-page", "property": "value", "value": 1},
            {"id": "lang-store", "property": "data", "value": "en"},
            {"id": "data-upload-result", "property": "children", "value": None},
        ],
        "changedPropIds": ["data-q-source.value"],
        "state": [],
    }
    r = c.post("/_dash-update-component", json=q)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "Traceback" not in text and "sqlite" not in text.lower()
    body = r.get_json()
    assert "data-quarantine" not in body.get("response", {})  # the screen keeps what it showed
    assert "The database cannot be read" in json.dumps(body.get("sideUpdate"))
    r = c.get("/api/live")
    assert r.status_code == 503 and r.get_json() == {"error": "database unreachable", "stale": True}
    for path in ("/", "/reliability", "/_dash-layout"):
        r = c.get(path)
        assert r.status_code == 200 and "Traceback" not in r.get_data(as_text=True), path
    assert c.get("/healthz").status_code == 503
