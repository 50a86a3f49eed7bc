"""``feederwatch rollups rebuild``: recompute hourly and daily rollups under the limits now in
config (after a change of voltage limits or of the any/all-phase rule), from the raw readings
kept (``raw_retention_days``). Periods older than the raw readings keep their rollups."""

from __future__ import annotations

import click

from collectors.batch import area_limits
from db.bookkeeping import nominal_voltages, reading_intervals
from db.engine import make_engine
from db.migrate import upgrade
from db.rollups import RollupLimits, rebuild_all


def rebuild_command(settings) -> int:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    th = settings.thresholds
    limits = RollupLimits.from_volts(
        th.voltage_low, th.voltage_high, th.low_voltage_rule, settings.site.timezone
    )
    with engine.begin() as conn:
        per_level = area_limits(nominal_voltages(conn), limits)
        totals = rebuild_all(
            conn,
            reading_intervals(conn),
            limits,
            area_limits=per_level,
            hourly_days=settings.database.hourly_retention_days,
        )
    # Areas of another nominal level (10 kV buses...) keep their own GB/T 12325 limits.
    levels = "" if per_level is None else f" ({len(per_level):,} areas at their own level)"
    click.echo(
        f"rollups rebuilt under {th.voltage_low}-{th.voltage_high} V{levels}, rule "
        f"{th.low_voltage_rule}: {totals['h']:,} hourly and {totals['D']:,} daily rows"
    )
    return 0
