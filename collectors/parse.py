"""Vectorised parsing of raw text columns: times, booleans, numbers, ids.

Each parser returns the parsed values plus a boolean mask of the entries that were given but
could not be parsed, so the caller can quarantine exactly those rows with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Ambiguous day-first or month-first dates (01/07/2025): refused, never guessed.
_AMBIGUOUS = r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
_HAS_OFFSET = r"(?:[zZ]|[+-]\d{2}:?\d{2})\s*$"
_CJK_DATE = r"^\s*(\d{4})年(\d{1,2})月(\d{1,2})日"
TRUE_WORDS = {"1", "true", "t", "yes", "y", "是", "1.0"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "否", "0.0"}
# Times are nanoseconds since 1970 in pandas (datetime64[ns]): about 1677-09-21 to 2262-04-11.
# A value outside (year 0001, 2300, 9999 — placeholders of real exports) is refused per row,
# never allowed to overflow and refuse the whole batch.
NS_FIRST = pd.Timestamp("1677-09-22", tz="UTC")
NS_LAST = pd.Timestamp("2262-04-10", tz="UTC")


def mask(values: pd.Series) -> pd.Series:
    """A plain numpy-bool mask (missing counts as False)."""
    return values.fillna(False).astype(bool)


def blank(values: pd.Series) -> pd.Series:
    """True where a raw value is missing or only whitespace."""
    if values.dtype.kind in "fiumMb":
        return values.isna()
    return mask(values.isna() | (values.astype("string").str.strip() == ""))


def clean_text(values: pd.Series) -> pd.Series:
    """Trimmed text with blanks as missing (object dtype, None for missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Clean the few categories, not the million values (simulator and XLSX codes).
        cleaned = clean_text(pd.Series(values.cat.categories, dtype=object))
        codes = values.cat.codes.to_numpy()
        table = np.append(cleaned.to_numpy(dtype=object), None)
        return pd.Series(table[codes], index=values.index, dtype=object)
    out = values.astype("string").str.strip()
    return out.where(out != "", None).astype(object).where(lambda s: s.notna(), None)


@dataclass
class ParsedTimes:
    """Parsed times (datetime64[ns, UTC]) and masks of the given values that could not be used:
    ``bad`` (unreadable), ``ambiguous`` (day-first forms), ``too_early`` / ``too_late`` (readable
    but outside the range pandas can hold, NS_FIRST..NS_LAST; their time is NaT)."""

    times: pd.Series
    bad: pd.Series
    ambiguous: pd.Series
    too_early: pd.Series
    too_late: pd.Series


def parse_times(values: pd.Series, tz: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse timestamps to tz-aware UTC.

    With an offset (``Z``, ``+08:00``) a value is taken as given; without one it is local time in
    ``tz``. ``YYYY/MM/DD`` and ``YYYY年MM月DD日`` are accepted; day-first forms are ambiguous.
    Returns (times, bad mask, ambiguous mask); blanks are NaT and neither bad nor ambiguous;
    times outside the storable range (year 0001, 9999) are NaT and count as bad."""
    parsed = parse_times_checked(values, tz)
    return parsed.times, parsed.bad | parsed.too_early | parsed.too_late, parsed.ambiguous


def _bounded(parsed: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """UTC times of any resolution -> datetime64[ns, UTC], with masks of those out of range."""
    early = mask(parsed < NS_FIRST)
    late = mask(parsed >= NS_LAST)
    if early.any() or late.any():
        parsed = parsed.where(~(early | late))
    return parsed.dt.as_unit("ns"), early, late


def parse_times_checked(values: pd.Series, tz: str) -> ParsedTimes:
    """``parse_times`` keeping out-of-range times apart from unreadable ones (see ParsedTimes)."""
    index = values.index
    no = pd.Series(False, index=index)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        times, early, late = _bounded(values.dt.tz_convert("UTC"))
        return ParsedTimes(times, no, no.copy(), early, late)
    if values.dtype.kind == "M":
        local = values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        bad = local.isna() & values.notna()
        times, early, late = _bounded(local)
        return ParsedTimes(times, bad, no.copy(), early, late)
    missing = blank(values)
    text = values.astype("string").str.strip()
    result = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    too_early = no.copy()
    too_late = no.copy()

    def put(where: pd.Index, parsed: pd.Series) -> None:
        times, early, late = _bounded(parsed)
        result[where] = times
        too_early[where] = early
        too_late[where] = late

    # Fast path for clean ISO 8601 (nearly every export): no regular expressions at all.
    tail = text.str.slice(-6)
    with_offset = mask(
        text.str.endswith("Z")
        | text.str.endswith("z")
        | (tail.str.slice(0, 1).isin(["+", "-"]) & (tail.str.slice(3, 4) == ":"))
    )
    for aware in (True, False):
        part = with_offset & ~missing if aware else ~with_offset & ~missing
        if part.any():
            put(part, _iso(text[part], tz, aware))
    # Slow path only for what the fast path could not read: other separators, CJK dates,
    # unpadded fields, ambiguous day-first forms.
    retry = result.isna() & ~missing & ~too_early & ~too_late
    ambiguous = no.copy()
    if retry.any():
        other = text[retry]
        other = other.str.replace(_CJK_DATE, r"\1-\2-\3", regex=True)
        other = other.str.replace(r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"\1-\2-\3", regex=True)
        # Zero-pad single-digit months and days (2025-7-1 9:05) so ISO 8601 parsing accepts them.
        other = other.str.replace(r"^(\d{4})-(\d)(?=-)", r"\1-0\2", regex=True)
        other = other.str.replace(r"^(\d{4}-\d{2})-(\d)(?=\D|$)", r"\1-0\2", regex=True)
        other = other.str.replace(r"^(\d{4}-\d{2}-\d{2})[ T](\d)(?=:)", r"\1 0\2", regex=True)
        ambiguous[retry] = mask(other.str.match(_AMBIGUOUS))
        offset = mask(other.str.contains(_HAS_OFFSET, regex=True))
        readable = ~ambiguous[retry]
        for aware in (True, False):
            part = readable & (offset if aware else ~offset)
            if part.any():
                put(part[part].index, _iso(other[part], tz, aware))
    bad = result.isna() & ~missing & ~ambiguous & ~too_early & ~too_late
    return ParsedTimes(result, bad, ambiguous, too_early, too_late)


def _iso(text: pd.Series, tz: str, aware: bool) -> pd.Series:
    if aware:
        return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_convert("UTC")
    return parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")


def parse_bools(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse yes/no words (1/0, true/false, yes/no, 是/否); blanks are False."""
    if values.dtype == bool:
        return values, pd.Series(False, index=values.index)
    text = values.astype("string").str.strip().str.lower()
    truthy = text.isin(TRUE_WORDS).fillna(False).astype(bool)
    falsy = text.isin(FALSE_WORDS).fillna(False).astype(bool)
    missing = blank(values)
    bad = ~(truthy | falsy | missing)
    return truthy, mask(bad)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse numbers (float64); thousands separators tolerated. Returns (numbers, bad mask)."""
    if values.dtype.kind in "fiu":
        return values.astype("float64"), pd.Series(False, index=values.index)
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = mask(numbers.isna() & ~blank(values)) | np.isinf(numbers.fillna(0))
    return numbers.where(~bad), bad


def epoch_seconds(times: pd.Series) -> pd.Series:
    """UTC times as epoch seconds (float64; missing stays NaN)."""
    # Through nanoseconds explicitly: pandas keeps microseconds for Python datetimes.
    seconds = (times.dt.as_unit("ns").array.asi8 // 10**9).astype("float64")
    return pd.Series(np.where(times.isna(), np.nan, seconds), index=times.index)


NOT_AN_OBJECT = "not_an_object"
ITEM_COLUMN = "_item"  # the JSON text of an item that is not an object, for the quarantine


def object_records(items: list, reject_column: str) -> list[dict]:
    """The items of a JSON list as records: objects as they are; anything else (a number, text,
    null, a list) as a record holding its JSON text in ``_item``, flagged ``not_an_object`` in
    ``reject_column`` so that the pipeline quarantines it with that raw value."""
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(item)
        else:
            text = json.dumps(item, ensure_ascii=False, default=str)
            out.append({ITEM_COLUMN: text, reject_column: NOT_AN_OBJECT})
    return out
