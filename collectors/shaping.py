"""Shaping: a source's records put into the canonical columns by configuration alone.

Applied in ONE place, ``Pipeline.ingest``, after the reading options and the column mapping
and before validation, so files, HTTP feeds, SQL sources, ``feederwatch ingest`` and uploads
all get it (docs/formats.md "Shaping"). The steps run in this order:

1. ``unpivot``: a wide table whose columns are ids (one column per bus) becomes long;
2. ``combine``: a date and a time column (or more) joined into one column;
3. ``constants``: one value for every record;
4. ``value_map``: codes and text translated (``LV`` -> ``low_voltage``; cause text -> planned);
5. ``id_from``: a stable derived id for records that have none.

Steps 2, 3 and 5 fill a column only where the input leaves it blank: a value the input gives
is never overwritten (so an end a collector infers, or an id the export does carry, stays).
A record that cannot be shaped is refused alone with a reason code (``id_from_blank``,
``combine_blank_part``); a configured column missing from the input refuses the input whole
(``missing_column``), like any required column. Values a map does not know are never folded
silently into a default: they are counted per value in the notes (``unmapped COLUMN: VALUE``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from collectors.options import ID_COLUMNS, ShapingOptions, ValueMap
from collectors.parse import blank, clean_text, parse_times
from collectors.validate import REASONS, InputRefused

# Columns read as times when a derived id is made: the same instant written two ways
# (``2025-07-01 10:00`` and ``2025-07-01T10:00:00+08:00``) gives the same id.
TIME_COLUMNS = frozenset({"start", "end", "etr", "time"})
UNMAPPED_NOTE = "unmapped {column}: {value}"
UNMAPPED_LISTED = 20  # distinct unmapped values listed per column and batch; the rest lumped
UNPIVOT_BLANK_NOTE = "unpivot_blank_cells"
ID_PREFIX_CHARS = 24
ID_HASH_CHARS = 16

SHAPING_REASONS = {code: REASONS[code] for code in ("id_from_blank", "combine_blank_part")}


@dataclass
class Shaped:
    """A shaped batch: the frame, the rows refused (index of ``frame``; reason_code,
    reason_text), counted notes, and whether its rows are still one per input row."""

    frame: pd.DataFrame
    rejected: pd.DataFrame
    notes: Counter = field(default_factory=Counter)
    reshaped: bool = False


def shape(frame: pd.DataFrame, kind: str, options: ShapingOptions, tz: str) -> Shaped:
    """Shape a mapped frame of ``kind`` by ``options`` (see the module docstring). Raises
    ``InputRefused`` (missing_column, duplicate_header) when the input lacks a configured
    column; rows that cannot be shaped are returned in ``rejected``, never dropped."""
    notes: Counter = Counter()
    reshaped = options.unpivot is not None
    frame = _unpivot(frame, options, notes) if reshaped else frame.copy()
    codes = np.full(len(frame), None, dtype=object)  # first reason wins, as in validation
    texts = np.full(len(frame), None, dtype=object)

    def refuse(where: pd.Series, code: str, detail: str) -> None:
        new = where.to_numpy(dtype=bool) & pd.isna(codes)
        codes[new] = code
        texts[new] = f"{SHAPING_REASONS[code]}: {detail}"

    for target, parts in options.combine.items():
        _need(frame, parts, f"combine.{target}")
        joined, partial = _combined(frame, parts)
        refuse(partial & _blank_or_absent(frame, target), "combine_blank_part", ", ".join(parts))
        frame[target] = _fill(frame, target, joined)
    for target, value in options.constants.items():
        frame[target] = _fill(frame, target, pd.Series(_text(value), index=frame.index))
    # Every map reads the values as they were before any map: planned from the cause text
    # and cause text -> cause classes work whatever order they are written in.
    before = frame[[c for c in frame.columns if c in _map_inputs(options)]].copy()
    for target, value_map in options.value_map.items():
        frame[target] = _mapped(before, target, value_map, notes)
    id_column = ID_COLUMNS.get(kind)
    if options.id_from and id_column is not None:
        _need(frame, options.id_from, "id_from")
        ids, missing = derived_ids(frame, options.id_from, tz)
        needed = _blank_or_absent(frame, id_column)
        refuse(missing & needed, "id_from_blank", ", ".join(options.id_from))
        frame[id_column] = _fill(frame, id_column, ids)
    bad = ~pd.isna(codes)
    rejected = pd.DataFrame(
        {"reason_code": codes[bad], "reason_text": texts[bad]}, index=frame.index[bad]
    )
    return Shaped(frame, rejected, notes, reshaped)


def shaped_columns(columns: list[str], kind: str, options: ShapingOptions | None) -> list[str]:
    """The columns a header of (mapped) ``columns`` has once shaped: for judging a file's
    header before its body is read. Raises ``InputRefused`` like ``shape``."""
    if options is None or not options.shapes:
        return list(columns)
    empty = pd.DataFrame(columns=list(columns), dtype=object)
    return [str(c) for c in shape(empty, kind, options, "UTC").frame.columns]


# --- the steps ---------------------------------------------------------------------------------
def _need(frame: pd.DataFrame, columns, key: str) -> None:
    for name in columns:
        if name not in frame.columns:
            raise InputRefused("missing_column", f"{name} (named by {key})")


def _blank_or_absent(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(True, index=frame.index)
    return blank(_one(frame, name))


def _one(frame: pd.DataFrame, name: str) -> pd.Series:
    column = frame[name]
    return column.iloc[:, 0] if isinstance(column, pd.DataFrame) else column


def _fill(frame: pd.DataFrame, name: str, values: pd.Series) -> pd.Series:
    """``values`` where the input's own ``name`` is blank (or absent); the input's elsewhere."""
    if name not in frame.columns:
        return values
    own = _one(frame, name)
    return own.astype(object).where(~blank(own), values)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unpivot(frame: pd.DataFrame, options: ShapingOptions, notes: Counter) -> pd.DataFrame:
    spec = options.unpivot
    pattern = re.compile(spec.columns)
    wide = [c for c in frame.columns if pattern.search(str(c))]
    if not wide:
        raise InputRefused("missing_column", f"no column matches unpivot.columns {spec.columns!r}")
    keep = [c for c in frame.columns if c not in wide]
    for name in (spec.id, spec.value):
        if name in keep:
            raise InputRefused("duplicate_header", f"{name} (unpivot would make it again)")
    long = frame.melt(id_vars=keep, value_vars=wide, var_name=spec.id, value_name=spec.value)
    long[spec.id] = long[spec.id].astype(str).str.strip()
    # A blank cell of a wide export is no reading (a bus not measured then): dropped, counted.
    empty = blank(long[spec.value])
    if empty.any():
        notes[UNPIVOT_BLANK_NOTE] += int(empty.sum())
        long = long[~empty]
    return long.reset_index(drop=True)


_MIDNIGHT = re.compile(r"[ T]00:00(?::00(?:\.0+)?)?$")
_HHMM = re.compile(r"^\d{3,4}$|^\d{6}$")
# Date and time cells that each hold a full date-time (DOE's OE-417 tables from July 2012 on
# store "2012-07-19 10:30" in both): the first part gives its date only, the last part its
# time of day only. Where the two disagree the date column says the date, the time column
# the time (read in the source's zone as any naive time).
_TRAILING_TIME = re.compile(
    r"^(\d{4}[-/]\d{1,2}[-/]\d{1,2})[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$"
)
_CLOCK = re.compile(r"^\d{1,2}:\d{2}")
_LEADING_DATE = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}[ T](?=\d{1,2}:\d{2})")


def _combined(frame: pd.DataFrame, parts: list[str]) -> tuple[pd.Series, pd.Series]:
    """The parts joined by one space, and where some but not all parts are blank. The first
    part read as a date-time at midnight (XLSX) loses its ``00:00:00``; the last part written
    as digits only (a time: ``930``, ``0930``, ``093000``) gets its colons. Where the date
    part and the time part are both full date-times (``2012-07-19 10:30:00``), the first
    gives its date only and the last its time of day only. A last part that is no time of day
    (a zone column: ``MST``) leaves the first part whole."""
    texts = []
    for number, name in enumerate(parts):
        text = clean_text(_one(frame, name)).astype(object)
        present = text.notna()
        if number == 0:
            text = text.where(~present, text.astype(str).str.replace(_MIDNIGHT, "", regex=True))
        elif number == len(parts) - 1:
            text = text.where(~present, text.astype(str).str.replace(_LEADING_DATE, "", regex=True))
            digits = present & text.astype(str).str.match(_HHMM)
            if digits.any():
                padded = text[digits].astype(str).map(lambda t: t.zfill(4) if len(t) <= 4 else t)
                text = text.where(
                    ~digits,
                    padded.map(lambda t: ":".join(t[i : i + 2] for i in range(0, len(t), 2))),
                )
        texts.append(text)
    if len(texts) > 1:
        # the first part's own time of day gives way to a time-of-day part after it
        clock = texts[-1].notna() & texts[-1].astype(str).str.match(_CLOCK)
        first = texts[0]
        stripped = first.astype(str).str.replace(_TRAILING_TIME, r"\1", regex=True)
        texts[0] = first.where(~(clock & first.notna()), stripped)
    present = pd.concat([t.notna() for t in texts], axis=1)
    complete = present.all(axis=1)
    partial = present.any(axis=1) & ~complete
    joined = pd.Series(None, index=frame.index, dtype=object)
    if complete.any():
        joined[complete] = texts[0][complete].astype(str)
        for text in texts[1:]:
            joined[complete] = joined[complete] + " " + text[complete].astype(str)
    return joined, partial


def _map_inputs(options: ShapingOptions) -> set[str]:
    return {name for t, m in options.value_map.items() for name in (t, m.source or t)}


def _mapped(frame: pd.DataFrame, target: str, value_map: ValueMap, notes: Counter) -> pd.Series:
    """``target`` translated by ``value_map``, reading ``frame`` (the columns as they were
    before any map: its ``from`` column, else ``target`` itself); unmapped values counted per
    value in ``notes`` (the most frequent listed, the rest lumped)."""
    source = value_map.source or target
    values = (
        clean_text(_one(frame, source))
        if source in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    exact = {str(k).strip().casefold(): _text(v) for k, v in value_map.values.items()}
    # A value that already is one of the map's results (low_voltage) is mapped to itself.
    results = [*value_map.values.values(), *value_map.patterns.values()]
    for result in results:
        exact.setdefault(_text(result).casefold(), _text(result))
    patterns = [(re.compile(p, re.IGNORECASE), _text(v)) for p, v in value_map.patterns.items()]
    positions, uniques = pd.factorize(values, use_na_sentinel=True)
    translated = []
    for value in uniques:
        found = exact.get(str(value).casefold())
        if found is None:
            found = next((v for p, v in patterns if p.search(str(value))), None)
        translated.append(found)
    table = np.array([*translated, None], dtype=object)
    result = pd.Series(table[positions], index=frame.index, dtype=object)
    unmapped = values.notna() & result.isna()
    if unmapped.any():
        counts = values[unmapped].value_counts()
        for value, count in counts.iloc[:UNMAPPED_LISTED].items():
            notes[UNMAPPED_NOTE.format(column=target, value=str(value)[:60])] += int(count)
        if len(counts) > UNMAPPED_LISTED:
            rest = int(counts.iloc[UNMAPPED_LISTED:].sum())
            notes[UNMAPPED_NOTE.format(column=target, value="(other values)")] += rest
    if value_map.default is not None:
        fallback = pd.Series(_text(value_map.default), index=frame.index, dtype=object)
    elif target in frame.columns:
        fallback = _one(frame, target).astype(object)
    else:
        fallback = pd.Series(None, index=frame.index, dtype=object)
    # A blank source value is no value to map: the column keeps what it had (or the default
    # only where the source has text that no rule matched).
    keep = values.isna()
    own = (
        _one(frame, target).astype(object)
        if target in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    return result.where(result.notna(), fallback.where(~keep, own))


# --- derived ids -------------------------------------------------------------------------------
def _normalised(values: pd.Series, name: str, tz: str) -> pd.Series:
    """Text of one id_from column as compared: trimmed, inner spaces collapsed, upper case;
    numbers without trailing zeros (``12.0`` = ``12``); times as UTC ``YYYYMMDDTHHMMSSZ``."""
    text = clean_text(values).astype(object)
    present = text.notna()
    out = text.where(~present, text.astype(str).str.replace(r"\s+", " ", regex=True).str.upper())
    numbers = pd.to_numeric(text.where(present), errors="coerce")
    numeric = numbers.notna() & np.isfinite(numbers.astype(float))
    if numeric.any():
        out = out.where(~numeric, numbers[numeric].map(lambda v: format(float(v), ".15g")))
    if name in TIME_COLUMNS and present.any():
        times, bad, ambiguous = parse_times(text.where(present & ~numeric), tz)
        readable = times.notna()
        if readable.any():
            out = out.where(~readable, times[readable].dt.strftime("%Y%m%dT%H%M%SZ"))
    return out


def derived_ids(frame: pd.DataFrame, columns: list[str], tz: str) -> tuple[pd.Series, pd.Series]:
    """Stable ids from ``columns`` and where they cannot be made (a column blank).

    The id is ``PREFIX-HASH``: PREFIX is the first column's normalised value (letters, digits,
    CJK, ``_ . :`` kept, other characters as ``_``, at most 24 characters) and HASH the first
    16 hex digits of the SHA-256 of every column's normalised value joined by U+001F. The same
    values give the same id in every snapshot, file and run; a value revised by the source (a
    corrected start time) gives a new id."""
    parts = [_normalised(_one(frame, name), name, tz) for name in columns]
    missing = pd.concat([p.isna() for p in parts], axis=1).any(axis=1)
    keys = parts[0].astype(str)
    for part in parts[1:]:
        keys = keys + "\x1f" + part.astype(str)
    positions, uniques = pd.factorize(keys.where(~missing), use_na_sentinel=True)
    made = [_one_id(key) for key in uniques]
    table = np.array([*made, None], dtype=object)
    return pd.Series(table[positions], index=frame.index, dtype=object), missing


def _one_id(key: str) -> str:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:ID_HASH_CHARS]
    first = key.split("\x1f", 1)[0]
    prefix = re.sub(r"[^0-9A-Za-z_.:\u4e00-\u9fff]", "_", first)[:ID_PREFIX_CHARS]
    prefix = prefix.lstrip("_.:")  # never a leading character a spreadsheet reads as formula
    return f"{prefix}-{digest}" if prefix else digest


__all__ = ["SHAPING_REASONS", "Shaped", "derived_ids", "shape", "shaped_columns"]
