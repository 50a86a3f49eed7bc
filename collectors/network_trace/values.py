"""Reading the values of a GIS export leniently: ids, booleans, numbers, text and line
geometries (the rules are in the package docstring)."""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

import pandas as pd

_TRUE = {"true", "1", "yes", "y", "t", "是", "on", "closed"}
_FALSE = {"false", "0", "no", "n", "f", "否", "off", "open"}


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def norm_id(value: Any) -> Any:
    """Integer-like ids become ``int``; other ids stripped ``str``; missing ids ``None``."""
    if is_missing(value):
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        f = float(value)
        return int(f) if math.isfinite(f) and f.is_integer() else str(value)
    text = str(value).strip()
    if not text:
        return None
    digits = text[1:] if text.startswith("-") else text
    if digits.isascii() and digits.isdigit() and (digits == "0" or not digits.startswith("0")):
        return int(text)
    return text


def id_key(value: Any) -> tuple[int, Any]:
    """Sort key: integers numerically first, then text."""
    if isinstance(value, int):
        return (0, value)
    return (1, str(value))


def parse_bool(value: Any, default: bool) -> bool:
    if is_missing(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Number):
        return float(value) != 0.0
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if not text:
        return default
    raise ValueError(f"not a boolean: {value!r}")


def as_float(value: Any) -> float:
    if is_missing(value):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def as_text(value: Any) -> str | None:
    if is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def line_coords(raw: Any) -> list[list[list[float]]] | None:
    """Parse a GeoJSON LineString/MultiLineString (text or dict) into a list of parts."""
    if is_missing(raw):
        return None
    try:
        geom = json.loads(raw) if isinstance(raw, str) else raw
        if isinstance(geom, dict) and geom.get("type") == "Feature":
            geom = geom.get("geometry")
        kind = geom.get("type")
        coords = geom.get("coordinates")
        if kind == "LineString":
            parts = [coords]
        elif kind == "MultiLineString":
            parts = list(coords)
        else:
            return None
        out = []
        for part in parts:
            pts = [[float(p[0]), float(p[1])] for p in part]
            if len(pts) < 2 or not all(math.isfinite(c) for pt in pts for c in pt):
                return None
            out.append(pts)
        return out or None
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None


# --------------------------------------------------------------------------------------------
# tracing
