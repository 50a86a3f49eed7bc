"""``feederwatch check``: what a source's input would become, without writing anything.

A new user's path from "exit 2" to a working config: the input is read with the source's own
settings (reading options, mapping) and validated exactly as ``ingest`` would (``Pipeline.
validate``, which reads the network context and writes nothing). The preview lists the headers
found and how each maps to a canonical column, the required columns missing (with the headers
that look like them), headers no column takes (with suggestions from the English and Chinese
synonyms of ``collectors.mapping.PRESETS``), the first parsed records, and the quarantine
reasons the whole input would get.
"""

from __future__ import annotations

import difflib
import gzip
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from collectors.file_reading import guess_kind, read_chunks
from collectors.mapping import PRESETS, apply_mapping, header_key
from collectors.options import reading_options, time_options, voltage_level_options
from collectors.pipeline import REFUSED, IngestOptions, Pipeline
from collectors.runner import ingest_options
from collectors.validate import REQUIRED_COLUMNS, InputRefused

#: records shown parsed
SAMPLE_ROWS = 3
#: how a network file's kind is checked (its tables' presets)
NETWORK_KINDS = ("substations", "feeders", "transformers")


@dataclass
class Preview:
    """What one input (a file, a feed's response) would become."""

    where: str
    kind: str | None
    headers: list[str] = field(default_factory=list)
    #: (header, canonical column, "config" or "preset")
    mapped: list[tuple[str, str, str]] = field(default_factory=list)
    #: (header, suggested canonical columns)
    unmapped: list[tuple[str, list[str]]] = field(default_factory=list)
    #: (required column, headers that look like it)
    missing: list[tuple[str, list[str]]] = field(default_factory=list)
    sample: pd.DataFrame = field(default_factory=pd.DataFrame)
    records: int = 0
    would_land: int = 0
    quarantined: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    #: (reason code, text) when the input would be refused whole
    refused: tuple[str, str] | None = None
    #: a reading option that would find a missing column ("set header = 2", "set sep")
    layout_hint: str = ""

    @property
    def exit_code(self) -> int:
        """As ``ingest`` would exit: 2 refused whole, 3 some records quarantined, 0 else."""
        if self.refused is not None:
            return 2
        return 3 if sum(self.quarantined.values()) else 0

    def headline(self) -> str:
        """One line: the missing piece, or what would land."""
        if self.refused is not None:
            code, text = self.refused
            if code == "missing_column" and self.missing:
                column, like = self.missing[0]
                hint = (
                    f"; {self.layout_hint}"
                    if self.layout_hint
                    else f"; closest header {like[0]!r}: add to the source mapping = "
                    f'{{ "{like[0]}" = "{column}" }}'
                    if like
                    else "; no header looks like it" + NO_HEADER_ADVICE.get(column, "")
                )
                return f"{self.where}: missing column {column!r} for {self.kind}{hint}"
            return f"{self.where}: refused whole: {code}: {text}"
        bad = sum(self.quarantined.values())
        if bad:
            top = ", ".join(f"{code} {n}" for code, n in self.quarantined.most_common(3))
            return (
                f"{self.where}: {self.would_land} of {self.records} {self.kind} records would "
                f"land, {bad} quarantined ({top})"
                + "".join(
                    hint for code, hint in QUARANTINE_ADVICE.items() if code in self.quarantined
                )
            )
        return f"{self.where}: all {self.records} {self.kind} records would land"


#: what the config can do about a quarantine reason (docs/onboarding.md)
QUARANTINE_ADVICE = {
    "ambiguous_time": (
        "; dates like 01/09/2023 are read only with time_format, e.g. "
        'time_format = "%m/%d/%Y %H:%M:%S" (month first) or "%d/%m/%Y %H:%M:%S"'
    ),
}

#: what the config can do when no header is the missing column (docs/onboarding.md)
NO_HEADER_ADVICE = {
    "outage_id": ': derive one from other columns, id_from = ["feeder", "start"]',
    "ticket_id": ': derive one from other columns, id_from = ["time", "address"]',
    "transformer": (
        ': a one-meter file names its area, constants = { transformer = "NAME" }; a table '
        'with one column per meter is unpivoted, unpivot = { columns = "...", id = '
        '"transformer", value = "va" }'
    ),
}

#: words of real exports' headers, for suggestions only (the presets rename exact aliases)
HINTS: dict[str, tuple[str, ...]] = {
    "outage_id": ("outageno", "outagenumber", "incident", "eventno", "编号"),
    "ticket_id": (
        "ticketno",
        "ticketnumber",
        "caseid",
        "caseno",
        "requestid",
        "servicerequest",
        "工单",
    ),
    "feeder": ("circuit", "feederid", "feederno", "馈线", "线路"),
    "transformer": ("meter", "bus", "substationtransformer", "tx", "台区", "变压器"),
    "start": ("begin", "outagestart", "starttime", "startdt", "timeoff", "off", "停电"),
    "end": ("restore", "restored", "endtime", "enddt", "timeon", "复电", "送电"),
    "time": ("timestamp", "datetime", "received", "created", "requested", "adddate", "时间"),
    "customers": ("cust", "affected", "households", "users", "meters", "户数"),
    "cause": ("reason", "原因"),
    "category": ("type", "code", "troublecode", "类型", "类别"),
}


def suggestions(header: str, kind: str, taken: set[str]) -> list[str]:
    """Canonical columns of ``kind`` a header may mean (closest synonyms first)."""
    aliases: dict[str, str] = {}
    for canonical, names in PRESETS.get(kind, {}).items():
        if canonical in taken:
            continue
        for name in (*names, *HINTS.get(canonical, ())):
            aliases.setdefault(header_key(name), canonical)
    key = header_key(header)
    found: list[str] = []
    for alias in difflib.get_close_matches(key, list(aliases), n=5, cutoff=0.75):
        if aliases[alias] not in found:
            found.append(aliases[alias])
    for alias, canonical in aliases.items():  # a synonym inside the header: "cust_out_count"
        long_enough = len(alias) >= 4 or (len(alias) >= 2 and not alias.isascii())
        if long_enough and alias in key and canonical not in found:
            found.append(canonical)
    return found[:3]


def _mapping_report(preview: Preview, raw: pd.DataFrame, kind: str, mapping: dict) -> None:
    headers = [str(c) for c in raw.columns if not str(c).startswith("__")]
    mapped = apply_mapping(raw[[c for c in raw.columns if str(c) in headers]], kind, mapping)
    preview.headers = headers
    taken = set()
    for before, after in zip(headers, mapped.columns, strict=True):
        if before != after or after in PRESETS.get(kind, {}):
            how = "config" if before in mapping else "preset"
            preview.mapped.append((before, str(after), how))
            taken.add(str(after))
    for header in headers:
        if header not in {m[0] for m in preview.mapped}:
            preview.unmapped.append((header, suggestions(header, kind, taken)))
    for column in REQUIRED_COLUMNS.get(kind, ()):
        if column not in taken:
            like = [h for h, sugg in preview.unmapped if column in sugg]
            preview.missing.append((column, like))


def preview_frames(
    pipeline: Pipeline,
    where: str,
    kind: str,
    frames: Iterator[pd.DataFrame],
    options: IngestOptions,
) -> Preview:
    """Validate every frame of one input as ``ingest`` would; nothing is written."""
    preview = Preview(where=where, kind=kind)
    samples = []
    try:
        for frame in frames:
            if not preview.headers:
                _mapping_report(preview, frame, kind, dict(options.mapping or {}))
            if frame.empty:
                continue
            v = pipeline.validate(kind, frame, options)
            if v.wide_rejects is not None:
                preview.records += len(v.frame) + len(v.wide_rejects)
            elif v.shaped_all is not None:  # unpivoted: one record per reading
                preview.records += len(v.shaped_all) + len(v.pre_rejected)
            else:
                preview.records += len(v.raw_all)
            preview.quarantined.update(v.pre_rejected["reason_code"])
            if v.shape_rejects is not None:
                preview.quarantined.update(v.shape_rejects["reason_code"])
            preview.notes.update(v.shape_notes)
            if v.wide_rejects is not None:
                preview.quarantined.update(v.wide_rejects["reason_code"])
            preview.quarantined.update(v.checked.rejected["reason_code"])
            preview.notes.update(v.checked.notes)
            for table, codes in v.checked.new_codes.items():
                preview.notes[f"would_register_{table}"] += len(codes)
            preview.would_land += len(v.checked.good)
            if sum(len(s) for s in samples) < SAMPLE_ROWS:
                samples.append(v.checked.good.head(SAMPLE_ROWS))
    except InputRefused as exc:
        preview.refused = (exc.code, exc.text)
        if exc.code == "missing_column":
            column = exc.text.rsplit(": ", 1)[-1]
            like = dict(preview.missing).get(column, [])
            preview.missing = [(column, like)]
    if preview.refused is None or preview.refused[0] != "missing_column":
        preview.missing = []  # columns a wide form or a preset provides otherwise
    if samples:
        sample = pd.concat(samples).head(SAMPLE_ROWS)
        shown = [
            c
            for c in sample.columns
            if not str(c).startswith("_")
            and not (str(c).endswith("_id") and c != "natural_id")
            and sample[c].notna().any()
        ]
        preview.sample = sample[shown]
    return preview


def preview_file(
    pipeline: Pipeline, path: Path, kind: str | None, source_options=None, source: str = "check"
) -> Preview:
    """One file read with ``source_options``' reading options and mapping."""
    kind = kind if kind not in (None, "auto") else guess_kind(path)
    if kind == "network":
        kind = guess_kind(path)
    if kind is None or kind == "network":
        return Preview(
            where=path.name,
            kind=None,
            refused=("unknown_kind", "say which records it holds: --kind outages|voltage|..."),
        )
    mapping = dict(getattr(source_options, "mapping", {}) or {})
    options = IngestOptions(
        source=source,
        mapping=mapping,
        authoritative=bool(getattr(source_options, "authoritative", False)),
        version_column=getattr(source_options, "version_column", None),
        shaping=source_options,
        **time_options(source_options),
        **voltage_level_options(source_options),
        county=getattr(source_options, "county", None),
    )
    reading = reading_options(source_options)
    frames = read_chunks(path, kind, mapping=None, shaping=source_options, **reading)
    preview = preview_frames(pipeline, path.name, kind, frames, options)
    if preview.refused is not None and preview.refused[0] == "missing_column" and preview.missing:
        preview.layout_hint = layout_hint(path, kind, preview.missing[0][0], mapping, reading)
    return preview


#: rows of a file searched for a missing column's header, and the separators tried
LAYOUT_ROWS = 30
OTHER_SEPARATORS = (";", "\t", "|", ",")


def layout_hint(path: Path, kind: str, missing: str, mapping: dict, reading: dict) -> str:
    """A reading option under which the missing column would be found, or "": the header on
    another row (a title or units row above it: ``header = N``), or another separator
    (``sep = ";"``). Only the first rows are read (CSV, XLSX)."""
    name = missing.split(" (named by ", 1)[0]
    wanted = {header_key(name)}
    wanted |= {header_key(k) for k, v in mapping.items() if v == name}
    wanted |= {header_key(a) for a in PRESETS.get(kind, {}).get(name, ())}
    wanted.discard("")
    suffix = path.name.lower()
    sep = reading.get("sep", ",")
    try:
        if suffix.endswith(".xlsx"):
            rows = pd.read_excel(
                path, header=None, nrows=LAYOUT_ROWS, dtype=str, sheet_name=reading.get("sheet", 0)
            )
            tables = {sep: [[str(v) for v in row if isinstance(v, str)] for row in rows.to_numpy()]}
        elif suffix.endswith((".csv", ".csv.gz")):
            opener = gzip.open if suffix.endswith(".gz") else open
            with opener(path, "rt", encoding=_encoding(reading), errors="replace") as fh:
                text = [line.rstrip("\r\n") for _, line in zip(range(LAYOUT_ROWS), fh)]
            tables = {
                each: [[c.strip().strip('"') for c in line.split(each)] for line in text]
                for each in (sep, *(o for o in OTHER_SEPARATORS if o != sep))
            }
        else:
            return ""
    except Exception:  # a hint only: the refusal itself is already reported
        return ""
    skip = int(reading.get("skiprows", 0))
    header = int(reading.get("header", 0))
    for each, lines in tables.items():
        for number, cells in enumerate(lines):
            if number < skip or not any(header_key(c) in wanted for c in cells):
                continue
            row = number - skip
            shown = "\\t" if each == "\t" else each
            if each != sep and row != header:
                return (
                    f"it is on row {row} (0 = first row), separated by '{shown}': "
                    f'set header = {row} and sep = "{shown}"'
                )
            if each != sep:
                return f"the header is separated by '{shown}': set sep = \"{shown}\""
            if row != header:
                return f"it is on row {row} (0 = first row): set header = {row}"
            return ""
    return ""


def _encoding(reading: dict) -> str:
    encoding = reading.get("encoding", "auto")
    return "utf-8-sig" if encoding == "auto" else encoding


def preview_source(pipeline: Pipeline, name: str, source, limit_files: int = 5) -> list[Preview]:
    """A configured source's input: a file source's files (at most ``limit_files``, settled or
    not, none moved), another source's first run of batches (its state untouched: none is
    given, nothing is committed)."""
    opts = source.options
    if opts.type == "file":
        files = source.candidates()[:limit_files]
        if not files:
            return [Preview(where=str(source.folder), kind=None, refused=("no_files", "empty"))]
        return [preview_file(pipeline, p, opts.kind, opts, source=name) for p in files]
    out: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for batch in source.batches(None):
        if batch.kind == REFUSED:
            row = batch.frame.iloc[0]
            return [
                Preview(
                    where=batch.label or name,
                    kind=row.get("kind"),
                    refused=(row["reason_code"], row["reason_text"]),
                )
            ]
        out.setdefault((batch.label.split("#")[0] or name, batch.kind), []).append(batch.frame)
        if sum(len(f) for frames in out.values() for f in frames) > 100_000:
            break
    return [
        preview_frames(
            pipeline, where, kind, iter(frames), ingest_options(name, opts, source, kind)
        )
        for (where, kind), frames in out.items()
    ]
