"""Shift handover documents (issue 17): a one-page PDF and an Excel workbook, in Chinese or
English, from :func:`analytics.handover.shift_summary` figures (``DataStore.handover``).

The PDF is drawn with reportlab in WenQuanYi Micro Hei (``fonts-wqy-microhei``), embedded, so
that Chinese renders on any reader; other CJK fonts are tried when it is absent. The workbook
has a summary sheet with the same figures and one sheet per list.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from dashboard.i18n import CATEGORIES, fmt_int, fmt_num, fmt_time, tr, tr_map

#: CJK fonts tried in order: (path, subfont index of a .ttc collection)
CJK_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("C:/Windows/Fonts/msyh.ttc", 0),
    ("C:/Windows/Fonts/simhei.ttf", 0),
)
FONT_NAME = "FeederWatchCJK"


class NoCJKFont(RuntimeError):
    """No font that can draw Chinese was found (install fonts-wqy-microhei)."""


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    for path, index in CJK_FONTS:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
            return FONT_NAME
    raise NoCJKFont("no CJK font found; install fonts-wqy-microhei")


def summary_rows(s: dict, lang: str) -> list[tuple[str, str]]:
    """The headline figures as (label, value) rows: the PDF's and the workbook's first table."""
    return [
        (tr("ho.started", lang), fmt_int(s["started"])),
        (tr("ho.restored", lang), fmt_int(s["restored"])),
        (tr("ho.still_open", lang), fmt_int(s["still_open"])),
        (tr("ho.customers_started", lang), fmt_int(s["customers_started"])),
        (tr("ho.customers_out_at_end", lang), fmt_int(s["customers_out_at_end"])),
        (tr("ho.customer_hours", lang), fmt_num(s["customer_hours"], 1)),
        (tr("ho.complaints", lang), fmt_int(s["complaints_total"])),
        (tr("ho.alerts_sent", lang), fmt_int(s["alerts_sent"])),
        (tr("ho.quarantined", lang), fmt_int(s["quarantined"])),
    ]


def _title(s: dict, lang: str, tz: str, site: str) -> str:
    return tr(
        "ho.title",
        lang,
        site=site,
        start=fmt_time(s["start"], lang, tz),
        end=fmt_time(s["end"], lang, tz),
    )


def render_pdf(s: dict, lang: str, tz: str, site: str = "") -> bytes:
    """The one-page handover PDF (A4 portrait)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = _font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(_title(s, lang, tz, site))
    width, height = A4
    x, y = 40, height - 50

    def line(text: str, size: float = 10, dx: float = 0, gap: float = 15) -> None:
        nonlocal y
        c.setFont(font, size)
        c.drawString(x + dx, y, text)
        y -= gap

    line(_title(s, lang, tz, site), 15, gap=24)
    for label, value in summary_rows(s, lang):
        c.setFont(font, 11)
        c.drawString(x, y, label)
        c.drawRightString(x + 300, y, value)
        y -= 16
    y -= 6
    line(tr("ho.longest", lang), 12, gap=16)
    for r in s["longest"].itertuples(index=False):
        cust = fmt_int(r.customers) if pd.notna(r.customers) else "–"
        line(
            f"{r.feeder or r.substation or '-'}  {fmt_time(r.start, lang, tz)}  "
            f"{fmt_int(r.minutes)} {tr('ho.minutes', lang)}  {cust} {tr('ho.customers', lang)}",
            9.5,
            dx=10,
            gap=13,
        )
    if s["longest"].empty:
        line("–", 9.5, dx=10, gap=13)
    y -= 4
    line(tr("ho.frequent_crossed", lang), 12, gap=16)
    line(", ".join(s["frequent_crossed"]) or "–", 9.5, dx=10, gap=17)
    line(tr("ho.complaints_by_category", lang), 12, gap=16)
    cats = [
        f"{tr_map(CATEGORIES, k, lang)} {fmt_int(v)}"
        for k, v in s["complaints_by_category"].items()
    ]
    line(" · ".join(cats) or "–", 9.5, dx=10, gap=17)
    line(tr("ho.alerts", lang), 12, gap=16)
    for r in s["alerts"].head(8).itertuples(index=False):
        line(f"{fmt_time(r.sent_at, lang, tz)}  {r.title}  {r.body}"[:110], 9, dx=10, gap=12)
    if s["alerts"].empty:
        line("–", 9.5, dx=10, gap=13)
    y -= 4
    line(tr("ho.data_quality", lang), 12, gap=16)
    stale = ", ".join(s["stale_sources"]) or tr("ho.none", lang)
    line(f"{tr('ho.stale_sources', lang)}: {stale}", 9.5, dx=10, gap=13)
    reasons = ", ".join(f"{k} × {v}" for k, v in s["quarantine_by_reason"].head(6).items())
    line(
        f"{tr('ho.quarantined', lang)}: {fmt_int(s['quarantined'])}"
        + (f" ({reasons})" if reasons else ""),
        9.5,
        dx=10,
        gap=13,
    )
    c.showPage()
    c.save()
    return buf.getvalue()


def render_xlsx(s: dict, lang: str, tz: str, site: str = "") -> bytes:
    """The handover workbook: a summary sheet (the PDF's figures) and one sheet per list."""

    def local(col: pd.Series) -> pd.Series:
        return col.dt.tz_convert(tz).dt.tz_localize(None)

    summary = pd.DataFrame(summary_rows(s, lang), columns=[tr("ho.figure", lang), ""])
    summary.loc[len(summary)] = (tr("ho.period", lang), _title(s, lang, tz, site))
    longest = s["longest"].assign(
        start=local(s["longest"]["start"]), end=local(s["longest"]["end"])
    )
    outages = s["outages"][
        ["outage_id", "feeder", "substation", "start", "end", "customers", "cause"]
    ].assign(
        start=local(s["outages"]["start"]),
        end=local(s["outages"]["end"]),
        customer_hours=s["outages"]["customer_hours"].round(2),
    )
    cats = s["complaints_by_category"]
    complaints = pd.DataFrame(
        {"category": [tr_map(CATEGORIES, k, lang) for k in cats.index], "count": cats.to_numpy()}
    )
    alerts = s["alerts"][["sent_at", "rule", "kind", "title", "body", "delivered"]].assign(
        sent_at=local(s["alerts"]["sent_at"])
    )
    quality = pd.DataFrame(
        [(tr("ho.stale_sources", lang), ", ".join(s["stale_sources"]))]
        + [
            (f"{tr('ho.quarantined', lang)}: {k}", int(v))
            for k, v in s["quarantine_by_reason"].items()
        ],
        columns=[tr("ho.figure", lang), ""],
    )
    frequent = pd.DataFrame({"feeder": s["frequent_crossed"]})
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        for name, df in (
            ("summary", summary),
            ("longest", longest),
            ("outages", outages),
            ("frequent", frequent),
            ("complaints", complaints),
            ("alerts", alerts),
            ("data_quality", quality),
        ):
            _safe(df).to_excel(xl, sheet_name=tr(f"ho.sheet_{name}", lang)[:31], index=False)
    return buf.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading apostrophe."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = [
                "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v
                for v in out[col]
            ]
    return out


def file_stem(s: dict, tz: str) -> str:
    a = s["start"].tz_convert(tz).strftime("%Y%m%d-%H%M")
    b = s["end"].tz_convert(tz).strftime("%Y%m%d-%H%M")
    return f"handover_{a}_{b}"
