"""Fault drill: PostgreSQL connections are killed (pg_terminate_backend) in the middle of a
batch. The batch rolls back whole, the run is recorded as failed, the pool reconnects, and the
next run lands everything exactly once."""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg

from collectors.base import Batch, Source
from collectors.options import SimulatorOptions
from collectors.pipeline import Pipeline
from collectors.runner import run_source_once
from db.engine import make_engine
from db.migrate import upgrade
from db.queries import collector_runs
from db.readings import count_readings
from feederwatch.config import parse_settings
from tests.collectors.helpers import load_network
from tests.conftest import PG_URL, PgSchema, postgres_available, require

APP = "fw-drill-kill"
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=10)


class ThreeDays(Source):
    """Three batches of hourly readings, one per day, resumable by watermark."""

    options_model = SimulatorOptions
    gate = threading.Event()  # day 2 starts only once the test holds its lock

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        done = int(watermark or 0)
        for day in range(done + 1, 4):
            if day == 2:
                self.gate.wait(20)
            times = [START + timedelta(days=day, hours=h) for h in range(24)]
            frame = pd.DataFrame(
                {
                    "transformer": [t for t in ("T1", "T2", "T3") for _ in times],
                    "time": times * 3,
                    "va": [220.0 + (i % 7) for i in range(72)],
                }
            )
            yield Batch("voltage", frame, watermark=str(day))


def readings(engine) -> int:
    with engine.connect() as conn:
        return count_readings(conn)


def test_drill002_connections_killed_mid_batch(tmp_path):
    require(postgres_available(), "PostgreSQL not reachable")
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with PgSchema() as schema:
        url = f"{schema.url}&application_name={APP}"
        engine = make_engine(url)
        upgrade(engine)
        load_network(Pipeline(engine))
        settings = parse_settings(
            tomllib.loads(
                f'[database]\nurl = "{url}"\n[sources.days]\ntype = "simulator"\npreset = "small"\n'
            ),
            origin="test",
            config_dir=tmp_path,
        )
        source = ThreeDays("days", settings.source_options()["days"])

        with psycopg.connect(plain, autocommit=True) as killer:
            # Hold the hourly rollups so that day 2's transaction stops half-way (readings
            # written, rollups waiting), then kill every connection of the collector.
            killer.execute("BEGIN")
            killer.execute(f'LOCK TABLE "{schema.name}".voltage_hourly IN ACCESS EXCLUSIVE MODE')
            outcome = {}
            runner = threading.Thread(
                target=lambda: outcome.update(
                    result=run_source_once(engine, settings, "days", source=source)
                )
            )
            # Day 1 needs the lock too: let it through first, then catch day 2.
            killer.execute("COMMIT")
            runner.start()
            deadline = time.monotonic() + 20
            while readings(engine) < 72 and time.monotonic() < deadline:
                time.sleep(0.02)
            killer.execute("BEGIN")
            killer.execute(f'LOCK TABLE "{schema.name}".voltage_hourly IN ACCESS EXCLUSIVE MODE')
            source.gate.set()
            while time.monotonic() < deadline:  # day 2 has written its readings and waits
                waiting = killer.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                    "AND wait_event_type = 'Lock'",
                    (APP,),
                ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.02)
            killed = killer.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (APP,),
            ).fetchone()[0]
            killer.execute("COMMIT")
            runner.join(timeout=60)
        assert killed >= 1
        result = outcome["result"]
        assert result.status == "failed", result
        # Day 1 committed; day 2 rolled back whole; day 3 never started.
        assert readings(engine) == 72
        kept = 72

        # The pool reconnects; the next run resumes from the watermark and lands the rest.
        again = run_source_once(engine, settings, "days", source=source)
        assert again.status == "ok", again.error
        assert readings(engine) == 216
        assert again.summary.upserted == 216 - kept
        runs = collector_runs(engine, "days")
        assert runs["status"].tolist()[:2] == ["ok", "failed"]
        engine.dispose()
