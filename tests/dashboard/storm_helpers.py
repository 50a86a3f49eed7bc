"""Outages for the storm-board tests (issue 17), ingested through the real pipeline."""

from __future__ import annotations

import pandas as pd


def ingest_outage(
    engine,
    outage_id: str,
    feeder: str,
    customers: int,
    start: pd.Timestamp,
    end: pd.Timestamp | None = None,
    etr: pd.Timestamp | None = None,
    cause: str = "weather",
    source: str = "storm-test",
):
    from collectors.pipeline import IngestOptions, Pipeline

    frame = pd.DataFrame(
        [
            {
                "outage_id": outage_id,
                "feeder": feeder,
                "start": start.isoformat(),
                "end": None if end is None else end.isoformat(),
                "etr": None if etr is None else etr.isoformat(),
                "customers": customers,
                "cause": cause,
            }
        ]
    )
    return Pipeline(engine).ingest("outages", frame, IngestOptions(source=source))
