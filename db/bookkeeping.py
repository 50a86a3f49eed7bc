"""Collection bookkeeping writes and the network context reads the pipeline needs: run records,
quarantine, file-chunk markers, reading intervals. SQL stays in db/ (DESIGN.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update

from db.models import (
    CollectorRun,
    County,
    Feeder,
    IngestChunk,
    QuarantinedRecord,
    Substation,
    Transformer,
)


def network_context(conn: Connection) -> dict:
    """Codes -> ids, each area's feeder and customers, each feeder's substation and customers
    (the sum of its areas'), and each area's reading interval, for validating records."""
    maps = {
        name: dict(conn.execute(select(model.code, model.id)).all())
        for name, model in (
            ("substations", Substation),
            ("feeders", Feeder),
            ("transformers", Transformer),
            ("counties", County),
        )
    }
    areas = pd.DataFrame(
        conn.execute(
            select(
                Transformer.code,
                Feeder.code,
                Transformer.customers,
                Transformer.reading_interval_min,
                Transformer.id,
                Transformer.nominal_v,
            ).join(Feeder, Transformer.feeder_id == Feeder.id, isouter=True)
        ).all(),
        columns=["transformer", "feeder", "customers", "interval", "id", "nominal_v"],
    )
    feeders = dict(
        conn.execute(
            select(Feeder.code, Substation.code).join(
                Substation, Feeder.substation_id == Substation.id
            )
        ).all()
    )
    return {
        "maps": maps,
        "feeder_of_transformer": dict(zip(areas["transformer"], areas["feeder"], strict=True)),
        "served_transformer": dict(zip(areas["transformer"], areas["customers"], strict=True)),
        "served_feeder": areas.groupby("feeder")["customers"].sum().to_dict(),
        "interval": pd.Series(areas["interval"].to_numpy(), index=areas["id"].to_numpy()),
        "nominal_v": pd.Series(
            areas["nominal_v"].to_numpy(dtype=float, na_value=float("nan")),
            index=areas["id"].to_numpy(),
        ),
        "feeder_of_substation": feeders,
    }


def start_run(engine: Engine, source: str, kind: str | None) -> int:
    """A new run record (status running); returns its id."""
    with engine.begin() as conn:
        return conn.execute(
            insert(CollectorRun)
            .values(source=source, kind=kind, status="running", started_at=datetime.now(UTC))
            .returning(CollectorRun.id)
        ).scalar_one()


ABANDONED_ERROR = (
    "abandoned: the process running it ended without finishing it (killed, crashed or out of "
    "disk); its committed batches were kept and the next run resumes after them"
)


def abandon_runs(engine: Engine, source: str) -> int:
    """Mark the source's runs still ``running`` as ``abandoned`` (call only while holding the
    source's run lock, db.locks: then no live process can own them). Returns how many."""
    with engine.begin() as conn:
        return conn.execute(
            update(CollectorRun)
            .where(CollectorRun.source == source, CollectorRun.status == "running")
            .values(status="abandoned", finished_at=datetime.now(UTC), error=ABANDONED_ERROR)
        ).rowcount


def finish_run(engine: Engine, run_id: int, **values) -> None:
    """Close a run record with its status and counts."""
    with engine.begin() as conn:
        conn.execute(
            update(CollectorRun)
            .where(CollectorRun.id == run_id)
            .values(finished_at=datetime.now(UTC), **values)
        )


def insert_quarantine(conn: Connection, records: list[dict]) -> None:
    """Quarantine records (source, kind, run_id, raw, reason_code, reason_text, created_at)."""
    if records:
        conn.execute(insert(QuarantinedRecord), records)


def mark_chunk(
    conn: Connection, file_key: str, chunk_no: int, source: str, run_id: int | None, rows: int
) -> None:
    """Record a committed file chunk (in the chunk's own transaction)."""
    conn.execute(
        insert(IngestChunk).values(
            file_key=file_key,
            chunk_no=chunk_no,
            source=source,
            run_id=run_id,
            rows=rows,
            committed_at=datetime.now(UTC),
        )
    )


def forget_chunks(engine: Engine, file_key: str) -> None:
    """Drop a finished file's chunk markers."""
    with engine.begin() as conn:
        conn.execute(delete(IngestChunk).where(IngestChunk.file_key == file_key))


def set_reading_interval(conn: Connection, transformer_ids: list[int], minutes: int) -> None:
    """Set the minutes one reading stands for, for these areas."""
    conn.execute(
        update(Transformer)
        .where(Transformer.id.in_(transformer_ids))
        .values(reading_interval_min=minutes)
    )


def reading_intervals(conn: Connection) -> pd.Series:
    """Minutes one reading stands for, per transformer id."""
    return pd.Series(
        dict(conn.execute(select(Transformer.id, Transformer.reading_interval_min)).all()),
        dtype="int64",
    )


def set_nominal_voltage(
    conn: Connection, transformer_ids: list[int], nominal_v: float | None
) -> None:
    """Set the nominal voltage (volts; None = 220 V) of what these areas' readings measure."""
    conn.execute(
        update(Transformer).where(Transformer.id.in_(transformer_ids)).values(nominal_v=nominal_v)
    )


def nominal_voltages(conn: Connection) -> pd.Series:
    """Nominal voltage (volts) per transformer id; NaN for a 220 V area."""
    rows = conn.execute(select(Transformer.id, Transformer.nominal_v)).all()
    return pd.Series(
        {tid: (float("nan") if v is None else float(v)) for tid, v in rows}, dtype=float
    )
