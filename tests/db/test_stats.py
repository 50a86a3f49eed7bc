"""``feederwatch db stats``: bytes per table, index and voltage reading, on both databases,
checked against the database's own totals (SQLite's page count, PostgreSQL's
pg_total_relation_size) and the readings counted in the raw table."""

from __future__ import annotations

import re
from datetime import date

from click.testing import CliRunner

from collectors.simulator import Simulation
from collectors.simulator.load import load_history
from db.readings import read_readings
from db.stats import READING_TABLES, storage_stats
from feederwatch.cli import cli


def test_stats001_bytes_per_table_index_and_reading(engine, db_url):
    sim = Simulation(preset="small", seed=4, start=date(2025, 7, 1), days=6, resolution="1h")
    load_history(engine, sim, voltage="all", chunk_days=6)
    with engine.connect() as conn:
        stored = read_readings(conn, 0, 2**40)
    measured = int(stored[["va_dv", "vb_dv", "vc_dv"]].notna().any(axis=1).sum())
    stats = storage_stats(engine)
    assert stats.readings == measured > 1000
    by_name = {rel.name: rel for rel in stats.relations}
    assert set(READING_TABLES) <= set(by_name)
    assert by_name["ix_voltage_daily_period"].table == "voltage_daily"
    assert by_name["ix_voltage_daily_period"].kind == "index"
    # only the indexes a query uses (db/models.py): readings and hourly rows have their key
    # alone (PostgreSQL's key index; none on SQLite, where the tables are clustered on it)
    for table in ("voltage_readings", "voltage_hourly"):
        indexes = {r.name for r in stats.relations if r.table == table and r.kind == "index"}
        assert indexes == ({f"pk_{table}"} if engine.dialect.name == "postgresql" else set())
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            in_file = sum(rel.bytes for rel in stats.relations if rel.kind != "wal")
            assert in_file == (pages - free) * size
            # clustered on their key: no automatic index holds a second copy of it (the
            # blocks are a rowid table: one key entry per area and day, db/models.py)
            assert [n for n in by_name if n.startswith("sqlite_autoindex_voltage")] == [
                "sqlite_autoindex_voltage_blocks_1"
            ]
        else:
            for table in READING_TABLES:
                total = conn.exec_driver_sql(  # over the monthly partitions
                    "SELECT sum(pg_total_relation_size(relid)) "
                    "FROM pg_partition_tree(to_regclass(%s))",
                    (table,),
                ).scalar_one()
                assert total == sum(rel.bytes for rel in stats.relations if rel.table == table)
    volt_bytes = sum(rel.bytes for rel in stats.relations if rel.table in READING_TABLES)
    assert stats.per_reading(READING_TABLES) == volt_bytes / measured

    result = CliRunner().invoke(
        cli, ["db", "stats"], env={"FEEDERWATCH_DATABASE_URL": db_url}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"readings accounted for by the daily rollups: {measured:,}" in result.output
    line = re.search(r"per reading: ([\d.]+) B for readings and rollups", result.output)
    assert line and float(line.group(1)) == round(volt_bytes / measured, 1)


def test_stats002_unreachable_database_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["db", "stats"],
        env={"FEEDERWATCH_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
    )
    assert result.exit_code == 2
    assert "cannot measure the database at postgresql+psycopg://nobody@127.0.0.1:1/none" in (
        result.output
    )
