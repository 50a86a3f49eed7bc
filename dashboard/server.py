"""Serving the dashboard with waitress (a production WSGI server that also runs on Windows),
plus the JSON endpoints ``/api/live`` and ``/healthz`` (docs/formats.md)."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from flask import Flask, jsonify

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("feederwatch.dashboard")
SWITCH_INTERVAL_SECONDS = 0.001


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


def serve_command(settings, with_collectors: bool) -> int:
    """Serve until interrupted; with ``with_collectors`` run the scheduler in this process."""
    from waitress import serve

    from db.engine import make_engine

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    cfg = settings.dashboard
    # Requests are short and wait on the database often; the warmer's analysis holds the GIL
    # for long stretches. At the default 5 ms switch interval every database round trip of a
    # request waits up to 5 ms for the GIL behind it (a convoy): live callbacks p95 went from
    # ~630 ms to see docs/reliability.md under a storm soak with a backfill running.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    engine = make_engine(settings.database_url)
    server = make_server(settings, engine, warm=True)
    server.extensions["feederwatch_watch"].start_monitor()
    if cfg.host not in ("127.0.0.1", "localhost", "::1") and not cfg.login:
        banner = "!" * 78
        print(
            f"{banner}\nWARNING: the dashboard listens on {cfg.host}:{cfg.port} with login "
            f"switched OFF.\nAnyone who can reach this address can read the data and upload "
            f'files.\nSet [dashboard].login = true or host = "127.0.0.1".\n{banner}',
            file=sys.stderr,
            flush=True,
        )
    scheduler = None
    if with_collectors:
        try:
            from collectors.scheduler import start_scheduler
        except ImportError:
            log.warning("collectors.scheduler is not available: serving without collectors")
        else:
            scheduler = start_scheduler(settings, engine)
    print(f"FeederWatch dashboard on http://{cfg.host}:{cfg.port}/", flush=True)
    try:
        serve(server, host=cfg.host, port=cfg.port, threads=8, ident="FeederWatch")
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(
            f"error: cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}", file=sys.stderr
        )
        return 2
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        engine.dispose()
    return 0
