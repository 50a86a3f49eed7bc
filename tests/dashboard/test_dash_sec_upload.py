"""The data page's upload refuses files over the size limit before decoding or parsing them."""

from __future__ import annotations

import base64
import contextlib
import importlib


def test_upl001_over_limit_refused_before_parsing(app, monkeypatch):
    dp = importlib.import_module("dashboard.pages.data")
    assert dp.upload_limit_bytes() == 50 * 1024 * 1024  # the default
    monkeypatch.setenv(dp.UPLOAD_LIMIT_ENV, "0.01")  # about 10 kB
    parsed = []
    monkeypatch.setattr(type(dp.data.store()), "upload", lambda *a, **k: parsed.append(a))
    big = "outage_id,feeder,start\n" + "X,F0101,2025-01-01T00:00:00Z\n" * 1000
    contents = "data:text/csv;base64," + base64.b64encode(big.encode()).decode()
    out = dp.run_upload(contents, "big.csv", "outages", "en")
    assert out.id == "upload-refused" and "File too large (limit 0.01 MB)" in str(out.children)
    assert parsed == []  # never reached the pipeline
    zh = dp.run_upload(contents, "big.csv", "outages", "zh")
    assert "文件过大" in str(zh.children)
    small = "data:text/csv;base64," + base64.b64encode(b"outage_id\n").decode()
    with contextlib.suppress(AttributeError):  # the fake upload returns None: only the call counts
        dp.run_upload(small, "s.csv", "outages", "en")
    assert len(parsed) == 1
    # the Flask request body is capped too (three times the limit at app creation)
    assert app.server.config["MAX_CONTENT_LENGTH"] == 3 * 50 * 1024 * 1024 + 2**20
