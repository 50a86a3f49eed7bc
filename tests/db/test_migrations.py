from sqlalchemy import inspect

from db.engine import make_engine
from db.migrate import current_revision, downgrade, head_revision, upgrade
from db.models import Base
from db.queries import data_version, table_counts


def test_mig001_upgrade_from_empty_creates_every_table(db_url):
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert data_version(engine) == 0
    assert table_counts(engine)["outages"] == 0


def test_mig002_upgrade_twice_is_a_no_op(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_mig003_downgrade_upgrade_round_trip(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_mig004_models_match_the_migration(engine):
    """Autogenerate finds nothing to do: the migration and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from db.partitions import is_partition

    def include_object(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and is_partition(name))  # as db/migrations/env.py

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_mig005_sqlite_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    assert (tmp_path / "sub" / "x.db").exists()


def test_sqlite_file_of_a_url(tmp_path):
    """The one place that knows which URLs name an SQLite file (the engine factory, the
    dashboard's database size and secret-key folder use it)."""
    from db.engine import make_engine, sqlite_file

    target = tmp_path / "sub" / "fw.db"
    assert sqlite_file(f"sqlite:///{target}") == target
    assert sqlite_file("sqlite://") is None and sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite:///file:/x/fw.db?mode=ro&uri=true") is None
    assert sqlite_file("postgresql+psycopg://postgres@127.0.0.1/test") is None
    engine = make_engine(f"sqlite:///{target}")
    assert target.parent.is_dir() and sqlite_file(engine.url) == target
    engine.dispose()


def test_mig006_outage_customers_nullable_from_0002(db_url):
    """0002: outages.customers takes NULL (a blank count is unknown); rows stored before keep
    their count; going back down turns unknown counts into 0."""
    from sqlalchemy import text

    engine = make_engine(db_url)
    upgrade(engine, "0001")
    insert = text(
        "INSERT INTO outages (source, natural_id, level, start_at, customers, planned, "
        "supply_shortage, inferred_end, suspicious, bad_location, row_hash, updated_at) VALUES "
        "('s', :id, 'feeder', '2025-07-01 00:00:00', :customers, false, false, false, false, "
        "false, 'h', '2025-07-01 00:00:00')"
    )
    with engine.begin() as conn:
        conn.execute(insert, {"id": "old", "customers": 5})
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.begin() as conn:
        conn.execute(insert, {"id": "new", "customers": None})
        rows = dict(conn.execute(text("SELECT natural_id, customers FROM outages")).all())
    assert rows == {"old": 5, "new": None}
    downgrade(engine, "0001")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT natural_id, customers FROM outages")).all())
    assert rows == {"old": 5, "new": 0}
    engine.dispose()


def test_mig007_compact_rollups_keep_the_area_figures(db_url):
    """0008: hourly rollups keep X only (per-phase hourly columns dropped), daily rollups keep
    every phase; on SQLite both become WITHOUT ROWID (no automatic index copying the key).
    Rows stored before keep their figures; going down brings the columns back, empty."""
    from sqlalchemy import text

    engine = make_engine(db_url)
    upgrade(engine, "0004")
    base = "transformer_id, period_start, n, minutes_monitored, low_dv, high_dv, rule"
    phases = "a_n, a_min, x_n, x_min, x_below_min"
    with engine.begin() as conn:
        for table in ("voltage_hourly", "voltage_daily"):
            conn.execute(
                text(
                    f"INSERT INTO {table} ({base}, {phases}) "
                    "VALUES (7, 3600, 4, 60, 1980, 2354, 'any', 4, 2195, 4, 1950, 15)"
                )
            )
    upgrade(engine)
    columns = {
        t: {c["name"] for c in inspect(engine).get_columns(t)}
        for t in ("voltage_hourly", "voltage_daily")
    }
    assert "a_n" not in columns["voltage_hourly"] and "x_min" in columns["voltage_hourly"]
    assert not {"n", "low_dv", "high_dv", "rule"} & columns["voltage_hourly"]
    assert {"a_n", "b_sum", "c_above_min", "x_min"} <= columns["voltage_daily"]
    with engine.connect() as conn:
        hourly = conn.execute(text("SELECT x_n, x_min, x_below_min FROM voltage_hourly")).all()
        daily = conn.execute(text(f"SELECT {phases} FROM voltage_daily")).all()
        if engine.dialect.name == "sqlite":
            # the rollups are clustered on their key (WITHOUT ROWID); the blocks are a rowid
            # table on purpose (db/models.py VoltageBlock), one key entry per 96 readings
            autoindexes = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_autoindex_voltage_%' "
                "AND tbl_name <> 'voltage_blocks'"
            ).all()
            assert autoindexes == []
    assert [tuple(r) for r in hourly] == [(4, 1950, 15)]
    assert [tuple(r) for r in daily] == [(4, 2195, 4, 1950, 15)]
    downgrade(engine, "0004")
    with engine.connect() as conn:
        back = conn.execute(text(f"SELECT {phases} FROM voltage_hourly")).all()
    assert [tuple(r) for r in back] == [(None, None, 4, 1950, 15)]
    engine.dispose()


def test_mig008_compact_voltage_layout_keeps_every_row(db_url):
    """0010: readings keyed (ts, transformer_id), the hourly period index gone, rollup columns
    narrowed. Rows stored before come through unchanged (PostgreSQL: in partitions named as
    before), and going down gives the old layout back with the same rows."""
    from sqlalchemy import text

    from db.partitions import ensure_reading_partitions

    engine = make_engine(db_url)
    upgrade(engine, "0006")
    ensure_reading_partitions(engine, 1751300100, 1754000000)  # PostgreSQL's months
    readings = [(7, 1751300100 + 900 * i, 2200 + i, None, 2210, 840 + i) for i in range(3)]
    readings.append((3, 1754000000, 1990, 2001, None, None))  # the next UTC month
    hourly = "transformer_id, period_start, minutes_monitored, kw_max_dw, x_n, x_min, x_max"
    hourly += ", x_sum, x_below_min, x_above_min"
    daily = "transformer_id, period_start, minutes_monitored, n, low_dv, high_dv, rule, a_sum"
    with engine.begin() as conn:
        for row in readings:
            conn.execute(
                text(
                    "INSERT INTO voltage_readings (transformer_id, ts, va_dv, vb_dv, vc_dv, kw_dw) "
                    "VALUES (:t, :ts, :a, :b, :c, :k)"
                ),
                dict(zip(("t", "ts", "a", "b", "c", "k"), row, strict=True)),
            )
        conn.execute(
            text(
                f"INSERT INTO voltage_hourly ({hourly}) "
                "VALUES (7, 1751299200, 60, 900, 4, 2190, 2250, 8840, 15, 0)"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO voltage_daily ({daily}) "
                "VALUES (7, 1751299200, 1440, 96, 1980, 2354, 'any', 212345)"
            )
        )
    upgrade(engine)
    order = "ORDER BY transformer_id, ts"
    read = "SELECT transformer_id, ts, va_dv, vb_dv, vc_dv, kw_dw FROM voltage_readings "

    def stored():
        with engine.connect() as conn:
            return (
                [tuple(r) for r in conn.execute(text(read + order))],
                [tuple(r) for r in conn.execute(text(f"SELECT {hourly} FROM voltage_hourly"))],
                [tuple(r) for r in conn.execute(text(f"SELECT {daily} FROM voltage_daily"))],
            )

    want = (
        sorted(readings),
        [(7, 1751299200, 60, 900, 4, 2190, 2250, 8840, 15, 0)],
        [(7, 1751299200, 1440, 96, 1980, 2354, "any", 212345)],
    )
    assert stored() == want
    pk = inspect(engine).get_pk_constraint("voltage_readings")
    assert pk["constrained_columns"] == ["ts", "transformer_id"]
    assert pk["name"] == "pk_voltage_readings"
    assert {i["name"] for i in inspect(engine).get_indexes("voltage_hourly")} == set()
    if engine.dialect.name == "postgresql":
        from db.partitions import existing

        with engine.connect() as conn:  # the months of the rows, named as before
            assert existing(conn, "voltage_readings") == {
                "voltage_readings_p202506",
                "voltage_readings_p202507",
            }
    downgrade(engine, "0006")
    assert inspect(engine).get_pk_constraint("voltage_readings")["constrained_columns"] == [
        "transformer_id",
        "ts",
    ]
    assert "ix_voltage_hourly_period" in {
        i["name"] for i in inspect(engine).get_indexes("voltage_hourly")
    }
    assert stored() == want
    engine.dispose()


def test_mig006_alert_records_numbered_on_upgrade(db_url):
    """0013: the alert records kept before are numbered per (rule, key) in id order, and a
    number cannot be recorded twice."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from db.alerts import alerts_sent, claim_alert

    engine = make_engine(db_url)
    upgrade(engine, "0012")
    now = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for rule, key, kind in [
            ("big", "a", "alert"),
            ("big", "b", "alert"),
            ("big", "a", "restored"),
        ]:
            conn.execute(
                text(
                    "INSERT INTO alerts_sent (rule, key, kind, title, body, delivered, sent_at) "
                    "VALUES (:r, :k, :kind, '', '', true, :t)"
                ),
                {"r": rule, "k": key, "kind": kind, "t": now},
            )
    upgrade(engine)
    rec = alerts_sent(engine).sort_values("id")
    assert rec[["key", "kind", "seq"]].values.tolist() == [
        ["a", "alert", 1],
        ["b", "alert", 1],
        ["a", "restored", 2],
    ]
    row = {"rule": "big", "key": "a", "kind": "alert", "title": "", "body": ""}
    row |= {"delivered": True, "error": None, "sent_at": now}
    assert claim_alert(engine, {**row, "seq": 2}) is None
    assert claim_alert(engine, {**row, "seq": 3}) is not None
    engine.dispose()
