"""The dashboard's Flask server: the Dash app plus the JSON endpoints ``/api/live`` and
``/healthz`` (docs/formats.md). Serving it is the shell's job (feederwatch/serve.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask, jsonify

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("feederwatch.dashboard")


def make_server(settings, engine: Engine | None = None, warm: bool = False) -> Flask:
    """The Flask app of the dashboard with ``/api/live`` and ``/healthz`` added; with ``warm``
    a background thread computes the shared analysis at once and for every new data version
    (pages are shown the newest computed one meanwhile; before the first, they compute what
    they need, sharing the warmer's results)."""
    from dashboard import data
    from dashboard.app import create_app

    app = create_app(settings, engine)
    server: Flask = app.server
    store = data.store()
    if warm:
        store.start_warmer(max(2.0, settings.dashboard.refresh_seconds / 2))

    @server.get("/api/live")
    def api_live():
        try:
            body = store.live_summary()
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
        body = {**body, "requests": stalled}
        if stalled["stuck_requests"]:  # a worker is stuck: the dashboard is not healthy
            code, body["status"] = 503, "unhealthy"
        return jsonify(body), code

    return server
