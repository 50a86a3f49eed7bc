"""SQL sources: another database (a second SQLite file, a private PostgreSQL schema) read by
query and watermark column, into our database on SQLite and PostgreSQL. The watermark advances
only with the data it covers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    update,
)

from collectors.pipeline import IngestOptions, Pipeline
from collectors.runner import run_source_once
from collectors.sources.sql import SqlSource
from db.queries import collector_runs, outages, watermark
from feederwatch.config import parse_settings
from tests.conftest import PgSchema, postgres_available, require

NETWORK = {
    "substations": pd.DataFrame({"substation": ["S1"], "name": ["城关站"]}),
    "feeders": pd.DataFrame({"feeder": ["F1", "F2"], "substation": ["S1", "S1"]}),
    "transformers": pd.DataFrame({"transformer": ["T1"], "feeder": ["F1"], "customers": ["150"]}),
}
meta = MetaData()
OMS = Table(
    "oms_outages",
    meta,
    Column("id", String(20), primary_key=True),
    Column("feeder", String(20)),
    Column("start_time", DateTime(timezone=True)),
    Column("end_time", DateTime(timezone=True)),
    Column("customers", Integer),
    Column("updated_at", DateTime(timezone=True)),
)
T0 = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)
QUERY_SINCE = (
    'SELECT id AS outage_id, feeder, start_time AS start, end_time AS "end", customers, '
    "updated_at FROM oms_outages WHERE updated_at >= :since ORDER BY updated_at"
)
QUERY_PLAIN = (
    'SELECT id AS outage_id, feeder, start_time AS start, end_time AS "end", customers, '
    "updated_at FROM oms_outages"
)


@pytest.fixture(params=["peer_sqlite", "peer_postgresql"])
def peer_url(request, tmp_path):
    if request.param == "peer_sqlite":
        yield f"sqlite:///{tmp_path / 'oms.db'}"
        return
    require(postgres_available(), "PostgreSQL not reachable")
    with PgSchema() as schema:
        yield schema.url


def row(i: int, updated: datetime, end: datetime | None = None) -> dict:
    return {
        "id": f"OMS{i}",
        "feeder": "F1" if i % 2 else "F2",
        "start_time": T0 + timedelta(hours=i),
        "end_time": end,
        "customers": 10 * i,
        "updated_at": updated,
    }


def setup(engine, peer_url, tmp_path, query=QUERY_SINCE, rows=3):
    pipeline = Pipeline(engine)
    for table in ("substations", "feeders", "transformers"):
        pipeline.ingest(table, NETWORK[table], IngestOptions(source="gis", authoritative=True))
    peer = create_engine(peer_url)
    meta.create_all(peer)
    with peer.begin() as conn:
        conn.execute(
            insert(OMS), [row(i, T0 + timedelta(hours=i, minutes=5)) for i in range(1, rows + 1)]
        )
    settings = parse_settings(
        {
            "sources": {
                "oms": {
                    "type": "sql",
                    "url_env": "FW_TEST_OMS_URL",
                    "query": query,
                    "watermark_column": "updated_at",
                    "retries": 1,
                },
                "missing": {
                    "type": "sql",
                    "url_env": "FW_TEST_OMS_URL",
                    "retries": 2,
                    "query": "SELECT * FROM no_such_table WHERE updated_at >= :since",
                    "watermark_column": "updated_at",
                },
            }
        },
        origin="test",
        config_dir=tmp_path,
    )
    return peer, settings


def since(engine) -> str | None:
    mark = watermark(engine, "oms")
    return None if mark is None else json.loads(mark)["since"]


@pytest.mark.parametrize("query", ["since_in_query", "wrapped"])
def test_live020_sql_source_watermark(engine, peer_url, tmp_path, monkeypatch, query):
    monkeypatch.setenv("FW_TEST_OMS_URL", peer_url)
    peer, settings = setup(
        engine,
        peer_url,
        tmp_path,
        QUERY_SINCE if query == "since_in_query" else QUERY_PLAIN,
        rows=5,
    )
    # Small chunks: several batches per run.
    monkeypatch.setattr(SqlSource, "chunk_rows", 2)
    try:
        first = run_source_once(engine, settings, "oms", sleep=lambda s: None)
        assert first.status == "ok", first.error
        assert first.summary.read == 5 and first.summary.upserted == 5
        mark1 = since(engine)
        assert mark1 is not None and pd.Timestamp(mark1).tz_localize(None) == pd.Timestamp(
            T0 + timedelta(hours=5, minutes=5)
        ).tz_localize(None)
        stored = outages(engine, source="oms").set_index("outage_id")
        assert stored.loc["OMS3", "customers"] == 30 and pd.isna(stored.loc["OMS3", "end"])

        # Nothing new: the rows at the watermark itself are re-read, nothing changes.
        again = run_source_once(engine, settings, "oms", sleep=lambda s: None)
        assert again.status == "ok" and again.summary.upserted == 0
        assert again.summary.read <= 1 and since(engine) == mark1

        # OMS3 ends and a new outage appears: both land, the watermark advances.
        later = T0 + timedelta(hours=9)
        with peer.begin() as conn:
            conn.execute(
                update(OMS)
                .where(OMS.c.id == "OMS3")
                .values(end_time=T0 + timedelta(hours=4), updated_at=later)
            )
            conn.execute(insert(OMS), [row(6, later + timedelta(minutes=1))])
        third = run_source_once(engine, settings, "oms", sleep=lambda s: None)
        assert third.status == "ok" and third.summary.upserted == 2, third.error
        stored = outages(engine, source="oms").set_index("outage_id")
        expected = pd.Timestamp(T0 + timedelta(hours=4))
        if peer_url.startswith("sqlite"):
            # SQLite keeps no offset: times without one are read in the site's timezone.
            expected = expected.tz_localize(None).tz_localize("Asia/Shanghai").tz_convert("UTC")
        assert pd.Timestamp(stored.loc["OMS3", "end"]) == expected
        assert "OMS6" in stored.index and len(stored) == 6
        assert since(engine) > mark1
    finally:
        peer.dispose()


def test_live021_sql_failures_keep_the_watermark(engine, peer_url, tmp_path, monkeypatch):
    monkeypatch.setenv("FW_TEST_OMS_URL", peer_url)
    peer, settings = setup(engine, peer_url, tmp_path)
    try:
        missing = run_source_once(engine, settings, "missing", sleep=lambda s: None)
        assert missing.status == "failed" and missing.attempts == 1  # permanent
        assert "no_such_table" in missing.error or "no such table" in missing.error
        assert watermark(engine, "missing") is None
        assert collector_runs(engine, "missing").loc[0, "status"] == "failed"

        ok = run_source_once(engine, settings, "oms", sleep=lambda s: None)
        assert ok.status == "ok"
        mark = watermark(engine, "oms")
        # New rows the pipeline refuses whole (no start column): the run fails and the
        # watermark stays where its data ended.
        with peer.begin() as conn:
            conn.execute(insert(OMS), [row(7, T0 + timedelta(days=2))])
        bad = parse_settings(
            {
                "sources": {
                    "oms": {
                        "type": "sql",
                        "url_env": "FW_TEST_OMS_URL",
                        "watermark_column": "updated_at",
                        "query": "SELECT id AS outage_id, updated_at FROM oms_outages WHERE updated_at >= :since",
                    }
                }
            },
            origin="test",
            config_dir=tmp_path,
        )
        refused = run_source_once(engine, bad, "oms", sleep=lambda s: None)
        assert refused.status == "failed" and "refused" in refused.error
        assert watermark(engine, "oms") == mark
        # A password in the URL never reaches the run record.
        monkeypatch.setenv(
            "FW_TEST_OMS_URL", "postgresql+psycopg://reader:pa55word@127.0.0.1:1/oms"
        )
        down = run_source_once(engine, settings, "oms", sleep=lambda s: None)
        assert down.status == "failed" and "pa55word" not in down.error
        assert "pa55word" not in collector_runs(engine, "oms").loc[0, "error"]
    finally:
        peer.dispose()
