"""Freshness: from an outage appearing in the simulator's HTTP feed to its row in the database.

The simulated county's storm of 2026-06-18 (preset county, seed 1: ~200 outages in 6 hours) is
replayed through the feed server, accelerated so that the 6 hours pass in ``--minutes`` real
minutes (default 5). The collector runs as in production (``start_scheduler``, the default
30-second interval, incremental mode). An outage "appears" when the feed's clock passes its
start; it "lands" when its row is in the database (polled every 0.25 s).

Target: p95 < 35 s over at least 50 outages. Exits 1 when missed.

    .venv/bin/python bench/bench_freshness.py [--minutes 5] [--db URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select

from collectors.pipeline import Pipeline
from collectors.scheduler import start_scheduler, stop_scheduler
from collectors.simulator import Simulation
from collectors.simulator.feed import serve_feed
from collectors.simulator.load import load_network
from db.engine import make_engine
from db.migrate import upgrade
from db.models import Outage
from feederwatch.config import parse_settings

STORM_DAY = date(2026, 6, 15)
STORM_START = pd.Timestamp("2026-06-18 06:05:00Z")
STORM_HOURS = 6
TARGET_P95_S = 35.0
MIN_OUTAGES = 50


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="real minutes of storm")
    ap.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    storm_seconds = args.minutes * 60
    speed = STORM_HOURS * 3600 / storm_seconds
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'fresh.db'}"
    engine = make_engine(url)
    upgrade(engine)

    sim = Simulation("county", seed=1, start=STORM_DAY, days=1, resolution="1h")
    load_network(Pipeline(engine), sim, source="gis")

    # The live stream is a simulation of the days after the history; its storm starts on
    # 2026-06-18. Jump the feed's clock to just before it.
    live = sim.live(speed=speed)
    live.jump(STORM_START)
    server, feed_url = serve_feed(live)
    settings = parse_settings(
        {
            "database": {"url": url},
            "sources": {
                "oms": {
                    "type": "http",
                    "url": feed_url + "?mode=incremental",
                    "mode": "incremental",
                }
            },
        },
        origin="bench",
        config_dir=Path("."),
    )
    starts = live.changes[live.changes["end"].isna()].drop_duplicates("outage_id")
    starts = starts.set_index("outage_id")["start"]
    storm_end = STORM_START + pd.Timedelta(hours=STORM_HOURS)
    in_window = starts[(starts > STORM_START) & (starts <= storm_end)]
    print(
        f"storm: {len(in_window)} outages in {STORM_HOURS} h simulated, speed x{speed:.0f}, "
        f"{args.minutes:g} real minutes; collector interval 30 s (default); db {engine.dialect.name}"
    )

    # Wall time at which the feed's clock passes each start (LiveFeed.sim_time's own mapping).
    wall0 = live._wall0
    appear = {oid: wall0 + (t - live._sim0).total_seconds() / speed for oid, t in in_window.items()}
    landed: dict[str, float] = {}
    scheduler = start_scheduler(settings, engine)
    try:
        deadline = wall0 + storm_seconds + 40  # the last outages get a full interval to land
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                ids = conn.execute(
                    select(Outage.natural_id).where(Outage.source == "oms")
                ).scalars()
                now = time.monotonic()
                for oid in ids:
                    landed.setdefault(oid, now)
            time.sleep(0.25)
    finally:
        stop_scheduler(scheduler)
        server.shutdown()

    counted = [oid for oid, t in appear.items() if t <= wall0 + storm_seconds]
    lat = np.array([landed[o] - appear[o] for o in counted if o in landed])
    missing = [o for o in counted if o not in landed]
    if len(lat) == 0:
        print("no outage landed")
        return 1
    p50, p95, worst = np.percentile(lat, 50), np.percentile(lat, 95), lat.max()
    print(f"outages appeared: {len(counted)}  landed: {len(lat)}  missing: {len(missing)}")
    print(
        f"latency feed -> database: p50 {p50:.1f} s  p95 {p95:.1f} s  max {worst:.1f} s  "
        f"(target p95 < {TARGET_P95_S:.0f} s over >= {MIN_OUTAGES}; ratio {p95 / TARGET_P95_S:.2f})"
    )
    ok = p95 < TARGET_P95_S and len(lat) >= MIN_OUTAGES and not missing
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
