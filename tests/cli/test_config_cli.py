import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import inspect

from db.engine import make_engine
from db.migrate import current_revision, head_revision
from feederwatch.config import ConfigError, default_config_text, load_settings
from tests.conftest import ROOT, PgSchema, postgres_available, require

# slow: every test runs the CLI in a subprocess
pytestmark = pytest.mark.slow


def run_cli(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("FEEDERWATCH_DATABASE_URL", None) if env is None else None
    return subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cfg001_shipped_config_is_the_builtin_default():
    assert (ROOT / "config.toml").read_text("utf-8") == default_config_text()
    shipped = load_settings(ROOT / "config.toml")
    assert shipped.thresholds.voltage_low == 198.0
    assert shipped.thresholds.voltage_high == 235.4
    assert shipped.site.timezone == "Asia/Shanghai"
    assert shipped.source_options()["sim"].type == "simulator"


def test_cfg002_relative_sqlite_path_resolves_against_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("FEEDERWATCH_DATABASE_URL", raising=False)
    (tmp_path / "site").mkdir()
    cfg = tmp_path / "site" / "fw.toml"
    cfg.write_text('[database]\nurl = "sqlite:///db/x.db"\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings(cfg).database_url == f"sqlite:///{tmp_path / 'site' / 'db' / 'x.db'}"


def test_cfg003_environment_overrides_the_url(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDERWATCH_DATABASE_URL", "postgresql+psycopg://u:s3cret@db/fw")
    assert load_settings(ROOT / "config.toml").database_url.endswith("@db/fw")


BAD_CONFIGS = [
    ("unknown key", "[databse]\nurl = 'sqlite:///x.db'\n", "databse: unknown key"),
    (
        "unknown nested key",
        "[thresholds]\nvoltage_lo = 190\n",
        "thresholds.voltage_lo: unknown key",
    ),
    ("wrong type", "[dashboard]\nport = 'eighty'\n", "dashboard.port"),
    (
        "negative interval",
        "[sources.oms]\ntype = 'http'\nurl = 'http://x'\ninterval_seconds = -5\n",
        "sources.oms.interval_seconds",
    ),
    ("limits crossed", "[thresholds]\nvoltage_low = 240.0\n", "thresholds: voltage_low (240.0)"),
    ("unknown source type", "[sources.x]\ntype = 'ftp'\n", "sources.x.type: must be one of"),
    ("bad timezone", "[site]\ntimezone = 'Mars/Olympus'\n", "site.timezone: unknown timezone"),
    ("not toml", "[database\nurl=", "not valid TOML"),
    (
        "bad cron",
        "[sources.f]\ntype = 'file'\npath = 'in'\ncron = '*/5 * *'\n",
        "sources.f: cron must have 5 fields",
    ),
    (
        "sql secret in two places",
        "[sources.s]\ntype='sql'\nquery='select 1'\n",
        "exactly one of url",
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_cfg004_bad_config_gives_one_line_and_exit_2(tmp_path, case, text, expected):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert expected in str(info.value)
    result = run_cli("--config", str(cfg), "init", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(cfg) in lines[0] and expected in lines[0]
    assert not (tmp_path / "x.db").exists()


def test_cfg005_missing_config_file(tmp_path):
    result = run_cli("--config", str(tmp_path / "nope.toml"), "init", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"feederwatch: error: {tmp_path / 'nope.toml'}: config file not found"
    )


def test_cli001_init_on_an_empty_folder_creates_a_migrated_sqlite_database(tmp_path):
    result = run_cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    db_file = tmp_path / "data" / "feederwatch.db"
    assert db_file.exists()
    engine = make_engine(f"sqlite:///{db_file}")
    assert current_revision(engine) == head_revision()
    assert "outages" in inspect(engine).get_table_names()
    again = run_cli("init", cwd=tmp_path)
    assert again.returncode == 0
    assert current_revision(engine) == head_revision()


def test_cli002_init_on_postgresql_via_environment(tmp_path):
    require(postgres_available(), "PostgreSQL not reachable")
    with PgSchema() as schema:
        result = run_cli("init", cwd=tmp_path, env={"FEEDERWATCH_DATABASE_URL": schema.url})
        assert result.returncode == 0, result.stderr
        assert "postgresql" in result.stdout
        engine = make_engine(schema.url)
        assert current_revision(engine) == head_revision()
        engine.dispose()
    assert not (tmp_path / "data").exists()


def test_cli003_secret_in_a_bad_database_url_is_never_printed(tmp_path):
    result = run_cli(
        "init",
        cwd=tmp_path,
        env={"FEEDERWATCH_DATABASE_URL": "postgresql+psycopg://fw:Hunter2Secret@127.0.0.1:1/x"},
    )
    assert result.returncode == 2
    assert "Hunter2Secret" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli004_bad_usage_exits_2_and_version_works(tmp_path):
    assert run_cli("frobnicate", cwd=tmp_path).returncode == 2
    assert run_cli("rank", "--level", "county", cwd=tmp_path).returncode == 2
    version = run_cli("--version", cwd=tmp_path)
    assert version.returncode == 0
    assert "feederwatch, version" in version.stdout
    help_text = run_cli("--help", cwd=tmp_path).stdout
    for command in ("init", "demo", "collect", "ingest", "simulate", "rank", "indices", "serve"):
        assert command in help_text


def test_cli005_default_config_is_valid_toml_with_every_section():
    data = tomllib.loads(default_config_text())
    assert {"database", "site", "thresholds", "ranking", "dashboard", "sources"} <= set(data)
