"""Property-based: whatever records are thrown at the pipeline, it never crashes, every record
lands or is quarantined with a reason code, and the counts add up."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from collectors.pipeline import IngestOptions, Pipeline
from collectors.validate import REASONS, InputRefused
from db.engine import make_engine
from db.migrate import upgrade
from db.models import Outage, QuarantinedRecord
from tests.collectors.helpers import load_network

# slow: hypothesis drives hundreds of ingests
pytestmark = pytest.mark.slow

texts = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=30),
    st.sampled_from(["F1", "F2", "T1", "T3", "=1+1", "@SUM(A1)", "F9", " F1 "]),
)
times = st.one_of(
    texts,
    st.sampled_from(
        [
            "2025-07-01 19:30",
            "2025-07-01T11:30:00Z",
            "2025/7/1 9:05",
            "01/07/2025",
            "2099-01-01",
            "1970-01-01 00:00",
            "2025-02-30 10:00",
            "2025-07-01 19:30:00+08:00",
        ]
    ),
)
numbers = st.one_of(
    texts,
    st.integers(-10, 10**10).map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(["12", "0", "-3", "1,200", "inf", "0.22", "381.0"]),
)

outage_row = st.fixed_dictionaries(
    {
        "outage_id": st.one_of(texts, st.integers(0, 30).map(lambda i: f"P{i}")),
        "feeder": texts,
        "transformer": texts,
        "start": times,
        "end": times,
        "etr": times,
        "customers": numbers,
        "planned": st.one_of(texts, st.sampled_from(["是", "否", "1", "0"])),
        "lon": numbers,
        "lat": numbers,
        "version": st.one_of(numbers, times),
    }
)
reading_row = st.fixed_dictionaries(
    {
        "transformer": texts,
        "time": times,
        "va": numbers,
        "vb": numbers,
        "vc": numbers,
        "kw": numbers,
    }
)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'fw.db'}")
    upgrade(engine)
    pipe = Pipeline(engine)
    load_network(pipe)
    return pipe


def counted(pipe: Pipeline, model, source: str) -> int:
    with pipe.engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(model).where(model.source == source)
        ).scalar_one()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(outage_row, min_size=1, max_size=25), case=st.integers(0, 10**9))
def test_prop001_outages_land_or_are_quarantined(pipeline, rows, case):
    source = f"prop-{case}"
    raw = pd.DataFrame(rows).astype(object)
    before = counted(pipeline, QuarantinedRecord, source)
    summary = pipeline.ingest(
        "outages", raw, IngestOptions(source=source, version_column="version")
    )
    assert summary.read == len(rows)
    assert set(summary.quarantined) <= set(REASONS)
    # Every record: stored (new, changed or superseded by a newer version of its id) or refused.
    assert summary.upserted + summary.unchanged + summary.quarantined_total == len(rows)
    assert counted(pipeline, QuarantinedRecord, source) - before == summary.quarantined_total
    assert counted(pipeline, Outage, source) <= summary.upserted + summary.unchanged


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(reading_row, min_size=1, max_size=25), case=st.integers(0, 10**9))
def test_prop002_readings_land_or_are_quarantined(pipeline, rows, case):
    source = f"prop-v-{case}"
    raw = pd.DataFrame(rows).astype(object)
    before = counted(pipeline, QuarantinedRecord, source)
    try:
        summary = pipeline.ingest("voltage", raw, IngestOptions(source=source))
    except InputRefused as exc:  # only ever for a batch without its required columns
        assert exc.code == "missing_column"
        return
    duplicates = summary.notes["duplicate_identical"]
    assert summary.read == len(rows)
    assert summary.upserted + summary.quarantined_total + duplicates == len(rows)
    assert set(summary.quarantined) <= set(REASONS)
    assert counted(pipeline, QuarantinedRecord, source) - before == summary.quarantined_total
