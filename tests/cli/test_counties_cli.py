"""``feederwatch indices`` and ``rank`` with ``--county`` (issue 19): three simulated counties
in one database, on SQLite and PostgreSQL. Each county's indices equal those of a database
holding that county alone (loaded on its own through the pipeline: an independent
comparison), for the system, every substation and every feeder."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from click.testing import CliRunner

from feederwatch.cli import cli
from tests.conftest import PgSchema, built_once, postgres_available, require
from tests.counties_kit import COUNTIES, DAYS, build_database, load_counties, province_config

CODES = tuple(c for c, *_ in COUNTIES)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def province(request, tmp_path_factory):
    """The URL of a database holding the three counties."""
    if request.param == "sqlite":
        path = built_once(tmp_path_factory, "province.db", lambda p: build_database(p, CODES))
        yield f"sqlite:///{path}"
        return
    require(postgres_available(), "PostgreSQL not reachable")
    from db.engine import make_engine
    from db.migrate import upgrade

    with PgSchema() as schema:
        engine = make_engine(schema.url)
        upgrade(engine)
        load_counties(engine, CODES)
        engine.dispose()
        yield schema.url


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """County code -> URL of a SQLite database holding that county only."""
    return {
        code: "sqlite:///"
        + str(
            built_once(
                tmp_path_factory, f"county_{code}.db", lambda p, c=code: build_database(p, (c,))
            )
        )
        for code in CODES
    }


def _config(tmp_path, url: str, codes, name: str):
    text, _ = province_config(url, codes, tmp_path)
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _json(config, *args) -> tuple[int, list | str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args, "--format", "json"])
    if result.exit_code != 0:
        return result.exit_code, result.output
    return 0, json.loads(result.output)


def _window() -> list[str]:
    """The simulated period's whole days, ending at today's local midnight (open outages are
    then counted to the window's end, not to the clock)."""
    today = pd.Timestamp.now(tz="Asia/Shanghai").normalize()
    return ["--from", str((today - timedelta(days=DAYS)).date()), "--to", str(today.date())]


@pytest.mark.slow
def test_cty_cli001_county_indices_equal_that_county_alone(province, alone, tmp_path):
    config = _config(tmp_path, province, CODES, "province.toml")
    totals = {}
    for code in CODES:
        single = _config(tmp_path, alone[code], (code,), f"{code}.toml")
        for by in ("system", "substation", "feeder"):
            status, mine = _json(config, "indices", "--by", by, "--county", code, *_window())
            assert status == 0, mine
            status, theirs = _json(single, "indices", "--by", by, *_window())
            assert status == 0, theirs
            assert mine == theirs, (code, by)
            if by == "feeder":
                assert {r["feeder"][:3] for r in mine} == {f"{code}-"}
        totals[code] = mine
    status, whole = _json(config, "indices", "--by", "feeder", *_window())
    assert status == 0
    assert len(whole) == sum(len(rows) for rows in totals.values())  # every feeder, once


@pytest.mark.slow
def test_cty_cli002_rank_by_county_and_unknown_county(province, tmp_path):
    config = _config(tmp_path, province, CODES, "province.toml")
    status, rows = _json(config, "rank", "--level", "substation", "--county", "ZQ", "--top", "50")
    assert status == 0, rows
    assert rows and {r["substation"][:3] for r in rows} == {"ZQ-"}
    status, rows = _json(config, "rank", "--top", "500")
    assert status == 0 and {r["feeder"][:3] for r in rows} == {"LC-", "ZQ-", "PY-"}
    result = CliRunner().invoke(cli, ["--config", str(config), "indices", "--county", "XX"])
    assert result.exit_code == 2
    assert "--county 'XX' is not a county of the database (counties: LC, ZQ, PY)" in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[counties]]\ncode = "LC"\nname = "a"\n[[counties]]\ncode = "LC"\nname = "b"\n',
            "counties.1.code: 'LC' is named twice",
        ),
        (
            '[[counties]]\ncode = "L C"\nname = "a"\n',
            "counties.0.code: 'L C' is not a county code",
        ),
        (
            '[[counties]]\ncode = "LC"\nname = "a"\n[sources.s]\ntype = "simulator"\n'
            'county = "ZQ"\n',
            "sources.s.county: 'ZQ' is not a configured county (counties: LC)",
        ),
        ('[[counties]]\ncode = "LC"\n', "counties.0.name: Field required"),
    ],
)
def test_cty_cli003_bad_counties_refused_with_one_line(tmp_path, toml, message):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/x.db"\n{toml}', "utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "init"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output


def test_cty_cli004_init_writes_the_counties_none_without(tmp_path):
    from db.engine import make_engine
    from db.queries.counties import counties

    url = f"sqlite:///{tmp_path}/p.db"
    text, _ = province_config(url, ("LC", "ZQ"), tmp_path)
    (tmp_path / "p.toml").write_text(text, "utf-8")
    assert CliRunner().invoke(cli, ["--config", str(tmp_path / "p.toml"), "init"]).exit_code == 0
    engine = make_engine(url)
    assert counties(engine)[["code", "name_en"]].values.tolist() == [
        ["LC", "Licheng"],
        ["ZQ", "Zhangqiu"],
    ]
    engine.dispose()
    plain = tmp_path / "plain.toml"
    plain.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/s.db"\n', "utf-8")
    assert CliRunner().invoke(cli, ["--config", str(plain), "init"]).exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    assert counties(engine).empty
    engine.dispose()


@pytest.mark.slow
def test_cty_cli005_serve_alone_writes_the_configured_counties(tmp_path):
    """A serve-only deployment: the database was initialised without ``[[counties]]``; a real
    `feederwatch serve` with a province config writes them before it serves (as ``init`` and
    the collectors do), so its county selector shows the configured names."""
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from dash.testing.wait import until

    from db.engine import make_engine
    from db.queries.counties import counties
    from tests.conftest import free_port

    url = f"sqlite:///{tmp_path}/s.db"
    plain = tmp_path / "plain.toml"
    plain.write_text(f'[database]\nurl = "{url}"\n', "utf-8")
    assert CliRunner().invoke(cli, ["--config", str(plain), "init"]).exit_code == 0
    engine = make_engine(url)
    assert counties(engine).empty
    port = free_port()
    text, _ = province_config(url, ("LC", "ZQ"), tmp_path, f"\n[dashboard]\nport = {port}\n")
    config = tmp_path / "p.toml"
    config.write_text(text, "utf-8")

    def up() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
        except urllib.error.HTTPError:  # 503 while no collector has run: the server is up
            return True
        except OSError:
            return False
        return True

    server = subprocess.Popen(
        [sys.executable, "-m", "feederwatch.cli", "--config", str(config), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until(up, timeout=60, poll=0.1)
        assert counties(engine)[["code", "name", "name_en"]].values.tolist() == [
            ["LC", "历城区", "Licheng"],
            ["ZQ", "章丘区", "Zhangqiu"],
        ]
    finally:
        server.terminate()
        server.wait(20)
        engine.dispose()
