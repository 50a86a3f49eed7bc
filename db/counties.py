"""The counties' writer (issue 19): the configured counties inserted or renamed by code. Their
reads and the narrowing of frames to one county are in ``db/queries/counties.py``; network
rows name their county through ``db.upsert.upsert_network`` (a ``county`` code column)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from db.models import County
from db.upsert import bump_data_version, dialect_insert


def upsert_counties(engine: Engine, rows: pd.DataFrame) -> dict[str, int]:
    """Insert or update counties (``code, name, name_en``) by code, in one transaction that
    bumps the data version when anything changed; returns code -> id of every county stored.
    Counties are never deleted here (their substations keep them)."""
    with engine.begin() as conn:
        stored = {
            r.code: (r.name, r.name_en)
            for r in conn.execute(select(County.code, County.name, County.name_en))
        }
        frame = rows[["code", "name", "name_en"]].astype(object)
        records = [
            {k: (None if pd.isna(v) else v) for k, v in rec.items()}
            for rec in frame.drop_duplicates("code", keep="last").to_dict("records")
        ]
        changed = [r for r in records if stored.get(r["code"]) != (r["name"], r["name_en"])]
        if changed:
            stmt = dialect_insert(conn, County.__table__)
            stmt = stmt.on_conflict_do_update(
                index_elements=["code"],
                set_={"name": stmt.excluded.name, "name_en": stmt.excluded.name_en},
            )
            conn.execute(stmt, changed)
            bump_data_version(conn)
        return dict(conn.execute(select(County.code, County.id)).all())
