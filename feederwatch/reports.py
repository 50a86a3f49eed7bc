"""``feederwatch rank`` and ``feederwatch indices``: the analytics as tables, CSV or JSON."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import click
import pandas as pd

from analytics.priorities import indices as reliability_indices
from analytics.priorities import rank as rank_assets
from analytics.settings import AnalyticsSettings
from db.engine import make_engine
from db.migrate import upgrade
from db.queries import complaints, last_outage_start, network, outages, voltage_rollups

RANK_COLUMNS = {
    "feeder": [
        "rank",
        "feeder",
        "substation",
        "score",
        "avoidable_complaints",
        "from_interruptions",
        "from_duration",
        "from_repeated_outages",
        "from_low_voltage",
        "saidi",
        "saifi",
        "low_voltage_days",
        "complaints_per_1000",
        "load_ratio",
        "project",
    ],
    "substation": [
        "rank",
        "substation",
        "score",
        "avoidable_complaints",
        "from_interruptions",
        "from_duration",
        "from_repeated_outages",
        "from_low_voltage",
        "saidi",
        "saifi",
        "complaints_per_1000",
        "load_ratio",
        "project",
    ],
}


def _window(
    settings, start: date | None, end: date | None, last_data: pd.Timestamp | None = None
) -> tuple[datetime, datetime]:
    """[start, end) as local midnights. Without --to the window ends today, or at the end of
    the data when the data stops earlier (an imported history)."""
    tz = ZoneInfo(settings.site.timezone)
    today = datetime.now(tz).date() + timedelta(days=1)
    if end is None and last_data is not None and not pd.isna(last_data):
        end = min(today, last_data.tz_convert(tz).date() + timedelta(days=1))
    end_day = end or today
    start_day = start or end_day - timedelta(days=settings.ranking.window_days)
    return (
        datetime.combine(start_day, datetime.min.time(), tz),
        datetime.combine(end_day, datetime.min.time(), tz),
    )


def _last_outage(settings) -> pd.Timestamp | None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return last_outage_start(engine)


def _inputs(settings, window):
    engine = make_engine(settings.database_url)
    upgrade(engine)
    # A year of history before the window feeds the frequent-outage and MED look-backs.
    lookback = window[0] - timedelta(days=5 * 366)
    return (
        network(engine),
        outages(engine, lookback, window[1]),
        complaints(engine, window[0] - timedelta(days=60), window[1]),
        voltage_rollups(engine, "D", window[0], window[1]),
    )


def _emit(frame: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        click.echo(
            json.dumps(
                json.loads(frame.to_json(orient="records", date_format="iso")),
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        with pd.option_context(
            "display.max_columns",
            None,
            "display.width",
            200,
            "display.float_format",
            "{:,.2f}".format,
        ):
            click.echo(frame.to_string(index=False))


def rank_command(settings, level: str, top: int, fmt: str) -> int:
    window = _window(settings, None, None, _last_outage(settings))
    net, out, comp, volt = _inputs(settings, window)
    if net["feeders"].empty:
        click.echo(
            "feederwatch: error: the database has no network yet (feederwatch ingest "
            "network PATH, or feederwatch demo)",
            err=True,
        )
        return 2
    ranked = rank_assets(
        level, net, out, comp, volt, AnalyticsSettings.from_config(settings), window=window
    )
    columns = [c for c in RANK_COLUMNS[level] if c in ranked.columns]
    _emit(ranked[columns].head(top), fmt)
    return 0


def indices_command(settings, by: str, start: date | None, end: date | None, fmt: str) -> int:
    window = _window(settings, start, end, _last_outage(settings))
    net, out, _comp, _volt = _inputs(settings, window)
    if net["feeders"].empty and out.empty:
        click.echo("feederwatch: error: the database has no outages or network yet", err=True)
        return 2
    table = reliability_indices(
        by, net, out, window=window, settings=AnalyticsSettings.from_config(settings)
    )
    _emit(table, fmt)
    return 0
