"""Health of the installation: the database and each configured collector's freshness.

A source is stale when its last successful run is older than its staleness limit
(``stale_after_seconds`` of the source, else ``[thresholds].stale_after_seconds``), or when it
never succeeded. ``/healthz`` answers 503 when the database is unreachable or every collector
is stale; ``/api/live`` and the dashboard show which sources are stale.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from db.queries import source_status


def collectors_health(engine: Engine, settings, now: datetime | None = None) -> dict[str, dict]:
    """Per configured (enabled) source: last success, last status, lag in seconds, stale."""
    now = now or datetime.now(UTC)
    status = source_status(engine).set_index("source")
    out: dict[str, dict] = {}
    for name, opts in settings.source_options().items():
        if not opts.enabled:
            continue
        limit = opts.stale_after_seconds or settings.thresholds.stale_after_seconds
        row = status.loc[name] if name in status.index else None
        last_success = None if row is None or pd.isna(row["last_success"]) else row["last_success"]
        lag = None if last_success is None else (now - last_success.to_pydatetime()).total_seconds()
        out[name] = {
            "type": opts.type,
            "last_success": last_success.isoformat() if last_success is not None else None,
            "last_status": None if row is None else row["status"],
            "last_error": None if row is None or pd.isna(row["error"]) else str(row["error"])[:200],
            "lag_seconds": None if lag is None else round(lag, 1),
            "stale": lag is None or lag > limit,
            "stale_after_seconds": limit,
        }
    return out


def health(engine: Engine, settings, now: datetime | None = None) -> tuple[int, dict]:
    """(HTTP status, body) for /healthz. Never includes URLs, tokens or error internals."""
    try:
        sources = collectors_health(engine, settings, now)
    except SQLAlchemyError:
        return 503, {"status": "unhealthy", "database": "unreachable", "sources": {}}
    every_stale = bool(sources) and all(s["stale"] for s in sources.values())
    body = {
        "status": "unhealthy" if every_stale else "ok",
        "database": "ok",
        "sources": {
            name: {"last_success": s["last_success"], "stale": s["stale"]}
            for name, s in sources.items()
        },
    }
    return (503 if every_stale else 200), body
