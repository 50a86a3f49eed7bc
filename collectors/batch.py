"""What a batch is to the pipeline (collectors/pipeline.py): the kinds it takes, a source's
per-source choices (:class:`IngestOptions`), a validated batch before anything is written
(:class:`Validated`) and what batches did (:class:`BatchSummary`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from analytics.voltage import level_limits_stored
from collectors.options import ShapingOptions
from collectors.validate import Checked, raw_json
from db.rollups import RollupLimits

NETWORK_TABLES = ("substations", "feeders", "transformers")
PRE_REJECT = "_reject"  # column a reader sets on rows it found broken
SOURCE_NOTES = "notes"  # key of DataFrame.attrs: {note: count} a source adds to the summary
REFUSED = "refused"  # batch kind: inputs refused whole, to be recorded in the quarantine
KINDS = ("outages", "voltage", "complaints", *NETWORK_TABLES)


@dataclass
class BatchSummary:
    """What one or more batches did, for run records and the CLI summary table."""

    read: int = 0
    upserted: int = 0
    unchanged: int = 0
    conflicts: int = 0
    quarantined: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    chunks_skipped: int = 0

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def add(self, other: BatchSummary) -> None:
        self.read += other.read
        self.upserted += other.upserted
        self.unchanged += other.unchanged
        self.conflicts += other.conflicts
        self.quarantined.update(other.quarantined)
        self.notes.update(other.notes)
        self.chunks_skipped += other.chunks_skipped


@dataclass(frozen=True)
class IngestOptions:
    """Per-source choices that shape validation."""

    source: str
    mapping: dict[str, str] = field(default_factory=dict)
    authoritative: bool = False
    version_column: str | None = None
    interval_min: int | None = None  # voltage reading interval; inferred when None
    # --- times --- the source's own zone (None: the site's), format and abbreviations
    tz: str | None = None
    time_format: str | None = None
    zone_abbreviations: dict[str, str] = field(default_factory=dict)
    # Voltage levels (collectors.options.VoltageLevelOptions): unit, nominal volts, band.
    voltage_unit: str = "auto"
    nominal_v: float | None = None
    plausible_pu: tuple[float, float] = (0.5, 1.5)
    # The source's shaping (collectors/shaping.py): its options, or None for none.
    shaping: ShapingOptions | None = None
    # The county the source is bound to (issue 19): its substations without a county get it.
    county: str | None = None


@dataclass
class Validated:
    """A batch as validated by :meth:`Pipeline.validate`, before anything is written."""

    raw_all: pd.DataFrame  # every raw record
    raw: pd.DataFrame  # those the reader did not reject
    pre_rejected: pd.DataFrame  # the reader's rejects (reason_code, reason_text)
    frame: pd.DataFrame  # canonical columns (long form for a wide voltage table)
    wide_rejects: pd.DataFrame | None
    checked: Checked
    shape_rejects: pd.DataFrame | None = None  # records shaping refused (reason_code, text)
    shaped_all: pd.DataFrame | None = None  # the reshaped records (unpivot: one per reading)
    shape_notes: Counter = field(default_factory=Counter)


def quarantine_record(
    source: str,
    kind: str,
    run_id: int | None,
    raw: str,
    reason_code: str,
    reason_text: str,
    created_at: datetime | None = None,
) -> dict:
    """One quarantine row: the raw record (JSON text) and why it was refused."""
    return {
        "source": source,
        "kind": kind,
        "run_id": run_id,
        "raw": raw,
        "reason_code": reason_code,
        "reason_text": reason_text,
        "created_at": created_at or datetime.now(UTC),
    }


def quarantine_records(
    frame: pd.DataFrame, rejected: pd.DataFrame, kind: str, source: str, run_id: int | None
) -> list[dict]:
    """Quarantine rows for the records of ``frame`` named by ``rejected``'s index (with its
    reason_code and reason_text), each keeping its raw record as JSON."""
    if rejected.empty:
        return []
    raws = raw_json(frame, rejected.index)
    now = datetime.now(UTC)  # one time for the batch's rows
    return [
        quarantine_record(source, kind, run_id, raw, code, text, now)
        for raw, code, text in zip(
            raws, rejected["reason_code"], rejected["reason_text"], strict=True
        )
    ]


def area_limits(nominal: pd.Series, limits: RollupLimits) -> pd.DataFrame | None:
    """Rollup limits (decivolts, 220 V storage base) of the areas whose nominal voltage is not
    220 V, after GB/T 12325 (analytics.voltage.level_limits_pu); None when there are none."""
    other = nominal.dropna()
    other = other[other != 220.0]
    if other.empty:
        return None
    volts = level_limits_stored(other, low_220=limits.low_dv / 10, high_220=limits.high_dv / 10)
    return pd.DataFrame(
        {
            "low_dv": np.round(volts["low"].to_numpy() * 10),
            "high_dv": np.round(volts["high"].to_numpy() * 10),
        },
        index=other.index,
    )
