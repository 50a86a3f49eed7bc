"""Alerts (issue 17, feederwatch/alerts.py) end to end: a real file source run by the runner,
whose after-run hook evaluates the rules and sends through apprise to a local HTTP server on
127.0.0.1 that records every message. One message per change, none on an unchanged poll, a
quiet reminder, a restoration message, and the record in ``alerts_sent``."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from tests.conftest import free_port

NETWORK = {
    "substations": pd.DataFrame(
        {"substation": ["S1"], "name": ["城关站"], "voltage_kv": ["35"], "capacity_mva": ["20"]}
    ),
    "feeders": pd.DataFrame({"feeder": ["F1", "F2"], "substation": ["S1", "S1"]}),
    "transformers": pd.DataFrame(
        {
            "transformer": ["T1", "T2", "T3"],
            "feeder": ["F1", "F1", "F2"],
            "customers": ["150", "80", "140"],
            "town": ["城关镇", "城关镇", "贾寨镇"],
        }
    ),
}


@pytest.fixture
def hook_server():
    """A webhook on 127.0.0.1 that records each JSON body it receives."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            n = int(self.headers.get("Content-Length") or 0)
            received.append({"path": self.path, **json.loads(self.rfile.read(n) or b"{}")})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def _settings(tmp_path, engine_url: str):
    from feederwatch.config import AlertRule, load_settings

    base = load_settings(None)
    alerts = {
        "big": AlertRule(
            kind="new_outage",
            min_customers=100,
            urls_env=["FW_HOOK_A"],
            renotify_minutes=60,
            language="en",
        ),
        "sub35": AlertRule(kind="substation_outage", urls_env=["FW_HOOK_B"]),
        "storm": AlertRule(
            kind="customers_out", level=200, urls_env=["FW_HOOK_B"], restored_message=False
        ),
    }
    sources = {
        "drop": {
            "type": "file",
            "path": str(tmp_path / "drop"),
            "kind": "outages",
            "settle_seconds": 0,
        }
    }
    return base.model_copy(
        update={
            "database": base.database.model_copy(update={"url": engine_url}),
            "alerts": alerts,
            "sources": sources,
        }
    )


def _drop(tmp_path, name: str, rows: list[dict]) -> None:
    (tmp_path / "drop").mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(tmp_path / "drop" / name, index=False)


def test_alert001_one_message_per_change(engine, tmp_path, hook_server, monkeypatch):
    from collectors import runner
    from collectors.pipeline import IngestOptions, Pipeline
    from db.alerts import alerts_sent
    from feederwatch import alerts

    port, received = hook_server
    monkeypatch.setenv("FW_HOOK_A", f"json://127.0.0.1:{port}/a")
    monkeypatch.setenv("FW_HOOK_B", f"json://127.0.0.1:{port}/b")
    monkeypatch.setattr(runner, "AFTER_RUN", [])
    alerts.install()
    assert runner.AFTER_RUN == [alerts.after_run]
    pipe = Pipeline(engine)
    for table in ("substations", "feeders", "transformers"):
        assert (
            pipe.ingest(table, NETWORK[table], IngestOptions(source="gis")).quarantined_total == 0
        )
    settings = _settings(tmp_path, str(engine.url))
    now = pd.Timestamp.now(tz="UTC").floor("s")

    def run():
        result = runner.run_source_once(engine, settings, "drop")
        assert result.status in ("success", "ok", "succeeded", "partial", "no_data", "empty") or (
            result.error is None
        ), result.error
        return result

    # a feeder outage of 120 customers: one "new outage" message, nothing else (120 < 200)
    _drop(
        tmp_path,
        "a.csv",
        [
            {
                "outage_id": "O1",
                "feeder": "F1",
                "start": (now - pd.Timedelta(minutes=20)).isoformat(),
                "customers": 120,
                "cause": "weather",
            }
        ],
    )
    run()
    assert [(m["path"], m["title"]) for m in received] == [("/a", "New outage")]
    assert "120 customers" in received[0]["message"]
    # an unchanged poll: nothing sent, nothing recorded
    run()
    run()
    assert len(received) == 1 and len(alerts_sent(engine)) == 1

    # O1 restored; a 35 kV substation outage of 220 customers: restoration of O1, new outage
    # O2, the substation rule and the customers-out level: four messages, one each
    _drop(
        tmp_path,
        "b.csv",
        [
            {
                "outage_id": "O1",
                "feeder": "F1",
                "start": (now - pd.Timedelta(minutes=20)).isoformat(),
                "end": now.isoformat(),
                "customers": 120,
                "cause": "weather",
            },
            {
                "outage_id": "O2",
                "substation": "S1",
                "start": (now - pd.Timedelta(minutes=5)).isoformat(),
                "customers": 220,
                "cause": "equipment",
            },
        ],
    )
    run()
    got = sorted((m["path"], m["title"]) for m in received[1:])
    assert got == sorted(
        [
            ("/a", "Restored: New outage"),
            ("/a", "New outage"),
            ("/b", "35 kV 变电站停电"),
            ("/b", "停电户数超过警戒值"),
        ]
    ), got
    run()
    assert len(received) == 5

    # a quiet reminder once renotify_minutes have passed (only the rule that asks for it)
    later = (now + pd.Timedelta(minutes=61)).to_pydatetime()
    sent = alerts.evaluate(engine, settings, now=later)
    assert [(r["rule"], r["kind"]) for r in sent] == [("big", "reminder")]
    assert received[-1]["title"] == "Still on: New outage"
    assert alerts.evaluate(engine, settings, now=later) == []

    # the record: every message, delivered, newest first
    rec = alerts_sent(engine)
    assert len(rec) == len(received) == 6 and rec["delivered"].all()
    assert rec["kind"].value_counts().to_dict() == {"alert": 4, "restored": 1, "reminder": 1}


def test_alert002_failed_delivery_recorded_and_retried(engine, tmp_path, hook_server, monkeypatch):
    from collectors.pipeline import IngestOptions, Pipeline
    from db.alerts import alerts_sent
    from feederwatch import alerts
    from feederwatch.config import AlertRule

    port, received = hook_server
    pipe = Pipeline(engine)
    for table in ("substations", "feeders", "transformers"):
        pipe.ingest(table, NETWORK[table], IngestOptions(source="gis"))
    now = pd.Timestamp.now(tz="UTC")
    frame = pd.DataFrame(
        [
            {
                "outage_id": "X1",
                "feeder": "F2",
                "start": (now - pd.Timedelta(minutes=5)).isoformat(),
                "customers": 130,
            }
        ]
    )
    pipe.ingest("outages", frame, IngestOptions(source="t"))
    settings = _settings(tmp_path, str(engine.url)).model_copy(
        update={
            "alerts": {"big": AlertRule(kind="new_outage", min_customers=1, urls_env=["FW_HOOK_C"])}
        }
    )
    monkeypatch.delenv("FW_HOOK_C", raising=False)
    first = alerts.evaluate(engine, settings)
    assert len(first) == 1 and not first[0]["delivered"] and "environment" in first[0]["error"]
    monkeypatch.setenv("FW_HOOK_C", f"json://127.0.0.1:{port}/c")
    second = alerts.evaluate(engine, settings)  # not delivered before: sent now
    assert [r["delivered"] for r in second] == [True] and len(received) == 1
    assert alerts.evaluate(engine, settings) == []
    rec = alerts_sent(engine)
    assert rec["delivered"].tolist() == [True, False]
    # the URL never reaches the record
    assert not rec["error"].fillna("").str.contains("127.0.0.1").any()


def test_alert003_data_stale_without_any_run(engine, tmp_path, hook_server, monkeypatch):
    """A source that never ran is stale: the periodic evaluation (scheduled beside the
    collectors, not tied to a run) alerts once; its first successful run clears it."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from collectors import runner
    from feederwatch import alerts
    from feederwatch.config import AlertRule

    port, received = hook_server
    monkeypatch.setenv("FW_HOOK_D", f"json://127.0.0.1:{port}/d")
    monkeypatch.setattr(runner, "AFTER_RUN", [])
    settings = _settings(tmp_path, str(engine.url)).model_copy(
        update={"alerts": {"stale": AlertRule(kind="data_stale", urls_env=["FW_HOOK_D"])}}
    )
    scheduler = BackgroundScheduler()
    alerts.schedule(scheduler, settings, engine)
    job = scheduler.get_job("alerts")
    assert job is not None and job.func is alerts.after_run
    assert job.trigger.interval.total_seconds() == alerts.PERIODIC_SECONDS
    alerts.after_run(engine, settings)  # what the job runs
    assert [(m["path"], m["title"]) for m in received] == [("/d", "数据源中断")]
    alerts.after_run(engine, settings)
    assert len(received) == 1
    alerts.install()
    (tmp_path / "drop").mkdir()
    runner.run_source_once(engine, settings, "drop")  # a successful (empty) run: fresh again
    assert [m["title"] for m in received] == ["数据源中断", "已恢复：数据源中断"]


_EVALUATE = """
import json, sys, time
from pathlib import Path
from db.engine import make_engine
from feederwatch import alerts
from tests.cli.test_alerts import _settings
tmp, url, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
engine = make_engine(url)
settings = _settings(tmp, url)
while not go.exists():
    time.sleep(0.005)
print(json.dumps([r["kind"] for r in alerts.evaluate(engine, settings)]))
"""


def _evaluate_at_once(tmp_path, url: str, n: int) -> list[list[str]]:
    """``n`` processes evaluate the rules at the same moment (each waits, imports done, for a
    file to appear); what each sent."""
    import json
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    go = tmp_path / f"go{time.monotonic_ns()}"
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _EVALUATE, str(tmp_path), url, str(go)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    time.sleep(3.0)  # every process has imported and waits
    go.touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr[-2000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def test_alert004_processes_evaluating_at_once_send_each_change_once(engine, tmp_path, monkeypatch):
    """Two collector processes of a province evaluate the rules at the same moment: each change
    is sent once (each message is claimed in alerts_sent before it is sent), not once per
    process. The webhook answers slowly (0.8 s), as a real one may, so the processes' sends
    overlap; before the claim, every process sent its own copy."""
    import time

    from collectors.pipeline import IngestOptions, Pipeline
    from db.alerts import alerts_sent

    received: list[dict] = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n) or b"{}")
            time.sleep(0.8)
            received.append({"path": self.path, **body})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    monkeypatch.setenv("FW_HOOK_A", f"json://127.0.0.1:{port}/a")
    monkeypatch.setenv("FW_HOOK_B", f"json://127.0.0.1:{port}/b")
    try:
        pipe = Pipeline(engine)
        for table in ("substations", "feeders", "transformers"):
            pipe.ingest(table, NETWORK[table], IngestOptions(source="gis"))
        now = pd.Timestamp.now(tz="UTC").floor("s")
        outage = {
            "outage_id": "X1",
            "feeder": "F1",
            "start": (now - pd.Timedelta(minutes=5)).isoformat(),
            "customers": 150,
        }
        pipe.ingest("outages", pd.DataFrame([outage]), IngestOptions(source="t"))
        url = engine.url.render_as_string(hide_password=False)
        sent = _evaluate_at_once(tmp_path, url, 3)
        assert sorted(sum(sent, [])) == ["alert"], sent
        assert [(m["path"], m["title"]) for m in received] == [("/a", "New outage")]
        rec = alerts_sent(engine)
        assert rec[["kind", "seq", "delivered"]].values.tolist() == [["alert", 1, True]]
        # restored: once again one message, whichever process sends it
        ended = {**outage, "end": now.isoformat()}
        pipe.ingest("outages", pd.DataFrame([ended]), IngestOptions(source="t"))
        sent = _evaluate_at_once(tmp_path, url, 3)
        assert sorted(sum(sent, [])) == ["restored"], sent
        assert [m["title"] for m in received] == ["New outage", "Restored: New outage"]
        assert alerts_sent(engine)["seq"].tolist() == [2, 1]
    finally:
        server.shutdown()
        server.server_close()


def test_alert005_a_claim_lost_with_its_process_is_sent_again(
    engine, tmp_path, hook_server, monkeypatch
):
    """A process claimed a message and died before sending it: while the claim is young
    another process leaves it (it may still be sending); once older than IN_FLIGHT_SECONDS the
    condition is sent again, under the next number."""
    from collectors.pipeline import IngestOptions, Pipeline
    from db.alerts import alerts_sent, claim_alert
    from feederwatch import alerts

    port, received = hook_server
    monkeypatch.setenv("FW_HOOK_A", f"json://127.0.0.1:{port}/a")
    monkeypatch.setenv("FW_HOOK_B", f"json://127.0.0.1:{port}/b")
    pipe = Pipeline(engine)
    for table in ("substations", "feeders", "transformers"):
        pipe.ingest(table, NETWORK[table], IngestOptions(source="gis"))
    now = pd.Timestamp.now(tz="UTC").floor("s")
    row = {"outage_id": "Y1", "feeder": "F2", "start": (now - pd.Timedelta(minutes=5)).isoformat()}
    pipe.ingest("outages", pd.DataFrame([{**row, "customers": 140}]), IngestOptions(source="t"))
    settings = _settings(tmp_path, str(engine.url))
    claim = {"rule": "big", "key": "t:Y1", "seq": 1, "kind": "alert", "title": "New outage"}
    claim |= {"body": "", "delivered": False, "error": alerts.SENDING}
    assert claim_alert(engine, {**claim, "sent_at": now.to_pydatetime()}) is not None
    assert claim_alert(engine, {**claim, "sent_at": now.to_pydatetime()}) is None  # taken
    assert alerts.evaluate(engine, settings, now=(now + pd.Timedelta(seconds=30))) == []
    later = now + pd.Timedelta(seconds=alerts.IN_FLIGHT_SECONDS + 1)
    sent = alerts.evaluate(engine, settings, now=later.to_pydatetime())
    assert [(r["key"], r["kind"], r["seq"], r["delivered"]) for r in sent] == [
        ("t:Y1", "alert", 2, True)
    ]
    assert [m["title"] for m in received] == ["New outage"]
    assert alerts_sent(engine)["seq"].tolist() == [2, 1]
