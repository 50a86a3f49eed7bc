from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from db.models import Outage
from db.queries import active_outages, complaints, data_version, network, outages
from db.upsert import upsert_complaints, upsert_network, upsert_outages

T0 = datetime(2025, 7, 1, 11, 0, tzinfo=UTC)


@pytest.fixture
def grid(engine):
    ids = upsert_network(
        engine,
        substations=pd.DataFrame({"code": ["SS01"], "name": ["城关站"], "capacity_mva": [20.0]}),
    )
    ss = ids["substations"].ids["SS01"]
    fids = upsert_network(
        engine, feeders=pd.DataFrame({"code": ["F0101", "F0102"], "substation_id": [ss, ss]})
    )
    return {"SS01": ss, **fids["feeders"].ids}


def outage(natural_id, start=T0, end=None, version=None, customers=100, feeder_id=None):
    return {
        "natural_id": natural_id,
        "event_id": natural_id,
        "level": "feeder",
        "feeder_id": feeder_id,
        "start_at": pd.Timestamp(start),
        "end_at": pd.Timestamp(end) if end else pd.NaT,
        "customers": customers,
        "cause": "weather",
        "planned": False,
        "supply_shortage": False,
        "inferred_end": False,
        "suspicious": False,
        "bad_location": False,
        "version": version,
    }


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Outage)).scalar_one()


def test_ups001_reingesting_the_same_rows_changes_nothing(engine, grid):
    rows = pd.DataFrame(
        [
            outage(
                f"O{i}",
                T0 + timedelta(hours=i),
                T0 + timedelta(hours=i, minutes=40),
                feeder_id=grid["F0101"],
            )
            for i in range(25)
        ]
    )
    first = upsert_outages(engine, rows, "oms", chunk_rows=10)
    assert (first.read, first.upserted, first.unchanged) == (25, 25, 0)
    version_after_first = data_version(engine)
    stored = outages(engine)
    again = upsert_outages(engine, rows, "oms", chunk_rows=10)
    assert (again.read, again.upserted, again.unchanged) == (25, 0, 25)
    pd.testing.assert_frame_equal(
        outages(engine).drop(columns="updated_at"), stored.drop(columns="updated_at")
    )
    assert count(engine) == 25
    assert version_after_first > 0
    assert data_version(engine) == version_after_first  # nothing written, caches stay valid
    assert set(stored["feeder"]) == {"F0101"}


def test_ups002_active_outage_updated_when_it_ends(engine, grid):
    upsert_outages(engine, pd.DataFrame([outage("A1", feeder_id=grid["F0102"])]), "oms")
    assert list(active_outages(engine)["outage_id"]) == ["A1"]
    ended = outage("A1", end=T0 + timedelta(hours=2), customers=80, feeder_id=grid["F0102"])
    counts = upsert_outages(engine, pd.DataFrame([ended]), "oms")
    assert (counts.upserted, counts.unchanged) == (1, 0)
    assert active_outages(engine).empty
    row = outages(engine).iloc[0]
    assert row["end"] == pd.Timestamp(T0 + timedelta(hours=2))
    assert row["customers"] == 80
    assert count(engine) == 1


def test_ups003_same_id_higher_version_wins_in_batch_and_across_batches(engine, grid):
    batch = pd.DataFrame(
        [
            outage("V1", end=T0 + timedelta(hours=3), version=3.0, customers=30),
            outage("V1", end=T0 + timedelta(hours=1), version=1.0, customers=10),
            outage("V1", end=T0 + timedelta(hours=2), version=2.0, customers=20),
        ]
    )
    counts = upsert_outages(engine, batch, "oms")
    assert (counts.read, counts.upserted, counts.superseded, counts.conflicts) == (3, 1, 2, 0)
    assert outages(engine)["customers"].tolist() == [30]
    older = upsert_outages(engine, pd.DataFrame([outage("V1", version=2.5, customers=25)]), "oms")
    assert (older.upserted, older.unchanged) == (0, 1)
    assert outages(engine)["customers"].tolist() == [30]
    newer = upsert_outages(engine, pd.DataFrame([outage("V1", version=4.0, customers=40)]), "oms")
    assert newer.upserted == 1
    assert outages(engine)["customers"].tolist() == [40]


def test_ups004_same_id_and_version_different_ends_latest_end_wins_and_counts(engine, grid):
    batch = pd.DataFrame(
        [
            outage("C1", end=T0 + timedelta(hours=5), version=7.0, customers=50),
            outage("C1", end=T0 + timedelta(hours=9), version=7.0, customers=90),
            outage("C1", end=None, version=7.0, customers=70),
        ]
    )
    counts = upsert_outages(engine, batch, "oms")
    assert counts.conflicts == 2
    assert counts.upserted == 1
    row = outages(engine).iloc[0]
    assert row["end"] == pd.Timestamp(T0 + timedelta(hours=9))
    # Across batches: a tie with an earlier end loses and is counted.
    later = upsert_outages(
        engine, pd.DataFrame([outage("C1", end=T0 + timedelta(hours=6), version=7.0)]), "oms"
    )
    assert (later.upserted, later.unchanged, later.conflicts) == (0, 1, 1)
    assert outages(engine).iloc[0]["end"] == pd.Timestamp(T0 + timedelta(hours=9))


def test_ups005_natural_ids_are_per_source(engine, grid):
    upsert_outages(engine, pd.DataFrame([outage("X1")]), "oms")
    upsert_outages(engine, pd.DataFrame([outage("X1")]), "map")
    assert sorted(outages(engine)["source"]) == ["map", "oms"]


def test_ups006_network_upsert_by_code_updates_in_place(engine, grid):
    again = upsert_network(
        engine,
        feeders=pd.DataFrame(
            {"code": ["F0101"], "length_km": [12.5], "substation_id": [grid["SS01"]]}
        ),
    )
    assert again["feeders"].ids["F0101"] == grid["F0101"]
    feeders = network(engine)["feeders"].set_index("feeder")
    assert feeders.loc["F0101", "length_km"] == 12.5
    assert feeders.loc["F0101", "substation"] == "SS01"
    assert len(feeders) == 2


def test_ups007_complaints_idempotent_by_ticket(engine, grid):
    rows = pd.DataFrame(
        {
            "ticket_id": ["W1", "W2"],
            "received_at": [T0, T0 + timedelta(minutes=5)],
            "category": ["outage", "low_voltage"],
            "feeder_id": [grid["F0101"], None],
            "town": [None, "贾寨镇"],
            "text": ["停电了", "电压低"],
        }
    )
    assert upsert_complaints(engine, rows, "95598").upserted == 2
    again = upsert_complaints(engine, rows, "95598")
    assert (again.upserted, again.unchanged) == (0, 2)
    got = complaints(engine)
    assert got["ticket_id"].tolist() == ["W1", "W2"]
    assert got["feeder"].tolist()[0] == "F0101"
    assert pd.isna(got["feeder"].tolist()[1])


def _readings(values: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transformer_id": [1] * len(values),
            "ts": [3600 * (i + 1) for i in range(len(values))],
            "va_dv": values,
            "vb_dv": [None] * len(values),
            "vc_dv": values,
            "kw_dw": [10] * len(values),
        }
    )


def _stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT ts, va_dv, vb_dv, kw_dw FROM voltage_readings ORDER BY ts"
            )
        ]


def test_ups101_bulk_upsert_new_overlapping_and_repeated_keys(engine):
    """New keys (PostgreSQL: COPY straight in), overlapping keys (staging + ON CONFLICT) and a
    key repeated in one batch (the last row wins) give the same rows on both databases."""
    from db.upsert import upsert_readings

    with engine.begin() as conn:
        assert upsert_readings(conn, _readings([2200, 2210, 2220])) == 3
    assert _stored(engine) == [
        (3600, 2200, None, 10),
        (7200, 2210, None, 10),
        (10800, 2220, None, 10),
    ]
    again = pd.concat([_readings([2100, 2110, 2120, 2130]), _readings([1990])])
    with engine.begin() as conn:
        upsert_readings(conn, again)
    assert _stored(engine) == [
        (3600, 1990, None, 10),
        (7200, 2110, None, 10),
        (10800, 2120, None, 10),
        (14400, 2130, None, 10),
    ]


def test_ups102_concurrent_writer_of_the_same_new_keys(pg_engine):
    """Two transactions bulk-upsert the same new keys at once (PostgreSQL: both take the COPY
    path). The second waits on the first's uncommitted keys, then must not fail: it falls
    back to the merge inside its savepoint, and its values win."""
    import threading

    from db.upsert import upsert_readings

    engine = pg_engine
    first = engine.connect()
    trans = first.begin()
    upsert_readings(first, _readings([2200, 2210]))
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with engine.begin() as conn:
                outcome["n"] = upsert_readings(conn, _readings([2300, 2310]))
        except Exception as exc:  # reported to the test
            outcome["error"] = exc

    worker = threading.Thread(target=second)
    worker.start()
    worker.join(1.0)
    assert worker.is_alive()  # waiting on the first transaction's uncommitted keys
    trans.commit()
    first.close()
    worker.join(30)
    assert "error" not in outcome, outcome
    assert outcome["n"] == 2
    assert _stored(engine) == [(3600, 2300, None, 10), (7200, 2310, None, 10)]


def test_ups102_binary_copy_rows_of_every_null_pattern_round_trip(engine):
    """Rows whose NULLs fall in different columns (PostgreSQL: one fixed-width record layout
    per pattern in the binary COPY stream) and values at the ends of their types come back
    exactly; a value beyond its column's type is refused, never wrapped around."""
    from db.bulk import binary_copy_data
    from db.upsert import upsert_readings

    big = 2**31 + 60  # beyond 32 bits (January 2038): the 8-byte time key
    rows = pd.DataFrame(
        {
            "transformer_id": [7, 7, 7, 7, 2**31 - 1],
            "ts": [big + 4, big + 1, big + 3, big + 2, big + 1],
            "va_dv": [2200, None, -32768, 32767, 1],
            "vb_dv": [None, None, 2210, 0, None],
            "vc_dv": [2230, 2231, None, None, 3],
            "kw_dw": [None, 2**31 - 1, -(2**31), 5, None],
        }
    )
    with engine.begin() as conn:
        assert upsert_readings(conn, rows) == 5
    with engine.connect() as conn:
        got = conn.exec_driver_sql(
            "SELECT transformer_id, ts, va_dv, vb_dv, vc_dv, kw_dw FROM voltage_readings "
            "ORDER BY transformer_id, ts"
        ).all()
    want = rows.sort_values(["transformer_id", "ts"]).astype(object)
    want = want.where(want.notna(), None)
    assert [tuple(r) for r in got] == [
        tuple(None if v is None else int(v) for v in r)
        for r in want.itertuples(index=False, name=None)
    ]
    with pytest.raises(ValueError, match="va_dv"):
        binary_copy_data(pd.DataFrame({"va_dv": [40000]}), ["va_dv"], ["int2"])
    # an empty stream is the signature and the trailer alone
    assert binary_copy_data(pd.DataFrame({"a": []}), ["a"], ["int4"]).endswith(b"\xff\xff")
