"""The one pipeline every source feeds: validate, quarantine, upsert, roll up, record the run.

A batch is ingested in ONE transaction: its good rows, its quarantined rows, the rollups it
touched, the watermark or file-chunk marker that says it is done, and the data version. A batch
that fails leaves nothing behind; a batch that committed is never redone (its chunk marker is
found on resume).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from collectors.batch import (
    KINDS,
    NETWORK_TABLES,
    PRE_REJECT,
    REFUSED,
    SOURCE_NOTES,
    BatchSummary,
    IngestOptions,
    Validated,
    area_limits,
    quarantine_record,
    quarantine_records,
)
from collectors.mapping import apply_mapping
from collectors.shaping import shape
from collectors.validate import (
    REASONS,
    VALIDATORS,
    Checked,
    Context,
    InputRefused,
    check_columns,
    wide_to_long,
)
from db.bookkeeping import (
    finish_run,
    forget_chunks,
    insert_quarantine,
    mark_chunk,
    network_context,
    set_nominal_voltage,
    set_reading_interval,
    start_run,
)
from db.models import (
    Feeder,
    Substation,
    Transformer,
)
from db.partitions import ensure_reading_partitions
from db.queries import committed_chunks
from db.rollups import RollupLimits, prune_hourly, prune_raw, update_rollups
from db.upsert import (
    bump_data_version,
    upsert_by_code,
    upsert_complaints,
    upsert_outages,
    upsert_readings,
    upsert_watermark,
)

log = logging.getLogger(__name__)


class Pipeline:
    """Validates and stores batches for one database under one set of thresholds."""

    def __init__(
        self,
        engine: Engine,
        *,
        tz: str = "Asia/Shanghai",
        limits: RollupLimits | None = None,
        suspicious_hours: float = 168.0,
        raw_retention_days: int | None = None,
        hourly_retention_days: int | None = None,
    ):
        self.engine = engine
        self.tz = tz
        self.limits = limits or RollupLimits(tz=tz)
        self.suspicious_hours = suspicious_hours
        self.raw_retention_days = raw_retention_days
        self.hourly_retention_days = hourly_retention_days
        self._network: dict | None = None
        self._last_prune: float | None = None

    @classmethod
    def from_settings(cls, engine: Engine, settings) -> Pipeline:
        th = settings.thresholds
        return cls(
            engine,
            tz=settings.site.timezone,
            limits=RollupLimits.from_volts(
                th.voltage_low, th.voltage_high, th.low_voltage_rule, settings.site.timezone
            ),
            raw_retention_days=settings.database.raw_retention_days,
            hourly_retention_days=settings.database.hourly_retention_days,
        )

    # --- network context ----------------------------------------------------------------
    def refresh_network(self) -> None:
        self._network = None

    def _load_network(self) -> dict:
        if self._network is None:
            with self.engine.connect() as conn:
                self._network = network_context(conn)
        return self._network

    def context(self, options: IngestOptions, now: datetime | None = None) -> Context:
        net = self._load_network()
        return Context(
            tz=options.tz or self.tz,
            time_format=options.time_format,
            zone_abbreviations=dict(options.zone_abbreviations) or None,
            substations=net["maps"]["substations"],
            feeders=net["maps"]["feeders"],
            transformers=net["maps"]["transformers"],
            counties=net["maps"]["counties"],
            feeder_of_substation=net["feeder_of_substation"],
            feeder_of_transformer=net["feeder_of_transformer"],
            served_feeder=net["served_feeder"],
            served_transformer=net["served_transformer"],
            authoritative=options.authoritative,
            now=now or datetime.now(UTC),
            suspicious_hours=self.suspicious_hours,
            version_column=options.version_column,
            voltage_unit=options.voltage_unit,
            nominal_v=options.nominal_v,
            plausible_pu=options.plausible_pu,
        )

    # --- runs -----------------------------------------------------------------------------
    def start_run(self, source: str, kind: str | None = None) -> int:
        return start_run(self.engine, source, kind)

    def finish_run(self, run_id: int, summary: BatchSummary, error: str | None = None) -> str:
        if error:
            status = "failed"
        elif summary.quarantined_total:
            status = "partial"
        else:
            status = "ok"
        detail = {"quarantined": dict(summary.quarantined), "notes": dict(summary.notes)}
        finish_run(
            self.engine,
            run_id,
            status=status,
            rows_read=summary.read,
            rows_upserted=summary.upserted,
            rows_unchanged=summary.unchanged,
            rows_quarantined=summary.quarantined_total,
            conflicts=summary.conflicts,
            chunks_skipped=summary.chunks_skipped,
            error=error,
            detail=detail,
        )
        return status

    # --- batches --------------------------------------------------------------------------
    def ingest(
        self,
        kind: str,
        raw: pd.DataFrame,
        options: IngestOptions,
        *,
        run_id: int | None = None,
        chunk: tuple[str, int] | None = None,
        watermark: str | None = None,
        watermark_source: str | None = None,
        now: datetime | None = None,
    ) -> BatchSummary:
        """Validate and store one batch of raw records of ``kind`` in one transaction.

        ``chunk`` = (file key, chunk number) records the batch as done for resumable file
        ingests; ``watermark`` is stored for the source (or under ``watermark_source``) in the
        same transaction."""
        if kind == REFUSED:
            return self._record_refused(raw, options.source, run_id)
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        # What a source decided by itself (a held empty snapshot, inferred ends) rides along
        # as counts in the frame's attrs, so that it reaches the run summary.
        source_notes = Counter(raw.attrs.get(SOURCE_NOTES) or {})
        if raw.empty:
            # Nothing new (a quiet live step): only the watermark / chunk marker moves on.
            if watermark is not None or chunk is not None:
                with self.engine.begin() as conn:
                    self._mark_done(conn, options, run_id, chunk, 0, watermark, watermark_source)
            return BatchSummary(notes=source_notes)
        raw = raw.reset_index(drop=True)
        summary = BatchSummary(read=len(raw), notes=source_notes)
        v = self.validate(kind, raw, options, now)
        raw_all, raw, pre_rejected = v.raw_all, v.raw, v.pre_rejected
        frame, wide_rejects, checked = v.frame, v.wide_rejects, v.checked
        shape_rejects, shaped_all = v.shape_rejects, v.shaped_all
        summary.notes.update(v.shape_notes)
        if kind == "voltage" and not checked.good.empty:
            # PostgreSQL: the months' partitions, in a short transaction of their own
            ensure_reading_partitions(
                self.engine, int(checked.good["ts"].min()), int(checked.good["ts"].max())
            )
        with self.engine.begin() as conn:
            if checked.new_codes:
                self._register(conn, checked.new_codes, options.source)
                checked = VALIDATORS[kind](frame, self.context(options, now))
            self._store(conn, kind, checked, options, summary)
            records = quarantine_records(raw_all, pre_rejected, kind, options.source, run_id)
            if shape_rejects is not None and not shape_rejects.empty:
                records += quarantine_records(
                    raw_all if shaped_all is None else shaped_all,
                    shape_rejects,
                    kind,
                    options.source,
                    run_id,
                )
            if wide_rejects is not None and not wide_rejects.empty:
                records += quarantine_records(raw, wide_rejects, kind, options.source, run_id)
            source_frame = raw_all if wide_rejects is None and shaped_all is None else frame
            records += quarantine_records(
                source_frame, checked.rejected, kind, options.source, run_id
            )
            insert_quarantine(conn, records)
            for rec in records:
                summary.quarantined[rec["reason_code"]] += 1
            self._mark_done(conn, options, run_id, chunk, len(raw_all), watermark, watermark_source)
            if records or summary.upserted:
                bump_data_version(conn)
        summary.notes.update(checked.notes)
        if kind == "voltage":
            self._prune_if_due()
        if wide_rejects is not None:
            # Wide rows expand into many readings: count read as the readings offered.
            summary.read = len(frame) + len(wide_rejects)
        elif shaped_all is not None:
            # So do unpivoted rows: read counts the readings offered (blank cells not).
            summary.read = len(shaped_all) + len(pre_rejected)
        if kind in NETWORK_TABLES:
            self.refresh_network()
        return summary

    def validate(
        self, kind: str, raw: pd.DataFrame, options: IngestOptions, now: datetime | None = None
    ) -> Validated:
        """Everything ``ingest`` does to a batch before it writes: the reader's rejects set
        apart, the mapping, the wide-to-long step, the column check (raises InputRefused) and
        the validation. Reads the network context; writes nothing (``feederwatch check``)."""
        raw = raw.reset_index(drop=True)
        # Rows the reader already found broken (cut off, wrong field count) go straight to
        # quarantine with that reason.
        pre_rejected = pd.DataFrame(columns=["reason_code", "reason_text"])
        if PRE_REJECT in raw:
            flagged = raw[PRE_REJECT].notna()
            pre_rejected = pd.DataFrame(
                {
                    "reason_code": raw.loc[flagged, PRE_REJECT],
                    "reason_text": raw.loc[flagged, PRE_REJECT].map(REASONS),
                }
            )
            raw_all = raw.drop(columns=PRE_REJECT)
            raw = raw_all[~flagged]
        else:
            raw_all = raw
        frame = apply_mapping(raw, "voltage" if kind == "voltage" else kind, options.mapping)
        # Shaping (after the mapping, before validation): the one place every source gets it.
        shape_rejects, shaped_all, shape_notes = None, None, Counter()
        if options.shaping is not None and options.shaping.shapes and not raw.empty:
            shaped = shape(frame, kind, options.shaping, options.tz or self.tz)
            shape_notes.update(shaped.notes)
            frame, shape_rejects = shaped.frame, shaped.rejected
            if shaped.reshaped:
                shaped_all = frame  # rows are no longer one per input row
            if not shape_rejects.empty:
                frame = frame.drop(index=shape_rejects.index)
        wide_rejects = None
        if kind == "voltage" and "date" in frame and any(c == "p1" for c in frame.columns):
            for name in ("transformer", "date", "phase"):
                if name not in frame.columns:
                    raise InputRefused("missing_column", name)
            frame, wide_rejects = wide_to_long(frame, self.tz_context(options, now))
            frame = frame.reset_index(drop=True)
        if not (raw.empty and len(pre_rejected)):  # rows all pre-rejected: no header to judge
            check_columns(frame, kind)
        if kind == "substations" and options.county:
            county = frame["county"] if "county" in frame else pd.Series(None, index=frame.index)
            frame = frame.assign(county=county.where(county.notna(), options.county))
        checked = VALIDATORS[kind](frame, self.context(options, now))
        return Validated(
            raw_all,
            raw,
            pre_rejected,
            frame,
            wide_rejects,
            checked,
            shape_rejects,
            shaped_all,
            shape_notes,
        )

    @staticmethod
    def _mark_done(
        conn: Connection,
        options: IngestOptions,
        run_id: int | None,
        chunk: tuple[str, int] | None,
        rows: int,
        watermark: str | None,
        watermark_source: str | None,
    ) -> None:
        if chunk is not None:
            mark_chunk(conn, chunk[0], chunk[1], options.source, run_id, rows)
        if watermark is not None:
            upsert_watermark(conn, watermark_source or options.source, watermark)

    def tz_context(self, options: IngestOptions, now: datetime | None) -> Context:
        return Context(
            tz=options.tz or self.tz,
            now=now or datetime.now(UTC),
            time_format=options.time_format,
            zone_abbreviations=dict(options.zone_abbreviations) or None,
        )

    def committed_chunks(self, file_key: str) -> set[int]:
        return committed_chunks(self.engine, file_key)

    def _prune_if_due(self) -> None:
        """Raw readings and hourly rollups beyond their retention go, at most once an hour
        (daily rollups stay)."""
        if (self.raw_retention_days is None and self.hourly_retention_days is None) or (
            self._last_prune is not None and time.monotonic() - self._last_prune < 3600
        ):
            return
        self._last_prune = time.monotonic()
        with self.engine.begin() as conn:
            if self.raw_retention_days is not None:
                pruned = prune_raw(conn, self.raw_retention_days, int(time.time()))
                if pruned:
                    log.info(
                        "pruned %d raw readings older than %d days",
                        pruned,
                        self.raw_retention_days,
                    )
            if self.hourly_retention_days is not None:
                hours = prune_hourly(conn, self.hourly_retention_days)
                if hours:
                    log.info(
                        "pruned %d hourly rollups beyond the newest %d days",
                        hours,
                        self.hourly_retention_days,
                    )

    def forget_chunks(self, file_key: str) -> None:
        forget_chunks(self.engine, file_key)

    def _store(
        self,
        conn: Connection,
        kind: str,
        checked: Checked,
        options: IngestOptions,
        summary: BatchSummary,
    ) -> None:
        good = checked.good
        if kind == "outages":
            counts = upsert_outages(conn, good, options.source)
        elif kind == "complaints":
            counts = upsert_complaints(conn, good, options.source)
        elif kind == "voltage":
            # The readings' key order (time, then area; stable: a repeated key's last row
            # stays last), checked before sorting: sources mostly send time-major rows
            ts = good["ts"].to_numpy(np.int64)
            tid = good["transformer_id"].to_numpy(np.int64)
            if not ((ts[1:] > ts[:-1]) | ((ts[1:] == ts[:-1]) & (tid[1:] >= tid[:-1]))).all():
                good = good.iloc[np.lexsort((tid, ts))]
            summary.upserted += upsert_readings(conn, good, self.limits.tz)
            interval = self._intervals(conn, good, options)
            nominal = self._nominals(conn, good)
            update_rollups(
                conn,
                good,
                interval,
                self.limits,
                area_limits(nominal, self.limits),
                hourly_days=self.hourly_retention_days,
            )
            return
        else:
            table = {"substations": Substation, "feeders": Feeder, "transformers": Transformer}[
                kind
            ].__table__
            counts = upsert_by_code(conn, table, good.assign(source=options.source))
        summary.upserted += counts.upserted
        summary.unchanged += counts.unchanged + counts.superseded
        summary.conflicts += counts.conflicts
        if counts.reopened:
            summary.notes["reopened_after_inferred_end"] += counts.reopened
        if counts.real_end_kept:
            summary.notes["inferred_end_kept_real_end"] += counts.real_end_kept

    def _nominals(self, conn: Connection, good: pd.DataFrame) -> pd.Series:
        """Nominal voltage per transformer id (NaN = 220 V), updated from this batch when its
        readings carry a level (a source's ``nominal_v`` or a ``nominal_v`` column)."""
        net = self._load_network()
        stored = net.get("nominal_v", pd.Series(dtype=float))
        if good.empty or "nominal_v" not in good:
            return stored
        seen = good.groupby("transformer_id")["nominal_v"].last()
        before = stored.reindex(seen.index)
        changed = seen[~((seen == before) | (seen.isna() & before.isna()))]
        for value, ids in changed.groupby(changed.fillna(-1.0)).groups.items():
            set_nominal_voltage(conn, [int(i) for i in ids], None if value < 0 else float(value))
        merged = stored.copy()
        merged.loc[seen.index] = seen
        self._network["nominal_v"] = merged
        return merged

    def _intervals(self, conn: Connection, good: pd.DataFrame, options: IngestOptions) -> pd.Series:
        """Reading interval (minutes) per transformer id: configured, else inferred from the
        spacing of this batch's readings, else what the network table says."""
        stored = self._load_network()["interval"]
        if good.empty:
            return stored
        if options.interval_min:
            inferred = pd.Series(options.interval_min, index=good["transformer_id"].unique())
        else:
            ordered = good[["transformer_id", "ts"]].sort_values(["transformer_id", "ts"])
            gaps = ordered.groupby("transformer_id")["ts"].diff() / 60
            inferred = gaps.groupby(ordered["transformer_id"]).median().dropna()
            inferred = inferred[inferred.isin([1, 5, 10, 15, 30, 60])]
        inferred = inferred.astype("int64")
        changed = inferred[inferred.ne(stored.reindex(inferred.index))]
        for minutes, ids in changed.groupby(changed).groups.items():
            set_reading_interval(conn, [int(i) for i in ids], int(minutes))
        merged = stored.copy()
        merged.loc[inferred.index] = inferred
        self._network["interval"] = merged
        return merged

    def _register(self, conn: Connection, new_codes: dict[str, set[str]], source: str) -> None:
        """An authoritative source's unknown substations/feeders/areas become network rows."""
        for table_name, model in (
            ("substations", Substation),
            ("feeders", Feeder),
            ("transformers", Transformer),
        ):
            codes = sorted(new_codes.get(table_name, ()))
            if codes:
                upsert_by_code(
                    conn, model.__table__, pd.DataFrame({"code": codes, "source": source})
                )
                log.info(
                    "registered %d new %s from authoritative source %s",
                    len(codes),
                    table_name,
                    source,
                )
        # Read inside the open transaction so the new codes are visible before commit.
        self._network = network_context(conn)

    def _record_refused(
        self, refused: pd.DataFrame, source: str, run_id: int | None
    ) -> BatchSummary:
        """Inputs a source could not read at all (columns input, kind, reason_code,
        reason_text): each becomes one quarantine record."""
        summary = BatchSummary()
        for rec in refused.to_dict("records"):
            self.quarantine_whole(
                source,
                rec.get("kind") or "unknown",
                rec["input"],
                rec["reason_code"],
                rec["reason_text"],
                run_id,
            )
            summary.quarantined[rec["reason_code"]] += 1
        return summary

    def quarantine_whole(
        self,
        source: str,
        kind: str,
        what: str,
        reason_code: str,
        reason_text: str,
        run_id: int | None = None,
    ) -> None:
        """Record an input refused whole (unreadable file, bad feed) in the quarantine."""
        raw = json.dumps({"input": what})
        record = quarantine_record(source, kind, run_id, raw, reason_code, reason_text)
        with self.engine.begin() as conn:
            insert_quarantine(conn, [record])


__all__ = [
    "KINDS",
    "NETWORK_TABLES",
    "PRE_REJECT",
    "REFUSED",
    "SOURCE_NOTES",
    "BatchSummary",
    "IngestOptions",
    "Pipeline",
    "Validated",
]
