"""Counties in the database (issue 19): migration 0011, the county upserts and reads, and the
narrowing of canonical frames to one county; on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from db.counties import upsert_counties
from db.engine import make_engine
from db.migrate import current_revision, downgrade, upgrade
from db.queries import data_version, network
from db.queries.counties import counties, county_network, county_records, members
from db.upsert import upsert_network

COUNTY_ROWS = pd.DataFrame(
    {"code": ["LC", "ZQ"], "name": ["历城区", "章丘区"], "name_en": ["Licheng", None]}
)


def test_cty_db001_migration_0011_up_and_down_keeps_the_network(db_url):
    """0011 adds counties and substations.county_id (indexed, a foreign key); substations and
    the feeders referencing them come through both ways (SQLite rebuilds the table)."""
    engine = make_engine(db_url)
    upgrade(engine, "0010")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO substations (id, code, name, updated_at) VALUES (1, 'S1', 'a', :t)"),
            {"t": "2025-07-01 00:00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO feeders (id, code, substation_id, updated_at) "
                "VALUES (1, 'F1', 1, '2025-07-01 00:00:00')"
            )
        )
    upgrade(engine, "0011")
    assert current_revision(engine) == "0011"
    insp = inspect(engine)
    assert "counties" in insp.get_table_names()
    assert "ix_substations_county_id" in {i["name"] for i in insp.get_indexes("substations")}
    fks = insp.get_foreign_keys("substations")
    assert [(f["constrained_columns"], f["referred_table"]) for f in fks] == [
        (["county_id"], "counties")
    ]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO counties (id, code, name) VALUES (1, 'LC', '历城区')"))
        conn.execute(text("UPDATE substations SET county_id = 1"))
    assert network(engine)["substations"]["county"].tolist() == ["LC"]
    downgrade(engine, "0010")
    insp = inspect(engine)
    assert "counties" not in insp.get_table_names()
    assert "county_id" not in {c["name"] for c in insp.get_columns("substations")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code, substation_id FROM feeders")).all() == [("F1", 1)]
        assert conn.execute(text("SELECT code, name FROM substations")).all() == [("S1", "a")]
    upgrade(engine)
    assert network(engine)["substations"]["county"].isna().all()
    engine.dispose()


def test_cty_db002_county_upserts_and_reads(engine):
    ids = upsert_counties(engine, COUNTY_ROWS)
    assert set(ids) == {"LC", "ZQ"}
    version = data_version(engine)
    assert upsert_counties(engine, COUNTY_ROWS) == ids  # unchanged: no new data version
    assert data_version(engine) == version
    renamed = COUNTY_ROWS.assign(name_en=["Licheng District", "Zhangqiu"])
    upsert_counties(engine, renamed)
    assert data_version(engine) == version + 1
    subs = upsert_network(
        engine,
        substations=pd.DataFrame({"code": ["S1", "S2", "S3"], "county": ["LC", "ZQ", None]}),
    )["substations"].ids
    upsert_network(
        engine,
        feeders=pd.DataFrame(
            {"code": ["F1", "F2", "F3"], "substation_id": [subs["S1"], subs["S2"], subs["S3"]]}
        ),
    )
    with pytest.raises(ValueError, match="unknown county 'XX'"):
        upsert_network(engine, substations=pd.DataFrame({"code": ["S9"], "county": ["XX"]}))
    net = network(engine)
    county_of = net["substations"].set_index("substation")["county"]
    assert county_of["S1"] == "LC" and county_of["S2"] == "ZQ" and pd.isna(county_of["S3"])
    table = counties(engine)
    assert table.to_dict("list") == {
        "code": ["LC", "ZQ"],
        "name": ["历城区", "章丘区"],
        "name_en": ["Licheng District", "Zhangqiu"],
        "substations": [1, 1],
    }
    # a re-import without a county keeps the one stored
    upsert_network(engine, substations=pd.DataFrame({"code": ["S1"], "name": ["new"]}))
    assert network(engine)["substations"].set_index("substation").loc["S1", "county"] == "LC"


def test_cty_db003_frames_narrowed_to_a_county():
    """A record belongs to the county of the area, feeder or substation it names, else to the
    county its source is bound to; others are the province's only."""
    net = {
        "substations": pd.DataFrame({"substation": ["S1", "S2"], "county": ["LC", "ZQ"]}),
        "feeders": pd.DataFrame({"feeder": ["F1", "F2"], "substation": ["S1", "S2"]}),
        "transformers": pd.DataFrame({"transformer": ["T1", "T2"], "feeder": ["F1", "F2"]}),
    }
    m = members(net, "LC", {"oms_lc": "LC", "oms_zq": "ZQ"})
    assert (m.substations, m.feeders, m.transformers, m.sources) == (
        {"S1"},
        {"F1"},
        {"T1"},
        {"oms_lc"},
    )
    own = county_network(net, m)
    assert [len(own[k]) for k in ("substations", "feeders", "transformers")] == [1, 1, 1]
    records = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "substation": ["S1", None, None, "S2", None, None],
            "feeder": [None, "F1", None, "F2", None, None],
            "transformer": [None, None, "T1", None, None, None],
            "source": ["x", "x", "x", "oms_lc", "oms_lc", "oms_zq"],
        }
    )
    # 4 names ZQ's feeder (its source does not matter); 5 names nothing: its source's county
    assert county_records(records, m)["id"].tolist() == [1, 2, 3, 5]
    assert county_records(records.iloc[:0], m).empty
