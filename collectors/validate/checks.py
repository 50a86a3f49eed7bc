"""The checks every kind of record shares, each on whole columns: ids, texts, times,
versions and codes looked up in the network; with the first-reason-wins accumulator of
rejected rows, the validation context and its outcome."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from collectors.parse import (
    blank,
    clean_text,
    epoch_seconds,
    mask,
    parse_numbers,
    parse_times,
    parse_times_checked,
)

from .reasons import (
    EARLIEST,
    FUTURE_SLACK,
    MAX_ID_LEN,
    MAX_TEXT_LEN,
    PLANNED_HORIZON,
    REASONS,
)


@dataclass
class Context:
    """What validation needs to know about the world: the network and the clock."""

    tz: str = "Asia/Shanghai"
    substations: dict[str, int] = field(default_factory=dict)
    feeders: dict[str, int] = field(default_factory=dict)
    transformers: dict[str, int] = field(default_factory=dict)
    counties: dict[str, int] = field(default_factory=dict)  # county code -> id (issue 19)
    feeder_of_substation: dict[str, str] = field(
        default_factory=dict
    )  # feeder code -> substation code
    feeder_of_transformer: dict[str, str] = field(default_factory=dict)
    served_feeder: dict[str, int] = field(default_factory=dict)
    served_transformer: dict[str, int] = field(default_factory=dict)
    authoritative: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    suspicious_hours: float = 168.0
    version_column: str | None = None
    # --- times --- (a source's own: timezone is in tz; None = the usual forms only)
    time_format: str | None = None
    zone_abbreviations: dict[str, str] | None = None
    # Voltage levels (docs/formats.md "Voltage at any level"); the defaults keep 220 V areas'
    # long-standing unit rules.
    voltage_unit: str = "auto"
    nominal_v: float | None = None
    plausible_pu: tuple[float, float] = (0.5, 1.5)


@dataclass
class Checked:
    """The outcome of validating one batch: rows to store, rows refused, counted notes."""

    good: pd.DataFrame
    rejected: pd.DataFrame  # index = raw row index; columns reason_code, reason_text
    notes: Counter = field(default_factory=Counter)
    new_codes: dict[str, set[str]] = field(default_factory=dict)  # authoritative registrations


class Rejects:
    """First-reason-wins accumulator of rejected rows (numpy arrays: it is asked for every
    check of every row, so it must cost next to nothing for the good ones)."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.bad = np.zeros(len(index), dtype=bool)
        self.code = np.full(len(index), None, dtype=object)
        self.text = np.full(len(index), None, dtype=object)

    def add(self, where, code: str, detail: str | pd.Series | None = None) -> None:
        if isinstance(where, pd.Series):
            where = (
                where.reindex(self.index, fill_value=False)
                if not where.index.equals(self.index)
                else where
            )
            where = where.to_numpy(dtype=bool, na_value=False)
        new = np.asarray(where, dtype=bool) & ~self.bad
        if not new.any():
            return
        self.bad |= new
        self.code[new] = code
        if isinstance(detail, pd.Series):
            # Format only the offending values: a million good rows cost nothing here.
            shown = detail[new].astype(object).astype(str).str.slice(0, 60)
            self.text[new] = (REASONS[code] + ": " + shown).to_numpy(dtype=object)
        else:
            self.text[new] = REASONS[code] + (f": {detail}" if detail else "")

    @property
    def ok(self) -> pd.Series:
        return pd.Series(~self.bad, index=self.index)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"reason_code": self.code[self.bad], "reason_text": self.text[self.bad]},
            index=self.index[self.bad],
        )


def values_of(frame: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` of ``frame``, or an all-blank column when the records lack it."""
    if name in frame:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def check_id(rej: Rejects, values: pd.Series, what: str = "id", required: bool = True) -> pd.Series:
    """The ids as stripped text (blank: None); rows with a missing (when ``required``), too
    long or formula-like id are rejected."""
    # Ids repeat (a million readings of a few thousand areas): check each distinct id once.
    codes, uniques = pd.factorize(clean_text(values), use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype="string")
    too_long = (distinct.str.len() > MAX_ID_LEN).to_numpy(bool)
    formula = mask(distinct.str.match(r"^[=+\-@]")).to_numpy(bool)
    text = pd.Series(np.append(np.asarray(uniques, dtype=object), None)[codes], index=values.index)
    if required:
        rej.add(pd.Series(codes < 0, index=values.index), "missing_id", what)
    present = codes >= 0
    rej.add(
        pd.Series(present & np.append(too_long, False)[codes], index=values.index),
        "id_too_long",
        what,
    )
    rej.add(
        pd.Series(present & np.append(formula, False)[codes], index=values.index),
        "formula_like_id",
        what,
    )
    return text


def check_texts(rej: Rejects, frame: pd.DataFrame, columns) -> None:
    """Reject rows whose text in any of ``columns`` is longer than MAX_TEXT_LEN."""
    for name in columns:
        if name in frame:
            lengths = frame[name].astype("string").str.len().fillna(0)
            rej.add(lengths > MAX_TEXT_LEN, "huge_field", name)


def check_time(
    rej: Rejects,
    values: pd.Series,
    ctx: Context,
    what: str,
    required: bool,
    future_ok: bool | pd.Series = False,
    notes: Counter | None = None,
) -> pd.Series:
    """The times as UTC timestamps; unreadable, ambiguous, DST-gap, future (unless
    ``future_ok``: all rows, or a mask of rows that may lie up to PLANNED_HORIZON ahead) and
    too old times are rejected."""
    parsed = parse_times_checked(
        values, ctx.tz, time_format=ctx.time_format, abbreviations=ctx.zone_abbreviations
    )
    times = parsed.times
    if required:
        rej.add(blank(values), "missing_time", what)
    rej.add(parsed.ambiguous, "ambiguous_time", what)
    in_zone = f" in {ctx.tz}"
    if parsed.nonexistent.any():
        detail = _shown(values, parsed.nonexistent, what, in_zone)
        rej.add(parsed.nonexistent, "time_nonexistent_dst", detail)
    if parsed.dst_ambiguous.any():
        detail = _shown(values, parsed.dst_ambiguous, what, in_zone)
        rej.add(parsed.dst_ambiguous, "time_ambiguous_dst", detail)
    rej.add(parsed.bad, "bad_time", values)
    # Readable but beyond what can be stored (year 0001, 2300, 9999): refused for this row only.
    if parsed.too_late.any() and (isinstance(future_ok, pd.Series) or not future_ok):
        rej.add(parsed.too_late, "time_in_future", _shown(values, parsed.too_late, what))
    elif parsed.too_late.any() and notes is not None:
        # An estimate centuries ahead is the typo an ETR years ahead is: cleared (NaT already).
        notes["etr_implausible_cleared"] += int((parsed.too_late & rej.ok).sum())
    if parsed.too_early.any():
        rej.add(parsed.too_early, "time_too_old", _shown(values, parsed.too_early, what))
    if isinstance(future_ok, pd.Series):
        # rows marked may lie up to PLANNED_HORIZON ahead (announced planned outages)
        ahead = future_ok.fillna(False).astype(bool)
        limit = pd.Series(pd.Timestamp(ctx.now + FUTURE_SLACK), index=times.index)
        limit[ahead] = pd.Timestamp(ctx.now + PLANNED_HORIZON)
        rej.add(times > limit, "time_in_future", what)
    elif not future_ok:
        rej.add(times > pd.Timestamp(ctx.now + FUTURE_SLACK), "time_in_future", what)
    rej.add(times < EARLIEST, "time_too_old", what)
    return times


def _shown(values: pd.Series, where: pd.Series, what: str, after: str = "") -> pd.Series:
    """``what VALUE after`` for the rows ``where`` (the others blank): only offending values
    are formatted (a million parsed times formatted as text cost seconds)."""
    out = pd.Series("", index=values.index, dtype=object)
    out[where] = what + " " + values[where].astype(str) + after
    return out


def check_version(rej: Rejects, frame: pd.DataFrame, ctx: Context) -> pd.Series:
    """The record version, a number or a time read as epoch seconds (the source's own version
    column when it names one); anything else is ``bad_version``."""
    column = ctx.version_column if ctx.version_column in frame else "version"
    raw = values_of(frame, column)
    numbers, bad_number = parse_numbers(raw)
    times, bad_time, _ = parse_times(
        raw.where(bad_number, None),
        ctx.tz,
        time_format=ctx.time_format,
        abbreviations=ctx.zone_abbreviations,
    )
    version = numbers.where(~bad_number, epoch_seconds(times))
    rej.add(bad_number & bad_time, "bad_version", raw)
    return version


def lookup_ids(
    rej: Rejects,
    codes: pd.Series,
    known: dict[str, int],
    reason: str,
    ctx: Context,
    new_codes: dict[str, set[str]],
    table: str,
) -> pd.Series:
    """The database ids of ``codes`` in ``known`` (NaN when blank or unknown). An unknown code
    is rejected with ``reason``, or, for an authoritative source, collected in
    ``new_codes[table]`` to be registered."""
    positions, uniques = pd.factorize(codes, use_na_sentinel=True)
    found = np.array([known.get(u, np.nan) for u in uniques] + [np.nan], dtype=np.float64)
    ids = pd.Series(found[positions], index=codes.index)
    unknown = pd.Series(positions >= 0, index=codes.index) & ids.isna()
    if ctx.authoritative:
        if unknown.any():
            new_codes.setdefault(table, set()).update(codes[unknown & rej.ok].tolist())
    else:
        rej.add(unknown, reason, codes)
    return ids


def raw_json(frame: pd.DataFrame, index: pd.Index) -> list[str]:
    """The raw records at ``index`` as JSON text, for the quarantine."""
    sub = frame.loc[index]
    out = sub.astype(object).where(sub.notna(), None)
    return [
        json.dumps(rec, ensure_ascii=False, default=str)[: MAX_TEXT_LEN * 2]
        for rec in out.to_dict("records")
    ]
