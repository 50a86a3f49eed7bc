"""``feederwatch check``: preview what a source (or one file) would load, writing nothing.

    feederwatch check oms                      # a configured source, read with its settings
    feederwatch check --kind outages PATH      # one file (its reading options: --source NAME)

The first line of each input says the one thing to know: the missing piece (a required column,
with the closest header and the mapping line that would take it) or what would land. Then the
headers and how they map, headers nothing takes (with suggestions), a few parsed records and the
quarantine reasons of the whole input. Exit status as ``ingest``: 0 everything would land, 3 some
records would be quarantined, 2 refused whole or bad usage.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import inspect

from collectors.pipeline import Pipeline
from collectors.preview import Preview, preview_file, preview_source
from collectors.runner import SourceInstances
from db.engine import make_engine, sqlite_file
from db.migrate import upgrade


def _pipeline(settings) -> tuple[Pipeline, str | None]:
    """A pipeline reading the configured database's network, or an empty one (a note says
    so) when that database has no tables yet: check never creates or writes anything."""
    path = sqlite_file(settings.database_url)
    ready = False
    if path is None or path.exists():  # never create an SQLite file by looking at it
        engine = make_engine(settings.database_url)
        try:
            ready = inspect(engine).has_table("feeders")
        except Exception:  # noqa: BLE001 - unreachable: judged without a network
            ready = False
        if ready:
            return Pipeline.from_settings(engine, settings), None
        engine.dispose()
    empty = make_engine("sqlite://")
    upgrade(empty)
    note = "the database has no network yet: every feeder and area would be unknown"
    return Pipeline.from_settings(empty, settings), note


def show(preview: Preview) -> None:
    click.echo(preview.headline())
    if preview.headers:
        click.echo(f"  columns found ({len(preview.headers)}): " + ", ".join(preview.headers))
    for header, column, how in preview.mapped:
        click.echo(f"    {header} -> {column} ({how})")
    for header, like in preview.unmapped:
        hint = f"  maybe: {' / '.join(like)}" if like else ""
        click.echo(f"    {header} -> (not used){hint}")
    for column, like in preview.missing:
        click.echo(
            f"  missing: {column}"
            + (f" (looks like: {', '.join(like)})" if like else " (no header looks like it)")
        )
    if not preview.sample.empty:
        click.echo(f"  first records as they would be stored ({len(preview.sample)}):")
        for line in preview.sample.to_string(max_colwidth=30).splitlines():
            click.echo("    " + line)
    if preview.quarantined:
        click.echo("  would be quarantined:")
        for code, n in preview.quarantined.most_common():
            click.echo(f"    {code}: {n}")
    for code, n in sorted(preview.notes.items()):
        if n:
            click.echo(f"  note: {code}: {n}")


def check_command(
    settings, name: str | None, kind: str | None = None, source: str | None = None
) -> int:
    """Print the previews; returns the exit status."""
    configured = settings.source_options()
    source_name = source if kind else name
    if source_name is not None and source_name not in configured:
        known = ", ".join(sorted(configured)) or "none"
        click.echo(f"error: no source {source_name!r} in the config (sources: {known})", err=True)
        return 2
    if name is None:
        click.echo("error: give a source name, or --kind KIND and a file", err=True)
        return 2
    path = Path(name)
    if kind and not path.is_file():
        click.echo(f"error: {path}: no such file", err=True)
        return 2
    pipeline, note = _pipeline(settings)
    if note:
        click.echo(f"note: {note}")
    if kind:
        options = configured.get(source) if source else None
        previews = [preview_file(pipeline, path, kind, options, source=source or "check")]
    else:
        instance = SourceInstances().get(name, configured[name], settings)
        try:
            previews = preview_source(pipeline, name, instance)
        except Exception as exc:  # noqa: BLE001 - a feed or database that cannot be read
            click.echo(f"{name}: cannot be read: {exc}"[:500])
            return 2
    for preview in previews:
        show(preview)
    codes = [p.exit_code for p in previews]
    return 2 if 2 in codes else max(codes, default=0)
