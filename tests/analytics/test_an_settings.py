"""One source of truth for the analytics' settings (issue 20): analytics/settings.py types every
threshold and weight with its default; the application's typed config (feederwatch/config.py)
takes those defaults from it, the shipped config.toml and the built-in defaults write the same
values, and ``CONFIG_FIELDS`` joins config keys to settings fields by an explicit table, so that
a renamed field on either side fails here instead of being dropped."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from analytics.settings import (
    CONFIG_FIELDS,
    CONFIG_KEYS_ELSEWHERE,
    DEFAULT_SETTINGS,
    AnalyticsSettings,
)
from feederwatch import config as app_config
from tests.conftest import ROOT

SECTION_MODELS = {
    "thresholds": app_config.Thresholds,
    "ranking": app_config.RankingSettings,
    "indices": app_config.IndicesSettings,
}
SETTINGS_FIELDS = {f.name for f in fields(AnalyticsSettings)}


def _plain(value):
    return dict(value) if hasattr(value, "items") else value


def test_an501_every_config_key_of_the_analytics_sections_is_joined_or_declared():
    for section, model in SECTION_MODELS.items():
        keys = set(model.model_fields)
        joined = set(CONFIG_FIELDS[section])
        elsewhere = CONFIG_KEYS_ELSEWHERE.get(section, set())
        assert joined <= keys, f"[{section}] CONFIG_FIELDS names no config key: {joined - keys}"
        assert keys - joined - elsewhere == set(), f"[{section}] keys the analytics never see"
        assert elsewhere <= keys
    targets = [t for keys in CONFIG_FIELDS.values() for t in keys.values()]
    assert set(targets) <= SETTINGS_FIELDS
    assert len(targets) == len(set(targets)), "two config keys set one settings field"


def test_an502_the_config_defaults_are_the_analytics_defaults():
    for section, model in SECTION_MODELS.items():
        defaults = model()
        for key, field in CONFIG_FIELDS[section].items():
            assert _plain(getattr(defaults, key)) == _plain(getattr(DEFAULT_SETTINGS, field)), (
                f"[{section}].{key} defaults differ from AnalyticsSettings.{field}"
            )
    assert app_config.SiteSettings().timezone == DEFAULT_SETTINGS.tz


@pytest.mark.parametrize(
    "path",
    [ROOT / "config.toml", ROOT / "feederwatch" / "default_config.toml"],
    ids=["config.toml", "default_config.toml"],
)
def test_an503_the_shipped_config_files_write_the_defaults(path: Path):
    settings = app_config.parse_settings(
        tomllib.loads(path.read_text("utf-8")), origin=str(path), config_dir=ROOT
    )
    assert AnalyticsSettings.from_config(settings) == DEFAULT_SETTINGS


def _other_value(model, key: str, value):
    """A valid value for ``key`` other than ``value``."""
    if isinstance(value, dict):
        return [{"X1": 7.0}]
    if isinstance(value, str):
        literal = model.model_fields[key].annotation.__args__
        return [v for v in literal if v != value]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1]
    return [value * 0.5, value + 1.0, value * 1.01]


def test_an504_every_joined_key_reaches_its_settings_field():
    # a non-default value of each key must come out in the field CONFIG_FIELDS names
    for section, keys in CONFIG_FIELDS.items():
        model = SECTION_MODELS[section]
        for key, field in keys.items():
            default = getattr(model(), key)
            for candidate in _other_value(model, key, default):
                if _plain(candidate) == _plain(default):
                    continue
                try:
                    sec = model(**{key: candidate})
                except ValueError:
                    continue  # outside the key's bounds: try the next one
                break
            else:
                pytest.fail(f"no valid other value for [{section}].{key}")
            config = app_config.Settings(**{section: sec})
            got = getattr(AnalyticsSettings.from_config(config), field)
            assert _plain(got) == _plain(candidate), f"[{section}].{key} -> {field}"
            assert _plain(got) != _plain(getattr(DEFAULT_SETTINGS, field))


def test_an505_an_unjoined_key_is_refused_not_dropped():
    class Section:
        def __init__(self, **values):
            self.__dict__.update(values)

    config = Section(ranking=Section(weight_complaints=2.0, complaints_weight=3.0))
    with pytest.raises(ValueError, match="complaints_weight"):
        AnalyticsSettings.from_config(config)
    ok = Section(ranking=Section(weight_complaints=2.0))
    assert AnalyticsSettings.from_config(ok).weight_complaints == 2.0
