"""``feederwatch ingest KIND PATH``: one file (or a network folder) through the pipeline.

A database locked by another writer (SQLite allows one at a time) is waited for: each batch's
transaction is retried with backoff for at most ``FEEDERWATCH_LOCK_WAIT_SECONDS`` (default
30 s, ``db.engine.retry_locked``); then one line on stderr names the database and the exit
status is 2. Nothing is half-written: a batch commits whole or not at all, and a rerun resumes
after the last committed chunk.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from collectors.counties import sync_counties
from collectors.file_reading import (
    DEFAULT_MAX_COLUMNS,
    FileRefused,
    file_key,
    guess_kind,
    read_chunks,
)
from collectors.options import reading_options, time_options, voltage_level_options
from collectors.pipeline import NETWORK_TABLES, BatchSummary, IngestOptions, Pipeline
from db.engine import DatabaseLocked, lock_wait_seconds, make_engine, retry_locked
from db.locks import source_lock
from db.migrate import upgrade

EXIT_OK, EXIT_REFUSED, EXIT_QUARANTINED = 0, 2, 3
SOURCE_LOCK_POLL_SECONDS = 0.5


class PatientPipeline(Pipeline):
    """A pipeline whose every write transaction waits out another writer's lock
    (``retry_locked``) instead of failing at once. A retried batch starts again from a clean
    slate: the network context a rolled-back transaction may have extended is read again,
    and a file chunk that did commit (the error came after it) is not redone."""

    def _retry(self, action):
        return retry_locked(self.engine, action, before_retry=self.refresh_network)

    def start_run(self, source: str, kind: str | None = None) -> int:
        return self._retry(lambda: super(PatientPipeline, self).start_run(source, kind))

    def finish_run(self, run_id: int, summary: BatchSummary, error: str | None = None) -> str:
        return self._retry(
            lambda: super(PatientPipeline, self).finish_run(run_id, summary, error=error)
        )

    def quarantine_whole(self, *args, **kwargs) -> None:
        self._retry(lambda: super(PatientPipeline, self).quarantine_whole(*args, **kwargs))

    def forget_chunks(self, file_key: str) -> None:
        self._retry(lambda: super(PatientPipeline, self).forget_chunks(file_key))

    def ingest(self, kind, raw, options, *, chunk=None, **kwargs) -> BatchSummary:
        def once() -> BatchSummary:
            if chunk is not None and chunk[1] in self.committed_chunks(chunk[0]):
                return BatchSummary(chunks_skipped=1)
            return Pipeline.ingest(self, kind, raw, options, chunk=chunk, **kwargs)

        return self._retry(once)


def print_summary(summary: BatchSummary, title: str) -> None:
    """The summary table: read, upserted, unchanged, quarantined by reason."""
    rows = [
        ("read", summary.read),
        ("upserted", summary.upserted),
        ("unchanged", summary.unchanged),
        ("quarantined", summary.quarantined_total),
    ]
    if summary.conflicts:
        rows.append(("version conflicts (latest end kept)", summary.conflicts))
    if summary.chunks_skipped:
        rows.append(("chunks already committed (resumed)", summary.chunks_skipped))
    rows += [(f"  quarantined: {code}", n) for code, n in sorted(summary.quarantined.items())]
    rows += [(f"  note: {code}", n) for code, n in sorted(summary.notes.items()) if n]
    width = max(len(label) for label, _ in rows)
    click.echo(title)
    for label, value in rows:
        click.echo(f"  {label:<{width}}  {value:>10,}")


def _progress(total_bytes: int):
    if not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=max(total_bytes, 1), label="ingesting", file=sys.stderr)
    bar.__enter__()
    state = {"rows": 0, "bytes_per_row": None}

    def on_chunk(rows: int, _part) -> None:
        state["rows"] += rows
        if state["bytes_per_row"] is None:
            state["bytes_per_row"] = total_bytes / max(rows * 2, 1)
        bar.update(int(rows * state["bytes_per_row"]))

    return bar, on_chunk


def ingest_path(
    pipeline: Pipeline,
    kind: str,
    path: Path,
    options: IngestOptions,
    run_id: int | None = None,
    on_chunk=None,
    read_options: dict | None = None,
    network=None,
) -> BatchSummary:
    """Ingest a file, or for ``network`` a folder of tables or a network model in one of the
    field's formats (bus-branch tables, pandapower, OpenDSS, GIS layers:
    ``collectors.network_import``, read under the source's ``network`` options);
    ``read_options`` say how files are read (``read_chunks``'s reading options)."""
    summary = BatchSummary()
    if kind == "network":
        from collectors.network_import import detect_format, import_network

        if detect_format(path, network) is not None:
            try:
                return import_network(
                    pipeline, path, options, network, run_id=run_id, read_options=read_options
                )
            except (FileNotFoundError, KeyError) as exc:
                raise ValueError(f"network model incomplete: {exc}") from None
        files = network_files(path) if path.is_dir() else [(guess_kind(path), path)]
        if not files or any(table is None for table, _ in files):
            raise FileRefused("unknown_kind", str(path))
        for table, file in files:
            summary.add(
                ingest_file(
                    pipeline,
                    file,
                    table,
                    options,
                    run_id=run_id,
                    on_chunk=on_chunk,
                    read_options=read_options,
                )
            )
        return summary
    if path.is_dir():
        raise FileRefused("unknown_kind", f"{path} is a folder; give a file")
    return ingest_file(
        pipeline, path, kind, options, run_id=run_id, on_chunk=on_chunk, read_options=read_options
    )


def _take_source_lock(engine, source: str):
    """The source's run lock (db.locks), waited for while a collector runs the source: a run
    record marked running is then always held by a live process (see
    ``collectors.runner.mark_abandoned_runs``). None when it stayed busy past the lock wait."""
    lock = source_lock(engine, source)
    deadline = time.monotonic() + lock_wait_seconds()
    while not lock.acquire():
        if time.monotonic() >= deadline:
            return None
        time.sleep(SOURCE_LOCK_POLL_SECONDS)
    return lock


def ingest_file_command(settings, kind: str, path: Path, source: str) -> int:
    engine = make_engine(settings.database_url)
    try:
        retry_locked(engine, lambda: upgrade(engine))
        retry_locked(engine, lambda: sync_counties(engine, settings))
        lock = _take_source_lock(engine, source)
        if lock is None:
            click.echo(
                f"feederwatch: error: source {source!r} is being collected by another process "
                f"on {engine.url.render_as_string(hide_password=True)}; try again later",
                err=True,
            )
            return EXIT_REFUSED
        try:
            return _ingest_locked(engine, settings, kind, path, source)
        finally:
            lock.release()
    except DatabaseLocked as exc:
        click.echo(f"feederwatch: error: {exc}", err=True)
        return EXIT_REFUSED
    finally:
        engine.dispose()


def _ingest_locked(engine, settings, kind: str, path: Path, source: str) -> int:
    pipeline = PatientPipeline.from_settings(engine, settings)
    configured = settings.source_options().get(source)
    options = IngestOptions(
        source=source,
        mapping=dict(configured.mapping) if configured else {},
        authoritative=configured.authoritative if configured else kind == "network",
        version_column=configured.version_column if configured else None,
        **time_options(configured),
        shaping=configured,
        **voltage_level_options(configured),
        county=configured.county if configured else None,
    )
    run_id = pipeline.start_run(source, kind)
    size = (
        sum(p.stat().st_size for p in ([path] if path.is_file() else path.iterdir()) if p.is_file())
        if path.exists()
        else 0  # a model named by code (simbench:...)
    )
    bar, on_chunk = _progress(size)
    try:
        summary = ingest_path(
            pipeline,
            kind,
            path,
            options,
            run_id=run_id,
            on_chunk=on_chunk,
            # the source's reading options (sep, header, records_path, ...) read its files
            read_options=reading_options(configured),
            network=getattr(configured, "network", None),
        )
    except FileRefused as exc:
        pipeline.quarantine_whole(source, kind, str(path), exc.code, exc.text, run_id)
        pipeline.finish_run(run_id, BatchSummary(), error=f"{exc.code}: {exc.text}")
        click.echo(f"feederwatch: error: {path}: {exc.text} [{exc.code}]", err=True)
        return EXIT_REFUSED
    except ValueError as exc:
        pipeline.finish_run(run_id, BatchSummary(), error=str(exc))
        click.echo(f"feederwatch: error: {path}: {exc}", err=True)
        return EXIT_REFUSED
    except DatabaseLocked as exc:
        # Committed chunks stay (a rerun resumes after them); the run record is closed when
        # the database lets us, else the next start marks it abandoned.
        try:
            Pipeline.finish_run(pipeline, run_id, BatchSummary(), error=str(exc))
        except Exception:
            pass
        raise
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    pipeline.finish_run(run_id, summary)
    print_summary(summary, f"{kind} from {path} (source {source}):")
    return EXIT_QUARANTINED if summary.quarantined_total else EXIT_OK


def ingest_file(
    pipeline: Pipeline,
    path: Path,
    kind: str,
    options: IngestOptions,
    *,
    run_id: int | None = None,
    chunk_rows: int | None = None,
    on_chunk: Callable[[int, BatchSummary], None] | None = None,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    read_options: dict | None = None,
) -> BatchSummary:
    """Ingest one file chunk by chunk; chunks already committed by an interrupted earlier run
    (killed, crashed) are skipped, so a rerun resumes where that run stopped. The header is
    judged first, under ``options.mapping`` (see ``read_chunks``); ``read_options`` are
    ``read_chunks``'s reading options (``collectors.options.reading_options`` of a source)."""
    key = file_key(path)
    done = pipeline.committed_chunks(key)
    summary = BatchSummary()
    chunks = read_chunks(
        path,
        kind,
        chunk_rows=chunk_rows,
        max_columns=max_columns,
        mapping=dict(options.mapping),
        shaping=options.shaping,
        **(read_options or {}),
    )
    for number, frame in enumerate(chunks):
        if number in done:
            summary.chunks_skipped += 1
            continue
        part = pipeline.ingest(kind, frame, options, run_id=run_id, chunk=(key, number))
        summary.add(part)
        if on_chunk is not None:
            on_chunk(len(frame), part)
    # Finished: the markers only serve to resume an interrupted ingest. Ingesting the file
    # again later (say, after the missing feeders were added) reads it all again.
    pipeline.forget_chunks(key)
    return summary


def network_files(folder: Path) -> list[tuple[str, Path]]:
    """The network tables of a folder in dependency order (substations, feeders, areas)."""
    found = []
    for table in NETWORK_TABLES:
        matches = sorted(p for p in folder.iterdir() if p.is_file() and guess_kind(p) == table)
        found += [(table, p) for p in matches]
    return found
