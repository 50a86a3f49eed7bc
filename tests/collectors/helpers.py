"""Small builders shared by the collector tests."""

from __future__ import annotations

import pandas as pd

from collectors.pipeline import IngestOptions, Pipeline

NETWORK = {
    "substations": pd.DataFrame({"substation": ["S1"], "name": ["城关站"], "capacity_mva": ["20"]}),
    "feeders": pd.DataFrame(
        {
            "feeder": ["F1", "F2"],
            "substation": ["S1", "S1"],
            "geometry": [
                "LINESTRING(116.20 36.50, 116.30 36.60)",
                '{"type": "LineString", "coordinates": [[116.2, 36.5], [116.1, 36.4]]}',
            ],
        }
    ),
    "transformers": pd.DataFrame(
        {
            "transformer": ["T1", "T2", "T3"],
            "feeder": ["F1", "F1", "F2"],
            "customers": ["150", "80", "40"],
            "kind": ["公变", "public", "专变"],
            "town": ["城关镇", "城关镇", "贾寨镇"],
        }
    ),
}


def load_network(pipeline: Pipeline) -> None:
    options = IngestOptions(source="gis")
    for table in ("substations", "feeders", "transformers"):
        summary = pipeline.ingest(table, NETWORK[table], options)
        assert summary.quarantined_total == 0, summary.quarantined
