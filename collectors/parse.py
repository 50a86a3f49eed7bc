"""Vectorised parsing of raw text columns: times, booleans, numbers, ids.

Each parser returns the parsed values plus a boolean mask of the entries that were given but
could not be parsed, so the caller can quarantine exactly those rows with a reason.
"""

from __future__ import annotations

import json
import re
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

# Zone abbreviations understood at the end of a time (or anywhere with time_format). CST is
# China Standard Time unless a source says otherwise (zone_abbreviations = {CST = "-06:00"}).
# Others that name several zones (IST, BST, AST) are not guessed: such a time is bad_time.
ZONE_ABBREVIATIONS: dict[str, str] = {
    "UTC": "+00:00",
    "GMT": "+00:00",
    "CST": "+08:00",
    "HKT": "+08:00",
    "JST": "+09:00",
    "EST": "-05:00",
    "EDT": "-04:00",
    "CDT": "-05:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "HST": "-10:00",
}
US_CENTRAL_CST = "-06:00"


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
    but outside the range pandas can hold, NS_FIRST..NS_LAST; their time is NaT),
    ``nonexistent`` (a local time skipped by a DST change, e.g. 02:30 on the spring-forward
    night) and ``dst_ambiguous`` (a local time that occurs twice when clocks fall back)."""

    times: pd.Series
    bad: pd.Series
    ambiguous: pd.Series
    too_early: pd.Series
    too_late: pd.Series
    nonexistent: pd.Series | None = None
    dst_ambiguous: pd.Series | None = None

    def __post_init__(self) -> None:
        no = pd.Series(False, index=self.times.index)
        if self.nonexistent is None:
            self.nonexistent = no.copy()
        if self.dst_ambiguous is None:
            self.dst_ambiguous = no.copy()


def localize(naive: pd.Series, tz: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Naive local times in ``tz`` -> (UTC times, nonexistent mask, DST-ambiguous mask). A
    time in a DST gap or overlap is NaT and flagged, never shifted or guessed."""
    local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    failed = mask(local.isna() & naive.notna())
    no = pd.Series(False, index=naive.index)
    if not failed.any():
        return local.dt.tz_convert("UTC"), no, no.copy()
    # Asked again with a choice for overlaps: still NaT means there is no such local time.
    retry = naive[failed].dt.tz_localize(
        tz, ambiguous=np.ones(int(failed.sum()), dtype=bool), nonexistent="NaT"
    )
    gap = no.copy()
    gap[failed] = retry.isna().to_numpy()
    overlap = failed & ~gap
    return local.dt.tz_convert("UTC"), gap, overlap


def _abbreviation_pattern(abbreviations: dict[str, str]) -> str:
    names = "|".join(sorted(map(re.escape, abbreviations), key=len, reverse=True))
    return rf"(?<![A-Za-z])({names})(?![A-Za-z])"


def replace_abbreviations(text: pd.Series, abbreviations: dict[str, str]) -> pd.Series:
    """A known zone abbreviation written in a time (``2026-08-09 11:34:00 MST``) replaced by
    its UTC offset (``2026-08-09 11:34:00-07:00``); case matters (``est`` is not a zone)."""
    table = dict(abbreviations)

    def offset(match: re.Match) -> str:
        return table[match.group(1)]

    out = text.str.replace(r"\s*" + _abbreviation_pattern(table), offset, regex=True)
    return out.str.replace(r"\s{2,}", " ", regex=True).str.strip()


def parse_times(
    values: pd.Series,
    tz: str,
    *,
    time_format: str | None = None,
    abbreviations: dict[str, str] | None = None,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse timestamps to tz-aware UTC.

    With an offset (``Z``, ``+08:00``) or a known zone abbreviation (``MST``, see
    ZONE_ABBREVIATIONS) a value is taken as given; without one it is local time in ``tz``.
    ``YYYY/MM/DD`` and ``YYYY年MM月DD日`` are accepted; day-first forms are ambiguous.
    Returns (times, bad mask, ambiguous mask); blanks are NaT and neither bad nor ambiguous;
    times outside the storable range (year 0001, 9999) and local times in a DST gap or overlap
    are NaT and count as bad."""
    parsed = parse_times_checked(values, tz, time_format=time_format, abbreviations=abbreviations)
    bad = parsed.bad | parsed.too_early | parsed.too_late
    return parsed.times, bad | parsed.nonexistent | parsed.dst_ambiguous, parsed.ambiguous


def _bounded(parsed: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """UTC times of any resolution -> datetime64[ns, UTC], with masks of those out of range."""
    early = mask(parsed < NS_FIRST)
    late = mask(parsed >= NS_LAST)
    if early.any() or late.any():
        parsed = parsed.where(~(early | late))
    return parsed.dt.as_unit("ns"), early, late


def parse_times_checked(
    values: pd.Series,
    tz: str,
    *,
    time_format: str | None = None,
    abbreviations: dict[str, str] | None = None,
) -> ParsedTimes:
    """``parse_times`` keeping out-of-range times and DST gaps / overlaps apart from unreadable
    ones (see ParsedTimes). ``time_format`` (strftime, e.g. ``%d/%m/%Y %H:%M``) is tried first;
    values it does not fit go through the usual forms. ``abbreviations`` extends or overrides
    ZONE_ABBREVIATIONS (e.g. ``{"CST": "-06:00"}`` for US Central)."""
    index = values.index
    no = pd.Series(False, index=index)
    gap = no.copy()
    overlap = no.copy()
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        times, early, late = _bounded(values.dt.tz_convert("UTC"))
        return ParsedTimes(times, no, no.copy(), early, late)
    if values.dtype.kind == "M":
        local, gap, overlap = localize(values, tz)
        bad = local.isna() & values.notna() & ~gap & ~overlap
        times, early, late = _bounded(local)
        return ParsedTimes(times, bad, no.copy(), early, late, gap, overlap)
    zones = {**ZONE_ABBREVIATIONS, **(abbreviations or {})}
    missing = blank(values)
    text = values.astype("string").str.strip()
    result = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    too_early = no.copy()
    too_late = no.copy()

    def put(where: pd.Index, parsed: tuple[pd.Series, pd.Series, pd.Series]) -> None:
        utc, in_gap, in_overlap = parsed
        times, early, late = _bounded(utc)
        result[where] = times
        too_early[where] = early
        too_late[where] = late
        gap[where] = in_gap.to_numpy()
        overlap[where] = in_overlap.to_numpy()

    if time_format is not None:
        todo = ~missing
        if todo.any():
            put(todo[todo].index, _formatted(text[todo], tz, time_format, zones))
    # Fast path for clean ISO 8601 (nearly every export): no regular expressions at all.
    tail = text.str.slice(-6)
    with_offset = mask(
        text.str.endswith("Z")
        | text.str.endswith("z")
        | (tail.str.slice(0, 1).isin(["+", "-"]) & (tail.str.slice(3, 4) == ":"))
    )
    pending = result.isna() & ~missing & ~gap & ~overlap & ~too_early & ~too_late
    for aware in (True, False):
        part = pending & (with_offset if aware else ~with_offset)
        if part.any():
            put(part[part].index, _iso(text[part], tz, aware))
    # Slow path only for what the fast path could not read: zone abbreviations, other
    # separators, CJK dates, unpadded fields, ambiguous day-first forms.
    retry = result.isna() & ~missing & ~too_early & ~too_late & ~gap & ~overlap
    ambiguous = no.copy()
    if retry.any():
        other = text[retry]
        other = replace_abbreviations(other, zones)
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
    bad = result.isna() & ~missing & ~ambiguous & ~too_early & ~too_late & ~gap & ~overlap
    return ParsedTimes(result, bad, ambiguous, too_early, too_late, gap, overlap)


def _formatted(
    text: pd.Series, tz: str, time_format: str, zones: dict[str, str]
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Values read with a strftime format; a known abbreviation read by ``%Z`` becomes its
    offset (Python's ``%Z`` alone knows only UTC and GMT)."""
    if "%Z" in time_format:
        text = text.str.replace(
            _abbreviation_pattern(zones), lambda m: zones[m.group(1)], regex=True
        )
        time_format = time_format.replace("%Z", "%z")
    parsed = pd.to_datetime(text, errors="coerce", format=time_format)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        no = pd.Series(False, index=text.index)
        return parsed.dt.tz_convert("UTC"), no, no.copy()
    if parsed.dtype == object:  # mixed offsets: one value at a time, then to UTC
        parsed = pd.to_datetime(text, errors="coerce", format=time_format, utc=True)
        no = pd.Series(False, index=text.index)
        return parsed, no, no.copy()
    return localize(parsed, tz)


def _iso(text: pd.Series, tz: str, aware: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    no = pd.Series(False, index=text.index)
    if aware:
        return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601"), no, no.copy()
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_convert("UTC"), no, no.copy()
    return localize(parsed, tz)


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
