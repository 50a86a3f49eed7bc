"""The configured counties (``[[counties]]``, issue 19) written to the database at start-up, so
network rows can name them and every process sees the same list."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from db.counties import upsert_counties


def sync_counties(engine: Engine, settings) -> dict[str, int]:
    """Insert or update the configured counties (code, name, name_en); code -> id. Nothing is
    written without ``[[counties]]`` (a single-county deployment stays as it was)."""
    if not settings.counties:
        return {}
    rows = pd.DataFrame(
        [(c.code, c.name, c.name_en) for c in settings.counties],
        columns=["code", "name", "name_en"],
    )
    return upsert_counties(engine, rows)
