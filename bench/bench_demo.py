"""Benchmark: a newcomer must not wait. `feederwatch demo` on a fresh folder with the shipped
`county` simulator, timed until the dashboard answers (target: under 60 s), then how fast the
older readings fill in behind (reported). With ``--year``: waits for the whole year of readings
to be backfilled, then measures the demo's database on disk, write-ahead log included (issue
19: under 7 GB). Exits 1 when a target is missed.

    .venv/bin/python bench/bench_demo.py [--watch-backfill SECONDS] [--year [--year-timeout S]]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0
YEAR_TARGET_BYTES = 7 * 10**9
BACKFILL = re.compile(r"^readings backfill: (\d+)/(\d+) days", re.M)


def wait_for_backfill(log_path: Path, proc, timeout: float) -> float | None:
    """Seconds until the log says every day of readings is loaded; None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and proc.poll() is None:
        found = BACKFILL.findall(log_path.read_text(errors="replace"))
        if found and found[-1][0] == found[-1][1]:
            return time.monotonic() - started
        time.sleep(5)
    return None


def database_bytes(folder: Path) -> dict[str, int]:
    """The demo database's files (data/demo.db, its -wal and -shm) and their sizes."""
    return {p.name: p.stat().st_size for p in sorted((folder / "data").glob("demo.db*"))}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watch-backfill", type=float, default=30.0)
    parser.add_argument("--year", action="store_true", help="wait for the year, measure disk")
    parser.add_argument("--year-timeout", type=float, default=3600.0)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.toml").write_text(f"[dashboard]\nport = {port}\n")
        env = {k: v for k, v in os.environ.items() if k != "FEEDERWATCH_DATABASE_URL"}
        env["PYTHONPATH"] = str(ROOT)
        started = time.monotonic()
        # The log goes to a file: a pipe read only at the end could fill and block the server.
        log_path = folder / "demo.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "feederwatch.cli", "demo", "--no-browser"],
                cwd=folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        up = None
        try:
            while time.monotonic() - started < 2 * TARGET_SECONDS and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                        if r.status == 200:
                            up = time.monotonic() - started
                            break
                except OSError:
                    time.sleep(0.25)
            if up is not None and args.year:
                year_s = wait_for_backfill(log_path, proc, args.year_timeout)
                on_disk = database_bytes(folder)
            elif up is not None:
                time.sleep(args.watch_backfill)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            out = log_path.read_text(errors="replace")
        print(out.strip())
        if up is None:
            print("MISSED: the dashboard never answered")
            return 1
        backfill = [line for line in out.splitlines() if line.startswith("readings backfill")]
        print(f"dashboard up after {up:.1f} s (target < {TARGET_SECONDS:.0f} s)")
        if backfill and not args.year:
            print(f"after {args.watch_backfill:.0f} s more: {backfill[-1]}")
        if up >= TARGET_SECONDS:
            print("MISSED: too slow to first page")
            return 1
        if args.year:
            if year_s is None:
                print(f"MISSED: the year was not backfilled within {args.year_timeout:.0f} s")
                return 1
            total = sum(on_disk.values())
            files = ", ".join(f"{name} {size / 1e9:.2f} GB" for name, size in on_disk.items())
            print(f"a year backfilled in {year_s:.0f} s more; on disk: {files}")
            print(
                f"demo year on disk: {total / 1e9:.2f} GB (target < {YEAR_TARGET_BYTES / 1e9:.0f} GB)"
            )
            if total >= YEAR_TARGET_BYTES:
                print("MISSED: the demo year takes too much disk")
                return 1
    print("target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
