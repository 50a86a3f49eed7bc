"""Benchmark: a province slice on PostgreSQL (issue 19 item 5).

Simulates ``--counties`` counties (default 10 of the ``county`` preset, 6,039 transformer areas
each) into one fresh PostgreSQL schema: the network and a year of outages and 95598 tickets per
county, then ``--days`` days of 15-minute readings of every area, ingested through the real
pipeline by ``--processes`` collector processes at once (each county its own source, as
``[[counties]]`` deployments run them). Measures, in one run:

- ingest: readings per second over all processes (simulation excluded: each process makes
  its frames first, then all start together);
- bytes per reading: raw readings (rows and blocks) and with the hourly and daily rollups and
  every index (``feederwatch db stats``);
- dashboard callbacks through the real HTTP server on 127.0.0.1, run as ``feederwatch serve``
  runs it (the analysis in its own process), for the province and for each county: how long a
  county's analysis takes to be ready once a page asks for it (the page says it is being
  prepared meanwhile), then the live board (kpis and table) p95 (issue 7's target: < 100 ms)
  and the planners' ranking, reliability and map callbacks p95 (< 300 ms);

then extrapolates to the province of issue 19 (500 k areas, 48 M readings a day) with the
measured per-reading costs, printed as extrapolated. Exits 1 when a measured target is missed.

    .venv/bin/python bench/bench_province.py [--pg URL] [--counties 10] [--days 7]
        [--processes 2] [--preset county] [--repeat 15]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HISTORY_DAYS = 365
PROVINCE_AREAS = 500_000
LIVE_TARGET = 0.100
PLANNER_TARGET = 0.300


def _simulations(args):
    import pandas as pd

    from collectors.simulator.county import province

    start = (
        pd.Timestamp.now(tz="Asia/Shanghai").normalize() - pd.Timedelta(days=HISTORY_DAYS - 1)
    ).date()
    return province(
        args.counties,
        preset=args.preset,
        seed=1,
        start=start,
        days=HISTORY_DAYS,
        resolution="15min",
    )


def _ingest_worker(url: str, args, mine: list[int], barrier, results) -> None:
    """One collector process: its counties' readings made first, then ingested after the
    barrier (all processes start together); reports (readings, seconds)."""
    from collectors.pipeline import IngestOptions, Pipeline
    from db.engine import make_engine

    sims = _simulations(args)
    frames = []
    for i in mine:
        sim = sims[i]
        for d in range(HISTORY_DAYS - args.days, HISTORY_DAYS, 2):
            frames.append((sim.county, sim.voltage_days(d, min(d + 2, HISTORY_DAYS))))
    engine = make_engine(url)
    pipeline = Pipeline(engine, tz="Asia/Shanghai", hourly_retention_days=62)
    barrier.wait()
    started = time.perf_counter()
    n = 0
    for county, frame in frames:
        options = IngestOptions(source=f"sim_{county.lower()}", interval_min=15)
        n += pipeline.ingest("voltage", frame, options).upserted
    results.put((n, time.perf_counter() - started))
    engine.dispose()


def load_province(url: str, args) -> tuple[int, float]:
    """The counties' networks, outages and tickets, then their readings in parallel."""
    import pandas as pd

    from collectors.simulator.load import load_history
    from db.counties import upsert_counties
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.partitions import ensure_reading_partitions

    engine = make_engine(url)
    upgrade(engine)
    sims = _simulations(args)
    codes = [s.county for s in sims]
    upsert_counties(
        engine,
        pd.DataFrame({"code": codes, "name": [f"县{c}" for c in codes], "name_en": codes}),
    )
    t = time.perf_counter()
    for sim in sims:
        load_history(engine, sim, source=f"sim_{sim.county.lower()}", voltage="none")
    print(
        f"networks, a year of outages and tickets of {len(sims)} counties: "
        f"{time.perf_counter() - t:.0f} s"
    )
    now = pd.Timestamp.now(tz="UTC")
    ensure_reading_partitions(
        engine, int((now - pd.Timedelta(days=args.days + 2)).timestamp()), int(now.timestamp())
    )
    engine.dispose()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(args.processes + 1), ctx.Queue()
    share = [list(range(len(sims)))[p :: args.processes] for p in range(args.processes)]
    procs = [
        ctx.Process(target=_ingest_worker, args=(url, args, mine, barrier, results))
        for mine in share
    ]
    for p in procs:
        p.start()
    barrier.wait()  # every process has made its frames
    started = time.perf_counter()
    got = [results.get() for _ in procs]
    wall = time.perf_counter() - started
    for p in procs:
        p.join()
    n = sum(r[0] for r in got)
    print(
        f"readings: {n:,} ({args.days} days x {len(sims)} counties at 15 min) by "
        f"{args.processes} collector processes in {wall:.1f} s: {n / wall:,.0f} readings/s "
        f"(each process: {', '.join(f'{r[0] / r[1]:,.0f}/s' for r in got)})"
    )
    return n, wall


def storage(url: str) -> dict[str, float]:
    from db.engine import make_engine
    from db.stats import READING_TABLES, storage_stats

    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    stats = storage_stats(engine)
    engine.dispose()
    n = stats.readings

    def per(*tables: str) -> float:
        return sum(r.bytes for r in stats.relations if r.table in tables) / n

    figures = {
        "raw": per("voltage_readings", "voltage_blocks"),
        "hourly": per("voltage_hourly"),
        "daily": per("voltage_daily"),
        "all": stats.per_reading(READING_TABLES),
        "total_gb": stats.total_bytes / 1e9,
    }
    print(
        f"bytes per reading ({n:,} readings): {figures['raw']:.1f} raw (rows and blocks), "
        f"{figures['hourly']:.1f} hourly rollups, {figures['daily']:.1f} daily rollups: "
        f"{figures['all']:.1f} with every index (issue 19's target <= 45); "
        f"database {figures['total_gb']:.2f} GB in all"
    )
    return figures


def dashboard(url: str, codes: list[str], repeat: int) -> list[str]:
    """Callbacks per county and for the province through the real server; returns misses."""
    from bench.bench_dashboard import pct, serve_in_thread
    from dashboard import data
    from dashboard.server import make_server
    from db.engine import make_engine
    from feederwatch.config import load_settings

    base = load_settings(None)
    counties = [{"code": c, "name": f"县{c}", "name_en": c} for c in codes]
    settings = base.model_validate(
        {
            **base.model_dump(),
            "database": {**base.database.model_dump(), "url": url},
            "counties": counties,
            "sources": {},
        }
    )
    engine = make_engine(url)
    t = time.perf_counter()
    # as `feederwatch serve` runs it: the analysis in its own process, published by the warmer
    app = make_server(settings, engine, warm=True)
    store = data.store()
    srv, client = serve_in_thread(app)
    while store.published is None:
        time.sleep(0.2)
    print(
        f"\nthe province's first analysis, in the analysis process: {time.perf_counter() - t:.1f} s"
    )
    L, C = "lang-store.data", "county-store.data"
    cases = [
        (
            "live kpis+table",
            "live-kpi-active",
            {"live-tick.n_intervals": 1},
            {"live-seen.data": None},
            LIVE_TARGET,
        ),
        (
            "ranking",
            "pri-grid",
            {
                "pri-level.value": "feeder",
                "pri-window.value": 365,
                "pri-w-complaints.value": 1,
                "pri-w-hours.value": 0.5,
                "pri-w-lv.value": 0.5,
            },
            None,
            PLANNER_TARGET,
        ),
        ("reliability", "rel-body", {"rel-window.value": 365}, None, PLANNER_TARGET),
        (
            "map",
            "map-graph",
            {
                "map-measure.value": "score",
                "map-substation.value": None,
                "map-window.value": 365,
                "map-outages.value": ["on"],
            },
            None,
            PLANNER_TARGET,
        ),
    ]
    missed = []
    print(
        f"{'scope':<10}{'callback':<18}{'first':>9}{'p50':>9}{'p95':>9}{'target':>9}"
        "   (first: once the scope's analysis is ready)"
    )
    for scope in [None, *codes]:
        asked = time.perf_counter()
        client.post(client.payload("pri-grid", {**cases[1][2], L: "zh", C: scope}))
        while not store.analysis_ready(scope):
            time.sleep(0.1)
        if scope is not None:
            print(
                f"{scope:<10}analysis ready {time.perf_counter() - asked:.1f} s after a page asked"
            )
        for name, out_id, inputs, state, limit in cases:
            body = client.payload(out_id, {**inputs, L: "zh", C: scope}, state)
            first = client.post(body)[0]
            times = [client.post(body)[0] for _ in range(repeat)]
            p50, p95 = pct(times, 0.5), pct(times, 0.95)
            ok = p95 <= limit
            if not ok:
                missed.append(f"{scope or 'province'} {name}: p95 {p95 * 1000:.0f} ms")
            print(
                f"{scope or 'province':<10}{name:<18}{first * 1000:>7.0f}ms{p50 * 1000:>7.0f}ms"
                f"{p95 * 1000:>7.0f}ms{limit * 1000:>7.0f}ms{'' if ok else '  MISS'}"
            )
    srv.close()
    store.stop_warmer()
    engine.dispose()
    return missed


def extrapolate(rate: float, figures: dict[str, float], counties_areas: int) -> None:
    """The province of issue 19 from the per-reading costs measured above (printed as such)."""
    per_day = PROVINCE_AREAS * 96
    steady = figures["raw"] + figures["daily"] + figures["hourly"] * 62 / 365
    year = per_day * 365
    print(
        f"\nEXTRAPOLATED to a province of {PROVINCE_AREAS:,} areas ({per_day / 1e6:.0f} M readings a "
        f"day; measured here: {counties_areas:,} areas):"
    )
    print(
        f"  ingest: {per_day / rate / 60:.0f} min of pipeline work a day at the measured "
        f"{rate:,.0f} readings/s"
    )
    print(
        f"  disk: {steady:.1f} bytes a reading in steady state (raw + daily + hourly kept 62 of "
        f"365 days): {year * steady / 1e12:.2f} TB a year, "
        f"{per_day * 400 * figures['raw'] / 1e12:.2f} TB for 400 days of raw readings"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("FEEDERWATCH_TEST_PG_URL"))
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--preset", default="county")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    if not args.pg:
        print("a PostgreSQL URL is needed: --pg or FEEDERWATCH_TEST_PG_URL")
        return 2
    os.environ["FEEDERWATCH_TEST_PG_URL"] = args.pg
    from tests.conftest import PgSchema

    with PgSchema() as schema:
        n, wall = load_province(schema.url, args)
        figures = storage(schema.url)
        from collectors.simulator.network import PRESETS

        p = PRESETS[args.preset]
        areas = args.counties * p["substations"] * p["feeders_per_sub"] * p["areas_per_feeder"]
        missed = dashboard(schema.url, [f"C{i + 1:02d}" for i in range(args.counties)], args.repeat)
        extrapolate(n / wall, figures, areas)
    if figures["all"] > 45:
        missed.append(f"{figures['all']:.1f} bytes per reading > 45")
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    print("all measured targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
