"""Soak: a storm collected at 10x real time while 20 clients poll the live page.

`feederwatch run` (collectors and dashboard in one process, as deployed) collects the simulated
county's storm of 2026-06-18 from the simulator's HTTP feed, replayed at ``--speed`` (default
10x real time), while ``--clients`` (20) threads on 127.0.0.1 poll `/api/live` and the live
page's callbacks. Bounded: ``--seconds`` (default 540; CI runs 60). Prints requests served,
errors (target 0), p50/p95 latency, the server's memory over time (target: flat after warm-up,
growth under 25 %), and checks that every outage of the storm that appeared in the feed is in the
database at the end (target: 0 lost). Exits 1 on a miss. Loopback only.

    .venv/bin/python bench/soak.py [--seconds 540] [--clients 20] [--speed 10]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_dashboard import Client  # noqa: E402
from sqlalchemy import select  # noqa: E402

from collectors.pipeline import Pipeline  # noqa: E402
from collectors.simulator import Simulation  # noqa: E402
from collectors.simulator.feed import serve_feed  # noqa: E402
from db.engine import make_engine  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Outage  # noqa: E402
from feederwatch.simload import load_network  # noqa: E402

STORM_DAY = date(2026, 6, 15)
STORM_START = pd.Timestamp("2026-06-18 06:00:00Z")
MEMORY_GROWTH_LIMIT = 0.25


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=540)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--speed", type=float, default=10.0)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fw-soak-"))
    url = f"sqlite:///{folder / 'soak.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sim = Simulation("county", seed=1, start=STORM_DAY, days=1, resolution="1h")
    load_network(Pipeline(engine), sim, source="gis")
    live = sim.live(speed=args.speed)
    # Start where the storm is densest for the simulated span this soak covers.
    span = pd.Timedelta(seconds=args.seconds * args.speed)
    starts = live.changes.loc[live.changes["changed"] >= STORM_START, "changed"].sort_values()
    counts = [((starts >= t) & (starts < t + span)).sum() for t in starts]
    begin = starts.iloc[int(np.argmax(counts))] - pd.Timedelta(minutes=1)
    live.jump(begin)
    feed, feed_url = serve_feed(live)
    port = free_port()
    (folder / "config.toml").write_text(
        f'[database]\nurl = "{url}"\n[dashboard]\nport = {port}\nrefresh_seconds = 5\n'
        f'[sources.oms]\ntype = "http"\nurl = "{feed_url}?mode=incremental"\n'
        'mode = "incremental"\ninterval_seconds = 10\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "FEEDERWATCH_DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    # The server's log goes to a file: a pipe read only at the end fills up (64 KiB) and then
    # blocks the server on its next log line, which would be measured as a hang.
    server_log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "feederwatch.cli", "--config", str(folder / "config.toml"), "run"],
        cwd=folder,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/live", timeout=2).read()
                break
            except OSError:
                time.sleep(0.25)
        client = Client(base)
        live_body = client.payload(
            "live-kpi-active",
            {"live-tick.n_intervals": 1, "lang-store.data": "zh"},
            {"live-seen.data": None},
        )
        started = time.monotonic()
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def poll(worker: int) -> None:
            own = Client.__new__(Client)
            own.base, own.deps = base, client.deps
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    if (n + worker) % 2:
                        elapsed, _ = own.post(live_body)
                    else:
                        t = time.perf_counter()
                        with urllib.request.urlopen(f"{base}/api/live", timeout=30) as r:
                            json.loads(r.read())
                        elapsed = time.perf_counter() - t
                    with lock:
                        latencies.append(elapsed)
                except Exception as exc:  # every failure is counted, none stops the soak
                    with lock:
                        errors.append(
                            f"{time.monotonic() - started:.0f}s "
                            f"{'callback' if (n + worker) % 2 else '/api/live'} "
                            f"{type(exc).__name__}: {exc}"
                        )
                time.sleep(0.2)

        threads = [
            threading.Thread(target=poll, args=(i,), daemon=True) for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        memory = []
        while time.monotonic() - started < args.seconds:
            memory.append((time.monotonic() - started, rss_mb(server.pid)))
            time.sleep(min(5.0, args.seconds / 12))
        stop.set()
        for thread in threads:
            thread.join(timeout=35)
        sim_end = live.sim_time()
        # Let the collector take one more pass so the last minute of the storm can land.
        time.sleep(12)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server_log.close()
        err = (folder / "server.log").read_text(errors="replace")
        feed.shutdown()

    appeared = set(
        live.changes.loc[
            (live.changes["changed"] > begin)
            & (live.changes["changed"] <= sim_end - pd.Timedelta(seconds=15 * args.speed)),
            "outage_id",
        ]
    )
    with engine.connect() as conn:
        stored = set(
            conn.execute(select(Outage.natural_id).where(Outage.source == "oms")).scalars()
        )
    lost = sorted(appeared - stored)
    lat = np.array(latencies) * 1000
    steady = [m for t, m in memory if t >= min(30.0, args.seconds / 3)]
    growth = (steady[-1] - steady[0]) / steady[0] if len(steady) > 1 else 0.0
    print(
        f"soak {args.seconds:.0f} s, {args.clients} clients, storm at x{args.speed:g} "
        f"({(sim_end - begin).total_seconds() / 60:.0f} simulated minutes from {begin})"
    )
    print(
        f"requests served: {len(lat)}  errors: {len(errors)}  "
        f"p50 {np.percentile(lat, 50):.0f} ms  p95 {np.percentile(lat, 95):.0f} ms"
    )
    print("server memory (MB): " + "  ".join(f"{t:.0f}s:{m:.0f}" for t, m in memory))
    print(
        f"memory growth after warm-up: {growth * 100:.1f} % (limit {MEMORY_GROWTH_LIMIT * 100:.0f} %)"
    )
    print(
        f"storm outages appeared: {len(appeared)}  in the database: {len(appeared & stored)}  "
        f"lost: {len(lost)}"
    )
    if errors:
        print("errors: " + "; ".join(errors[:5]) + (" ..." if len(errors) > 5 else ""))
        print("server log tail:\n" + "\n".join((err or "").splitlines()[-15:]))
    if "database is locked" in (err or ""):
        errors.append("database is locked reached the log")
    missed = []
    if errors:
        missed.append(f"{len(errors)} errors")
    if lost:
        missed.append(f"{len(lost)} outages lost: {lost[:5]}")
    if growth > MEMORY_GROWTH_LIMIT:
        missed.append(f"memory grew {growth * 100:.0f} %")
    if len(appeared) == 0:
        missed.append("no outage appeared in the feed: the soak measured nothing")
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
