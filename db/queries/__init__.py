"""Read queries: the only SQL outside db/ writers. Each returns plain values or DataFrames
with the canonical column names of docs/formats.md (codes, not surrogate ids; UTC times)."""

from db.queries.network import network
from db.queries.records import (
    FAILED_STATUSES,
    SUCCESS_STATUSES,
    active_outages,
    collector_runs,
    committed_chunks,
    complaints,
    data_updated_at,
    data_version,
    last_outage_start,
    list_users,
    outages,
    quarantine,
    running_sources,
    source_status,
    table_counts,
    user_credentials,
    user_session_state,
    voltage_rollups,
    watermark,
)

__all__ = [
    "FAILED_STATUSES",
    "SUCCESS_STATUSES",
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
    "running_sources",
    "source_status",
    "table_counts",
    "list_users",
    "user_credentials",
    "user_session_state",
    "voltage_rollups",
    "watermark",
]
