"""Planned-outage notices on the board (issue 17, item 5): planned outages may be announced
ahead, are listed for the next 7 days apart from the faults (soonest first, within 24 h marked),
and count nowhere as interruptions before they start."""

from __future__ import annotations

import importlib

import pandas as pd

from db.queries import active_outages, outages, planned_outages
from tests.dashboard.storm_helpers import ingest_outage


def _texts(component) -> list[str]:
    """Every text in a Dash component tree, in order."""
    if isinstance(component, str | int | float):
        return [str(component)]
    if isinstance(component, list | tuple):
        return [t for c in component for t in _texts(c)]
    children = getattr(component, "children", None)
    return [] if children is None else _texts(children)


def _rows(component) -> list:
    body = component.children[1]
    return list(body.children)


def test_plan001_announced_planned_outages_listed_apart(app, county_db):
    _, engine = county_db
    live = importlib.import_module("dashboard.pages.live")
    now = pd.Timestamp.now(tz="UTC").floor("min")
    soon = ingest_outage(
        engine, "PLN-SOON", "F0102", 300, now + pd.Timedelta(hours=5),
        end=now + pd.Timedelta(hours=9), cause="planned", planned=True,
    )  # fmt: skip
    later = ingest_outage(
        engine, "PLN-LATER", "F0103", 120, now + pd.Timedelta(days=3),
        end=now + pd.Timedelta(days=3, hours=6), cause="planned", planned=True,
    )  # fmt: skip
    far = ingest_outage(
        engine, "PLN-FAR", "F0104", 80, now + pd.Timedelta(days=10),
        end=now + pd.Timedelta(days=10, hours=4), cause="planned", planned=True,
    )  # fmt: skip
    assert (soon.upserted, later.upserted, far.upserted) == (1, 1, 1)
    # a fault cannot start days ahead, nor a plan beyond the horizon
    fault = ingest_outage(engine, "PLN-FAULT", "F0105", 50, now + pd.Timedelta(days=3))
    beyond = ingest_outage(
        engine, "PLN-BEYOND", "F0105", 50, now + pd.Timedelta(days=60), planned=True
    )
    assert fault.quarantined == {"time_in_future": 1}
    assert beyond.quarantined == {"time_in_future": 1}
    # the session county is shared: the two refused records would be the Data page's text
    # (raw JSON) in the all-Chinese page test
    from sqlalchemy import delete

    from db.models import QuarantinedRecord

    with engine.begin() as conn:
        conn.execute(delete(QuarantinedRecord).where(QuarantinedRecord.raw.contains("PLN-")))

    listed = planned_outages(engine, 7.0, now.to_pydatetime())
    assert list(listed["outage_id"]) == ["PLN-SOON", "PLN-LATER"]
    # not yet an interruption: not active, not counted, not ranked
    assert not {"PLN-SOON", "PLN-LATER", "PLN-FAR"} & set(active_outages(engine)["outage_id"])
    assert not {"PLN-SOON", "PLN-LATER", "PLN-FAR"} & set(outages(engine)["outage_id"])
    assert "PLN-FAR" in set(outages(engine, announced=True)["outage_id"])

    table = live.update_planned(0, "en", now=now.to_pydatetime())
    rows = _rows(table)
    assert [r.to_plotly_json()["props"]["data-outage"] for r in rows] == ["PLN-SOON", "PLN-LATER"]
    first, second = (" ".join(_texts(r)) for r in rows)
    assert "5 h" in first and "within 24 h" in first and "300" in first and "4 h 00 min" in first
    assert "3 d 0 h" in second and "within 7 days" in second
    zh = " ".join(_texts(live.update_planned(0, "zh", now=now.to_pydatetime())))
    assert "24 小时内" in zh and "3 天 0 小时" in zh
