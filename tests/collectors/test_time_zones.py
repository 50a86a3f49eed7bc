"""Sources in UTC, with offsets, or in naive local time all line up on the same outage."""

from __future__ import annotations

import pandas as pd

from collectors.pipeline import IngestOptions, Pipeline
from db.queries import outages
from tests.collectors.helpers import load_network

SAME_MOMENT = {
    "utc": ("2025-07-01T11:30:00Z", "2025-07-01T13:00:00Z"),
    "offset": ("2025-07-01T19:30:00+08:00", "2025-07-01T21:00:00+08:00"),
    "naive_local": ("2025-07-01 19:30:00", "2025-07-01 21:00"),
    "slashes": ("2025/7/1 19:30", "2025/07/01 21:00:00"),
    "chinese": ("2025年7月1日 19:30", "2025年7月1日 21:00"),
    "other_offset": ("2025-07-01T06:30:00-05:00", "2025-07-01T08:00:00-05:00"),
}


def test_tz001_every_time_form_lines_up(engine):
    pipe = Pipeline(engine, tz="Asia/Shanghai")
    load_network(pipe)
    for source, (start, end) in SAME_MOMENT.items():
        summary = pipe.ingest(
            "outages",
            pd.DataFrame(
                {
                    "outage_id": ["A"],
                    "feeder": ["F1"],
                    "start": [start],
                    "end": [end],
                    "customers": ["10"],
                }
            ),
            IngestOptions(source=source),
        )
        assert summary.quarantined_total == 0, (source, summary.quarantined)
    stored = outages(engine)
    assert len(stored) == len(SAME_MOMENT)
    assert set(stored["start"]) == {pd.Timestamp("2025-07-01 11:30", tz="UTC")}
    assert set(stored["end"]) == {pd.Timestamp("2025-07-01 13:00", tz="UTC")}


def test_tz002_naive_times_follow_the_site_zone(engine):
    pipe = Pipeline(engine, tz="America/Vancouver")
    load_network(pipe)
    pipe.ingest(
        "outages",
        pd.DataFrame({"outage_id": ["V"], "start": ["2024-11-19 16:00"], "customers": ["5"]}),
        IngestOptions(source="bc"),
    )
    assert outages(engine)["start"].tolist() == [pd.Timestamp("2024-11-20 00:00", tz="UTC")]
