"""docs/formats.md is the contract: it lists every reason code the pipeline can give."""

from collectors.validate import REASONS
from tests.conftest import ROOT


def test_doc001_every_reason_code_is_documented():
    text = (ROOT / "docs" / "formats.md").read_text("utf-8")
    missing = [code for code in REASONS if f"`{code}`" not in text]
    assert missing == []


def test_doc002_every_onboarding_recipe_is_a_valid_config(tmp_path):
    """docs/onboarding.md's recipes are configurations a new user copies: each toml block
    must load and validate as a whole config (every key known, every value allowed)."""
    import re
    import tomllib

    from feederwatch.config import parse_settings

    text = (ROOT / "docs" / "onboarding.md").read_text("utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    assert len(blocks) >= 8
    for block in blocks:
        settings = parse_settings(tomllib.loads(block), origin="onboarding", config_dir=tmp_path)
        names = re.findall(r"^\[sources\.([A-Za-z0-9_]+)\]", block, re.M)
        assert set(names) <= set(settings.source_options()), block
