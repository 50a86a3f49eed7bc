"""HTTP JSON feed collection against real servers on 127.0.0.1 (no mocks of httpx), on SQLite and
PostgreSQL: failures become recorded failed runs retried per policy, the simulator's live feed is
reflected row for row, and a snapshot feed's vanished outage gets an inferred end."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from collectors.pipeline import IngestOptions, Pipeline
from collectors.runner import run_source_once
from collectors.simulator import Simulation
from collectors.simulator.feed import serve_feed
from db.queries import collector_runs, outages, watermark
from feederwatch.config import parse_settings

TOKEN = "s3cr3t-token-value"
GOOD_ITEMS = [
    {"outage_id": "X1", "feeder": "F1", "start": "2025-06-01T08:00:00+08:00", "customers": 10}
]
NETWORK = {
    "substations": pd.DataFrame({"substation": ["S1"], "name": ["城关站"]}),
    "feeders": pd.DataFrame({"feeder": ["F1"], "substation": ["S1"]}),
    "transformers": pd.DataFrame({"transformer": ["T1"], "feeder": ["F1"], "customers": ["150"]}),
}


def settings_for(sources: dict, tmp_path: Path):
    return parse_settings({"sources": sources}, origin="test", config_dir=tmp_path)


def load_small_network(engine) -> None:
    pipeline = Pipeline(engine)
    for table in ("substations", "feeders", "transformers"):
        pipeline.ingest(table, NETWORK[table], IngestOptions(source="gis", authoritative=True))


class Sleeps(list):
    """A no-op sleep that records the pauses asked for."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# --- a misbehaving feed server ------------------------------------------------------------------


class FeedHandler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}
    auth_seen: list[str | None] = []

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        type(self).hits[path] = type(self).hits.get(path, 0) + 1
        type(self).auth_seen.append(self.headers.get("Authorization"))
        try:
            if path == "/ok":
                self._send(
                    200,
                    json.dumps(
                        {
                            "mode": "incremental",
                            "generated_at": "2025-06-01T01:00:00Z",
                            "items": GOOD_ITEMS,
                        }
                    ).encode(),
                )
            elif path == "/500":
                self._send(500, b'{"error": "boom"}')
            elif path == "/429":
                self._send(429, b"slow down", {"Retry-After": "7"})
            elif path == "/garbled":
                self._send(200, b'{"items": [{"outage_id": "X1", "sta')
            elif path == "/slow":
                time.sleep(2.0)
                self._send(200, b"[]")
            elif path == "/drip":
                body = json.dumps(GOOD_ITEMS).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(
                    len(body)
                ):  # one byte every 0.1 s: each read is quick, the whole is not
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.1)
            elif path == "/paged":
                page = int((self.path.split("page=")[1:] or ["1"])[0].split("&")[0])
                items = [dict(GOOD_ITEMS[0], outage_id=f"P{page}")]
                self._send(
                    200,
                    json.dumps(
                        {
                            "generated_at": "2025-06-01T01:00:00Z",
                            "page": page,
                            "pages": 3,
                            "items": items,
                        }
                    ).encode(),
                )
            else:
                self._send(404, b"{}")
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def feed_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """The same handler behind TLS with a self-signed certificate (verification must fail)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# (path, retried?, what the error says)
FAILURES = {
    "timeout": ("/slow", True, "timed out"),
    "http_500": ("/500", True, "HTTP 500"),
    "http_429": ("/429", True, "HTTP 429"),
    "garbled_json": ("/garbled", True, "garbled JSON"),
    "slow_drip": ("/drip", True, "not complete within"),
    "tls_plain_server": ("/ok", False, "TLS failure"),
    "tls_self_signed": ("/ok", False, "TLS failure"),
    "not_found": ("/nowhere", False, "HTTP 404"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_live001_failures_are_recorded_and_retried(
    engine, feed_server, tls_server, tmp_path, monkeypatch, case
):
    path, retried, words = FAILURES[case]
    monkeypatch.setenv("FW_TEST_TOKEN", TOKEN)
    base = feed_server
    if case == "tls_plain_server":
        base = feed_server.replace("http://", "https://")
    elif case == "tls_self_signed":
        base = tls_server
    load_small_network(engine)
    settings = settings_for(
        {
            "bad": {
                "type": "http",
                "url": base + path,
                "mode": "incremental",
                "retries": 2,
                "timeout_seconds": 0.5,
                "token_env": "FW_TEST_TOKEN",
            },
            "good": {"type": "http", "url": feed_server + "/ok", "mode": "incremental"},
        },
        tmp_path,
    )
    FeedHandler.hits.clear()
    sleeps = Sleeps()
    started = time.monotonic()
    result = run_source_once(engine, settings, "bad", sleep=sleeps)
    assert time.monotonic() - started < 10
    assert result.status == "failed"
    assert words in result.error and TOKEN not in result.error
    if retried:
        assert result.attempts == 3 and len(sleeps) == 2
        assert "after 3 attempts" in result.error
        # Exponential backoff with up to 25 % jitter: 2 s then 4 s...
        assert 2.0 <= sleeps[0] <= 2.5 and 4.0 <= sleeps[1] <= 5.0 or case == "http_429"
        if case == "http_429":  # ...but never less than Retry-After: 7
            assert all(s >= 7.0 for s in sleeps)
        if case not in ("tls_plain_server", "tls_self_signed"):
            assert FeedHandler.hits.get(path) == 3
    else:
        assert result.attempts == 1 and sleeps == [] and "permanent" in result.error
    runs = collector_runs(engine, "bad")
    assert len(runs) == 1 and runs.loc[0, "status"] == "failed"
    assert words in runs.loc[0, "error"] and TOKEN not in runs.loc[0, "error"]
    assert runs.loc[0, "finished_at"] is not pd.NaT
    assert watermark(engine, "bad") is None
    # Another source is unaffected, and the token went in the header only.
    good = run_source_once(engine, settings, "good", sleep=sleeps)
    assert good.status == "ok" and good.summary.upserted == 1, good.error
    if case not in ("tls_plain_server", "tls_self_signed"):
        assert f"Bearer {TOKEN}" in FeedHandler.auth_seen


def test_live002_paging_and_missing_token(engine, feed_server, tmp_path, monkeypatch):
    load_small_network(engine)
    monkeypatch.delenv("FW_MISSING_TOKEN", raising=False)
    settings = settings_for(
        {
            "paged": {"type": "http", "url": feed_server + "/paged", "mode": "incremental"},
            "notoken": {
                "type": "http",
                "url": feed_server + "/ok",
                "token_env": "FW_MISSING_TOKEN",
            },
        },
        tmp_path,
    )
    result = run_source_once(engine, settings, "paged", sleep=Sleeps())
    assert result.status == "ok" and result.summary.upserted == 3
    assert sorted(outages(engine, source="paged")["outage_id"]) == ["P1", "P2", "P3"]
    assert json.loads(watermark(engine, "paged"))["since"] == "2025-06-01T01:00:00Z"
    result = run_source_once(engine, settings, "notoken", sleep=Sleeps())
    assert result.status == "failed" and result.attempts == 1
    assert "FW_MISSING_TOKEN" in result.error


# --- the simulator's live feed --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim():
    return Simulation("small", seed=1, start=date(2025, 6, 1), days=2, resolution="1h")


def load_sim_network(engine, sim) -> None:
    pipeline = Pipeline(engine)
    net = sim.network()
    for table in ("substations", "feeders", "transformers"):
        pipeline.ingest(table, net[table], IngestOptions(source="sim", authoritative=True))


def _utc(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value).tz_convert("UTC")


def test_live003_outage_life_row_for_row(engine, sim, tmp_path):
    """Incremental mode: appears, ETR and customers change, ends — each state in the database
    equals the feed's latest version of every outage."""
    live = sim.live(speed=0.0)
    server, url = serve_feed(live)
    try:
        load_sim_network(engine, sim)
        settings = settings_for(
            {
                "oms": {
                    "type": "http",
                    "url": url + "?mode=incremental",
                    "mode": "incremental",
                    "page_size": 2,
                }
            },
            tmp_path,
        )
        c = live.changes
        # An outage whose customers change mid-way: appear, change, end.
        counts = c.groupby("outage_id")["customers"].nunique()
        target = counts[counts > 1].index[0]
        versions = c[c["outage_id"] == target].sort_values("changed")
        assert len(versions) == 3
        checkpoints = [
            versions["changed"].iloc[0] - pd.Timedelta(minutes=1),
            *(t + pd.Timedelta(seconds=1) for t in versions["changed"]),
        ]
        seen_states = []
        for at in checkpoints:
            live.step(at)
            result = run_source_once(engine, settings, "oms", sleep=Sleeps())
            assert result.status == "ok", result.error
            stored = outages(engine, source="oms").set_index("outage_id")
            latest = c[c["changed"] <= at].groupby("outage_id").tail(1).set_index("outage_id")
            assert sorted(stored.index) == sorted(latest.index)
            for oid, row in latest.iterrows():
                got = stored.loc[oid]
                assert _utc(got["start"]) == _utc(row["start"])
                assert _utc(got["end"]) == _utc(row["end"])
                assert _utc(got["etr"]) == _utc(row["etr"])
                assert int(got["customers"]) == int(row["customers"])
                assert not bool(got["inferred_end"])
            if target in stored.index:
                seen_states.append(
                    (int(stored.loc[target, "customers"]), _utc(stored.loc[target, "end"]))
                )
        # Not there, then active, changed, ended.
        assert len(seen_states) == 3
        assert seen_states[0][1] is None and seen_states[1][1] is None and seen_states[2][1]
        assert seen_states[0][0] != seen_states[1][0]
        runs = collector_runs(engine, "oms")
        assert (runs["status"] == "ok").all() and len(runs) == len(checkpoints)
    finally:
        server.shutdown()


def test_live004_snapshot_vanished_outage_gets_inferred_end(engine, sim, tmp_path):
    live = sim.live(speed=0.0)
    server, url = serve_feed(live)
    try:
        load_sim_network(engine, sim)
        settings = settings_for(
            {
                "snap": {
                    "type": "http",
                    "url": url + "?mode=snapshot",
                    "mode": "snapshot",
                    "page_size": 1,
                }
            },
            tmp_path,
        )
        c = live.changes
        first = c[c["end"].isna()].iloc[0]
        oid = first["outage_id"]
        real_end = c[(c["outage_id"] == oid) & c["end"].notna()]["end"].iloc[0]
        during = first["changed"] + pd.Timedelta(seconds=30)
        live.step(during)
        result = run_source_once(engine, settings, "snap", sleep=Sleeps())
        assert result.status == "ok", result.error
        row = outages(engine, source="snap").set_index("outage_id").loc[oid]
        assert pd.isna(row["end"]) and not row["inferred_end"]
        assert oid in json.loads(watermark(engine, "snap"))["active"]
        # The collector restarts between polls: the previous snapshot comes from the watermark.
        from collectors.runner import SourceInstances

        after = (real_end + pd.Timedelta(minutes=7)).floor("s")
        live.step(after)
        assert oid not in set(live.active()["outage_id"])
        result = run_source_once(
            engine, settings, "snap", sleep=Sleeps(), instances=SourceInstances()
        )
        assert result.status == "ok", result.error
        # It was the only active outage: one empty snapshot is suspect and ends nothing
        # (empty_snapshots_to_end = 2); the second in a row does.
        assert result.summary.notes["snapshot_empty_held"] == 1
        row = outages(engine, source="snap").set_index("outage_id").loc[oid]
        assert pd.isna(row["end"]) and not row["inferred_end"]
        result = run_source_once(
            engine, settings, "snap", sleep=Sleeps(), instances=SourceInstances()
        )
        assert result.status == "ok", result.error
        assert result.summary.notes["inferred_end"] == 1
        row = outages(engine, source="snap").set_index("outage_id").loc[oid]
        assert bool(row["inferred_end"])
        # Ended at the first snapshot without it (its generated_at), not at the real end.
        assert _utc(row["end"]) == after
        assert oid not in json.loads(watermark(engine, "snap"))["active"]
        # A third poll changes nothing.
        result = run_source_once(engine, settings, "snap", sleep=Sleeps())
        assert result.status == "ok" and result.summary.upserted == 0
    finally:
        server.shutdown()
