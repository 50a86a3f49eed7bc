"""docs/formats.md is the contract: it lists every reason code the pipeline can give."""

from collectors.validate import REASONS
from tests.conftest import ROOT


def test_doc001_every_reason_code_is_documented():
    text = (ROOT / "docs" / "formats.md").read_text("utf-8")
    missing = [code for code in REASONS if f"`{code}`" not in text]
    assert missing == []
