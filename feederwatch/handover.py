"""``feederwatch handover --from --to``: the shift handover as a one-page PDF and an Excel
workbook (issue 17), the same documents as the board's button (dashboard/handover.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd


def parse_time(text: str | None, tz: str) -> pd.Timestamp | None:
    """A time given on the command line: with an offset as given, without one in the site's
    zone; ``now`` or nothing for the current time. Raises ValueError on anything else."""
    if text is None or text.strip().lower() == "now":
        return None
    t = pd.Timestamp(text)  # ValueError on garbage
    if pd.isna(t):
        raise ValueError(text)
    return (t.tz_localize(tz) if t.tzinfo is None else t).tz_convert("UTC")


def shift_window(start: str | None, end: str | None, tz: str, hours: float = 12.0):
    """[start, end) in UTC: ``end`` defaults to now, ``start`` to ``hours`` before ``end``."""
    e = parse_time(end, tz) or pd.Timestamp(datetime.now(UTC))
    s = parse_time(start, tz) or e - pd.Timedelta(hours=hours)
    if s >= e:
        raise ValueError("--from must be before --to")
    return s, e


def write_handover(settings, start, end, lang: str, out: Path) -> tuple[Path, Path]:
    """Write the PDF and the workbook into ``out``; returns their paths."""
    from dashboard import data
    from dashboard.handover import file_stem, render_pdf, render_xlsx
    from db.engine import make_engine

    # a store of its own: the command must not become the pages' store (as configure would)
    store = data.DataStore(settings, make_engine(settings.database_url))
    try:
        s = store.handover(start.to_pydatetime(), end.to_pydatetime())
    finally:
        store.engine.dispose()
    tz, site = settings.site.timezone, settings.site.name
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(s, tz) + ("" if lang == "zh" else "_en")
    pdf, xlsx = out / f"{stem}.pdf", out / f"{stem}.xlsx"
    pdf.write_bytes(render_pdf(s, lang, tz, site))
    xlsx.write_bytes(render_xlsx(s, lang, tz, site))
    return pdf, xlsx
