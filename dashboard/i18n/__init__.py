"""Chinese (default) and English labels, and number/date formats per language.

``tr(key, lang)`` falls back to the key itself so a missing label shows up on screen, not as an
error. Formats: Chinese dates read ``11月27日 13:05``, English ``27 Nov 13:05``; both group
thousands with commas (what Chinese utility reports use in tables).

The labels live by area, one module each (``shell``, ``live``, ``columns``, ``planner``,
``reliability``, ``data_page``, and ``messages`` for sign-in and alerts), the translations of
values shown in tables in ``values``;
``LABELS`` joins the areas (a key in two areas is an error at import).
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd

from dashboard.i18n import columns, data_page, live, messages, planner, reliability, shell
from dashboard.i18n.values import (
    AREA_KINDS,
    CATEGORIES,
    CAUSES,
    PROJECTS,
    REASONS,
    RECORD_KINDS,
    STATUSES,
    TABLES,
)

__all__ = [
    "AREA_KINDS",
    "CATEGORIES",
    "CAUSES",
    "LABELS",
    "LANGS",
    "PROJECTS",
    "REASONS",
    "RECORD_KINDS",
    "STATUSES",
    "TABLES",
    "fmt_clock",
    "fmt_int",
    "fmt_minutes",
    "fmt_num",
    "fmt_time",
    "norm_lang",
    "tr",
    "tr_map",
]

LANGS = ("zh", "en")


def _joined(*areas: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for area in areas:
        twice = out.keys() & area.keys()
        if twice:
            raise ValueError(f"labels defined in two areas: {sorted(twice)}")
        out.update(area)
    return out


LABELS: dict[str, tuple[str, str]] = _joined(
    shell.LABELS,
    live.LABELS,
    columns.LABELS,
    planner.LABELS,
    reliability.LABELS,
    data_page.LABELS,
    messages.LABELS,
)

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def norm_lang(lang: str | None, default: str = "zh") -> str:
    return lang if lang in LANGS else default


def tr(key: str, lang: str | None, **kw) -> str:
    pair = LABELS.get(key)
    text = key if pair is None else pair[1 if lang == "en" else 0]
    return text.format(**kw) if kw else text


def tr_map(table: dict[str, tuple[str, str]], value, lang: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    pair = table.get(str(value))
    return str(value) if pair is None else pair[1 if lang == "en" else 0]


def fmt_int(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{round(float(value)):,}"


def fmt_num(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def fmt_minutes(minutes, lang: str | None) -> str:
    if minutes is None or (isinstance(minutes, float) and not math.isfinite(minutes)):
        return "–"
    m = round(float(minutes))
    h, m = divmod(m, 60)
    if lang == "en":
        return f"{h} h {m:02d} min" if h else f"{m} min"
    return f"{h}小时{m:02d}分" if h else f"{m}分钟"


def fmt_time(ts, lang: str | None, tz: str, with_date: bool = True) -> str:
    """A UTC timestamp shown in the site's local time."""
    if ts is None or ts is pd.NaT or (isinstance(ts, float) and math.isnan(ts)):
        return ""
    t = pd.Timestamp(ts)
    if pd.isna(t):
        return ""
    if t.tzinfo is None:
        t = t.tz_localize("UTC")
    t = t.tz_convert(tz)
    if not with_date:
        return t.strftime("%H:%M")
    if lang == "en":
        return f"{t.day} {_EN_MONTHS[t.month - 1]} {t:%H:%M}"
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def fmt_clock(now: datetime, lang: str | None, tz: str) -> str:
    return fmt_time(pd.Timestamp(now), lang, tz) + pd.Timestamp(now).tz_convert(tz).strftime(":%S")
