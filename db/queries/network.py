"""Network reads: substations, feeders and transformer areas with their codes."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from db.models import Feeder, Substation, Transformer


def network(engine: Engine) -> dict[str, pd.DataFrame]:
    """The network as canonical DataFrames: ``substations``, ``feeders``, ``transformers``.

    Feeders carry their substation's code, transformers their feeder's code; ``geometry`` is
    GeoJSON text (WGS84)."""
    s, f, t = Substation, Feeder, Transformer
    with engine.connect() as conn:
        subs = pd.read_sql(
            select(
                s.id,
                s.code.label("substation"),
                s.name,
                s.voltage_kv,
                s.capacity_mva,
                s.lon,
                s.lat,
                s.town,
            ).order_by(s.code),
            conn,
        )
        feeders = pd.read_sql(
            select(
                f.id,
                f.code.label("feeder"),
                s.code.label("substation"),
                f.name,
                f.voltage_kv,
                f.geometry,
                f.length_km,
                f.conductor,
                f.conductor_mm2,
                f.year_built,
                f.rated_mva,
            )
            .join(s, f.substation_id == s.id, isouter=True)
            .order_by(f.code),
            conn,
        )
        transformers = pd.read_sql(
            select(
                t.id,
                t.code.label("transformer"),
                f.code.label("feeder"),
                t.name,
                t.kind,
                t.kva,
                t.customers,
                t.town,
                t.address,
                t.lon,
                t.lat,
                t.distance_km,
                t.reading_interval_min,
            )
            .join(f, t.feeder_id == f.id, isouter=True)
            .order_by(t.code),
            conn,
        )
    return {"substations": subs, "feeders": feeders, "transformers": transformers}
