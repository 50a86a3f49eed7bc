"""Simulator live feed and its HTTP server."""

from __future__ import annotations

import json
import urllib.request
from datetime import date

import pandas as pd
import pytest

from collectors.simulator import Simulation
from collectors.simulator.feed import serve_feed


@pytest.fixture(scope="module")
def feed():
    sim = Simulation("medium", seed=1, start=date(2025, 6, 1), days=30, resolution="1h")
    return sim.live(speed=0.0)


def test_live001_step_and_active(feed):
    b = feed.step(feed.now + pd.Timedelta(hours=36))
    assert len(b.outages) > 0 and b.outages["end"].isna().any()
    assert len(b.voltage) > 0 and (b.voltage["time"] > b.since).all()
    act = feed.active()
    assert act["end"].isna().all()
    assert (act["start"] <= feed.now).all()


def test_live002_http_feed(feed):
    server, url = serve_feed(feed)
    try:
        with urllib.request.urlopen(url + "?mode=snapshot&page_size=5") as r:
            env = json.loads(r.read())
        assert env["mode"] == "snapshot" and env["page"] == 1
        assert set(env) >= {"generated_at", "pages", "next", "items"}
        with urllib.request.urlopen(url + "?mode=incremental&since=2025-06-30T00:00:00Z") as r:
            inc = json.loads(r.read())
        assert inc["items"] and "outage_id" in inc["items"][0]
    finally:
        server.shutdown()
