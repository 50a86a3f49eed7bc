"""Snapshot feed semantics (docs/formats.md, "HTTP feed") against a real HTTP server on
127.0.0.1 and a real database (SQLite file and PostgreSQL): a single empty snapshot ends
nothing, an outage reappearing after an inferred end is reopened, and an inferred end never
replaces a real end."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from collectors.ingest import ingest_file
from collectors.options import HttpOptions
from collectors.pipeline import IngestOptions, Pipeline
from collectors.runner import SourceInstances, run_source_once
from db.queries import active_outages, outages, watermark
from db.upsert import upsert_outages
from feederwatch.config import parse_settings
from tests.collectors.helpers import load_network

START = "2025-06-01T08:00:00+08:00"
T0 = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)


class SnapshotFeed(BaseHTTPRequestHandler):
    """Serves whatever the test put in ``server.snapshot``: {"generated_at", "items"}."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({"mode": "snapshot", **self.server.snapshot}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Feed:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), SnapshotFeed)
        self.server.daemon_threads = True
        self.server.snapshot = {"generated_at": None, "items": []}
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed/outages"
        self.polls = 0
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, items: list) -> str:
        """The next snapshot, taken one minute after the previous one; returns its time."""
        self.polls += 1
        at = (T0 + timedelta(minutes=self.polls)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.server.snapshot = {"generated_at": at, "items": items}
        return at

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed():
    f = Feed()
    yield f
    f.close()


def item(oid: str, version=5, end=None) -> dict:
    out = {"outage_id": oid, "feeder": "F1", "start": START, "customers": 10}
    if version is not None:
        out["version"] = version
    if end is not None:
        out["end"] = end
    return out


THREE = ["A", "B", "C"]


def settings_for(url: str, tmp_path: Path, **extra):
    source = {"type": "http", "url": url, "mode": "snapshot", **extra}
    return parse_settings({"sources": {"snap": source}}, origin="test", config_dir=tmp_path)


def poll(engine, settings):
    # Fresh source instances each time: the collector restarts between polls and only the
    # committed watermark carries the state.
    result = run_source_once(
        engine, settings, "snap", sleep=lambda s: None, instances=SourceInstances()
    )
    assert result.status == "ok", result.error
    return result


def active_ids(engine) -> list[str]:
    return sorted(active_outages(engine)["outage_id"])


def stored(engine) -> pd.DataFrame:
    return outages(engine, source="snap").set_index("outage_id")


@pytest.fixture
def grid(engine):
    load_network(Pipeline(engine))
    return engine


def test_snap001_one_empty_poll_ends_nothing(grid, feed, tmp_path):
    engine = grid
    settings = settings_for(feed.url, tmp_path)
    feed.serve([item(o) for o in THREE])
    poll(engine, settings)
    assert active_ids(engine) == THREE
    feed.serve([])
    held = poll(engine, settings)
    assert held.summary.notes["snapshot_empty_held"] == 1
    assert held.summary.notes["inferred_end"] == 0
    assert active_ids(engine) == THREE
    state = json.loads(watermark(engine, "snap"))
    assert sorted(state["active"]) == THREE and state["empty_polls"] == 1
    feed.serve([item(o) for o in THREE])
    back = poll(engine, settings)
    assert back.summary.upserted == 0 and back.summary.unchanged == 3
    assert active_ids(engine) == THREE
    assert not stored(engine)["inferred_end"].any()
    # The count is of empty polls IN A ROW: one more empty poll is held again.
    feed.serve([])
    again = poll(engine, settings)
    assert again.summary.notes["snapshot_empty_held"] == 1
    assert active_ids(engine) == THREE


@pytest.mark.parametrize("version", [5, None], ids=["same_version", "no_version"])
def test_snap002_two_empty_polls_end_then_reappearance_reopens(grid, feed, tmp_path, version):
    engine = grid
    settings = settings_for(feed.url, tmp_path)
    feed.serve([item(o, version) for o in THREE])
    poll(engine, settings)
    first_empty = feed.serve([])
    poll(engine, settings)
    assert active_ids(engine) == THREE
    feed.serve([])
    ended = poll(engine, settings)
    assert ended.summary.notes["inferred_end"] == 3
    assert active_ids(engine) == []
    rows = stored(engine)
    assert rows["inferred_end"].all()
    # Ended when they vanished: at the first of the empty snapshots.
    assert (rows["end"] == pd.Timestamp(first_empty)).all()
    assert json.loads(watermark(engine, "snap"))["active"] == {}
    # The same outages come back, unchanged (same version, no end): a later observation
    # beats the inference.
    feed.serve([item(o, version) for o in THREE])
    back = poll(engine, settings)
    assert back.summary.notes["reopened_after_inferred_end"] == 3
    assert active_ids(engine) == THREE
    rows = stored(engine)
    assert not rows["inferred_end"].any() and rows["end"].isna().all()


def test_snap003_a_real_end_from_the_feed_is_kept(grid, feed, tmp_path):
    engine = grid
    settings = settings_for(feed.url, tmp_path)
    real_end = "2025-06-01T09:30:00+08:00"
    feed.serve([item("A"), item("B")])
    poll(engine, settings)
    feed.serve([item("A", end=real_end), item("B")])
    poll(engine, settings)
    assert sorted(json.loads(watermark(engine, "snap"))["active"]) == ["B"]
    feed.serve([item("B")])
    gone = poll(engine, settings)
    assert gone.summary.notes["inferred_end"] == 0
    row = stored(engine).loc["A"]
    assert row["end"] == pd.Timestamp(real_end) and not row["inferred_end"]
    assert active_ids(engine) == ["B"]


def test_snap004_inferred_end_never_replaces_a_real_end_stored_meanwhile(grid, feed, tmp_path):
    """The real end reaches the database another way (an operator ingests the OMS export
    into the same source) while the snapshot state still has the outage as active: the
    snapshot's inferred end, arriving later, must not overwrite it."""
    engine = grid
    settings = settings_for(feed.url, tmp_path)
    feed.serve([item("A"), item("B")])
    poll(engine, settings)
    export = tmp_path / "outages.csv"
    export.write_text(
        "outage_id,feeder,start,end,customers,version\n"
        f"A,F1,{START},2025-06-01T09:30:00+08:00,10,5\n"
    )
    ingest_file(Pipeline(engine), export, "outages", IngestOptions(source="snap"))
    feed.serve([item("B")])
    result = poll(engine, settings)
    assert result.summary.notes["inferred_end"] == 1
    assert result.summary.notes["inferred_end_kept_real_end"] == 1
    row = stored(engine).loc["A"]
    assert row["end"] == pd.Timestamp("2025-06-01T09:30:00+08:00")
    assert not row["inferred_end"]


def upsert_row(oid: str, end, inferred: bool, version=None) -> dict:
    return {
        "natural_id": oid,
        "event_id": oid,
        "level": "feeder",
        "start_at": pd.Timestamp(T0),
        "end_at": pd.Timestamp(end) if end is not None else pd.NaT,
        "customers": 10,
        "planned": False,
        "supply_shortage": False,
        "inferred_end": inferred,
        "suspicious": False,
        "bad_location": False,
        "version": version,
    }


@pytest.mark.parametrize("version", [5.0, None], ids=["versioned", "unversioned"])
def test_snap005_version_rule_inferred_is_weaker_than_real(engine, version):
    real_end = T0 + timedelta(hours=1)
    inferred_at = T0 + timedelta(hours=3)
    # Across batches: a stored real end survives an inferred end, even a newer one.
    upsert_outages(engine, pd.DataFrame([upsert_row("R", real_end, False, version)]), "s")
    newer = None if version is None else version + 1
    counts = upsert_outages(engine, pd.DataFrame([upsert_row("R", inferred_at, True, newer)]), "s")
    assert (counts.upserted, counts.real_end_kept) == (0, 1)
    row = outages(engine, source="s").set_index("outage_id").loc["R"]
    assert row["end"] == pd.Timestamp(real_end) and not row["inferred_end"]
    # Within one batch: the same.
    counts = upsert_outages(
        engine,
        pd.DataFrame(
            [upsert_row("Q", inferred_at, True, version), upsert_row("Q", real_end, False, version)]
        ),
        "s",
    )
    assert counts.real_end_kept == 1
    row = outages(engine, source="s").set_index("outage_id").loc["Q"]
    assert row["end"] == pd.Timestamp(real_end) and not row["inferred_end"]
    # A stored inferred end is replaced by an active real record of the same version...
    upsert_outages(engine, pd.DataFrame([upsert_row("I", inferred_at, True, version)]), "s")
    counts = upsert_outages(engine, pd.DataFrame([upsert_row("I", None, False, version)]), "s")
    assert (counts.upserted, counts.reopened) == (1, 1)
    row = outages(engine, source="s").set_index("outage_id").loc["I"]
    assert pd.isna(row["end"]) and not row["inferred_end"]
    if version is not None:
        # ...but not by an older one.
        upsert_outages(engine, pd.DataFrame([upsert_row("J", inferred_at, True, version)]), "s")
        counts = upsert_outages(
            engine, pd.DataFrame([upsert_row("J", None, False, version - 1)]), "s"
        )
        assert counts.upserted == 0
        assert outages(engine, source="s").set_index("outage_id").loc["J", "inferred_end"]


def test_snap006_option_bounds_and_immediate_mode(grid, feed, tmp_path):
    with pytest.raises(ValidationError):
        HttpOptions(type="http", url=feed.url, empty_snapshots_to_end=0)
    assert HttpOptions(type="http", url=feed.url).empty_snapshots_to_end == 2
    engine = grid
    settings = settings_for(feed.url, tmp_path, empty_snapshots_to_end=1)
    feed.serve([item(o) for o in THREE])
    poll(engine, settings)
    feed.serve([])
    result = poll(engine, settings)
    assert result.summary.notes["inferred_end"] == 3
    assert active_ids(engine) == []
