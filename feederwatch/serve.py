"""Serving the dashboard with waitress (a production WSGI server that also runs on Windows),
with or without the collectors' scheduler in the same process: the wiring of
``feederwatch serve`` and ``feederwatch run``."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("feederwatch.dashboard")

SWITCH_INTERVAL_SECONDS = 0.001
#: waitress worker threads. A planner's request may wait seconds for an analysis another
#: thread is computing; with 8 workers a few such waits queued every live board's refresh
#: behind them (storm soak: waitress "task queue depth 20", live p95 1.2 s). Waiting threads
#: cost no CPU.
WORKER_THREADS = 32


def waitress_options(server) -> dict:
    """waitress settings for the dashboard's Flask ``server``. The body limit is the app's own
    (MAX_CONTENT_LENGTH): waitress answers 413 from the Content-Length header alone, before it
    reads (and buffers) a body that nobody signed in may have sent."""
    limit = server.config.get("MAX_CONTENT_LENGTH") or 2**30
    return {"threads": WORKER_THREADS, "ident": "FeederWatch", "max_request_body_size": limit}


def _sync_counties(engine, settings) -> None:
    """The configured ``[[counties]]`` written to the database, as ``init`` and the collectors
    do: a serve-only deployment's county selector and names follow its config. A database whose
    schema is older than the counties (never initialised) is left alone with a warning."""
    from sqlalchemy.exc import SQLAlchemyError

    from collectors.counties import sync_counties

    try:
        sync_counties(engine, settings)
    except SQLAlchemyError as exc:
        log.warning(
            "[[counties]] not written to the database (%s): run `feederwatch init`",
            str(getattr(exc, "orig", exc)).splitlines()[0],
        )


def serve_command(settings, with_collectors: bool) -> int:
    """Serve until interrupted; with ``with_collectors`` run the scheduler in this process."""
    from waitress import serve

    from dashboard import data
    from dashboard.server import make_server
    from db.engine import make_engine

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    cfg = settings.dashboard
    # Requests are short and wait on the database often; the warmer's analysis holds the GIL
    # for long stretches. At the default 5 ms switch interval every database round trip of a
    # request waits up to 5 ms for the GIL behind it (a convoy): in the storm soak (bench/soak.py)
    # live callbacks p95 went from 632 to 366 ms with a backfill running.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    engine = make_engine(settings.database_url)
    _sync_counties(engine, settings)
    server = make_server(settings, engine, warm=True)
    store = data.store()
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
            from feederwatch import alerts

            alerts.install()  # evaluated after each collector run (issue 17)
            scheduler = start_scheduler(settings, engine)
            alerts.schedule(scheduler, settings, engine)
    print(f"FeederWatch dashboard on http://{cfg.host}:{cfg.port}/", flush=True)
    try:
        serve(server, host=cfg.host, port=cfg.port, **waitress_options(server))
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
        store.stop_warmer()  # and the analysis process with it
        engine.dispose()
    return 0
