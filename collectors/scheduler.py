"""The collection schedule: one APScheduler job per enabled source, rebuilt from config.

Exactly one scheduler per process: ``feederwatch collect`` alone, or ``run``/``demo`` beside
the web server (``start_scheduler``), never once per web worker. Several processes or machines
may still point at one database: the per-source lock (db.locks) keeps each source to
one run at a time, so a second collector only takes over when the first one stops.

Jobs have stable ids (``collect:<source>``), ``max_instances=1`` (a slow run is never doubled),
``coalesce=True`` (runs missed while busy or asleep collapse into one) and a misfire grace time.
A source without ``interval_seconds`` or ``cron`` runs every ``DEFAULT_INTERVAL_SECONDS``.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import datetime

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from collectors.counties import sync_counties
from collectors.runner import (
    INSTANCES,
    RunResult,
    SourceInstances,
    mark_abandoned_runs,
    run_source_once,
)

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 30.0
MAX_WORKERS = 4
EXIT_OK, EXIT_FAILED, EXIT_QUARANTINED = 0, 2, 3

_process_scheduler: BackgroundScheduler | None = None
_process_guard = threading.Lock()


def job_id(source: str) -> str:
    return f"collect:{source}"


def _trigger(options, tz: str):
    if options.cron:
        return CronTrigger.from_crontab(options.cron, timezone=tz), None
    seconds = options.interval_seconds or DEFAULT_INTERVAL_SECONDS
    return IntervalTrigger(seconds=seconds, timezone=tz), seconds


def build_scheduler(
    settings,
    engine: Engine,
    *,
    sources: list[str] | None = None,
    instances: SourceInstances | None = None,
    stop: threading.Event | None = None,
) -> BackgroundScheduler:
    """A (not yet started) scheduler with one job per enabled source (or the ``sources``
    named), each running ``run_source_once`` on the source's interval or cron schedule.

    Interval jobs fire first at start, so a fresh collector does not wait a whole interval."""
    options = settings.source_options()
    names = sources if sources is not None else [n for n, o in options.items() if o.enabled]
    stop = stop or threading.Event()
    instances = instances or INSTANCES
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max(1, min(MAX_WORKERS, len(names))))},
        timezone=settings.site.timezone,
    )
    scheduler.feederwatch_stop = stop  # read by stop_scheduler
    scheduler.feederwatch_instances = instances
    for name in names:
        trigger, seconds = _trigger(options[name], settings.site.timezone)
        grace = int(max(30, seconds or 60))
        first = datetime.now(trigger.timezone) if seconds is not None else None
        scheduler.add_job(
            _job,
            trigger,
            args=(engine, settings, name, instances, stop),
            id=job_id(name),
            name=f"collect {name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=grace,
            replace_existing=True,
            **({"next_run_time": first} if first is not None else {}),
        )
    return scheduler


def _job(engine, settings, name: str, instances: SourceInstances, stop: threading.Event) -> None:
    if stop.is_set():
        return
    try:
        # Backoff pauses end early at shutdown: stop.wait returns as soon as it is set.
        run_source_once(engine, settings, name, instances=instances, sleep=stop.wait, stop=stop)
    except Exception:  # run_source_once records everything; this is a last resort
        log.exception("collect %s: unexpected failure", name)


def start_scheduler(settings, engine: Engine | None = None) -> BackgroundScheduler:
    """Start this process's one collection scheduler (a second call returns the same one)."""
    global _process_scheduler
    with _process_guard:
        if _process_scheduler is not None and _process_scheduler.running:
            log.warning("a collection scheduler is already running in this process; reusing it")
            return _process_scheduler
        if engine is None:
            from db.engine import make_engine

            engine = make_engine(settings.database_url)
        sync_counties(engine, settings)
        mark_abandoned_runs(engine)
        scheduler = build_scheduler(settings, engine)
        scheduler.start()
        log.info(
            "collection scheduler started: %s",
            ", ".join(job.id for job in scheduler.get_jobs()) or "no sources",
        )
        _process_scheduler = scheduler
        return scheduler


def stop_scheduler(scheduler: BackgroundScheduler | None = None, wait: bool = True) -> None:
    """Stop gracefully: no new runs; a run in progress ends after the batch it is committing
    (each batch commits or rolls back whole); pending retries are abandoned."""
    global _process_scheduler
    scheduler = scheduler or _process_scheduler
    if scheduler is None:
        return
    stop = getattr(scheduler, "feederwatch_stop", None)
    if stop is not None:
        stop.set()
    if scheduler.running:
        scheduler.shutdown(wait=wait)
    with _process_guard:
        if scheduler is _process_scheduler:
            _process_scheduler = None


# --- feederwatch collect ------------------------------------------------------------------------


def print_results(results: list[RunResult]) -> None:
    """The summary table of a ``collect --once`` pass."""
    header = ("source", "status", "read", "upserted", "unchanged", "quarantined", "error")
    rows = [header]
    for r in results:
        s = r.summary
        error = (r.error or "").splitlines()[0][:100] if r.error else ""
        rows.append(
            (
                r.source,
                r.status,
                f"{s.read:,}",
                f"{s.upserted:,}",
                f"{s.unchanged:,}",
                f"{s.quarantined_total:,}",
                error,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [
            row[i].ljust(widths[i]) if i < 2 else row[i].rjust(widths[i])
            for i in range(len(header) - 1)
        ]
        click.echo("  ".join(cells + [row[-1]]).rstrip())
    quarantined = [r for r in results if r.summary.quarantined]
    for r in quarantined:
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(r.summary.quarantined.items()))
        click.echo(f"{r.source}: quarantined: {reasons}")
    for r in results:
        if r.not_settled:
            n = len(r.not_settled)
            names = ", ".join(r.not_settled[:5]) + (", ..." if n > 5 else "")
            click.echo(
                f"{r.source}: {n} file{'s' if n != 1 else ''} not settled yet ({names}), "
                "retried next run"
            )
        for line in r.notices:
            click.echo(f"{r.source}: {line}")
        if r.abandoned:
            click.echo(
                f"{r.source}: {r.abandoned} earlier run(s) left by a dead process: abandoned"
            )


def collect_command(settings, once: bool, source: str | None) -> int:
    """``feederwatch collect [--once] [SOURCE]``. With ``--once``: one pass of each enabled
    source (or SOURCE), a summary table, and exit 0 (all landed), 3 (some quarantined) or 2
    (a source failed, SOURCE is unknown, or files were refused whole and nothing landed), as
    ``feederwatch ingest``; each file refused whole or loaded before has a line naming it. Files of a file drop
    not settled yet are listed (taken by a later run) and do not change the status. Without
    ``--once``: the schedule until SIGINT/SIGTERM. Either way runs left ``running`` by a dead
    process are first marked abandoned."""
    from db.engine import make_engine
    from db.migrate import upgrade

    options = settings.source_options()
    if source is not None and source not in options:
        known = ", ".join(sorted(options)) or "none configured"
        click.echo(f"feederwatch: error: unknown source {source!r} (sources: {known})", err=True)
        return EXIT_FAILED
    names = [source] if source is not None else [n for n, o in options.items() if o.enabled]
    if not names:
        click.echo("feederwatch: no enabled sources in the configuration", err=True)
        return EXIT_OK
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sync_counties(engine, settings)
    mark_abandoned_runs(engine)
    try:
        if once:
            return _collect_once(engine, settings, names)
        return _collect_forever(engine, settings, names)
    finally:
        INSTANCES.close()
        engine.dispose()


def _collect_once(engine, settings, names: list[str]) -> int:
    stop = threading.Event()
    previous = _install_signals(stop)
    try:
        results = []
        for name in names:
            if stop.is_set():
                break
            results.append(run_source_once(engine, settings, name, sleep=stop.wait, stop=stop))
    finally:
        _restore_signals(previous)
    print_results(results)
    if stop.is_set() or any(r.status == "failed" for r in results):
        return EXIT_FAILED
    # As ``feederwatch ingest``: inputs refused whole and nothing landed is 2, not 3.
    landed = sum(r.summary.upserted + r.summary.unchanged for r in results)
    if landed == 0 and any(r.refused_inputs for r in results):
        return EXIT_FAILED
    if any(r.summary.quarantined_total for r in results):
        return EXIT_QUARANTINED
    return EXIT_OK


def _collect_forever(engine, settings, names: list[str]) -> int:
    stop = threading.Event()
    previous = _install_signals(stop)
    scheduler = build_scheduler(settings, engine, sources=names, stop=stop)
    scheduler.start()
    click.echo(f"collecting {', '.join(names)}; Ctrl+C to stop", err=True)
    try:
        while not stop.wait(timeout=1.0):
            pass
    finally:
        click.echo("stopping: finishing the batch in progress", err=True)
        stop_scheduler(scheduler, wait=True)
        _restore_signals(previous)
    return EXIT_OK


def _install_signals(stop: threading.Event) -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum, _frame):
        stop.set()

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM) + (
        (signal.SIGBREAK,) if sys.platform == "win32" else ()
    ):
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):
            pass
    return previous


def _restore_signals(previous: dict) -> None:
    for sig, old in previous.items():
        try:
            signal.signal(sig, old)
        except (ValueError, OSError):
            pass


__all__ = [
    "DEFAULT_INTERVAL_SECONDS",
    "build_scheduler",
    "collect_command",
    "job_id",
    "print_results",
    "start_scheduler",
    "stop_scheduler",
]
