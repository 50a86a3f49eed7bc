"""Login on: the gate, roles enforced in callbacks, masking per role, cookie flags, throttling,
the secret key, through Flask's test client and a real waitress server (issue 8)."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import logging
import os
import re
import socket
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pandas as pd
import pytest
from flask import Flask

from tests.conftest import free_port
from tests.dashboard.conftest import ingest_active_outage  # noqa: F401 (fixtures' module)

VIEWER, VIEWER_PW = "shift-lead", "viewer-pass-123"
ADMIN, ADMIN_PW = "dispatcher", "admin-pass-4567"
SECRET = "unit-test-secret-key-0123456789abcdefghijklmnop"
PHONE, ID_CARD, LANDLINE = "13812345678", "370102199001011234", "0531-88886666"


def login_settings(settings, **dash):
    return settings.model_copy(
        update={"dashboard": settings.dashboard.model_copy(update={"login": True, **dash})}
    )


def add_ticket(engine, ticket_id: str, text: str, feeder: str = "F0101"):
    from collectors.pipeline import IngestOptions, Pipeline

    frame = pd.DataFrame(
        [
            {
                "ticket_id": ticket_id,
                "time": pd.Timestamp.now(tz="UTC").isoformat(),
                "category": "low_voltage",
                "feeder": feeder,
                "text": text,
                "address": f"城关镇 电话{LANDLINE}",
            }
        ]
    )
    Pipeline(engine).ingest("complaints", frame, IngestOptions(source="test"))


@pytest.fixture(scope="module")
def secured(settings, county_db):
    """(flask server, settings) with login on, two users and a ticket with personal numbers."""
    from dashboard import data
    from dashboard.server import make_server
    from feederwatch.users import set_user

    _, engine = county_db
    set_user(engine, VIEWER, "viewer", VIEWER_PW)
    set_user(engine, ADMIN, "admin", ADMIN_PW)
    add_ticket(engine, "SEC-PII-1", f"客户{PHONE}反映电压低，身份证{ID_CARD}")
    os.environ["FEEDERWATCH_SECRET_KEY"] = SECRET
    try:
        on = login_settings(settings)
        server = make_server(on, engine)
    finally:
        os.environ.pop("FEEDERWATCH_SECRET_KEY", None)
    yield server, on
    data.configure(settings, engine)  # later modules get the login-off store back


_IP = iter(range(1, 250))


def client(server, ip: str | None = None):
    c = server.test_client()
    c.environ_base["REMOTE_ADDR"] = ip or f"10.9.0.{next(_IP)}"
    return c


def csrf_of(c, lang="zh") -> str:
    page = c.get(f"/login?lang={lang}").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def login(c, name, password, lang="zh"):
    return c.post(
        "/login",
        data={
            "username": name,
            "password": password,
            "next": "/data",
            "lang": lang,
            "csrf": csrf_of(c, lang),
        },
    )


def callback_request(
    output: str,
    inputs: list[dict],
    state: list[dict] | None = None,
    changed: list[str] | None = None,
) -> dict:
    return {
        "output": output,
        "outputs": [
            {"id": o.split(".")[0], "property": o.split(".")[1]}
            for o in output.strip(".").split("...")
            if o
        ]
        if "..." in output
        else {"id": output.split(".")[0], "property": output.split(".")[1]},
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": changed or [f"{i['id']}.{i['property']}" for i in inputs[:1]],
    }


def upload_request(csv_text: str) -> dict:
    contents = "data:text/csv;base64," + base64.b64encode(csv_text.encode()).decode()
    return callback_request(
        "data-upload-result.children",
        [{"id": "data-upload", "property": "contents", "value": contents}],
        [
            {"id": "data-upload", "property": "filename", "value": "o.csv"},
            {"id": "data-upload-kind", "property": "value", "value": "outages"},
            {"id": "lang-store", "property": "data", "value": "en"},
        ],
    )


def feeder_request(feeder="F0101") -> dict:
    return callback_request(
        "..feeder-body.children...feeder-shown.data..",
        [
            {"id": "feeder-id", "property": "data", "value": feeder},
            {"id": "lang-store", "property": "data", "value": "en"},
            {"id": "analysis-ready", "property": "data", "value": 0},
            {"id": "county-store", "property": "data", "value": None},
        ],
        [{"id": "feeder-shown", "property": "data", "value": None}],
    )


def outage_csv(oid: str) -> str:
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=3)).isoformat()
    return f"outage_id,feeder,start,end,customers,cause\n{oid},F0102,{start},,12,weather\n"


def outage_ids(engine) -> set[str]:
    from db.queries import outages

    return set(outages(engine)["outage_id"])


def test_sec001_anonymous_refused_healthz_open(secured):
    server, _ = secured
    c = client(server)
    r = c.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    r = c.get("/data")
    assert r.status_code == 302 and "next=%2Fdata" in r.headers["Location"]
    for path in ("/_dash-layout", "/_dash-dependencies", "/api/live"):
        r = c.get(path)
        assert r.status_code == 401 and r.get_json() == {"error": "login required"}, path
    r = c.post("/_dash-update-component", json=feeder_request())
    assert r.status_code == 401 and "F0101" not in r.get_data(as_text=True)
    r = c.get("/_dash-component-suites/dash/dcc/dash_core_components.js")
    assert r.status_code == 401
    r = c.get("/healthz")
    assert r.status_code in (200, 503) and "status" in r.get_json()
    assert SECRET not in r.get_data(as_text=True)
    # the login page itself is open, in both languages, and escapes what it echoes
    zh = c.get("/login").get_data(as_text=True)
    en = c.get("/login?lang=en&next=/%22%3E%3Cscript%3Ex%3C/script%3E").get_data(as_text=True)
    assert "用户名" in zh and "User name" in en and "<script>x" not in en


def test_sec002_viewer_reads_cannot_upload_sees_masked(secured, county_db):
    server, _ = secured
    c = client(server)
    r = login(c, VIEWER, VIEWER_PW, "en")
    assert r.status_code == 302 and r.headers["Location"] == "/data"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert c.get("/").status_code == 200
    assert c.get("/_dash-layout").status_code == 200
    assert c.get("/api/live").get_json()["active_outages"] >= 0
    # upload refused by the server, nothing ingested
    r = c.post("/_dash-update-component", json=upload_request(outage_csv("SEC-VIEWER-UP")))
    assert r.status_code == 200 and "upload-forbidden" in r.get_data(as_text=True)
    assert "SEC-VIEWER-UP" not in outage_ids(county_db[1])
    # ticket text masked
    body = c.post("/_dash-update-component", json=feeder_request()).get_data(as_text=True)
    assert "138****5678" in body and "3701**********1234" in body and "0531-****6666" in body
    assert PHONE not in body and ID_CARD not in body and LANDLINE not in body
    # quarantine raw content is for admins only
    q = c.post(
        "/_dash-update-component",
        json=callback_request(
            "..data-quarantine.rowData...data-quarantine.columnDefs..",
            [
                {"id": "data-q-source", "property": "value", "value": None},
                {"id": "data-q-page", "property": "value", "value": 1},
                {"id": "lang-store", "property": "data", "value": "en"},
                {"id": "data-upload-result", "property": "children", "value": None},
            ],
        ),
    )
    assert q.status_code == 200
    rows = q.get_json()["response"]["data-quarantine"]["rowData"]
    assert all(r["raw"] == "Raw records are shown to administrators only" for r in rows)
    # logout (a POST with the session's CSRF token) ends the session
    page = c.get("/logout").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert c.post("/logout", data={"csrf": token}).status_code == 302
    assert c.get("/_dash-layout").status_code == 401


def test_sec003_admin_uploads_and_sees_full_numbers(secured, county_db):
    server, _ = secured
    c = client(server)
    assert login(c, ADMIN, ADMIN_PW).status_code == 302
    r = c.post("/_dash-update-component", json=upload_request(outage_csv("SEC-ADMIN-UP")))
    assert r.status_code == 200 and "upload-summary" in r.get_data(as_text=True)
    assert "SEC-ADMIN-UP" in outage_ids(county_db[1])
    body = c.post("/_dash-update-component", json=feeder_request()).get_data(as_text=True)
    assert PHONE in body and ID_CARD in body


def test_sec004_throttling_is_generic(secured):
    server, _ = secured
    c = client(server, "10.8.0.1")
    codes = [login(c, VIEWER, "wrong-password-x").status_code for _ in range(5)]
    assert codes == [401] * 5
    locked = login(c, VIEWER, VIEWER_PW)  # even the right password is refused now
    assert locked.status_code == 429
    # by user name, from another address: still locked
    other = client(server, "10.8.0.2")
    assert login(other, VIEWER, VIEWER_PW).status_code == 429
    # an unknown name gets exactly the same answers
    g = client(server, "10.8.0.3")
    ghost = [login(g, "no-such-user", "wrong-password-x") for _ in range(6)]
    assert [r.status_code for r in ghost] == [401] * 5 + [429]

    def error(r):
        return re.search(r'id="login-error"[^>]*>([^<]*)<', r.get_data(as_text=True)).group(1)

    assert error(ghost[0]) == error(login(client(server, "10.8.0.4"), ADMIN, "wrong-password-y"))
    assert error(ghost[5]) == error(locked)
    # by address: five different names from one address lock that address
    a = client(server, "10.8.0.5")
    for i in range(5):
        login(a, f"name{i}", "wrong-password-x")
    assert login(a, ADMIN, ADMIN_PW).status_code == 429
    assert login(client(server, "10.8.0.6"), ADMIN, ADMIN_PW).status_code == 302
    server.extensions["feederwatch_throttle"].reset()
    # the lock lasts 15 minutes
    from dashboard.auth import Throttle

    now = [0.0]
    t = Throttle(clock=lambda: now[0])
    for _ in range(5):
        t.fail("user:x")
    assert t.locked("user:x")
    now[0] = 14 * 60
    assert t.locked("user:x")
    now[0] = 15 * 60 + 1
    assert not t.locked("user:x")


def test_sec005_open_redirect_and_csrf(secured):
    server, _ = secured
    c = client(server)
    token = csrf_of(c)
    r = c.post(
        "/login",
        data={"username": VIEWER, "password": VIEWER_PW, "csrf": token, "next": "//evil.example/"},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/"
    c2 = client(server)
    r = c2.post("/login", data={"username": VIEWER, "password": VIEWER_PW, "csrf": "forged"})
    assert r.status_code == 400 and c2.get("/_dash-layout").status_code == 401


def test_sec006_secure_switch_and_secret_file(settings, county_db, tmp_path, monkeypatch, caplog):
    """Bare Flask apps with the gate: Secure only with the switch; the generated secret is kept
    0600 in the database's folder, reused, and never logged or served."""
    from dashboard import auth

    _, engine = county_db
    monkeypatch.delenv("FEEDERWATCH_SECRET_KEY", raising=False)
    db = tmp_path / "site" / "fw.db"
    s = login_settings(settings, secure_cookies=True)
    s = s.model_copy(update={"database": s.database.model_copy(update={"url": f"sqlite:///{db}"})})
    caplog.set_level(logging.DEBUG)
    flask_app = Flask("sec006")
    auth.install(flask_app, s, engine)
    flask_app.add_url_rule("/", "root", lambda: "ok")
    key_file = db.parent / ".feederwatch-secret"
    key = key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key) >= 32
    assert flask_app.secret_key == key
    c = flask_app.test_client()
    r = login(c, ADMIN, ADMIN_PW)
    assert r.status_code == 302 and c.get("/").get_data(as_text=True) == "ok"
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert key not in caplog.text and ADMIN_PW not in caplog.text
    assert key not in r.get_data(as_text=True)
    again = Flask("sec006b")
    auth.install(again, s, engine)
    assert again.secret_key == key  # kept across restarts
    monkeypatch.setenv("FEEDERWATCH_SECRET_KEY", SECRET)
    env = Flask("sec006c")
    auth.install(env, s, engine)
    assert env.secret_key == SECRET


def test_sec007_through_waitress(secured, caplog):
    from waitress.server import create_server

    server, _ = secured
    caplog.set_level(logging.DEBUG)
    port = free_port()
    srv = create_server(server, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    anon = urllib.request.build_opener(NoRedirect)

    def status(opener, path, data=None, headers=None):
        req = urllib.request.Request(base + path, data=data, headers=headers or {})
        try:
            with opener.open(req, timeout=10) as r:
                return r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.headers

    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        code, _, headers = status(anon, "/")
        assert code == 302 and "/login" in headers["Location"]
        assert status(anon, "/_dash-layout")[0] == 401
        assert status(anon, "/api/live")[0] == 401
        code, body, _ = status(
            anon,
            "/_dash-update-component",
            json.dumps(feeder_request()).encode(),
            {"Content-Type": "application/json"},
        )
        assert code == 401 and "F0101" not in body
        code, body, _ = status(anon, "/healthz")
        assert code in (200, 503) and SECRET not in body
        # a viewer signs in with a cookie jar
        jar = http.cookiejar.CookieJar()
        user = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        page = status(user, "/login")[1]
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": VIEWER, "password": VIEWER_PW, "csrf": token, "next": "/"}
        ).encode()
        code, _, headers = status(user, "/login", form)
        assert code == 302
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        assert status(user, "/")[0] == 200
        assert status(user, "/_dash-layout")[0] == 200
        code, body, _ = status(user, "/api/live")
        assert code == 200 and "active_outages" in body
        code, body, _ = status(
            user,
            "/_dash-update-component",
            json.dumps(upload_request(outage_csv("SEC-WAITRESS"))).encode(),
            {"Content-Type": "application/json"},
        )
        assert code == 200 and "upload-forbidden" in body
        code, body, _ = status(
            user,
            "/_dash-update-component",
            json.dumps(feeder_request()).encode(),
            {"Content-Type": "application/json"},
        )
        assert code == 200 and "138****5678" in body and PHONE not in body
    finally:
        srv.close()
        thread.join(timeout=5)
    assert SECRET not in caplog.text and VIEWER_PW not in caplog.text
