"""Benchmark: a newcomer must not wait. `feederwatch demo` on a fresh folder with the shipped
`county` simulator, timed until the dashboard answers (target: under 60 s), then how fast the
older readings fill in behind (reported). Exits 1 when the target is missed.

    .venv/bin/python bench/bench_demo.py [--watch-backfill SECONDS]
"""

from __future__ import annotations

import argparse
import os
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watch-backfill", type=float, default=30.0)
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
            if up is not None:
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
        if backfill:
            print(f"after {args.watch_backfill:.0f} s more: {backfill[-1]}")
        if up >= TARGET_SECONDS:
            print("MISSED: too slow to first page")
            return 1
    print("target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
