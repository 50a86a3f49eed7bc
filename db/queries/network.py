"""Network reads: substations, feeders and transformer areas with their codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine, select

from db.models import County, Feeder, Substation, Transformer


def network(engine: Engine) -> dict[str, pd.DataFrame]:
    """The network as canonical DataFrames: ``substations``, ``feeders``, ``transformers``.

    Substations carry their county's code (``county``, None outside any county), feeders their
    substation's code, transformers their feeder's code; ``geometry`` is GeoJSON text (WGS84)."""
    s, f, t, c = Substation, Feeder, Transformer, County
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
                c.code.label("county"),
            )
            .join(c, s.county_id == c.id, isouter=True)
            .order_by(s.code),
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
                t.nominal_v,
            )
            .join(f, t.feeder_id == f.id, isouter=True)
            .order_by(t.code),
            conn,
        )
    return {"substations": subs, "feeders": feeders, "transformers": transformers}


# --- network import diagnostics (issue 14) ---------------------------------------------------
# The one writer here: an import's findings replace the source's earlier ones in the same
# transaction as its quarantine rows (kept beside the reads of the same table).

DIAGNOSTIC_FIELDS = ("kind", "feeder", "substation", "bus", "line_id", "detail")


def replace_network_diagnostics(
    engine: Engine,
    source: str,
    run_id: int | None,
    findings: pd.DataFrame,
    quarantine: list[dict] | None = None,
) -> None:
    """Store ``findings`` (columns ``DIAGNOSTIC_FIELDS``) as the source's current network
    diagnostics, dropping those of its earlier imports; ``quarantine`` rows (as
    ``db.bookkeeping.insert_quarantine`` takes them) are written in the same transaction, which
    bumps the data version."""
    from sqlalchemy import delete, insert

    from db.bookkeeping import insert_quarantine
    from db.models import NetworkDiagnostic
    from db.upsert import bump_data_version

    now = datetime.now(UTC)
    rows = []
    for rec in findings.to_dict("records"):
        row = {"source": source, "run_id": run_id, "created_at": now}
        for name in DIAGNOSTIC_FIELDS:
            value = rec.get(name)
            row[name] = (
                None
                if value is None or (isinstance(value, float) and value != value)
                else str(value)
            )
        rows.append(row)
    with engine.begin() as conn:
        conn.execute(delete(NetworkDiagnostic).where(NetworkDiagnostic.source == source))
        if rows:
            conn.execute(insert(NetworkDiagnostic), rows)
        insert_quarantine(conn, quarantine or [])
        # the map's dashed feeders and the data page read these: a new data version, or a
        # page that read the findings before would keep showing them until the next ingest
        bump_data_version(conn)


def network_diagnostics(engine: Engine, source: str | None = None) -> pd.DataFrame:
    """The current network diagnostics (all sources, or one): ``source, run_id, kind, feeder,
    substation, bus, line_id, detail, created_at``, ordered by source, kind and id."""
    from db.models import NetworkDiagnostic as d

    query = select(
        d.source,
        d.run_id,
        d.kind,
        d.feeder,
        d.substation,
        d.bus,
        d.line_id,
        d.detail,
        d.created_at,
    ).order_by(d.source, d.kind, d.id)
    if source is not None:
        query = query.where(d.source == source)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def feeder_flags(engine: Engine) -> pd.DataFrame:
    """One row per feeder code named by a current diagnostic: ``feeder``, ``flags`` (the
    sorted distinct kinds joined by ``,``, e.g. ``"loop,no_coordinates"``), ``loops``,
    ``buses_without_coordinates``, ``open_points`` (open lines with this feeder on one side)
    and ``findings`` (all rows naming it). Feeders with nothing to report are absent. The map
    draws a flagged feeder dashed; its tooltip can say why."""
    diags = network_diagnostics(engine)
    open_rows = diags[diags["kind"] == "open_line"]
    named = diags[diags["feeder"].notna()]
    # open lines name their two sides in the detail ("bus 3 (F1-1) - bus 9 (F2-1)")
    sides = open_rows["detail"].str.findall(r"\(([^()]+)\)")
    extra = [
        {"feeder": code, "kind": "open_line"}
        for codes in sides
        for code in dict.fromkeys(codes)
        if code != "none"
    ]
    frame = pd.concat([named[["feeder", "kind"]], pd.DataFrame(extra, columns=["feeder", "kind"])])
    columns = ["feeder", "flags", "loops", "buses_without_coordinates", "open_points", "findings"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby("feeder")["kind"]
    out = pd.DataFrame(
        {
            "flags": grouped.agg(lambda k: ",".join(sorted(set(k)))),
            "loops": grouped.agg(lambda k: int((k == "loop").sum())),
            "buses_without_coordinates": grouped.agg(lambda k: int((k == "no_coordinates").sum())),
            "open_points": grouped.agg(lambda k: int((k == "open_line").sum())),
            "findings": grouped.size(),
        }
    ).reset_index()
    return out[columns].sort_values("feeder", ignore_index=True)
