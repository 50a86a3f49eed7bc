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


# --- parallel runs (pytest-xdist, `-n` in pyproject's addopts) ------------------------------


def pytest_itemcollected(item):
    """Group the tests for ``--dist loadgroup``: each module runs whole on one worker, so a
    module-scoped fixture (a simulated county, a served app) is built once and its tests keep
    their order; every browser test (marked, or using dash_duo) shares one group, so one
    Chromium runs at a time and dash_duo's servers never race for a port. A browser test
    counts as slow. Marked as each item is collected, before any selection or xdist's hook."""
    browser = item.get_closest_marker("browser") is not None or "dash_duo" in getattr(
        item, "fixturenames", ()
    )
    if browser:  # a Chromium per test: never part of the fast loop (-m "not slow")
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.slow)
    module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
    item.add_marker(pytest.mark.xdist_group("browser" if browser else module))


def pytest_collection_modifyitems(config, items):
    """The longest work first (xdist hands out the groups in this order, pyproject turning off
    its reordering by test count): the browser group, then the modules with slow tests, then
    the rest, so that no long module starts last and runs alone. Each group keeps its order."""

    def group(item) -> str:
        return next(item.iter_markers("xdist_group")).args[0]

    rank: dict[str, int] = {}
    for item in items:
        tier = 0 if group(item) == "browser" else 1 if item.get_closest_marker("slow") else 2
        rank[group(item)] = min(rank.get(group(item), 2), tier)
    items.sort(key=lambda item: rank[group(item)])


def run_shared_dir(tmp_path_factory) -> Path:
    """A folder shared by every worker of this test run (and by nobody else): under xdist the
    run's base folder, which holds one folder per worker; without it, this run's own folder."""
    base = tmp_path_factory.getbasetemp()
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    folder = base.parent / f"shared-{uid}" if uid else base / "shared"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def built_once(tmp_path_factory, name: str, build) -> Path:
    """The file ``name`` built by ``build(path)`` once per test run, whichever worker asks
    first (the others wait on a file lock); each caller gets its own copy to change freely."""
    import fcntl

    shared = run_shared_dir(tmp_path_factory)
    target = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            partial = shared / f"{name}.partial"
            partial.unlink(missing_ok=True)
            build(partial)
            partial.rename(target)
    copy = tmp_path_factory.mktemp(Path(name).stem) / name
    shutil.copyfile(target, copy)
    return copy
