"""Shared fixtures: a migrated database on SQLite files AND on the real PostgreSQL.

PostgreSQL, Chromium and ../shared/data are required under CI=true (a missing one fails the
test); elsewhere tests that need them skip with the reason shown by ``-ra``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FEEDERWATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
REAL_DATA = SHARED_DATA / "real"
PG_URL = os.environ.get(
    "FEEDERWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false, or fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


_pg_ok: bool | None = None


def postgres_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            import psycopg

            with psycopg.connect(
                PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3
            ):
                _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


def real_data(*parts: str) -> Path:
    """A path under ../shared/data/real, skipping (or failing in CI) when it is missing."""
    path = REAL_DATA.joinpath(*parts)
    require(path.exists(), f"real data not found at {path}")
    return path


class PgSchema:
    """A private schema in the test database, dropped afterwards."""

    def __init__(self) -> None:
        self.name = f"fw_{uuid.uuid4().hex[:12]}"
        self.url = f"{PG_URL}?options=-csearch_path%3D{self.name}"

    def __enter__(self) -> PgSchema:
        import psycopg

        with psycopg.connect(
            PG_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True
        ) as conn:
            conn.execute(f'CREATE SCHEMA "{self.name}"')
        return self

    def __exit__(self, *exc) -> None:
        import psycopg

        with psycopg.connect(
            PG_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True
        ) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database URL: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fw.db'}"
        return
    require(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
    with PgSchema() as schema:
        yield schema.url


@pytest.fixture
def engine(db_url):
    """A migrated engine on each back end."""
    from db.engine import make_engine
    from db.migrate import upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


# --- headless Chromium for dash_duo (see ../shared/BROWSER_TESTS.md) -----------------------


def chromium_available() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-unsafe-swiftshader",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1366,900",
        f"--user-data-dir={tempfile.mkdtemp()}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return options


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_engine(request, tmp_path_factory):
    """One migrated database per test module and back end (for suites of many small cases)."""
    from db.engine import make_engine
    from db.migrate import upgrade

    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'fw.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    require(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
    with PgSchema() as schema:
        eng = make_engine(schema.url)
        upgrade(eng)
        yield eng
        eng.dispose()


@pytest.fixture
def pg_engine():
    """A migrated engine on PostgreSQL only (concurrent writers, partitions: PostgreSQL's)."""
    from db.engine import make_engine
    from db.migrate import upgrade

    require(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
    with PgSchema() as schema:
        eng = make_engine(schema.url)
        upgrade(eng)
        yield eng
        eng.dispose()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a real server the test starts)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
