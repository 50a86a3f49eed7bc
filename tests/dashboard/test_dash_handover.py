"""Shift handover (issue 17): ``feederwatch handover --from --to`` and the board's button
produce a one-page PDF (rendered to PNG here with pdfium) and a workbook whose figures equal
the live board's for the same period, and figures computed here from the database."""

from __future__ import annotations

import importlib
import io
import re

import numpy as np
import pandas as pd
from click.testing import CliRunner

from tests.dashboard.storm_helpers import ingest_outage


def _figure(text: str, label: str) -> int:
    m = re.search(re.escape(label) + r"\s*([\d,]+)", text)
    assert m, (label, text[:400])
    return int(m.group(1).replace(",", ""))


def test_handover001_pdf_and_workbook_match_the_board(app, county_db, tmp_path):
    import pypdfium2 as pdfium
    from reportlab.pdfbase import pdfmetrics

    from db.queries import active_outages, outages
    from feederwatch.cli import cli

    url, engine = county_db
    now = pd.Timestamp.now(tz="UTC")
    ingest_outage(engine, "HO-OPEN", "F0103", 88, now - pd.Timedelta(hours=2))
    ingest_outage(
        engine, "HO-DONE", "F0104", 55, now - pd.Timedelta(hours=3), end=now - pd.Timedelta(hours=1)
    )
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    start = (now - pd.Timedelta(hours=12)).tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M:%S")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["--config", str(cfg), "handover", "--from", start, "--to", "now", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    pdf_path, xlsx_path = (p for p in res.output.split())
    assert pdf_path.endswith(".pdf") and xlsx_path.endswith(".xlsx")

    # the board at the same moment
    live = importlib.import_module("dashboard.pages.live")
    board = live.update_live(0, "zh", None)
    board_active, board_customers = int(board[0]), int(board[1].replace(",", ""))

    # one page, rendered to PNG, with ink on it; its text carries the figures
    doc = pdfium.PdfDocument(pdf_path)
    assert len(doc) == 1
    page = doc[0]
    image = page.render(scale=1.5).to_pil()
    image.save(tmp_path / "handover.png")
    pixels = np.asarray(image.convert("L"))
    assert (pixels < 128).mean() > 0.005  # text drawn, not a blank page
    text = page.get_textpage().get_text_range()
    assert "交接班报告" in text
    # every character of the page is in the embedded CJK font (no empty boxes)
    face = pdfmetrics.getFont("FeederWatchCJK").face
    assert all(ord(ch) in face.charToGlyph for ch in text if not ch.isspace())
    assert _figure(text, "交班时仍在停电（起）") == board_active
    assert _figure(text, "交班时停电户数") == board_customers

    # and the same figures computed here from the database
    hist = outages(engine)
    lo = pd.Timestamp(start, tz="Asia/Shanghai").tz_convert("UTC")
    started = hist[(hist["start"] >= lo) & (hist["start"] < now)]
    restored = hist[hist["end"].notna() & (hist["end"] >= lo) & (hist["end"] < now)]
    assert _figure(text, "本班新增停电（起）") == len(started)
    assert _figure(text, "本班恢复送电（起）") == len(restored)
    assert len(active_outages(engine)) == board_active

    # the workbook's summary sheet has the same figures
    summary = pd.read_excel(xlsx_path, sheet_name="汇总")
    values = dict(zip(summary.iloc[:, 0], summary.iloc[:, 1], strict=True))
    assert int(str(values["交班时仍在停电（起）"]).replace(",", "")) == board_active
    assert int(str(values["交班时停电户数"]).replace(",", "")) == board_customers
    sheets = pd.ExcelFile(xlsx_path).sheet_names
    assert sheets == [
        "汇总",
        "最长停电",
        "本班停电",
        "频繁停电线路",
        "工单分类",
        "告警",
        "数据质量",
    ]
    outages_sheet = pd.read_excel(xlsx_path, sheet_name="本班停电")
    assert {"HO-OPEN", "HO-DONE"} <= set(outages_sheet["outage_id"])


def test_handover002_button_english_and_bad_range(app, county_db, tmp_path):
    import pypdfium2 as pdfium

    from feederwatch.cli import cli

    live = importlib.import_module("dashboard.pages.live")
    pdf, xlsx = live.handover_download(1, "en")
    assert pdf["filename"].endswith(".pdf") and xlsx["filename"].endswith(".xlsx")
    import base64

    doc = pdfium.PdfDocument(base64.b64decode(pdf["content"]))
    text = doc[0].get_textpage().get_text_range()
    board = live.update_live(0, "en", None)
    assert _figure(text, "Still open at handover") == int(board[0])
    assert "Longest outages" in text
    book = pd.ExcelFile(io.BytesIO(base64.b64decode(xlsx["content"])))
    assert book.sheet_names[0] == "Summary"
    # a range the wrong way round: exit 2 with one line
    url, _ = county_db
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    res = CliRunner().invoke(
        cli, ["--config", str(cfg), "handover", "--from", "2026-01-02", "--to", "2026-01-01"]
    )
    assert res.exit_code == 2 and "before" in res.output
    res = CliRunner().invoke(cli, ["--config", str(cfg), "handover", "--from", "yesterday-ish"])
    assert res.exit_code == 2 and "not a time range" in res.output
