"""Optional login for the dashboard and its JSON API (``[dashboard] login = true``).

* Flask session cookie: HttpOnly, SameSite=Lax, ``Secure`` only with ``secure_cookies = true``.
* The secret key comes from ``FEEDERWATCH_SECRET_KEY`` when set, else from
  ``<database folder>/.feederwatch-secret`` (created with mode 0600 on first start). It is never
  logged nor shown.
* With login on, every page, every ``/_dash-*`` request, ``/assets`` and ``/api/*`` need a signed-in
  user: XHR/API requests get 401 JSON, pages a redirect to ``/login``. ``/healthz`` stays open.
* Roles: ``viewer`` (read-only) and ``admin`` (uploads, quarantine raw content). Callbacks check
  :func:`current_role` on the server side.
* Throttling: 5 failed logins for a user name or an address within 15 minutes lock further
  attempts for 15 minutes (in memory). An attempt is counted before its password is checked
  (and given back on success), so concurrent attempts cannot pass the limit. Errors never tell
  whether a user exists.
* Sessions are revocable: the cookie carries the user's session generation (``users.session_gen``),
  checked against the database on every request. Logout, a new password or role and
  ``feederwatch user disable`` raise it and so end every session of that user. A session lasts
  at most 12 hours idle and 24 hours in all.
* ``next`` after login is only ever a same-origin path; logout is a POST with a CSRF token; every
  response carries a Content-Security-Policy and ``frame-ancestors 'none'``; a too large body is
  refused (413) before anything reads it.

With login off (the local demo) everyone is treated as ``admin``.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit

from flask import Flask, jsonify, redirect, request, session
from markupsafe import escape
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard import data
from dashboard.i18n import tr

log = logging.getLogger("feederwatch.dashboard.auth")

SECRET_ENV = "FEEDERWATCH_SECRET_KEY"
SECRET_FILE = ".feederwatch-secret"
MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 15 * 60
ABSOLUTE_SECONDS = 24 * 3600
IDLE = timedelta(hours=12)
OPEN_PATHS = ("/login", "/logout", "/healthz")
ROLES = ("viewer", "admin")


def _t(key: str, lang: str) -> str:
    return tr(f"login.{key}", lang)


def _login_enabled() -> bool:
    from dashboard import data

    try:
        return bool(data.store().settings.dashboard.login)
    except RuntimeError:
        return False


def current_role() -> str | None:
    """The signed-in user's role; ``admin`` when login is off; None when nobody is signed in."""
    if not _login_enabled():
        return "admin"
    from flask import has_request_context

    if not has_request_context():
        return None
    role = session.get("role")
    return role if role in ROLES else None


def current_user() -> str | None:
    from flask import has_request_context

    return session.get("user") if has_request_context() else None


def is_admin() -> bool:
    return current_role() == "admin"


def secret_folder(settings) -> Path:
    """Where the generated secret key lives: the SQLite database's folder, else the config's."""
    try:
        folder = data.database_folder(settings.database_url)
        if folder is not None:
            return folder
    except Exception:  # noqa: BLE001 - an unusual URL: fall back to the config folder
        log.debug("database URL not parsed for the secret's folder")
    return Path(settings.config_dir).resolve()


def secret_key(settings) -> str:
    """``FEEDERWATCH_SECRET_KEY`` when set, else the key kept in ``<db folder>/.feederwatch-secret``
    (created 0600 when missing)."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return env
    path = secret_folder(settings) / SECRET_FILE
    try:
        text = path.read_text("ascii").strip()
        if len(text) >= 32:
            return text
    except OSError:
        pass
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key.encode("ascii"))
    finally:
        os.close(fd)
    os.chmod(path, 0o600)
    log.info("generated a new session secret in %s", path)  # the path only, never the key
    return key


class Throttle:
    """Failed attempts per key (user name or address) in a sliding window, then a lock."""

    def __init__(
        self,
        max_failures=MAX_FAILURES,
        window=WINDOW_SECONDS,
        lock=LOCK_SECONDS,
        clock=time.monotonic,
    ) -> None:
        self.max_failures, self.window, self.lock_for, self.clock = (
            max_failures,
            window,
            lock,
            clock,
        )
        self._fails: dict[str, deque] = defaultdict(deque)
        self._locked: dict[str, float] = {}
        self._guard = threading.Lock()

    def _any_locked(self, keys, now: float) -> bool:
        """True when one of ``keys`` is locked at ``now``; expired locks are dropped. Called
        with ``_guard`` held."""
        for k in keys:
            until = self._locked.get(k)
            if until is not None and until > now:
                return True
            if until is not None:
                del self._locked[k]
        return False

    def _count(self, keys, now: float) -> None:
        """One failure (or attempt) for each of ``keys`` at ``now``: the window slides, and a
        key reaching ``max_failures`` is locked for ``lock_for``. Called with ``_guard`` held."""
        for k in keys:
            q = self._fails[k]
            q.append(now)
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.max_failures:
                self._locked[k] = now + self.lock_for
                q.clear()

    def locked(self, *keys: str) -> bool:
        now = self.clock()
        with self._guard:
            return self._any_locked(keys, now)

    def begin(self, *keys: str) -> bool:
        """Count an attempt for ``keys`` before its password is checked; False (nothing counted)
        when one of them is locked. Check and count happen under one lock, so at most
        ``max_failures`` attempts per key are ever checked in a window, however many arrive
        at once. A successful attempt is given back with :meth:`success`."""
        now = self.clock()
        with self._guard:
            if self._any_locked(keys, now):
                return False
            self._count(keys, now)
        return True

    def fail(self, *keys: str) -> None:
        now = self.clock()
        with self._guard:
            self._count(keys, now)

    def reset(self) -> None:
        with self._guard:
            self._fails.clear()
            self._locked.clear()

    def success(self, *keys: str) -> None:
        with self._guard:
            for k in keys:
                self._fails.pop(k, None)
                self._locked.pop(k, None)


_DUMMY_HASH: str | None = None


def verify(engine, name: str, password: str) -> str | None:
    """The role when ``name``/``password`` match, else None, in about the same time whether or
    not the user exists (a dummy hash is checked for unknown names)."""
    global _DUMMY_HASH
    found = data.user_credentials(engine, name)
    if found is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash(secrets.token_hex(16), "scrypt")
        check_password_hash(_DUMMY_HASH, password)
        return None
    role, password_hash = found
    return role if check_password_hash(password_hash, password) else None


def _lang(default: str) -> str:
    lang = request.values.get("lang") or default
    return "en" if lang == "en" else "zh"


def _safe_next(value: str | None) -> str:
    """``value`` when it is a same-origin path, else ``/``. Browsers drop TAB/CR/LF, read ``\\``
    as ``/`` and servers may decode ``%2F``: every decoding of it is checked, and anything with
    a control character, a backslash, a scheme, a host or a leading ``//`` is refused."""
    if not value or len(value) > 2000:
        return "/"
    forms, v = [value], value
    for _ in range(3):
        v = unquote(v)
        forms.append(v)
    for f in forms:
        if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in f):
            return "/"
        if not f.startswith("/") or f.startswith("//"):
            return "/"
        parts = urlsplit(f)
        if parts.scheme or parts.netloc:
            return "/"
    return value


def login_page(
    site_name: str, lang: str, error: str | None = None, next_url: str = "/", csrf: str = ""
) -> str:
    e = escape
    other = "en" if lang == "zh" else "zh"
    err = f'<p class="login-error" id="login-error" role="alert">{e(error)}</p>' if error else ""
    return f"""<!DOCTYPE html>
<html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(site_name)} – {e(_t("title", lang))}</title>
<style>
body{{font-family:system-ui,-apple-system,'Segoe UI','Microsoft YaHei','PingFang SC',sans-serif;
background:#f4f6f8;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}}
form{{background:#fff;padding:2rem 2.2rem;border-radius:8px;box-shadow:0 2px 10px rgba(0,0,0,.12);
min-width:300px}}
h1{{font-size:1.3rem;margin:0 0 1.2rem}} label{{display:block;margin:.8rem 0 .3rem}}
input[type=text],input[type=password]{{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}}
button{{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;background:#0072b2;color:#fff;
border:0;border-radius:4px;cursor:pointer}} .login-error{{color:#b00020}}
.lang{{float:right;font-size:.9rem}}
</style></head><body>
<form method="post" action="/login" id="login-form" autocomplete="off">
<a class="lang" id="login-lang" href="/login?{e(urlencode({"lang": other, "next": next_url}))}">{"EN" if other == "en" else "中文"}</a>
<h1>{e(site_name)}</h1>{err}
<label for="login-user">{e(_t("user", lang))}</label>
<input type="text" id="login-user" name="username" required autofocus>
<label for="login-password">{e(_t("password", lang))}</label>
<input type="password" id="login-password" name="password" required>
<input type="hidden" name="next" value="{e(next_url)}">
<input type="hidden" name="lang" value="{e(lang)}">
<input type="hidden" name="csrf" value="{e(csrf)}">
<button type="submit" id="login-submit">{e(_t("submit", lang))}</button>
</form></body></html>"""


def _session_valid(engine) -> bool:
    """The signed-in session is still one the server accepts: the user exists, is not disabled,
    has the same role and session generation as at sign-in, and signed in less than
    ``ABSOLUTE_SECONDS`` ago."""
    user, role, gen, since = (session.get(k) for k in ("user", "role", "gen", "since"))
    if role not in ROLES or not user or not isinstance(gen, int) or not isinstance(since, int):
        return False
    if not 0 <= time.time() - since < ABSOLUTE_SECONDS:
        return False
    state = data.user_session_state(engine, user)
    return state is not None and not state[2] and state[0] == role and state[1] == gen


CSP = (
    "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def install_headers(server: Flask, script_hashes=None) -> None:
    """Security headers on every response (pages, callbacks, assets, errors). ``script_hashes``
    (a list, or a function giving one, asked once at the first response: Dash adds the
    clientside callbacks' inline scripts only when it starts serving) are the only inline
    scripts allowed to run."""
    policy: list[str] = []

    @server.after_request
    def security_headers(response):
        if not policy:
            hashes = script_hashes() if callable(script_hashes) else script_hashes
            policy.append(CSP.format(hashes="".join(f" {h}" for h in (hashes or []))))
        response.headers.setdefault("Content-Security-Policy", policy[0])
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def logout_page(lang: str, csrf: str) -> str:
    e = escape
    return f"""<!DOCTYPE html>
<html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">
<title>{e(_t("logout", lang))}</title></head><body>
<form method="post" action="/logout" id="logout-form"><p>{e(_t("logout_q", lang))}</p>
<input type="hidden" name="csrf" value="{e(csrf)}">
<button type="submit" id="logout-submit">{e(_t("logout", lang))}</button></form></body></html>"""


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def _wants_json(path: str) -> bool:
    if path.startswith(("/_dash-", "/api/", "/_reload-hash")):
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    accept = request.accept_mimetypes
    return accept.best == "application/json"


def install(server: Flask, settings, engine) -> Throttle | None:
    """Set the session cookie flags and, when login is on, the secret key, the gate, ``/login``
    and ``/logout``. Returns the throttle (None with login off)."""
    cfg = settings.dashboard
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg.secure_cookies),
        SESSION_COOKIE_NAME="feederwatch_session",
        PERMANENT_SESSION_LIFETIME=IDLE,
    )
    if not cfg.login:
        return None
    server.secret_key = secret_key(settings)
    throttle = Throttle()
    server.extensions["feederwatch_throttle"] = throttle
    _install_gate(server, engine)
    _install_login(server, engine, throttle, settings.site.name, cfg.language)
    _install_logout(server, engine, cfg.language)
    return throttle


def _install_gate(server: Flask, engine) -> None:
    """Every request but the open paths needs a valid session: pages are sent to ``/login``,
    JSON gets 401; a body over the limit is refused before anything reads it."""

    @server.before_request
    def require_login():
        limit = server.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            # before anything (login or the gate) reads the body
            return jsonify({"error": "request too large"}), 413
        path = request.path
        if path in OPEN_PATHS:
            return None
        if _session_valid(engine):
            return None
        if session.get("user"):
            session.clear()
        if _wants_json(path):
            return jsonify({"error": "login required"}), 401
        target = request.full_path if request.query_string else path
        return redirect("/login?" + urlencode({"next": _safe_next(target)}))


def _install_login(server: Flask, engine, throttle: Throttle, site: str, default_lang: str) -> None:
    """``/login``: the form (GET, with a new CSRF token) and the sign-in (POST: CSRF checked,
    throttled by user and address, a disabled or changed user refused)."""

    @server.route("/login", methods=["GET", "POST"])
    def login():
        lang = _lang(default_lang)
        next_url = _safe_next(request.values.get("next"))
        if request.method == "GET":
            csrf = session.get("csrf") or secrets.token_urlsafe(24)
            session["csrf"] = csrf
            return _html(login_page(site, lang, None, next_url, csrf))
        csrf = session.get("csrf") or ""
        given = request.form.get("csrf") or ""
        new_csrf = secrets.token_urlsafe(24)
        session["csrf"] = new_csrf
        if not csrf or not hmac.compare_digest(csrf, given):
            return _html(login_page(site, lang, _t("expired", lang), next_url, new_csrf), 400)
        name = (request.form.get("username") or "").strip()[:100]
        password = request.form.get("password") or ""
        ip = request.remote_addr or "?"
        keys = (f"user:{name.casefold()}", f"ip:{ip}")
        if not throttle.begin(*keys):
            log.warning("login refused (throttled) from %s", ip)
            return _html(login_page(site, lang, _t("locked", lang), next_url, new_csrf), 429)
        role = verify(engine, name, password) if name and password else None
        state = data.user_session_state(engine, name) if role in ROLES else None
        if state is None or state[2] or state[0] != role:
            role = None  # a disabled user (or one changed meanwhile) does not sign in
        if role not in ROLES:
            log.warning("failed login from %s", ip)  # neither the name nor the password
            return _html(login_page(site, lang, _t("bad", lang), next_url, new_csrf), 401)
        throttle.success(*keys)
        session.clear()
        session.permanent = True
        session["user"], session["role"] = name, role
        session["gen"], session["since"] = state[1], int(time.time())
        session["csrf"] = secrets.token_urlsafe(24)
        log.info("login: %s (%s) from %s", name, role, ip)
        return redirect(next_url)


def _install_logout(server: Flask, engine, default_lang: str) -> None:
    """``/logout``: a confirmation form (GET), the sign-out of every session of the user (POST
    with the CSRF token)."""

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        lang = _lang(default_lang)
        if request.method == "GET":  # a link alone never signs anyone out
            return _html(logout_page(lang, csrf_token()))
        given = request.form.get("csrf") or ""
        if not hmac.compare_digest(session.get("csrf") or "", given):
            return _html(logout_page(lang, csrf_token()), 400)
        user = session.get("user")
        if user and _session_valid(engine):
            data.end_user_sessions(engine, user)  # every copy of every session of the user
            log.info("logout: %s", user)
        session.clear()
        return redirect("/login")


def _html(body: str, code: int = 200):
    return (
        body,
        code,
        {
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
        },
    )
