"""A JSON feed's items as the pipeline will see them: a frame of raw values, the canonical
value of a column per item (mapped and shaped), and the last item of an outage the feed no
longer lists, ended by inference."""

from __future__ import annotations

import json

import pandas as pd

from collectors.mapping import apply_mapping
from collectors.options import HttpOptions
from collectors.parse import object_records
from collectors.pipeline import PRE_REJECT
from collectors.shaping import shape
from collectors.validate import InputRefused


def items_frame(items: list, na_values: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """The feed's items as a frame of raw values, one row per item."""
    # One row per item: one that is not an object is quarantined alone (not_an_object, with
    # its JSON text), never a reason to lose the feed. Values in na_values become blank.
    blanks = set(na_values)
    rows = [
        {k: (None if isinstance(v, str) and v in blanks else _scalar(v)) for k, v in item.items()}
        for item in object_records(items, PRE_REJECT)
    ]
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    return frame.astype(object).where(frame.notna(), None) if not frame.empty else frame


def _scalar(value):
    # Nested objects are kept as JSON text: they travel to the quarantine intact.
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def canonical_values(frame: pd.DataFrame, o: HttpOptions, name: str, tz: str) -> list:
    """The canonical column ``name`` of each item, as the pipeline will see it: mapped and
    shaped (an id made by ``id_from`` is how a snapshot outage is known from poll to poll)."""
    if frame.empty:
        return []
    mapped = apply_mapping(frame.drop(columns=PRE_REJECT, errors="ignore"), "outages", o.mapping)
    if o.shapes and o.unpivot is None:  # unpivot makes rows of its own: nothing to line up
        try:
            shaped = shape(mapped, "outages", o, tz)
        except InputRefused:
            return [None] * len(frame)  # the pipeline refuses this page and says why
        mapped = shaped.frame
        if not shaped.rejected.empty:
            mapped = mapped.copy()
            mapped.loc[shaped.rejected.index, name] = None
    if name not in mapped.columns:
        return [None] * len(frame)
    column = mapped[name]
    if isinstance(column, pd.DataFrame):
        column = column.iloc[:, 0]
    return [None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in column]


def ended_item(item: dict, mapping: dict[str, str], at: str) -> dict:
    """The vanished outage's last item, ended at ``at`` and flagged as an inferred end."""
    probe = pd.DataFrame(columns=list(item))
    mapped = apply_mapping(probe, "outages", mapping)
    end_key = next(
        (raw for raw, canon in zip(item, mapped.columns, strict=True) if canon == "end"), "end"
    )
    return {**item, end_key: at, "inferred_end": True}
