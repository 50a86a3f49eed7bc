"""Storm soak: the live path under the stresses the simulator alone does not make.

`feederwatch run` (collectors and dashboard in one process, as deployed) polls a snapshot feed
of the simulated county's storm of 2026-06-18, replayed in real time (``--speed``), while:
- the feed blanks out (one empty snapshot every ``--blank-every`` seconds, then the outages come
  back) and carries bad records in every response (a number, a null, a year-9999 start, a
  customers count that is an object);
- a readings backfill runs in another process (the demo's ``load_history(voltage="older")``),
  so data versions change every few seconds and two processes write the SQLite file;
- ``--clients`` (50) browsers on 127.0.0.1: 70 % shift leads whose live board refreshes every
  5 s (its three callbacks and ``/api/live``), 30 % planners opening the priorities or the map
  every 10 s; one more client watches the live board every second.

Targets (issue 12), exit 1 on a miss: no request slower than 5 s, live callbacks p95 <= 300 ms,
0 errors, every storm outage on the board within 35 s of its start and off it within 35 s of
its restoration, no active outage dropping off the board while the feed still lists it, the
server's memory flat (growth after warm-up under 25 %), no "database is locked" in the log,
no outage lost. The server runs with ``stall_seconds = 5``: a stall dumps all thread stacks
into its log, whose tail is printed.

    .venv/bin/python bench/soak.py [--seconds 1200] [--clients 50] [--speed 1]
"""

from __future__ import annotations

import argparse
import json
import math
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
from collections import defaultdict
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_dashboard import Client
from sqlalchemy import select

from collectors.pipeline import Pipeline
from collectors.simulator import Simulation
from collectors.simulator.feed import _items
from collectors.simulator.load import load_history, load_network
from db.engine import make_engine
from db.migrate import upgrade
from db.models import Outage

STORM_DAY = date(2026, 6, 15)
STORM_START = pd.Timestamp("2026-06-18 06:00:00Z")
MEMORY_GROWTH_LIMIT = 0.25
STALL_SECONDS = 5.0
#: what --ci judges instead of STALL_SECONDS: a frozen server (the watchdog's default
#: stall_seconds); a 5-second bound is a speed target, judged on the bench only
FREEZE_SECONDS = 30.0
LIVE_P95_SECONDS = 0.300
BOARD_SECONDS = 35.0
REFRESH_SECONDS = 5.0  # the soak's [dashboard].refresh_seconds: each live client's cadence
PLANNER_SECONDS = 10.0
SOURCE = "oms"
BAD_ITEMS = [
    42,
    None,
    "not an object",
    {"outage_id": "BAD-Y9999", "feeder": "F0101", "start": "9999-01-01T00:00:00Z"},
    {"outage_id": "BAD-CUST", "feeder": "F0101", "start": None, "customers": {"n": 3}},
]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants (the server with its analysis process)."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += rss_mb(int(child))
    except OSError:  # gone meanwhile
        pass
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StormFeed:
    """The live feed's snapshots with blank-outs and bad records; remembers what it served."""

    def __init__(self, live, blank_every: float) -> None:
        self.live = live
        self.blank_every = blank_every
        self.lock = threading.Lock()
        self.polls = 0
        self.blanks = 0
        self._last_blank = time.monotonic()

    def snapshot(self) -> dict:
        with self.lock:
            self.live.step()
            self.polls += 1
            now = time.monotonic()
            if self.blank_every and now - self._last_blank >= self.blank_every:
                self._last_blank = now
                self.blanks += 1
                items: list = []  # the OMS answers with nothing once: suspect, not "all ended"
            else:
                items = _items(self.live.active()) + BAD_ITEMS
            generated = self.live.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"mode": "snapshot", "generated_at": generated, "items": items}

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = json.dumps(feed.snapshot(), ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}/feed/outages"


BACKFILL = """
import sys, time
from datetime import date
sys.path.insert(0, {root!r})
from collectors.simulator import Simulation
from db.engine import make_engine
from collectors.simulator.load import load_history
engine = make_engine({url!r})
sim = Simulation("county", seed=1, start=date.fromisoformat({start!r}), days={days},
                 resolution="1h")
t = time.monotonic()
s = load_history(engine, sim, source="sim", state_key="sim:backfill", voltage="older",
                 progress=lambda label, done, total: print(f"{{time.monotonic() - t:.0f}}s "
                                                         f"{{label}}", flush=True))
print(f"backfill done in {{time.monotonic() - t:.0f}} s: {{s.upserted}} rows", flush=True)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1200)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--history-days", type=int, default=365)
    ap.add_argument(
        "--backfill-seconds",
        type=float,
        default=None,
        help="stop the readings backfill after this long (default: half the soak); memory is "
        "judged from a minute after it stops, while the storm still changes the data version "
        "(while it runs the data itself grows, and so does any honest cache of it)",
    )
    ap.add_argument("--blank-every", type=float, default=45.0)
    ap.add_argument(
        "--ci",
        action="store_true",
        help="the short CI run: speed and memory figures (stalls over 5 s among them) printed, "
        "not judged (they belong to the full bench on a quiet machine); errors, a frozen server "
        "(a request over 30 s), the board's timing, flaps, locks and lost outages still fail it",
    )
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fw-soak-"))
    url = f"sqlite:///{folder / 'soak.db'}"
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.monotonic()
    history_start = STORM_DAY - timedelta(days=args.history_days)
    history = Simulation(
        "county", seed=1, start=history_start, days=args.history_days, resolution="1h"
    )
    load_network(Pipeline(engine), history, source="gis")
    # outages, complaints and the last week's readings now; older readings by the backfill
    load_history(engine, history, source="sim", voltage="recent")
    print(f"history: {args.history_days} days loaded in {time.monotonic() - t0:.0f} s")

    sim = Simulation("county", seed=1, start=STORM_DAY, days=1, resolution="1h")
    live = sim.live(speed=args.speed)
    # Start where the storm changes most within the span this soak covers.
    span = pd.Timedelta(seconds=args.seconds * args.speed)
    starts = live.changes.loc[live.changes["changed"] >= STORM_START, "changed"].sort_values()
    counts = [((starts >= t) & (starts < t + span)).sum() for t in starts]
    begin = starts.iloc[int(np.argmax(counts))] - pd.Timedelta(minutes=1)
    live.jump(begin)
    storm = StormFeed(live, args.blank_every)
    feed_server, feed_url = storm.serve()
    port = free_port()
    (folder / "config.toml").write_text(
        f'[database]\nurl = "{url}"\n'
        f"[dashboard]\nport = {port}\nrefresh_seconds = {REFRESH_SECONDS:g}\nstall_seconds = {STALL_SECONDS:g}\n"
        f'[sources.{SOURCE}]\ntype = "http"\nurl = "{feed_url}"\nmode = "snapshot"\n'
        "interval_seconds = 10\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FEEDERWATCH_DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    # Logs go to files: a pipe read only at the end fills up (64 KiB) and then blocks the
    # writer on its next line, which would be measured as a hang.
    server_log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "feederwatch.cli", "--config", str(folder / "config.toml"), "run"],
        cwd=folder,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    backfill_log = (folder / "backfill.log").open("w")
    backfill = None
    base = f"http://127.0.0.1:{port}"
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    first_seen: dict[str, float] = {}
    last_seen: dict[str, float] = {}
    flaps: list[str] = []
    memory: list[tuple[float, float]] = []
    backfill_end: float | None = None
    try:
        for _ in range(480):
            try:
                urllib.request.urlopen(f"{base}/api/live", timeout=2).read()
                break
            except OSError:
                time.sleep(0.25)
        backfill = subprocess.Popen(
            [
                sys.executable,
                "-c",
                BACKFILL.format(
                    root=str(ROOT),
                    url=url,
                    start=history_start.isoformat(),
                    days=args.history_days,
                ),
            ],
            stdout=backfill_log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        client = Client(base)
        L = "lang-store.data"
        live_tick = {"live-tick.n_intervals": 1, L: "zh"}
        requests = {
            "live": [
                client.payload("live-kpi-active", live_tick, {"live-seen.data": None}),
                client.payload("live-trend", live_tick),
                client.payload("last-updated", {"status-tick.n_intervals": 1, L: "zh"}),
            ],
            "planner": [
                client.payload(
                    "pri-grid",
                    {
                        "pri-level.value": "feeder",
                        "pri-window.value": 365,
                        "pri-w-complaints.value": 1,
                        "pri-w-hours.value": 0.5,
                        "pri-w-lv.value": 0.5,
                        L: "zh",
                    },
                ),
                client.payload(
                    "map-graph",
                    {
                        "map-measure.value": "saidi",
                        "map-substation.value": None,
                        "map-window.value": 365,
                        "map-outages.value": ["on"],
                        L: "zh",
                    },
                ),
            ],
        }
        board_body = client.payload(
            "live-kpi-active", {"live-tick.n_intervals": 1, L: "en"}, {"live-seen.data": None}
        )
        started = time.monotonic()
        lock = threading.Lock()
        stop = threading.Event()

        def record(kind: str, elapsed: float) -> None:
            with lock:
                latencies[kind].append(elapsed)

        def fail(kind: str, exc: Exception) -> None:
            with lock:
                errors.append(
                    f"{time.monotonic() - started:.0f}s {kind} {type(exc).__name__}: {exc}"
                )

        def timed(kind: str, call) -> None:
            try:
                t = time.perf_counter()
                call()
                record(kind, time.perf_counter() - t)
            except Exception as exc:  # every failure is counted, none stops the soak
                fail(kind, exc)

        def api_live() -> None:
            with urllib.request.urlopen(f"{base}/api/live", timeout=60) as r:
                json.loads(r.read())

        def poll(worker: int) -> None:
            """A browser: a shift lead's live board refreshing every REFRESH_SECONDS (its
            three callbacks, plus /api/live as a wall display or an SMS gateway would ask), or
            a planner opening the priorities or the map every PLANNER_SECONDS."""
            planner = worker % 10 >= 7  # 30 % planners
            rng = np.random.default_rng(worker)
            stop.wait(rng.uniform(0, REFRESH_SECONDS))  # browsers do not tick in step
            n = worker
            while not stop.is_set():
                n += 1
                t = time.monotonic()
                if planner:
                    body = requests["planner"][n % len(requests["planner"])]
                    timed("planner", lambda body=body: client.post(body))
                    period = PLANNER_SECONDS
                else:
                    for body in requests["live"]:
                        timed("live", lambda body=body: client.post(body))
                    timed("api", api_live)
                    period = REFRESH_SECONDS
                stop.wait(max(0.0, period - (time.monotonic() - t)))

        def watch_board() -> None:
            """What a shift lead sees: the board's rows, every second."""
            while not stop.is_set():
                t = time.monotonic()
                try:
                    req = urllib.request.Request(
                        f"{base}/_dash-update-component",
                        data=json.dumps(board_body).encode(),
                        headers={"Content-Type": "application/json"},
                    )
                    with urllib.request.urlopen(req, timeout=60) as r:
                        out = json.loads(r.read())
                    rows = out["response"]["live-grid"]["rowData"]
                    shown = {row["outage_id"] for row in rows if row["row_id"].startswith(SOURCE)}
                    with storm.lock:
                        feed_now = set(live.active()["outage_id"])
                    with lock:
                        for oid in shown:
                            first_seen.setdefault(oid, t)
                            last_seen[oid] = t
                        # on the board before, listed by the feed for a while, and gone: wrong
                        for oid in feed_now - shown:
                            if oid in last_seen and t - last_seen[oid] < 3:
                                flaps.append(f"{oid} at {t - started:.0f}s")
                except Exception as exc:  # noqa: BLE001
                    fail("board", exc)
                stop.wait(max(0.0, 1.0 - (time.monotonic() - t)))

        threads = [
            threading.Thread(target=poll, args=(i,), daemon=True) for i in range(args.clients)
        ]
        threads.append(threading.Thread(target=watch_board, daemon=True))
        for thread in threads:
            thread.start()
        backfill_for = (
            args.backfill_seconds if args.backfill_seconds is not None else args.seconds / 2
        )
        while time.monotonic() - started < args.seconds:
            memory.append((time.monotonic() - started, rss_mb(server.pid)))
            if backfill_end is None and (
                backfill.poll() is not None or time.monotonic() - started >= backfill_for
            ):
                if backfill.poll() is None:
                    backfill.send_signal(signal.SIGINT)  # killed mid-way: it resumes later
                    backfill.wait(60)
                backfill_end = time.monotonic() - started
            time.sleep(min(10.0, args.seconds / 12))
        stop.set()
        for thread in threads:
            thread.join(timeout=65)
        sim_end = live.sim_time()
        watch_end = time.monotonic()
    finally:
        for proc in (backfill, server):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in (backfill, server):
            if proc is None:
                continue
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        server_log.close()
        backfill_log.close()
        feed_server.shutdown()
    log_text = (folder / "server.log").read_text(errors="replace")
    backfill_text = (folder / "backfill.log").read_text(errors="replace")

    # --- the board against the feed's truth -------------------------------------------------
    last = live.changes.sort_values("changed").groupby("outage_id").tail(1)
    first = live.changes.sort_values("changed").groupby("outage_id").head(1)
    spans = first.set_index("outage_id")["start"].to_frame("start")
    spans["end"] = last.set_index("outage_id")["end"]
    late_on, late_off, on_delays, off_delays = [], [], [], []
    for oid, row in spans.iterrows():
        start_wall = live.wall_at(row["start"])
        end_wall = live.wall_at(row["end"]) if pd.notna(row["end"]) else math.inf
        # judged: started once the server was up and with time left to see it
        if start_wall < started or start_wall + BOARD_SECONDS > watch_end:
            continue
        if end_wall - start_wall > BOARD_SECONDS:  # long enough that the board must show it
            seen = first_seen.get(oid)
            delay = (seen - start_wall) if seen is not None else math.inf
            on_delays.append(delay)
            if delay > BOARD_SECONDS:
                late_on.append(oid)
        if oid in last_seen and end_wall + BOARD_SECONDS < watch_end:
            gone = last_seen[oid] - end_wall
            off_delays.append(max(0.0, gone))
            if gone > BOARD_SECONDS:
                late_off.append(oid)

    appeared = set(
        live.changes.loc[
            (live.changes["changed"] > begin)
            & (live.changes["changed"] <= sim_end - pd.Timedelta(seconds=15 * args.speed)),
            "outage_id",
        ]
    )
    with engine.connect() as conn:
        stored = set(
            conn.execute(select(Outage.natural_id).where(Outage.source == SOURCE)).scalars()
        )
    lost = sorted(appeared - stored)
    everything = np.array([x for v in latencies.values() for x in v]) * 1000
    live_ms = np.array(latencies["live"]) * 1000
    stalls = int((everything > STALL_SECONDS * 1000).sum())
    frozen = int((everything > FREEZE_SECONDS * 1000).sum())
    # after warm-up and with the data no longer growing: a minute after the backfill stopped
    settled = (backfill_end if backfill_end is not None else args.seconds) + 60.0
    steady = [m for t, m in memory if t >= settled]
    growth = (steady[-1] - steady[0]) / steady[0] if len(steady) > 1 else 0.0

    def q(values, p):
        values = np.nan_to_num(np.asarray(values, dtype=float), posinf=1e6)  # never = 1e6 s
        return np.percentile(values, p) if len(values) else float("nan")

    print(
        f"storm soak {args.seconds:.0f} s, {args.clients} clients + a board watcher, storm at "
        f"x{args.speed:g} ({(sim_end - begin).total_seconds() / 60:.0f} simulated minutes "
        f"from {begin}), feed polls {storm.polls}, blank-outs {storm.blanks}, "
        f"{len(BAD_ITEMS)} bad records per snapshot"
    )
    print(
        f"requests served: {len(everything)}  errors: {len(errors)}  stalls over "
        f"{STALL_SECONDS:g} s: {stalls}  slowest {everything.max() if len(everything) else 0:.0f} ms"
    )
    for kind, values in sorted(latencies.items()):
        ms = np.array(values) * 1000
        print(
            f"  {kind:8s} n={len(ms):6d}  p50 {q(ms, 50):6.0f} ms  p95 {q(ms, 95):6.0f} ms  "
            f"max {ms.max():6.0f} ms"
        )
    print(
        f"board: {len(on_delays)} outages judged on, delay p50 {q(on_delays, 50):.1f} s "
        f"max {max(on_delays, default=float('nan')):.1f} s (limit {BOARD_SECONDS:g}); "
        f"{len(off_delays)} judged off, delay p50 {q(off_delays, 50):.1f} s "
        f"max {max(off_delays, default=float('nan')):.1f} s; dropped while active: {len(flaps)}"
    )
    print(
        "server memory with its children (MB): " + "  ".join(f"{t:.0f}s:{m:.0f}" for t, m in memory)
    )
    print(
        f"memory growth after warm-up: {growth * 100:.1f} % "
        f"(limit {MEMORY_GROWTH_LIMIT * 100:.0f} %)"
    )
    print(
        f"storm outages appeared: {len(appeared)}  in the database: {len(appeared & stored)}  "
        f"lost: {len(lost)}"
    )
    lines = [x for x in backfill_text.splitlines() if x[:1].isdigit() or x.startswith("backfill")]
    print(
        f"backfill: ran {backfill_end or 0:.0f} s, last part: {(lines or ['(none)'])[-1]}; "
        f"memory judged from {settled:.0f} s on ({len(steady)} samples)"
    )
    if errors:
        print("errors: " + "; ".join(errors[:5]) + (" ..." if len(errors) > 5 else ""))
    if errors or stalls or "thread stacks follow" in log_text:
        print("server log tail:\n" + "\n".join(log_text.splitlines()[-40:]))
    missed = []
    if errors:
        missed.append(f"{len(errors)} errors")
    if stalls and not args.ci:
        missed.append(f"{stalls} requests over {STALL_SECONDS:g} s")
    if frozen:
        missed.append(f"{frozen} requests over {FREEZE_SECONDS:g} s (a frozen server)")
    if q(live_ms, 95) > LIVE_P95_SECONDS * 1000 and not args.ci:
        missed.append(f"live callbacks p95 {q(live_ms, 95):.0f} ms > {LIVE_P95_SECONDS * 1000:.0f}")
    if late_on:
        missed.append(
            f"{len(late_on)} outages not on the board within {BOARD_SECONDS:g} s: {late_on[:5]}"
        )
    if late_off:
        missed.append(
            f"{len(late_off)} outages not off the board within {BOARD_SECONDS:g} s: {late_off[:5]}"
        )
    if flaps:
        missed.append(f"{len(flaps)} active outages dropped off the board: {flaps[:5]}")
    if "database is locked" in log_text:
        missed.append("'database is locked' in the server log")
    if lost:
        missed.append(f"{len(lost)} outages lost: {lost[:5]}")
    if len(steady) < 3 and not args.ci:
        missed.append("too few memory samples after the backfill to judge memory")
    if growth > MEMORY_GROWTH_LIMIT and not args.ci:
        missed.append(f"memory grew {growth * 100:.0f} %")
    if not on_delays:
        missed.append("no storm outage could be judged: the soak measured nothing")
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
