"""Callback-level tests: every page's layout and callbacks, called directly on the small
simulated county (no browser)."""

from __future__ import annotations

import base64
import importlib
import io
import json
from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go
import pytest

from tests.dashboard.conftest import ingest_active_outage


def page(name):
    return importlib.import_module(f"dashboard.pages.{name}")


def texts(component) -> str:
    """All text of a Dash component tree (for assertions on rendered content)."""
    out = []

    def walk(c):
        if c is None:
            return
        if isinstance(c, (str, int, float)):
            out.append(str(c))
            return
        if isinstance(c, (list, tuple)):
            for x in c:
                walk(x)
            return
        walk(getattr(c, "children", None))

    walk(component)
    return " ".join(out)


def test_live001_layout_and_update(app):
    live = page("live")
    assert live.layout() is not None
    kpis = live.update_live(0, "en", None)
    active, customers, _feeders, last_hour, longest, rows, seen = kpis
    assert int(active) >= 2 and int(customers.replace(",", "")) >= 471
    assert int(last_hour) >= 1 and "h" in longest
    assert {r["outage_id"] for r in rows} >= {"T-ACTIVE-1", "T-ACTIVE-2"}
    assert seen == [r["row_id"] for r in rows]
    assert len({r["row_id"] for r in rows}) == len(rows)  # getRowId keys are unique
    zh = live.update_live(0, "zh", seen)
    assert "小时" in zh[4]
    trend, by_sub = live.update_live_charts(0, "en")
    assert isinstance(trend, go.Figure) and trend.data[0].y.max() >= 471
    assert set(by_sub.data[0].x) >= {"SS01", "SS02"}
    assert [c["headerName"] for c in live.live_columns("en")][:2] == ["Feeder", "Feeder name"]


def test_live002_new_outage_changes_count(app, county_db):
    live = page("live")
    before = int(live.update_live(0, "en", None)[0])
    _, seen_before = None, live.update_live(0, "en", None)[6]
    ingest_active_outage(county_db[1], "T-LIVE-NEW", "F0102", 77, 3)
    after = live.update_live(1, "en", seen_before)
    assert int(after[0]) == before + 1
    new = next(r for r in after[5] if r["outage_id"] == "T-LIVE-NEW")
    assert new["is_new"] and new["customers"] == 77


def test_map001_every_feeder_drawn(app):
    from dashboard import data

    mp = page("map")
    mp.layout()
    # the callback returns the figure as the browser gets it (a plain dict)
    fig = go.Figure(mp.update_map("saidi", None, 365, ["on"], "en")[0])
    feeders = set(data.store().network()["feeders"]["feeder"])
    drawn = {c for tr in fig.data if tr.mode == "lines" for c in (tr.customdata or ()) if c}
    assert drawn == feeders
    # without a tile source: the plain SVG map, nothing remote, at the ground's aspect ratio
    assert {tr.type for tr in fig.data} == {"scatter"} and not fig.layout.map.layers
    assert "http" not in json.dumps(fig.to_plotly_json(), default=str)
    assert fig.layout.xaxis.scaleanchor == "y" and 0.7 < fig.layout.xaxis.scaleratio < 0.9
    towns = next(tr for tr in fig.data if tr.fill == "toself")  # the town areas
    assert sum(x is None for x in towns.x) == len(
        set(data.store().network()["transformers"]["town"])
    )
    one = go.Figure(mp.update_map("score", "SS01", 90, [], "zh")[0])
    drawn_one = {c for tr in one.data if tr.mode == "lines" for c in (tr.customdata or ()) if c}
    assert drawn_one and all(c.startswith("F01") for c in drawn_one)


def test_map002_click_opens_detail(app):
    mp = page("map")
    assert mp.open_feeder({"points": [{"customdata": "F0203"}]}) == "/feeder/F0203"
    assert mp.open_feeder({"points": [{"customdata": "SS02"}]}) == "/substation/SS02"


def test_map003_gcj02_when_tile_source_configured(app, settings):
    from dashboard import data
    from dashboard.components.geo import wgs84_to_gcj02
    from dashboard.components.maps import create_map_figure

    store = data.store()
    cfg = settings.model_copy(
        update={
            "dashboard": settings.dashboard.model_copy(
                update={"tile_url": "http://gis.local/{z}/{x}/{y}.png", "tile_crs": "gcj02"}
            )
        }
    )
    args = (
        store.feeder_lines(),
        store.feeder_measures(),
        "saidi",
        store.network(),
        store.substation_measures(),
        store.active(),
    )
    plain = create_map_figure(*args, settings, "en")
    conv = create_map_figure(*args, cfg, "en")
    assert conv.layout.map.layers[0].source[0] == "http://gis.local/{z}/{x}/{y}.png"
    assert {tr.type for tr in conv.data} == {"scattermap"}
    # the same traces; the tile map's after conversion (base layers go to map layers there)
    plain_subs = next(tr for tr in plain.data if tr.name == "35 kV substations")
    conv_subs = next(tr for tr in conv.data if tr.name == "35 kV substations")
    lon0, lat0 = plain_subs.x[0], plain_subs.y[0]
    glon, _glat = wgs84_to_gcj02(lon0, lat0)
    assert conv_subs.lon[0] == pytest.approx(float(glon))
    assert 0.001 < abs(float(glon) - lon0) < 0.01  # a few hundred metres, as GCJ-02 does
    # a known reference point (Beijing, Tiananmen): WGS84 -> GCJ-02
    x, y = wgs84_to_gcj02(116.391305, 39.907333)
    assert (float(x), float(y)) == pytest.approx((116.397547, 39.908737), abs=2e-5)


def test_map004_local_base_layers(app, settings, tmp_path):
    """GeoJSON files in ``dashboard.base_layers`` are drawn inline under the feeders (converted
    with the feeders when the tile source is GCJ-02); a missing or broken file is skipped."""
    from datetime import date

    from collectors.simulator import Simulation
    from dashboard import data
    from dashboard.components.geo import wgs84_to_gcj02
    from dashboard.components.maps import create_map_figure

    roads = Simulation(preset="small", seed=1, start=date(2025, 1, 1), days=1).roads()
    assert len(roads["features"]) >= 3  # every town is on a road
    (tmp_path / "roads.geojson").write_text(json.dumps(roads), encoding="utf-8")
    (tmp_path / "broken.geojson").write_text("{not json", encoding="utf-8")
    store = data.store()
    args = (
        store.feeder_lines(),
        store.feeder_measures(),
        "saidi",
        store.network(),
        store.substation_measures(),
        store.active(),
    )

    def with_layers(**dash_update):
        cfg = settings.model_copy(
            update={
                "config_dir": tmp_path,
                "dashboard": settings.dashboard.model_copy(update=dash_update),
            }
        )
        return create_map_figure(*args, cfg, "en")

    names = ["roads.geojson", "missing.geojson", "broken.geojson"]
    base = create_map_figure(*args, settings, "en")
    fig = with_layers(base_layers=names)
    assert len(fig.data) == len(base.data) + 1  # the roads; the bad files skipped
    road_trace = next(tr for tr in fig.data if tr not in base.data)
    n_parts = sum(len(f["geometry"]["coordinates"]) + 1 for f in roads["features"])
    assert len(road_trace.x) == n_parts and road_trace.hoverinfo == "skip"
    first = roads["features"][0]["geometry"]["coordinates"]
    assert [road_trace.x[0], road_trace.y[0]] == first[0]
    # on a GCJ-02 tile map: inline GeoJSON layers, converted with the feeders
    conv = with_layers(
        base_layers=names, tile_url="http://gis.local/{z}/{x}/{y}.png", tile_crs="gcj02"
    )
    road0 = first[0]
    conv_line = next(
        la
        for la in conv.layout.map.layers
        if la.type == "line" and la.source["features"][0]["properties"].get("kind") == "road"
    )
    assert all(la.sourcetype in ("geojson", "raster") for la in conv.layout.map.layers)
    x, y = conv_line.source["features"][0]["geometry"]["coordinates"][0]
    gx, gy = wgs84_to_gcj02(road0[0], road0[1])
    assert (x, y) == pytest.approx((float(gx), float(gy)), abs=2e-6)
    assert 0.001 < abs(x - road0[0]) < 0.01  # moved, by a few hundred metres


def test_pri001_rank_and_reweight(app):
    pr = page("priorities")
    pr.layout()
    rows, _defs, *_ = pr.update_priorities("feeder", 365, 1, 0.5, 0.5, None, "en")
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows == sorted(rows, key=lambda r: -r["score"])
    bars = pr.update_bars(rows, "", "feeder", "en")
    assert len(bars.data) == 4 and bars.layout.barmode == "stack"
    lv_only, *_ = pr.update_priorities("feeder", 365, 0, 0, 1, None, "en")
    assert [r["feeder"] for r in lv_only] != [r["feeder"] for r in rows]
    assert lv_only[0]["score"] == pytest.approx(max(r["score"] for r in lv_only))
    subs, sdefs, *_ = pr.update_priorities("substation", 180, 1, 0.5, 0.5, None, "zh")
    assert {d["field"] for d in sdefs} >= {"substation", "score", "project"}
    assert subs and "substation" in subs[0]


def test_pri002_export_exact_rows_and_neutralised(app):
    pr = page("priorities")
    rows, *_ = pr.update_priorities("feeder", 365, 1, 0.5, 0.5, None, "en")
    shown = [dict(r) for r in rows[3:7]]
    shown[0]["name"] = '=HYPERLINK("http://evil")'
    shown[1]["name"] = "@SUM(A1)"
    df = pr.export_frame(shown, "feeder", "en")
    assert len(df) == 4 and list(df["Feeder"]) == [r["feeder"] for r in shown]
    assert df["Name"].iloc[0].startswith("'=") and df["Name"].iloc[1].startswith("'@")
    assert df["Rank"].tolist() == [r["rank"] for r in shown]

    for ext in ("csv", "xlsx"):
        out = pr.export_payload(ext, shown, "feeder", "en")
        assert out["filename"].endswith(ext)
        raw = base64.b64decode(out["content"]) if out.get("base64") else out["content"].encode()
        back = (
            pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
            if ext == "csv"
            else pd.read_excel(io.BytesIO(raw))
        )
        assert back["Feeder"].tolist() == [r["feeder"] for r in shown]
        assert back["Name"].iloc[0].startswith("'=")


def test_det001_feeder_detail(app):
    fd = page("feeder")
    assert "F0101" in texts(fd.layout(feeder_id="F0101"))
    body = fd.render_feeder("F0101", "en")
    text = texts(body)
    assert "Outage history" in text and "Frequent-outage countdown" in text
    assert "T0101" in json.dumps(body.to_plotly_json(), default=str)
    assert "Not found" in texts(fd.render_feeder("NOPE", "en"))


def test_det002_substation_detail(app):
    sd = page("substation")
    sd.layout(substation_id="SS02")
    body = sd.render_substation("SS02", "zh")
    dumped = json.dumps(body.to_plotly_json(), default=str, ensure_ascii=False)
    assert "/feeder/F0201" in dumped and "停电记录" in dumped
    assert "未找到" in texts(sd.render_substation("SS99", "zh"))


def _component(tree, component_id):
    """The component of ``tree`` with this id (depth first), else None."""
    return next((c for c in tree._traverse() if getattr(c, "id", None) == component_id), None)


def test_det003_bodies_come_with_their_layout(settings, county_db):
    """The feeder, substation and reliability bodies are drawn in the page's layout (no second
    round trip before the first chart, issue 18), in the configured language; their callback
    leaves a body already showing the user's language and controls alone (204) and draws it
    again for another language or window."""
    from dashboard import data
    from dashboard.app import create_app

    # an app of its own: the session's may have lost its page callbacks to a later app
    c = create_app(settings, county_db[1]).server.test_client()
    lang = data.store().settings.dashboard.language
    other = "en" if lang == "zh" else "zh"

    def post(body_id, shown_id, control, user_lang, shown):
        return c.post(
            "/_dash-update-component",
            json={
                "output": f"..{body_id}.children...{shown_id}.data..",
                "outputs": [
                    {"id": body_id, "property": "children"},
                    {"id": shown_id, "property": "data"},
                ],
                "inputs": [
                    control,
                    {"id": "lang-store", "property": "data", "value": user_lang},
                    {"id": "analysis-ready", "property": "data", "value": 0},
                    {"id": "county-store", "property": "data", "value": None},
                ],
                "state": [{"id": shown_id, "property": "data", "value": shown}],
                "changedPropIds": [],
            },
        )

    cases = [
        ("feeder", {"feeder_id": "F0101"}, "feeder-body", "feeder-shown", "feeder-id", "F0101"),
        ("substation", {"substation_id": "SS02"}, "sub-body", "sub-shown", "sub-id", "SS02"),
        ("reliability", {}, "rel-body", "rel-shown", "rel-window", None),
    ]
    for name, kw, body_id, shown_id, control_id, control in cases:
        layout = page(name).layout(**kw)
        body = _component(layout, body_id)
        assert any(getattr(x, "figure", None) for x in body._traverse()), name
        shown = _component(layout, shown_id).data
        if control is None:  # the reliability window the layout chose
            control = _component(layout, control_id).value
        assert shown == [lang, control]
        prop = "value" if control_id == "rel-window" else "data"
        value = {"id": control_id, "property": prop, "value": control}
        assert post(body_id, shown_id, value, lang, shown).status_code == 204, name
        again = post(body_id, shown_id, value, other, shown)
        assert again.status_code == 200, name
        assert again.get_json()["response"][shown_id]["data"] == [other, control]
    window = 90 if shown[1] != 90 else 30
    value = {"id": "rel-window", "property": "value", "value": window}
    moved = post("rel-body", "rel-shown", value, lang, shown)
    assert moved.get_json()["response"]["rel-shown"]["data"] == [lang, window]


def test_rel001_reliability(app):
    rel = page("reliability")
    rel.layout()
    body = rel.render_reliability(365, "en")
    dumped = json.dumps(body.to_plotly_json(), default=str)
    assert "SAIDI" in dumped and "RS-1" in dumped and "MED" in dumped
    from dashboard import data

    days, info = data.store().major_event_days(365)
    fig = rel.daily_figure(days, info, "en")
    assert len(fig.data[0].x) == len(days)


def test_data001_status_quarantine_upload(app, tmp_path):
    dp = page("data")
    dp.layout()
    sources, counts = dp.render_status(0, "en", None)
    assert "sim" in texts(sources) and "outages" in texts(counts)
    rows, _defs = dp.render_quarantine("", 1, "en", None)
    assert rows and rows[0]["reason_code"] == "voltage_stuck" and len(rows) == dp.PAGE_SIZE
    rows2, _ = dp.render_quarantine("", 2, "en", None)
    assert rows2[0]["id"] < rows[-1]["id"]
    csv = (
        "outage_id,feeder,start,end,customers,cause\n"
        "UP-1,F0103,2025-07-01 19:32:00,2025-07-01 21:05:00,120,weather\n"
        "UP-2,NOFEEDER,2025-07-01 19:32:00,2025-07-01 21:05:00,50,weather\n"
    )
    payload = "data:text/csv;base64," + base64.b64encode(csv.encode()).decode()
    result = dp.upload(payload, "oms.csv", "outages", "en")
    text = texts(result)
    assert "Ingested: oms.csv" in text and "read 2" in text and "quarantined 1" in text
    refused = dp.upload("data:text/csv;base64,", "empty.csv", "outages", "en")
    assert "File refused" in texts(refused)


def test_shell001_status_and_translation(app):
    from datetime import timedelta

    from dashboard.app import status_bar

    # a day from now every source is late, whatever the other tests recorded
    updated, banner, style = status_bar("en", datetime.now(UTC) + timedelta(days=1))
    assert updated.startswith("Data as of ") and not updated.endswith("–")
    assert style["display"] == "block" and "sim" in texts(banner)
    # its last success, or plainly that there is none yet (whether another test ran it)
    from dashboard import data

    later = datetime.now(UTC) + timedelta(days=1)
    last = data.store().sources_health(later)["sim"]["last_success"]
    zh = texts(status_bar("zh", later)[1])
    if last is None:
        assert "sim: no successful run yet" in texts(banner) and "sim: 尚无成功的采集" in zh
    else:
        assert "sim: Last success: " in texts(banner) and "sim: 最后成功: " in zh
    cb = app.callback_map
    assert any("i18n" in k for k in cb)


def test_shell002_labels_in_both_languages():
    from dashboard.i18n import LABELS, fmt_minutes, fmt_time

    assert all(zh and en for zh, en in LABELS.values())
    assert fmt_minutes(185, "zh") == "3小时05分" and fmt_minutes(185, "en") == "3 h 05 min"
    t = pd.Timestamp("2025-07-01T11:30:00Z")
    assert fmt_time(t, "zh", "Asia/Shanghai") == "7月1日 19:30"
    assert fmt_time(t, "en", "Asia/Shanghai") == "1 Jul 19:30"


def test_data002_cache_keyed_by_data_version(app, county_db):
    from dashboard import data

    store = data.store()
    first = store.outages()
    assert store.outages() is first  # same version: memoised
    ingest_active_outage(county_db[1], "T-CACHE-1", "F0104", 5, 1)
    assert store.outages() is not first and "T-CACHE-1" in set(store.outages()["outage_id"])


@pytest.mark.slow
def test_data003_warmer_publishes_each_version_when_computed(app, county_db):
    """With the warmer running, an ingest shows on the live figures at once, while the other
    pages keep the last computed version until the warmer has computed the new one."""
    from dashboard import data

    store = data.store()
    store.start_warmer(3600, first=True)  # warms now, then sleeps: the test drives it
    try:
        v0 = store.published
        assert v0 == store.latest_version() and ("analysis", 365) in store.warm_keys
        ranking = store.ranking("feeder")
        ingest_active_outage(county_db[1], "T-WARM-1", "F0104", 5, 1)
        live = store.live_summary()
        assert live["data_version"] > v0 and "T-WARM-1" in set(store.active()["outage_id"])
        # the planners' pages: still the published version, its results already computed
        assert store.version() == v0 and store.ranking("feeder") is ranking
        assert "T-WARM-1" not in set(store.outages()["outage_id"])
        # a window a page asked for is kept warm from then on; one not offered is not tracked
        store.ranking("substation", 90)
        store.ranking("substation", 45)
        assert 90 in store.windows_in_use and 45 not in store.windows_in_use
        assert store.warm() == live["data_version"] == store.published
        assert ("analysis", 90) in store.warm_keys and ("analysis", 45) not in store.warm_keys
        assert store.version() == live["data_version"]
        assert "T-WARM-1" in set(store.outages()["outage_id"])
        assert store.ranking("feeder") is not ranking
    finally:
        store.stop_warmer()
    assert store.version() == store.latest_version()


def test_shell003_cartesian_plotly_bundle_unless_tiles(settings, county_db):
    """Without a tile source the pages get the vendored cartesian plotly.js (a third of the
    full bundle's start-up), exactly once, preloaded (assets/fw-locale.js runs it once Dash has
    started); with one, Dash's full bundle (MapLibre) as usual."""
    import re

    from plotly.offline import get_plotlyjs_version

    from dashboard.app import PARTIAL_PLOTLY, PLOTLY_LINK_ID, create_app, plotly_preload

    def plotly_tags(cfg) -> list[str]:
        html = create_app(cfg, county_db[1]).server.test_client().get("/map").get_data(True)
        tags = re.findall(r"<(?:script|link)[^>]*>", html)
        return [t for t in tags if "plotly" in t]

    head = PARTIAL_PLOTLY.read_text(encoding="utf-8")[:200]
    assert "cartesian" in head and f"v{get_plotlyjs_version().split('.')[0]}." in head
    [link] = plotly_preload(settings)
    assert link["href"].startswith("/assets/vendor/plotly-cartesian.min.js?m=")
    assert (link["rel"], link["as"], link["id"]) == ("preload", "script", PLOTLY_LINK_ID)
    tiles = settings.model_copy(
        update={
            "dashboard": settings.dashboard.model_copy(
                update={"tile_url": "http://gis.local/{z}/{x}/{y}.png"}
            )
        }
    )
    assert plotly_preload(tiles) == []
    try:
        [tag] = plotly_tags(settings)
        assert tag.startswith('<link rel="preload" as="script"') and f'"{link["href"]}"' in tag
        assert plotly_tags(tiles) == []
    finally:
        create_app(settings, county_db[1])  # the other tests' app and data store again
