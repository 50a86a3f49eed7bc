"""``feederwatch demo``: a simulated county on SQLite, live, with the dashboard.

The first start builds ``data/demo.db`` (next to the config file, or in the current folder):
the network, a year of outages and complaints and the last 7 days of readings, then serves
the dashboard at once; older readings fill in behind (newest first, progress logged) while
the simulator's live stream is collected every 30 seconds. Later starts reuse the database.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from dataclasses import replace
from datetime import date
from multiprocessing.process import BaseProcess

import click
import pandas as pd

from collectors.options import SimulatorOptions
from collectors.runner import mark_abandoned_runs
from collectors.simulator.load import SimState, load_history, sim_label
from collectors.simulator.source import simulation_for
from db.engine import make_engine
from db.migrate import upgrade
from db.queries import watermark
from db.upsert import upsert_watermark
from feederwatch.config import DATABASE_URL_ENV, Settings

log = logging.getLogger("feederwatch.demo")
SOURCE = "sim"
ROADS_FILE = "roads.geojson"


def demo_settings(settings: Settings, preset: str | None) -> tuple[Settings, SimulatorOptions]:
    """The demo's own settings: its database file and exactly one simulator source."""
    options = next(
        (o for o in settings.source_options().values() if o.type == "simulator"),
        SimulatorOptions(type="simulator", interval_seconds=30),
    )
    if preset:
        options = options.model_copy(update={"preset": preset})
    db_file = (settings.config_dir / "data" / "demo.db").resolve()
    database = settings.database.model_copy(update={"url": f"sqlite:///{db_file}"})
    # the simulated county's roads (written by prepare) under the feeders on the map
    dashboard = settings.dashboard.model_copy(
        update={
            "base_layers": [*settings.dashboard.base_layers, str(db_file.with_name(ROADS_FILE))]
        }
    )
    raw = options.model_dump(exclude_none=True, mode="json")
    return settings.model_copy(
        update={"database": database, "dashboard": dashboard, "sources": {SOURCE: raw}}
    ), options


def _stored_start(engine) -> date | None:
    mark = watermark(engine, SOURCE)
    if not mark:
        return None
    try:
        return date.fromisoformat(json.loads(mark)["label"].split("/")[2])
    except (ValueError, KeyError, IndexError):
        return None


def prepare(settings: Settings, options: SimulatorOptions, echo=click.echo):
    """Create or reuse the demo database; returns (engine, simulation) ready to serve."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    mark_abandoned_runs(engine)
    sim = simulation_for(options, settings.site.timezone, _stored_start(engine))
    db_file = settings.database_url.removeprefix("sqlite:///")
    roads = os.path.join(os.path.dirname(db_file), ROADS_FILE)
    with open(roads, "w", encoding="utf-8") as fh:
        json.dump(sim.roads(), fh, ensure_ascii=False)
    state = SimState.from_json(watermark(engine, SOURCE), sim_label(sim))
    if state.live_until is None:
        echo(
            f"Building the simulated county ({options.preset}, {options.history_days} days of "
            f"history) in {settings.database_url.removeprefix('sqlite:///')} ..."
        )
        started = time.monotonic()
        # Nothing else writes yet (the dashboard and the collectors start after this), so the
        # recent readings go in one transaction, the fastest way (the history load's parts cost more).
        load_history(
            engine,
            sim,
            source=SOURCE,
            voltage="recent",
            max_rows=None,
            hourly_days=settings.database.hourly_retention_days,
        )
        # The live collector starts where the history ends; older readings fill in behind.
        state = SimState.from_json(watermark(engine, SOURCE), sim_label(sim))
        history_end = sim.t0 + pd.Timedelta(days=sim.days)
        ready = replace(state, live_until=history_end.isoformat())
        with engine.begin() as conn:
            upsert_watermark(conn, SOURCE, ready.to_json())
        echo(
            f"Outages, complaints and the last 7 days of readings loaded in "
            f"{time.monotonic() - started:.0f} s."
        )
    return engine, sim


def backfill_in_background(settings: Settings, options: SimulatorOptions, sim) -> BaseProcess:
    """Load the older readings in a process of its own, printing progress every tenth.

    Not a thread of the server: the history load is pandas work that holds the interpreter for
    long stretches, and every live refresh of the board would wait behind it. Its transactions
    are short (``MAX_ROWS_PER_TRANSACTION``) so the live collector's writes get through; it
    ends with the demo (a daemon process), and by itself if the demo is killed."""
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(
        target=_backfill_main,
        args=(
            settings.database_url,
            options,
            settings.site.timezone,
            sim.start,
            os.getpid(),
            settings.database.hourly_retention_days,
        ),
        name="readings-backfill",
        daemon=True,
    )
    proc.start()
    return proc


def _backfill_main(
    url: str, options: SimulatorOptions, tz: str, start: date, parent: int, hourly_days: int
):
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    engine = make_engine(url)
    sim = simulation_for(options, tz, start)
    shown = {"tenth": -1}

    def report(_label: str, loaded: int, total: int) -> None:
        if os.getppid() != parent:  # the demo was killed: stop here (the next one resumes)
            raise SystemExit(0)
        tenth = loaded * 10 // max(total, 1)
        if tenth > shown["tenth"]:
            shown["tenth"] = tenth
            click.echo(f"readings backfill: {loaded}/{total} days")

    try:
        load_history(
            engine,
            sim,
            source=SOURCE,
            state_key=f"{SOURCE}:backfill",
            voltage="older",
            progress=report,
            hourly_days=hourly_days,  # the older hours are never written (docs/formats.md)
        )
    except KeyboardInterrupt:  # Ctrl+C reaches the whole process group: the demo stops
        return
    except Exception:  # the demo keeps serving; the log says why the backfill stopped
        log.exception("readings backfill stopped")
    finally:
        engine.dispose()


def demo_command(settings: Settings, preset: str | None = None, open_browser: bool = True) -> int:
    if os.environ.pop(DATABASE_URL_ENV, None):
        click.echo(f"demo: ignoring {DATABASE_URL_ENV}; the demo uses its own data/demo.db")
    settings, options = demo_settings(settings, preset)
    engine, sim = prepare(settings, options)
    engine.dispose()  # the server makes its own; the backfill process too
    backfill_in_background(settings, options, sim)
    from feederwatch.serve import serve_command

    host, port = settings.dashboard.host, settings.dashboard.port
    click.echo(f"FeederWatch demo: http://{host}:{port}/  (Ctrl+C to stop)")
    if open_browser and os.environ.get("DISPLAY"):
        import webbrowser

        webbrowser.open(f"http://{host}:{port}/")
    return serve_command(settings, with_collectors=True)
