"""``feederwatch rank`` and ``feederwatch indices``: the analytics as tables, CSV or JSON."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import click
import pandas as pd

from analytics.priorities import rank as rank_assets
from analytics.reliability import indices as reliability_indices
from analytics.settings import AnalyticsSettings
from db.engine import make_engine
from db.migrate import upgrade
from db.queries import complaints, last_outage_start, network, outages, voltage_rollups
from db.queries import counties as county_queries

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
        "years_used",
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
        "years_used",
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


def _inputs(settings, window, history_years: int = 1, county: str | None = None):
    engine = make_engine(settings.database_url)
    upgrade(engine)
    # Five years before the window feed the frequent-outage and MED look-backs; the ranking's
    # earlier years (issue 15) need their complaints and readings too.
    lookback = window[0] - timedelta(days=5 * 366)
    earliest = window[0] - (window[1] - window[0]) * (history_years - 1)
    net = network(engine)
    inputs = (
        net,
        outages(engine, min(lookback, earliest), window[1]),
        complaints(engine, earliest - timedelta(days=60), window[1]),
        voltage_rollups(engine, "D", earliest, window[1]),
    )
    if county is None:
        return inputs
    # one county's part of the company (issue 19): its network and the records naming it
    members = county_queries.members(net, county, settings.source_counties())
    return (
        county_queries.county_network(net, members),
        *(county_queries.county_records(frame, members) for frame in inputs[1:]),
    )


def unknown_county(settings, county: str | None) -> str | None:
    """The error line for a ``--county`` that is no county of the database, else None."""
    if county is None:
        return None
    engine = make_engine(settings.database_url)
    upgrade(engine)
    known = list(county_queries.counties(engine)["code"])
    if county in known:
        return None
    return (
        f"feederwatch: error: --county {county!r} is not a county of the database "
        f"(counties: {', '.join(known) or 'none'})"
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


def rank_command(settings, level: str, top: int, fmt: str, county: str | None = None) -> int:
    if error := unknown_county(settings, county):
        click.echo(error, err=True)
        return 2
    window = _window(settings, None, None, _last_outage(settings))
    net, out, comp, volt = _inputs(settings, window, settings.ranking.history_years, county)
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


RULE_TEXT = {
    "start": "start (each interruption charged whole to the day and period it starts in, "
    "IEEE 1366 daily accounting)",
    "clip": "clip (only the minutes of each interruption inside the period)",
}
BASE_TEXT = {
    "network": "the network's customer counts",
    "config": "config [indices] customers_served",
}
#: the indices shown with and without Major Event Days, planned and unplanned ("fault")
SPLIT_INDICES = (("SAIFI", "saifi", ""), ("SAIDI", "saidi", "min"), ("CAIDI", "caidi", "min"))


def _med_line(info: dict) -> str:
    t = info.get("threshold", float("nan"))
    if info.get("status") == "too_few_days" or pd.isna(t):
        return (
            f"T_MED: none (fewer than the configured minimum of days with interruptions; "
            f"{info.get('history_days', 0)} days of history before the period)"
        )
    if info.get("provisional"):
        return (
            f"T_MED: {t:,.3f} min/day  PROVISIONAL: from the period itself "
            f"({info.get('history_days', 0)} days of history before it, less than a year)"
        )
    return (
        f"T_MED: {t:,.3f} min/day (IEEE 1366 2.5 beta over {info.get('years_available', 0)} "
        f"years of history before the period)"
    )


def indices_table(table: pd.DataFrame, window, tz: str) -> pd.DataFrame:
    """The indices as the CLI's CSV/JSON rows: the analytics' columns (``_fault`` named
    ``_unplanned``) plus, on every row, the window, the period rule, T_MED (provisional or not),
    the MED days and where the customer base comes from."""
    info = table.attrs["med"]
    out = table.rename(columns=lambda c: c.replace("_fault", "_unplanned")).copy()
    extra = {
        "window_start": window[0].date().isoformat(),
        "window_end": (window[1] - timedelta(days=1)).date().isoformat(),
        "timezone": tz,
        "period_rule": table.attrs["period_rule"],
        "customer_base": table.attrs["customer_base"],
        "t_med": info["threshold"],
        "t_med_provisional": bool(info["provisional"]),
        "t_med_status": info["status"],
        "med_history_days": info["history_days"],
        "med_count": len(info["med_days"]),
        "med_days": " ".join(info["med_days"]),
    }
    for key, value in extra.items():
        out[key] = value
    return out


def _split_table(row: pd.Series) -> pd.DataFrame:
    rows = []
    for name, key, unit in SPLIT_INDICES:
        cells = {"index": name, "unit": unit}
        for label, suffix in (("all", ""), ("planned", "_planned"), ("unplanned", "_unplanned")):
            cells[label] = row[f"{key}{suffix}"]
            cells[f"{label} ex MED"] = row[f"{key}{suffix}_ex_med"]
        rows.append(cells)
    return pd.DataFrame(rows)


def indices_command(
    settings,
    by: str,
    start: date | None,
    end: date | None,
    fmt: str,
    period_rule: str | None = None,
    county: str | None = None,
    now: pd.Timestamp | None = None,
) -> int:
    if error := unknown_county(settings, county):
        click.echo(error, err=True)
        return 2
    window = _window(settings, start, end, _last_outage(settings))
    net, out, _comp, _volt = _inputs(settings, window, county=county)
    if net["feeders"].empty and out.empty:
        click.echo("feederwatch: error: the database has no outages or network yet", err=True)
        return 2
    overrides = {"period_rule": period_rule} if period_rule else {}
    table = reliability_indices(
        by,
        net,
        out,
        window=window,
        settings=AnalyticsSettings.from_config(settings, **overrides),
        # outages still open end now (or at the window end, when that is earlier)
        now=pd.Timestamp.now(tz="UTC") if now is None else now,
    )
    if table.empty or not (table["customers_served"] > 0).any():
        where = settings.config_path or "the config"
        click.echo(
            f"feederwatch: error: no customers served for --by {by}: the network gives no "
            f"customer counts; set [indices] customers_served (or [indices.feeders] / "
            f"[indices.substations]) in {where}",
            err=True,
        )
        return 2
    rows = indices_table(table, window, settings.site.timezone)
    if fmt != "table":
        _emit(rows, fmt)
        return 0
    info = table.attrs["med"]
    first = rows.iloc[0]
    lines = [
        f"period: {first['window_start']} to {first['window_end']} ({settings.site.timezone})",
        f"period rule: {RULE_TEXT[table.attrs['period_rule']]}",
        f"customers served: from {BASE_TEXT.get(table.attrs['customer_base'], 'none')}",
        _med_line(info),
        f"MED days ({len(info['med_days'])}): {' '.join(info['med_days']) or '-'}",
        f"open outages (no restoration time; counted up to now or the period end): "
        f"{int(rows['open_outages'].sum()):,}",
        f"outages without a customer count (counted as 0 customers): "
        f"{int(table.attrs.get('outages_without_customers', 0)):,}",
        "",
    ]
    click.echo("\n".join(lines))
    if by == "system":
        split = _split_table(first)
        for col in split.columns[2:]:
            split[col] = split[col].map(_num)
        click.echo(split.to_string(index=False))
        click.echo("")
        shown = [c for c in rows.columns if c not in extra_columns()]
        click.echo(
            pd.DataFrame({"index": shown, "value": [_num(first[c]) for c in shown]}).to_string(
                index=False
            )
        )
    else:
        _emit(rows[[c for c in rows.columns if c not in extra_columns()]], "table")
    return 0


def _num(value) -> str:
    """A figure for the table: thousands separated; small ones with enough decimals (ASAI)."""
    if value is None or pd.isna(value):
        return "-"
    v = float(value)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.3f}" if abs(v) >= 1 or v == 0 else f"{v:.6f}"


def extra_columns() -> set[str]:
    return {
        "window_start",
        "window_end",
        "timezone",
        "period_rule",
        "customer_base",
        "t_med",
        "t_med_provisional",
        "t_med_status",
        "med_history_days",
        "med_count",
        "med_days",
    }
