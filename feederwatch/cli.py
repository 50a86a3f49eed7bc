"""The ``feederwatch`` command line.

Exit status (DESIGN.md): 0 everything landed; 3 landed but some records were quarantined;
2 bad usage, bad config or input refused whole, with one line on stderr saying what and where.
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import NoReturn

import click

from feederwatch.config import ConfigError, Settings, load_settings

EXIT_OK, EXIT_USAGE, EXIT_QUARANTINED = 0, 2, 3

log = logging.getLogger("feederwatch")


def fail(message: str) -> NoReturn:
    """Print one clear line on stderr and exit 2."""
    click.echo(f"feederwatch: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def not_yet(what: str) -> NoReturn:
    fail(f"{what} is not available in this version of FeederWatch")


class _Context:
    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                fail(str(exc))
        return self._settings

    def engine(self):
        from db.engine import make_engine

        return make_engine(self.settings.database_url)


pass_ctx = click.make_pass_decorator(_Context)


def _version() -> str:
    try:
        return metadata.version("feederwatch")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: ./config.toml if present, else built-in defaults).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.version_option(_version(), prog_name="feederwatch")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """FeederWatch: outages, low voltage and 95598 complaints on a distribution grid, and which
    35 kV substations and 10 kV feeders to upgrade first."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = _Context(config_path)


@cli.command()
@pass_ctx
def init(ctx: _Context) -> None:
    """Create or upgrade the database to the current schema (idempotent)."""
    from sqlalchemy.exc import OperationalError

    from collectors.counties import sync_counties
    from collectors.runner import mark_abandoned_runs
    from db.migrate import current_revision, upgrade

    engine = ctx.engine()
    try:
        upgrade(engine)
        sync_counties(engine, ctx.settings)
        revision = current_revision(engine)
        abandoned = mark_abandoned_runs(engine)
    except OperationalError as exc:
        fail(
            f"database {engine.url.render_as_string(hide_password=True)}: cannot open "
            f"({str(exc.orig).splitlines()[0]})"
        )
    click.echo(
        f"database ready at revision {revision}: {engine.url.render_as_string(hide_password=True)}"
    )
    for source, count in abandoned.items():
        click.echo(f"{source}: {count} run(s) left running by a dead process marked abandoned")


@cli.command()
@click.option(
    "--preset",
    type=click.Choice(["small", "medium", "county"]),
    default="county",
    show_default=True,
)
@click.option("--days", type=click.IntRange(1, 3660), default=365, show_default=True)
@click.option(
    "--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2025-01-01", show_default=True
)
@click.option("--out", type=click.Path(file_okay=False), required=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--resolution", type=click.Choice(["15min", "1h"]), default="15min", show_default=True
)
def simulate(preset: str, days: int, start, out: str, seed: int, resolution: str) -> None:
    """Write a simulated county's exports (docs/formats.md) and ground_truth.json to OUT."""
    try:
        from feederwatch.simulate import run_simulate
    except ImportError:
        not_yet("simulate")
    summary = run_simulate(
        preset=preset,
        days=days,
        start=start.date(),
        out=Path(out),
        seed=seed,
        resolution=resolution,
        progress=sys.stderr.isatty(),
    )
    for key, value in summary.items():
        click.echo(f"{key}: {value}")


@cli.command()
@click.argument("kind", type=click.Choice(["network", "outages", "voltage", "complaints"]))
@click.argument("path")
@click.option("--source", default="manual", show_default=True, help="Source name recorded.")
@pass_ctx
def ingest(ctx: _Context, kind: str, path: str, source: str) -> None:
    """Ingest one export file of KIND through the pipeline (network: also a folder, or a
    SimBench grid by code: simbench:1-MV-rural--0-sw)."""
    if not Path(path).exists() and not (kind == "network" and path.startswith("simbench:")):
        fail(f"{path}: no such file or folder")
    try:
        from collectors.ingest import ingest_file_command
    except ImportError:
        not_yet("ingest")
    sys.exit(ingest_file_command(ctx.settings, kind, Path(path), source))


@cli.command()
@click.option("--from", "date_from", default=None, help="Shift start (default: 12 h before --to).")
@click.option("--to", "date_to", default=None, help="Shift end (default: now).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language.")
@click.option("--out", type=click.Path(file_okay=False), default=".", show_default=True)
@pass_ctx
def handover(ctx: _Context, date_from, date_to, lang, out) -> None:
    """Write the shift handover: a one-page PDF and an Excel workbook (issue 17)."""
    from feederwatch.handover import shift_window, write_handover

    settings = ctx.settings
    try:
        start, end = shift_window(date_from, date_to, settings.site.timezone)
    except ValueError as exc:
        fail(f"handover: not a time range: {exc}")
    try:
        pdf, xlsx = write_handover(
            settings, start, end, lang or settings.dashboard.language, Path(out)
        )
    except Exception as exc:  # a database that cannot be read, no CJK font, a full disk
        fail(f"handover: {type(exc).__name__}: {exc}")
    click.echo(f"{pdf}\n{xlsx}")


@cli.command()
@click.option("--once", is_flag=True, help="Run one pass of each source and exit.")
@click.argument("source", required=False)
@pass_ctx
def collect(ctx: _Context, once: bool, source: str | None) -> None:
    """Run the configured collectors on their schedules (or one pass with --once)."""
    try:
        from collectors.scheduler import collect_command
    except ImportError:
        not_yet("collect")
    from feederwatch import alerts

    alerts.install()  # evaluated after each collector run (issue 17)
    sys.exit(collect_command(ctx.settings, once=once, source=source))


@cli.command()
@click.option(
    "--kind",
    type=click.Choice(["outages", "voltage", "complaints", "network", "auto"]),
    help="NAME is a file of these records (else NAME is a configured source).",
)
@click.option("--source", help="With --kind: read the file with this source's settings.")
@click.argument("name", required=False)
@pass_ctx
def check(ctx: _Context, kind: str | None, source: str | None, name: str | None) -> None:
    """Preview what a source (or, with --kind, one file) would load; writes nothing."""
    from feederwatch.check import check_command

    sys.exit(check_command(ctx.settings, name, kind, source))


@cli.command()
@pass_ctx
def serve(ctx: _Context) -> None:
    """Serve the dashboard (no collectors in this process)."""
    try:
        from feederwatch.serve import serve_command
    except ImportError:
        not_yet("serve")
    sys.exit(serve_command(ctx.settings, with_collectors=False))


@cli.command()
@pass_ctx
def run(ctx: _Context) -> None:
    """Run the collectors and the dashboard together (one scheduler process)."""
    try:
        from feederwatch.serve import serve_command
    except ImportError:
        not_yet("run")
    sys.exit(serve_command(ctx.settings, with_collectors=True))


@cli.command()
@click.option(
    "--preset",
    type=click.Choice(["small", "medium", "county"]),
    default=None,
    help="Size of the simulated county (default: the simulator source's preset).",
)
@click.option("--no-browser", is_flag=True)
@pass_ctx
def demo(ctx: _Context, preset: str | None, no_browser: bool) -> None:
    """Build (or reuse) data/demo.db from the simulator, keep it live, and serve the dashboard."""
    try:
        from feederwatch.demo import demo_command
    except ImportError:
        not_yet("demo")
    sys.exit(demo_command(ctx.settings, preset=preset, open_browser=not no_browser))


def _county_option(func):
    return click.option(
        "--county",
        default=None,
        metavar="CODE",
        help="One county of a province deployment ([[counties]]); default: the whole company.",
    )(func)


def _window_option(func):
    func = click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]))(func)
    func = click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]))(func)
    return func


@cli.command()
@click.option(
    "--level", type=click.Choice(["feeder", "substation"]), default="feeder", show_default=True
)
@click.option("--top", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@_county_option
@pass_ctx
def rank(ctx: _Context, level: str, top: int, fmt: str, county: str | None) -> None:
    """Rank 10 kV feeders or 35 kV substations by the complaints an upgrade would avoid."""
    try:
        from feederwatch.reports import rank_command
    except ImportError:
        not_yet("rank")
    sys.exit(rank_command(ctx.settings, level=level, top=top, fmt=fmt, county=county))


@cli.command()
@click.option(
    "--by",
    type=click.Choice(["system", "substation", "feeder"]),
    default="system",
    show_default=True,
)
@_window_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--period-rule",
    type=click.Choice(["start", "clip"]),
    default=None,
    help="start: each interruption whole in the period it starts in (IEEE 1366); clip: minutes "
    "inside the period. Default: [indices] period_rule.",
)
@_county_option
@pass_ctx
def indices(
    ctx: _Context, by: str, date_from, date_to, fmt: str, period_rule, county: str | None
) -> None:
    """Reliability indices (SAIFI, SAIDI, CAIDI, ASAI, RS-1, ...) by system, substation or feeder,
    with T_MED, the Major Event Days and each index with and without them."""
    try:
        from feederwatch.reports import indices_command
    except ImportError:
        not_yet("indices")
    start = date_from.date() if date_from else None
    end = date_to.date() if date_to else None
    if start and end and end <= start:
        fail(f"--to ({end}) must be after --from ({start})")
    sys.exit(
        indices_command(
            ctx.settings,
            by=by,
            start=start,
            end=end,
            fmt=fmt,
            period_rule=period_rule,
            county=county,
        )
    )


@cli.group()
def user() -> None:
    """Manage dashboard users."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "admin"]), required=True)
@click.option("--password-env", help="Read the password from this environment variable.")
@pass_ctx
def user_add(ctx: _Context, name: str, role: str, password_env: str | None) -> None:
    """Add or update a user (password asked without echo, or from --password-env)."""
    try:
        from feederwatch.users import user_add_command
    except ImportError:
        not_yet("user add")
    sys.exit(user_add_command(ctx.settings, name, role, password_env))


@user.command("list")
@pass_ctx
def user_list(ctx: _Context) -> None:
    """List users: name, role, active or disabled."""
    from feederwatch.users import user_list_command

    sys.exit(user_list_command(ctx.settings))


@user.command("passwd")
@click.argument("name")
@click.option("--password-env", help="Read the password from this environment variable.")
@pass_ctx
def user_passwd(ctx: _Context, name: str, password_env: str | None) -> None:
    """Set a new password (the user's sessions end)."""
    from feederwatch.users import user_passwd_command

    sys.exit(user_passwd_command(ctx.settings, name, password_env))


@user.command("disable")
@click.argument("name")
@pass_ctx
def user_disable(ctx: _Context, name: str) -> None:
    """Refuse the user's sign-ins and end all its sessions now."""
    from feederwatch.users import user_disable_command

    sys.exit(user_disable_command(ctx.settings, name, disable=True))


@user.command("enable")
@click.argument("name")
@pass_ctx
def user_enable(ctx: _Context, name: str) -> None:
    """Let a disabled user sign in again."""
    from feederwatch.users import user_disable_command

    sys.exit(user_disable_command(ctx.settings, name, disable=False))


@cli.group()
def rollups() -> None:
    """Voltage rollups."""


@rollups.command("rebuild")
@pass_ctx
def rollups_rebuild(ctx: _Context) -> None:
    """Recompute hourly and daily rollups from raw readings under the current limits."""
    try:
        from collectors.rollups import rebuild_command
    except ImportError:
        not_yet("rollups rebuild")
    sys.exit(rebuild_command(ctx.settings))


@cli.group("db")
def db_group() -> None:
    """The database."""


@db_group.command("stats")
@pass_ctx
def db_stats(ctx: _Context) -> None:
    """Bytes on disk per table and index, and per voltage reading."""
    from db.engine import database_label
    from db.stats import format_stats, storage_stats

    engine = ctx.engine()
    try:
        click.echo(format_stats(storage_stats(engine)))
    except Exception as exc:  # an unreachable database or a missing schema: one line, exit 2
        fail(f"cannot measure the database at {database_label(engine)}: {exc}")
    finally:
        engine.dispose()


@db_group.command("compact")
@pass_ctx
def db_compact(ctx: _Context) -> None:
    """Pack the raw readings of closed days into blocks now (the collectors do it as they
    ingest, a bounded number per batch), in short transactions."""
    from db.engine import database_label
    from db.readings import compact_all

    engine = ctx.engine()
    try:
        total = compact_all(engine, ctx.settings.site.timezone)
        click.echo(f"packed {total:,} readings of closed days into blocks")
    except Exception as exc:  # an unreachable database or a missing schema: one line, exit 2
        fail(f"cannot compact the readings at {database_label(engine)}: {exc}")
    finally:
        engine.dispose()


def main() -> None:
    cli(prog_name="feederwatch")


if __name__ == "__main__":
    main()

__all__ = ["cli", "main", "fail", "EXIT_OK", "EXIT_USAGE", "EXIT_QUARANTINED", "date"]
