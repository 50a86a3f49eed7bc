"""Access control that holds (issue 16): revocable sessions, safe ``next``, an atomic throttle,
security headers on every response, logout by POST, the body limit before the gate.

Sessions are tested against a real waitress server on 127.0.0.1, on both databases."""

from __future__ import annotations

import http.cookiejar
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager

import pytest
from flask import Flask

from tests.conftest import free_port
from tests.dashboard.test_dash_sec_login import (  # noqa: F401 (the module's fixture)
    ADMIN,
    ADMIN_PW,
    SECRET,
    VIEWER,
    VIEWER_PW,
    client,
    csrf_of,
    login,
    login_settings,
    secured,
)

NEW_PW = "brand-new-pass-789"


@contextmanager
def waitress_on(app, threads: int = 4):
    """``app`` served by a real waitress server on 127.0.0.1 with the dashboard's options."""
    from waitress.server import create_server

    from feederwatch.serve import waitress_options

    port = free_port()
    options = {**waitress_options(app), "threads": threads}
    srv = create_server(app, host="127.0.0.1", port=port, **options)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        srv.close()
        thread.join(timeout=5)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


class Browser:
    """A cookie jar against a base URL (no redirects followed)."""

    def __init__(self, base: str) -> None:
        self.base, self.jar = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def go(self, path: str, form: dict | None = None, headers: dict | None = None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.headers

    def token(self, path: str = "/login") -> str:
        page = self.go(path)[1]
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def login(self, name: str, password: str, next_url: str = "/"):
        form = {"username": name, "password": password, "csrf": self.token(), "next": next_url}
        return self.go("/login", form)

    def cookie(self) -> str:
        return next(c.value for c in self.jar if c.name == "feederwatch_session")

    def replay(self, cookie: str, path: str = "/api/probe") -> int:
        req = urllib.request.Request(
            self.base + path, headers={"Cookie": f"feederwatch_session={cookie}"}
        )
        try:
            with urllib.request.build_opener(NoRedirect).open(req, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code


def gated_app(settings, engine, name: str = "sec1xx") -> Flask:
    """A bare Flask app behind the dashboard's gate, on ``engine``."""
    from dashboard import auth

    s = login_settings(settings)
    app = Flask(name)
    auth.install(app, s, engine)
    if hasattr(auth, "install_headers"):  # (the same tests ran on the code before issue 16)
        auth.install_headers(app)
    app.config["MAX_CONTENT_LENGTH"] = 2**20
    app.add_url_rule("/", "root", lambda: "ok")
    app.add_url_rule("/api/probe", "probe", lambda: {"ok": True})
    return app


@pytest.fixture
def gated(settings, engine, monkeypatch):
    """(app, engine) with an admin and a viewer on a fresh database of each back end."""
    from feederwatch.users import set_user

    monkeypatch.setenv("FEEDERWATCH_SECRET_KEY", SECRET)
    set_user(engine, ADMIN, "admin", ADMIN_PW)
    set_user(engine, VIEWER, "viewer", VIEWER_PW)
    return gated_app(settings, engine), engine


def test_sec101_replayed_cookies_get_401_after_logout_role_change_disable(gated):
    from db.upsert import end_user_sessions
    from feederwatch.users import set_user

    app, engine = gated
    with waitress_on(app) as (base, _):
        # logout ends every session of the user, copies included
        b, other = Browser(base), Browser(base)
        assert b.login(ADMIN, ADMIN_PW)[0] == 302
        assert other.login(ADMIN, ADMIN_PW)[0] == 302  # a second device
        copied, second = b.cookie(), other.cookie()
        assert b.replay(copied) == 200 and b.replay(second) == 200
        assert b.go("/logout", {"csrf": b.token("/logout")})[0] == 302
        assert b.replay(copied) == 401 and b.replay(second) == 401
        assert b.go("/api/probe")[0] == 401
        # an admin demoted to viewer with a new password: the old cookie is dead
        assert b.login(ADMIN, ADMIN_PW)[0] == 302
        copied = b.cookie()
        assert b.replay(copied) == 200
        set_user(engine, ADMIN, "viewer", NEW_PW)
        assert b.replay(copied) == 401
        # a password change alone (same role) ends the sessions too
        assert b.login(ADMIN, NEW_PW)[0] == 302
        copied = b.cookie()
        set_user(engine, ADMIN, "viewer", ADMIN_PW)
        assert b.replay(copied) == 401
        # disabling a user ends its sessions and refuses new ones; enabling lets it in again
        v = Browser(base)
        assert v.login(VIEWER, VIEWER_PW)[0] == 302
        copied = v.cookie()
        assert end_user_sessions(engine, VIEWER, disable=True)
        assert v.replay(copied) == 401
        assert Browser(base).login(VIEWER, VIEWER_PW)[0] == 401
        end_user_sessions(engine, VIEWER, disable=False)
        assert Browser(base).login(VIEWER, VIEWER_PW)[0] == 302


def test_sec102_absolute_session_lifetime(gated):
    """A session signed in more than 24 hours ago ends, however busy it has been."""
    from flask.sessions import SecureCookieSessionInterface

    from dashboard import auth

    app, _ = gated
    c = client(app)
    assert login(c, ADMIN, ADMIN_PW).status_code == 302
    assert c.get("/api/probe").status_code == 200
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    with app.test_request_context():
        cookie = c.get_cookie("feederwatch_session").value
        state = serializer.loads(cookie)
        state["since"] = int(time.time()) - auth.ABSOLUTE_SECONDS - 5
        old = serializer.dumps(state)
    fresh = client(app)
    fresh.set_cookie("feederwatch_session", old)
    assert fresh.get("/api/probe").status_code == 401
    fresh.set_cookie("feederwatch_session", cookie)
    assert fresh.get("/api/probe").status_code == 200


BAD_NEXT = [
    "//evil.example/",
    "/\t/evil.example/phish",
    "/%09/evil.example/phish",
    "/\n/evil.example",
    "/%0a/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "/%5cevil.example",
    "/%2f/evil.example",
    "/%2F%2Fevil.example",
    "/%252f%252fevil.example",
    "https://evil.example/",
    "evil.example",
    "javascript:alert(1)",
    "/\x00/evil.example",
    " //evil.example",
    "\t//evil.example",
]


@pytest.mark.parametrize("bad", BAD_NEXT)
def test_sec103_next_only_same_origin_paths(secured, bad):  # noqa: F811
    from dashboard.auth import _safe_next

    assert _safe_next(bad) == "/"
    server, _ = secured
    c = client(server)
    r = c.post(
        "/login",
        data={"username": VIEWER, "password": VIEWER_PW, "csrf": csrf_of(c), "next": bad},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/"
    # the gate's own redirect to the login page never carries it either
    assert c.get("/login?next=" + urllib.parse.quote(bad)).status_code == 200


@pytest.mark.parametrize("good", ["/", "/data", "/feeder?id=F0101&lang=en", "/voltage#top"])
def test_sec104_same_origin_paths_kept(good):
    from dashboard.auth import _safe_next

    assert _safe_next(good) == good


def test_sec105_forty_concurrent_wrong_logins_check_at_most_five(gated, monkeypatch):
    """The throttle counts an attempt before its password is checked, under one lock."""
    from dashboard import auth

    app, _ = gated
    checked, real = [], auth.verify

    def counting_verify(engine, name, password):
        checked.append(name)
        return real(engine, name, password)

    monkeypatch.setattr(auth, "verify", counting_verify)
    with waitress_on(app, threads=16) as (base, _):
        browsers = [Browser(base) for _ in range(40)]
        forms = [
            {"username": VIEWER, "password": "wrong-password-x", "csrf": b.token(), "next": "/"}
            for b in browsers
        ]
        start, codes = threading.Barrier(40), []

        def attempt(b, form):
            start.wait()
            codes.append(b.go("/login", form)[0])

        threads = [threading.Thread(target=attempt, args=bf) for bf in zip(browsers, forms)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert len(codes) == 40
    assert len(checked) <= 5, f"{len(checked)} passwords checked"
    assert codes.count(429) >= 35 and set(codes) <= {401, 429}


def test_sec106_security_headers_on_every_response(secured):  # noqa: F811
    server, _ = secured
    anon = client(server)
    c = client(server)
    assert login(c, ADMIN, ADMIN_PW).status_code == 302
    responses = {
        "anon /": anon.get("/"),
        "anon layout": anon.get("/_dash-layout"),
        "anon api": anon.get("/api/live"),
        "healthz": anon.get("/healthz"),
        "login": anon.get("/login"),
        "page": c.get("/"),
        "layout": c.get("/_dash-layout"),
        "api": c.get("/api/live"),
        "missing": c.get("/no/such/page.js"),
    }
    for name, r in responses.items():
        csp = r.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, name
        assert r.headers.get("X-Frame-Options") == "DENY", name
        assert r.headers.get("X-Content-Type-Options") == "nosniff", name
    page_csp = responses["page"].headers["Content-Security-Policy"]
    assert "script-src 'self'" in page_csp and "'unsafe-inline'" not in page_csp.split(";")[1]


def test_sec107_logout_needs_post_with_csrf(secured):  # noqa: F811
    server, _ = secured
    c = client(server)
    assert login(c, VIEWER, VIEWER_PW).status_code == 302
    # a link (GET) only shows a confirmation form; a forged POST is refused
    page = c.get("/logout")
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    assert c.get("/_dash-layout").status_code == 200
    assert c.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert c.post("/logout").status_code == 400
    assert c.get("/_dash-layout").status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert c.post("/logout", data={"csrf": token}).status_code == 302
    assert c.get("/_dash-layout").status_code == 401


def test_sec108_big_body_refused_before_it_is_read(gated):
    """200 MB announced, 1 MB sent: the 413 comes at once, nobody waits for the rest."""
    app, _ = gated
    c = client(app)
    r = c.post(
        "/login",
        data=b"x" * 10,
        content_type="text/plain",
        environ_overrides={"CONTENT_LENGTH": str(200 * 2**20)},
    )
    assert r.status_code == 413
    with waitress_on(app) as (_, port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(
                b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {200 * 2**20}\r\n\r\n".encode()
            )
            try:
                s.sendall(b"x" * 2**20)
            except OSError:
                pass  # the server may close before the first megabyte is in
            s.settimeout(10)
            head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:80]
