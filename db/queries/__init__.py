"""Read queries: the only SQL outside db/ writers. Each returns plain values or DataFrames
with the canonical column names of docs/formats.md (codes, not surrogate ids; UTC times)."""

from db.queries.network import network
from db.queries.records import (
    active_outages,
    collector_runs,
    committed_chunks,
    complaints,
    data_updated_at,
    data_version,
    last_outage_start,
    outages,
    quarantine,
    source_status,
    table_counts,
    user_credentials,
    voltage_rollups,
    watermark,
)

__all__ = [
    "active_outages",
    "collector_runs",
    "committed_chunks",
    "complaints",
    "data_updated_at",
    "data_version",
    "last_outage_start",
    "network",
    "outages",
    "quarantine",
    "source_status",
    "table_counts",
    "user_credentials",
    "voltage_rollups",
    "watermark",
]
