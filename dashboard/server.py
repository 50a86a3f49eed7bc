"""The dashboard's Flask server: the Dash app plus the JSON endpoints ``/api/live`` and
``/healthz`` (docs/formats.md). Serving it is the shell's job (feederwatch/serve.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask, jsonify, request

if TYPE_CHECKING:
    # the engine type as the data module names it: dashboard/ reaches db only through dashboard/data/
    from dashboard.data import Engine

log = logging.getLogger("feederwatch.dashboard")


#: responses whose compressed bytes are kept: the component bundles and assets, whose URLs
#: carry their version (fingerprint or ?m=mtime), so one URL is one content
_STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")


class _StaticCompressedCache:
    """flask-compress's cache, for static files only (it asks for every response: a blank key
    means "do not cache"). Bounded: a few dozen bundles at most, a few MB in all."""

    def __init__(self, limit: int = 128) -> None:
        self.limit = limit
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";") or key in self.data:
            return
        if len(self.data) >= self.limit:
            self.data.pop(next(iter(self.data)))
        self.data[key] = value


def _static_key(request) -> str:
    return request.full_path if request.path.startswith(_STATIC_PREFIXES) else ""


def compress(server: Flask):
    """gzip/brotli responses (flask-compress): the pages send about 5 MB of JavaScript and map
    figures of several hundred KB, which compress 4-6 times, over county intranets that are
    often slow. Static bundles are compressed once and kept."""
    from flask_compress import Compress

    server.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip", "deflate"])
    server.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    server.config.setdefault("COMPRESS_CACHE_KEY", _static_key)
    server.config.setdefault("COMPRESS_CACHE_BACKEND", _StaticCompressedCache)
    ext = Compress(server)
    server.extensions["feederwatch_compress"] = ext  # the bench turns it off for "before"
    return ext


def make_server(settings, engine: Engine | None = None, warm: bool = False) -> Flask:
    """The Flask app of the dashboard with ``/api/live`` and ``/healthz`` added; with ``warm``
    the shared analysis is computed at once and for every new data version, in the analysis
    process (dashboard/warmproc.py; ``[dashboard].analysis_process``, default on) or else in a
    thread of this one. Pages are shown the newest computed version meanwhile; before the first,
    planners' pages say that the analysis is being prepared and fill in when it is ready (with
    the thread, they compute what they need, sharing the warmer's results)."""
    from dashboard import data
    from dashboard.app import create_app

    app = create_app(settings, engine)
    server: Flask = app.server
    compress(server)
    store = data.store()
    if warm:
        elsewhere = None
        if settings.dashboard.analysis_process:
            from dashboard.warmproc import AnalysisProcess

            url = store.engine.url.render_as_string(hide_password=False)
            elsewhere = AnalysisProcess(settings, url)
        store.start_warmer(max(2.0, settings.dashboard.refresh_seconds / 2), elsewhere=elsewhere)

    @server.get("/api/live")
    def api_live():
        county = request.args.get("county") or None
        try:
            if county is not None and county not in set(store.counties()["code"]):
                return jsonify({"error": f"unknown county {county[:64]!r}"}), 404
            with store.in_county(county, remember=False):
                body = store.live_summary()
            if county is not None:  # ?county=CODE: that county's outages only (issue 19)
                body["county"] = county
        except Exception as exc:  # noqa: BLE001 - the database is down: say so, without internals
            log.warning("live summary failed: %s", exc.__class__.__name__)
            return jsonify({"error": "database unreachable", "stale": True}), 503
        if store.degraded:  # only the last good data was available: API clients must know
            return jsonify({"error": "database unreachable", "stale": True}), 503
        return jsonify(body)

    watch = server.extensions["feederwatch_watch"]

    @server.get("/healthz")
    def healthz():
        code, body = store.health()
        stalled = watch.report()
        analysis = {"ready": store.analysis_ready(), "published_version": store.published}
        body = {**body, "requests": stalled, "analysis": analysis}
        if stalled["stuck_requests"]:  # a worker is stuck: the dashboard is not healthy
            code, body["status"] = 503, "unhealthy"
        return jsonify(body), code

    return server
