"""Simulated counties of one province for the county tests (issue 19): the same county loaded
into a province database beside others, or alone into a database of its own, through the real
pipeline (collectors/simulator/county.py, collectors/simulator/load.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

#: (code, name, name_en, seed) of the simulated counties
COUNTIES = (
    ("LC", "历城区", "Licheng", 1),
    ("ZQ", "章丘区", "Zhangqiu", 2),
    ("PY", "平阴县", "Pingyin", 3),
)
DAYS = 60


def start_day():
    """The first day of the simulated period: DAYS days ending today (live figures exist)."""
    return (pd.Timestamp.now(tz="Asia/Shanghai").normalize() - pd.Timedelta(days=DAYS - 1)).date()


def county_simulation(code: str, place: int, start=None):
    """The simulated county ``code`` (small preset, hourly readings), ``place`` widths east."""
    from collectors.options import SimulatorOptions
    from collectors.simulator.source import simulation_for

    seed = next(s for c, *_, s in COUNTIES if c == code)
    options = SimulatorOptions(
        type="simulator",
        preset="small",
        seed=seed,
        county=code,
        history_days=DAYS,
        resolution="1h",
    )
    return simulation_for(options, "Asia/Shanghai", start or start_day(), place)


def load_counties(engine, codes, start=None) -> None:
    """The counties ``codes`` into ``engine`` (migrated): each its own source ``sim_<code>``."""
    from collectors.simulator.load import load_history
    from db.counties import upsert_counties

    rows = [(c, n, e) for c, n, e, _ in COUNTIES if c in codes]
    upsert_counties(engine, pd.DataFrame(rows, columns=["code", "name", "name_en"]))
    for code in codes:
        place = [c for c, *_ in COUNTIES].index(code)
        sim = county_simulation(code, place, start)
        load_history(engine, sim, source=f"sim_{code.lower()}", voltage="recent", max_rows=None)


def build_database(path: Path, codes) -> None:
    """A SQLite file at ``path`` holding the counties ``codes``."""
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_counties(engine, codes)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def province_config(url: str, codes, folder: Path, extra: str = ""):
    """Settings naming the counties ``codes`` and one simulator source per county."""
    from feederwatch.config import parse_settings

    parts = [f'[database]\nurl = "{url}"\n']
    for code, name, name_en, _seed in COUNTIES:
        if code in codes:
            parts.append(f'[[counties]]\ncode = "{code}"\nname = "{name}"\nname_en = "{name_en}"\n')
    for code in codes:
        seed = next(s for c, *_, s in COUNTIES if c == code)
        parts.append(
            f'[sources.sim_{code.lower()}]\ntype = "simulator"\npreset = "small"\n'
            f'county = "{code}"\nseed = {seed}\nhistory_days = {DAYS}\nresolution = "1h"\n'
            f'start = "{start_day().isoformat()}"\ninterval_seconds = 30\n'
        )
    text = "\n".join(parts) + extra
    return text, parse_settings(tomllib.loads(text), origin="test", config_dir=folder)
