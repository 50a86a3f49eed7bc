"""The live board for walls and desks (issue 17), through its callbacks on the session county:
urgency order, overdue ETRs, the "since you last looked" diff, customers out as % served, the
trend ranges and the town breakdown. Figures are computed independently from the database."""

from __future__ import annotations

import importlib

import pandas as pd

from tests.dashboard.storm_helpers import ingest_outage


def live():
    return importlib.import_module("dashboard.pages.live")


def _now():
    return pd.Timestamp.now(tz="UTC")


def test_storm001_urgency_order_and_overdue_etr(app, county_db):
    _, engine = county_db
    now = _now()
    # small but overdue beats large and long; among the rest customers x minutes decides
    ingest_outage(
        engine,
        "ST1-OVERDUE",
        "F0102",
        5,
        now - pd.Timedelta(minutes=20),
        etr=now - pd.Timedelta(minutes=5),
    )
    ingest_outage(
        engine,
        "ST1-BIG",
        "F0103",
        900,
        now - pd.Timedelta(minutes=90),
        etr=now + pd.Timedelta(hours=2),
    )
    lv = live()
    rows = lv.update_live(0, "en", None)[5]
    by_id = {r["outage_id"]: r for r in rows}
    od, big = by_id["ST1-OVERDUE"], by_id["ST1-BIG"]
    assert od["etr_overdue"] and "ETR overdue" in od["etr_text"]
    assert not big["etr_overdue"] and "overdue" not in big["etr_text"]
    ranked = sorted(rows, key=lambda r: r["urgency"], reverse=True)
    overdue = [r["etr_overdue"] for r in ranked]
    assert overdue == sorted(overdue, reverse=True)  # every overdue row above the others
    assert ranked.index(od) < ranked.index(big)
    rest = [r for r in ranked if not r["etr_overdue"]]
    score = [max(1, r["customers"] or 0) * r["duration_min"] for r in rest]
    assert all(a >= b - max(1, a) * 0.02 for a, b in zip(score, score[1:], strict=False))
    defs = lv.live_columns("en")
    assert next(c for c in defs if c["field"] == "urgency")["sort"] == "desc"
    assert not any(c.get("sort") for c in defs if c["field"] != "urgency")
    etr = next(c for c in defs if c["field"] == "etr")
    assert etr["cellClassRules"]["etr-overdue"] == "params.data.etr_overdue"


def test_storm002_since_last_look_counts(app, county_db):
    _, engine = county_db
    lv = live()
    now = _now()
    ingest_outage(engine, "ST2-REST", "F0104", 40, now - pd.Timedelta(minutes=50))
    ingest_outage(engine, "ST2-CHG", "F0105", 60, now - pd.Timedelta(minutes=50))
    rows0 = lv.update_live(0, "en", None)[5]
    seen = [r["row_id"] for r in rows0]
    # first visit: the board as it is becomes the reference, nothing counted
    strip, d_active, d_cust, looked, share = lv.update_since(
        seen, None, rows0, None, "en", marked=False
    )
    assert looked["rows"] == {r["row_id"]: r["customers"] for r in rows0}
    assert "0 new" in str(strip) and "0 restored" in str(strip) and "0 changed" in str(strip)
    # a restoration, a new outage and a changed count
    ingest_outage(engine, "ST2-REST", "F0104", 40, now - pd.Timedelta(minutes=50), end=now)
    ingest_outage(engine, "ST2-CHG", "F0105", 75, now - pd.Timedelta(minutes=50))
    ingest_outage(engine, "ST2-NEW", "F0106", 30, now - pd.Timedelta(minutes=2))
    out = lv.update_live(1, "en", seen, looked)
    rows1 = out[5]
    since = {r["outage_id"]: r["since"] for r in rows1}
    assert since["ST2-NEW"] == "new" and since["ST2-CHG"] == "changed"
    assert "ST2-REST" not in since
    strip, d_active, d_cust, again, share = lv.update_since(
        out[6], None, rows1, looked, "en", marked=False
    )
    assert again is lv.dash.no_update  # the reference stays until the user marks it seen
    assert "1 new" in str(strip) and "1 restored" in str(strip) and "1 changed" in str(strip)
    assert d_active == "+1 new · 1 restored"
    assert d_cust == "+5 customers"  # -40 restored, +15 changed, +30 new
    # marking as seen resets the counts
    strip, *_rest = lv.update_since(out[6], 1, rows1, looked, "en", marked=True)
    assert "0 restored" in str(strip)
    # customers out as % of customers served, from the database
    from db.queries import active_outages, network

    served = pd.to_numeric(network(engine)["transformers"]["customers"]).sum()
    outnow = pd.to_numeric(active_outages(engine)["customers"]).fillna(0).sum()
    assert share == f"{100.0 * outnow / served:.1f} %"


def test_storm003_trend_ranges_town_breakdown_storm_mode(app, county_db):
    _, engine = county_db
    lv = live()
    now = _now()
    long_ago = now - pd.Timedelta(days=4)
    ingest_outage(engine, "ST3-OLD", "F0201", 100, long_ago, end=long_ago + pd.Timedelta(hours=3))
    t24, _ = lv.update_live_charts(0, "en", "24h", "substation", False, now=now)
    t5, _ = lv.update_live_charts(0, "en", "5d", "substation", False, now=now)
    t14, town = lv.update_live_charts(0, "en", "14d", "town", True, now=now)
    x24, x5, x14 = (pd.to_datetime(f.data[0].x) for f in (t24, t5, t14))
    assert (x24.max() - x24.min()) <= pd.Timedelta(hours=24)
    assert pd.Timedelta(days=4.9) <= (x5.max() - x5.min()) <= pd.Timedelta(days=5)
    assert pd.Timedelta(days=13.9) <= (x14.max() - x14.min()) <= pd.Timedelta(days=14)
    # the old outage is in the 5-day and 2-week trends at its time; the 24-hour one ends before
    at = (long_ago + pd.Timedelta(hours=1)).tz_convert(None)
    for fig, x in ((t5, x5), (t14, x14)):
        y = pd.Series(fig.data[0].y, index=x.tz_localize(lv.data.store().tz).tz_convert(None))
        assert y[y.index <= at].iloc[-1] >= 100
    assert x24.tz_localize(lv.data.store().tz).tz_convert(None).min() > at
    # town breakdown: customers per town add up to the customers out
    from db.queries import active_outages, network

    act = active_outages(engine)
    towns = set(network(engine)["transformers"]["town"].dropna())
    assert set(town.data[1].x) <= towns | {"?"}
    assert sum(town.data[1].y) == pd.to_numeric(act["customers"]).fillna(0).sum()
    assert town.layout.font.size == 20  # storm mode
    layout = lv.layout(storm="1")
    assert "storm" in layout.className
    graphs = [c for c in _walk(layout) if type(c).__name__ == "Graph"]
    assert graphs and all(g.config["displayModeBar"] is False for g in graphs)
    assert "storm" not in lv.layout().className


def _walk(c):
    yield c
    kids = getattr(c, "children", None)
    for k in kids if isinstance(kids, list) else [kids]:
        if k is not None and not isinstance(k, str):
            yield from _walk(k)


def test_storm004_predicted_restoration_when_no_etr(app, county_db):
    """Outages without an ETR show the model's prediction, marked; its figures are those of the
    model fitted on the database's history, computed here independently."""
    import re

    from analytics import etr
    from db.queries import active_outages, network, outages

    _, engine = county_db
    now = _now()
    # the model needs etr.MIN_HISTORY ended outages: the test county (conftest.SEASON) holds
    # them; adding some here would change the county under the other tests of this worker
    assert len(etr.training_set(outages(engine))) >= etr.MIN_HISTORY
    ingest_outage(engine, "ST4-NOETR", "F0102", 66, now - pd.Timedelta(minutes=25))
    lv = live()
    rows = {r["outage_id"]: r for r in lv.update_live(0, "en", None)[5]}
    row = rows["ST4-NOETR"]
    assert row["etr_predicted"] and row["etr"] == ""
    clock = r"(\d\d:\d\d(?: \+\d+d)?)"  # HH:MM, "+Nd" on a later day than the start
    m = re.fullmatch(rf"predicted {clock} \(80 %: {clock}–{clock}\)", row["etr_text"])
    assert m, row["etr_text"]
    zh = {r["outage_id"]: r for r in lv.update_live(0, "zh", None)[5]}["ST4-NOETR"]
    assert zh["etr_text"].startswith("预计 ") and "(80 %: " in zh["etr_text"]
    # the same model and prediction, fitted here on the history straight from the database
    hist = outages(engine)
    classes = etr.feeder_classes(network(engine)["feeders"])
    model = etr.fit(hist.assign(feeder_class=hist["feeder"].map(classes)), "Asia/Shanghai")
    act = active_outages(engine)
    pred = etr.predict_restoration(model, act, now).set_index(act["outage_id"])
    tz = "Asia/Shanghai"
    want = [pred.loc["ST4-NOETR", k].tz_convert(tz) for k in ("p50", "lo", "hi")]
    day0 = pd.Timestamp(act.set_index("outage_id").loc["ST4-NOETR", "start"]).tz_convert(tz)
    got = []
    for g in m.groups():
        hm, _, plus = g.partition(" +")
        day = day0.normalize() + pd.Timedelta(days=int(plus[:-1]) if plus else 0)
        got.append(pd.Timestamp(f"{day.date()} {hm}", tz=tz))
    for w, g in zip(want, got, strict=True):
        assert abs((w.floor("min") - g).total_seconds()) <= 60
    # an outage whose source gives an ETR keeps it, not a prediction
    with_etr = next(r for r in rows.values() if r["etr"])
    assert not with_etr["etr_predicted"]


def test_storm005_data_page_lists_alerts_sent(app, county_db):
    from db.alerts import claim_alert

    _, engine = county_db
    dp = importlib.import_module("dashboard.pages.data")
    now = _now().to_pydatetime()
    for row in (
        {
            "rule": "big",
            "key": "s:O1",
            "kind": "alert",
            "title": "New outage",
            "body": "F0101: 500 customers",
            "delivered": True,
            "error": None,
            "sent_at": now,
        },
        {
            "rule": "big",
            "key": "s:O2",
            "kind": "restored",
            "title": "Restored: New outage",
            "body": "F0102",
            "delivered": False,
            "error": "service refused",
            "sent_at": now,
        },
    ):
        assert claim_alert(engine, {**row, "seq": 1}) is not None
    try:
        text = str(dp.render_alerts(0, "en"))
        assert "New outage — F0101: 500 customers" in text and "service refused" in text
        assert text.index("Restored: New outage") < text.index("New outage — F0101")  # newest
        assert "恢复" in str(dp.render_alerts(0, "zh"))
    finally:
        # the session county is shared: English messages left behind would be the Data page's
        # text in the all-Chinese page test
        from sqlalchemy import delete

        from db.models import AlertSent

        with engine.begin() as conn:
            conn.execute(delete(AlertSent).where(AlertSent.rule == "big"))
