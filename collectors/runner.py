"""One run of one source: lock, read the watermark, ingest its batches, record the run.

A run never raises: whatever happens becomes a run record (``collector_runs``) and a log line,
so one failing source never stops the scheduler or the other sources. Transient failures
(``CollectorError(permanent=False)``: timeouts, 5xx, 429) are retried within the run with
exponential backoff and jitter, waiting at least what the peer asked for (``Retry-After``);
permanent ones (bad credentials, a missing table, a refused input) are not.

Each batch is committed with its watermark in one transaction (``Pipeline.ingest``), so a
retry, a restart or another collector process resumes exactly after the last committed batch.
Sources keep everything they need between runs in that watermark, which is why two collector
processes can take turns on one source.

A run record still ``running`` whose source lock is free was left by a dead process (killed,
crashed, disk full): every run marks its source's such records ``abandoned`` once it holds the
lock, and ``mark_abandoned_runs`` does it for every source at start-up (scheduler, ``collect``,
``run``, ``demo``, ``init``). Writes wait out another writer's lock (``db.engine.retry_locked``)
and a run marks itself as live work so that a background backfill yields to it
(``db.locks.live_writes``).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from collectors.base import CollectorError, Source
from collectors.ingest import PatientPipeline
from collectors.options import SourceOptions, time_options, voltage_level_options
from collectors.pipeline import NETWORK_TABLES, BatchSummary, IngestOptions, Pipeline
from collectors.registry import source_class
from collectors.validate import InputRefused
from db.bookkeeping import abandon_runs
from db.engine import retry_locked
from db.locks import live_writes, source_lock
from db.queries import running_sources
from db.queries import watermark as read_watermark

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 120.0
# A peer asking for a longer pause than this is waited for at the next scheduled run instead.
RETRY_AFTER_CAP_SECONDS = 300.0
ERROR_MAX_CHARS = 2000


@dataclass
class RunResult:
    """What ``run_source_once`` did. ``status``: ok, partial (some quarantined), failed, or
    locked (another process or thread was running the source; nothing recorded)."""

    source: str
    status: str
    summary: BatchSummary = field(default_factory=BatchSummary)
    error: str | None = None
    attempts: int = 0
    run_id: int | None = None
    delays: list[float] = field(default_factory=list)  # backoff pauses requested, in seconds
    seconds: float = 0.0
    not_settled: list[str] = field(default_factory=list)  # files left for a later run
    abandoned: int = 0  # earlier runs of the source found dead and marked abandoned
    # Lines naming a file refused whole or loaded before under another name (file drops).
    notices: list[str] = field(default_factory=list)
    refused_inputs: int = 0  # inputs (files) refused whole and set aside


class SourceInstances:
    """Source instances by name, kept across runs (an HTTP client, an engine to another
    database); rebuilt when the source's options change."""

    def __init__(self) -> None:
        self._sources: dict[str, tuple[SourceOptions, Source]] = {}
        self._guard = threading.Lock()

    def get(self, name: str, options: SourceOptions, settings=None) -> Source:
        with self._guard:
            known = self._sources.get(name)
            if known is not None and known[0] == options:
                return known[1]
            if known is not None:
                _close(known[1])
            source = source_class(options.type)(name, options, settings=settings)
            self._sources[name] = (options, source)
            return source

    def close(self) -> None:
        with self._guard:
            for _, source in self._sources.values():
                _close(source)
            self._sources.clear()


def _close(source: Source) -> None:
    closer = getattr(source, "close", None)
    if callable(closer):
        try:
            closer()
        except Exception:
            log.debug("closing source %s failed", source.name, exc_info=True)


INSTANCES = SourceInstances()


def backoff_delay(
    attempt: int, retry_after: float | None = None, *, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): base·2^(attempt−1), capped,
    plus up to 25 % jitter so that several collectors do not retry in step; never less than
    the peer's ``Retry-After``."""
    rng = rng or random
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    delay *= 1 + 0.25 * rng.random()
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP_SECONDS))
    return round(delay, 3)


def secrets_of(options: SourceOptions) -> list[str]:
    """Values that must never reach a log line or a run record: the values of named
    environment secrets (tokens, URLs with passwords) and passwords inside URLs."""
    values = [
        os.environ.get(env)
        for env in (getattr(options, "token_env", None), getattr(options, "url_env", None))
        if env
    ]
    found = {v for v in values if v and len(v) >= 4}
    for url in [*found, getattr(options, "url", None)]:
        try:
            password = make_url(url).password if url else None
        except Exception:
            password = None
        if password:
            found.add(str(password))
    return sorted(found, key=len, reverse=True)


def redact(message: str, options: SourceOptions) -> str:
    """``message`` without any secret of ``options``, cut to a storable length."""
    for secret in secrets_of(options):
        message = message.replace(secret, "***")
    return message[:ERROR_MAX_CHARS]


def ingest_options(name: str, options: SourceOptions, source: Source, kind: str) -> IngestOptions:
    """The pipeline's per-source choices for a batch of ``kind``."""
    return IngestOptions(
        source=name,
        mapping=dict(options.mapping),
        # A network table from a scheduled source is that source's own network.
        authoritative=options.authoritative or kind in NETWORK_TABLES,
        version_column=options.version_column,
        interval_min=getattr(source, "interval_min", None),
        **time_options(options),
        shaping=options,
        **voltage_level_options(options),
        county=options.county,
    )


def _kind_of(options: SourceOptions) -> str | None:
    kind = getattr(options, "kind", None)
    return kind if kind in ("outages", "voltage", "complaints", "network") else None


class _Stopped(Exception):
    pass


def mark_abandoned_runs(engine: Engine, sources: list[str] | None = None) -> dict[str, int]:
    """Mark ``abandoned`` the runs still ``running`` whose process is gone: those of every
    source (or of ``sources``) whose run lock is free. A source being run right now keeps its
    lock, so its live run is left alone. Returns {source: runs marked}. Never raises."""
    marked: dict[str, int] = {}
    try:
        names = running_sources(engine)
    except Exception:
        log.warning("could not look for abandoned runs", exc_info=True)
        return marked
    for name in names:
        if sources is not None and name not in sources:
            continue
        lock = source_lock(engine, name)
        try:
            if not lock.acquire():
                continue
        except Exception:
            log.warning("could not take the run lock of %s", name, exc_info=True)
            continue
        try:
            count = retry_locked(engine, lambda n=name: abandon_runs(engine, n))
        except Exception:
            log.warning("could not mark the abandoned runs of %s", name, exc_info=True)
            count = 0
        finally:
            lock.release()
        if count:
            marked[name] = count
            log.warning(
                "%s: %d run(s) left running by a dead process marked abandoned", name, count
            )
    return marked


#: called as ``hook(engine, settings, result)`` after every run of a source, once its lock is
#: released (the shell registers the alerts here, feederwatch/alerts.py); a failing hook is
#: logged and never fails the run
AFTER_RUN: list[Callable[..., object]] = []


def _after_run(engine, settings, result) -> None:
    for hook in list(AFTER_RUN):
        try:
            hook(engine, settings, result)
        except Exception:
            log.warning("after-run hook %r failed", hook, exc_info=True)


def run_source_once(
    engine: Engine,
    settings,
    name: str,
    *,
    pipeline: Pipeline | None = None,
    source: Source | None = None,
    sleep: Callable[[float], object] = time.sleep,
    instances: SourceInstances | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Run source ``name`` of ``settings`` once against ``engine`` and record the run.

    Skips (status ``locked``, no run record) when another run of the source holds its lock.
    ``sleep`` is called with each backoff pause (tests pass a recorder); ``stop`` (set on
    SIGINT/SIGTERM) ends the run after the batch in progress commits. Raises KeyError only for
    a source name that is not configured."""
    options = settings.source_options()[name]
    started = time.monotonic()
    result = RunResult(source=name, status="failed")
    lock = source_lock(engine, name)
    try:
        got = lock.acquire()
    except Exception as exc:  # the database itself is unreachable: nothing can be recorded
        result.error = redact(f"lock: {type(exc).__name__}: {exc}", options)
        log.error("collect %s: failed before start: %s", name, result.error)
        return result
    if not got:
        result.status = "locked"
        log.info("collect %s: skipped, another collector is running it", name)
        return result
    try:
        with live_writes():
            _run_locked(
                engine,
                settings,
                name,
                options,
                result,
                pipeline=pipeline,
                source=source,
                sleep=sleep,
                instances=instances or INSTANCES,
                stop=stop,
            )
    finally:
        lock.release()
        result.seconds = round(time.monotonic() - started, 3)
    s = result.summary
    line = (
        f"collect {name}: {result.status} read={s.read} upserted={s.upserted} "
        f"unchanged={s.unchanged} quarantined={s.quarantined_total} "
        f"attempts={result.attempts} {result.seconds:.1f}s"
    )
    if result.error:
        log.warning("%s error=%s", line, result.error.splitlines()[0][:300])
    else:
        log.info("%s", line)
    _after_run(engine, settings, result)
    return result


def _run_locked(
    engine,
    settings,
    name,
    options,
    result: RunResult,
    *,
    pipeline,
    source,
    sleep,
    instances: SourceInstances,
    stop,
) -> None:
    try:
        pipeline, run_id = _start_run(engine, settings, name, options, result, pipeline)
    except Exception as exc:
        result.error = redact(f"{type(exc).__name__}: {exc}", options)
        return
    result.run_id = run_id
    summary = result.summary
    error: str | None = None
    retries = int(getattr(options, "retries", 3))
    try:
        if source is None:
            source = instances.get(name, options, settings)
        error = _attempts(engine, pipeline, name, options, source, result, retries, sleep, stop)
    except _Stopped:
        error = "interrupted by shutdown (committed batches kept)"
    except InputRefused as exc:
        error = redact(f"input refused whole: {exc.text} [{exc.code}]", options)
        try:
            pipeline.quarantine_whole(
                name, _kind_of(options) or "outages", name, exc.code, exc.text, run_id
            )
        except Exception:
            log.exception("collect %s: could not quarantine the refused input", name)
    except Exception as exc:  # a bug or the database: record it, never crash the scheduler
        log.debug("collect %s: unexpected error", name, exc_info=True)
        error = redact(f"{type(exc).__name__}: {exc}", options)
    if result.attempts > 1:
        summary.notes["retries"] += result.attempts - 1
    if source is not None:
        for code, line in source.take_notices():
            summary.notes[code] += 1
            result.notices.append(line)
            if code == "file_refused":
                result.refused_inputs += 1
    result.error = error
    try:
        result.status = pipeline.finish_run(run_id, summary, error=error)
    except Exception as exc:
        result.status = "failed"
        result.error = redact(
            f"{error or ''} (recording the run failed: {type(exc).__name__}: {exc})", options
        )


def _start_run(engine, settings, name, options, result: RunResult, pipeline):
    """The pipeline (made from settings unless given) and the id of a new run of ``name``;
    runs of the source still marked running are abandoned first (we hold its lock)."""
    pipeline = pipeline or PatientPipeline.from_settings(engine, settings)
    # Another source (a file drop, the GIS) may have changed the network since last time.
    pipeline.refresh_network()
    # We hold the source's lock: any run of it still marked running is dead.
    result.abandoned = retry_locked(engine, lambda: abandon_runs(engine, name))
    if result.abandoned:
        log.warning("collect %s: %d dead run(s) marked abandoned", name, result.abandoned)
    return pipeline, pipeline.start_run(name, _kind_of(options))


def _attempts(
    engine,
    pipeline,
    name,
    options,
    source: Source,
    result: RunResult,
    retries: int,
    sleep,
    stop,
) -> str | None:
    """Collect until one attempt succeeds (None) or the error is permanent or retries are
    spent (the error text); between attempts, back off (raises _Stopped on shutdown)."""
    while True:
        result.attempts += 1
        try:
            _one_attempt(
                engine, pipeline, name, options, source, result.run_id, result.summary, stop
            )
            source.finished()
            result.not_settled = list(getattr(source, "not_settled", None) or [])
            if result.not_settled:
                result.summary.notes["files_not_settled"] = len(result.not_settled)
            return None
        except CollectorError as exc:
            message = redact(str(exc), options)
            if exc.permanent or result.attempts > retries:
                kind = "permanent" if exc.permanent else f"after {result.attempts} attempts"
                return f"{message} ({kind})"
            delay = backoff_delay(result.attempts, exc.retry_after)
            result.delays.append(delay)
            log.info(
                "collect %s: attempt %d failed (%s); retrying in %.1fs",
                name,
                result.attempts,
                message,
                delay,
            )
            if stop is not None and stop.is_set():
                raise _Stopped from None
            sleep(delay)
            if stop is not None and stop.is_set():
                raise _Stopped from None


def _one_attempt(
    engine, pipeline: Pipeline, name, options, source: Source, run_id, summary, stop
) -> None:
    mark = read_watermark(engine, name)
    batches = source.batches(mark)
    try:
        for batch in batches:
            # Checked before each batch, not after: a run whose last batch committed is done.
            if stop is not None and stop.is_set():
                raise _Stopped
            if batch.frame is None or (
                batch.frame.empty and batch.watermark is None and batch.chunk is None
            ):
                continue
            try:
                part = pipeline.ingest(
                    batch.kind,
                    batch.frame,
                    ingest_options(name, options, source, batch.kind),
                    run_id=run_id,
                    chunk=batch.chunk,
                    watermark=batch.watermark,
                    watermark_source=name,
                )
            except InputRefused as exc:
                # A source that can set this input aside (a file to failed/) records the
                # refusal and goes on with its other inputs; any other fails the run.
                record = source.refused(batch, exc.code, exc.text)
                if record is None:
                    raise
                part = pipeline.ingest(
                    record.kind,
                    record.frame,
                    ingest_options(name, options, source, record.kind),
                    run_id=run_id,
                )
            summary.add(part)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


__all__ = [
    "INSTANCES",
    "RunResult",
    "SourceInstances",
    "backoff_delay",
    "mark_abandoned_runs",
    "redact",
    "run_source_once",
]
