"""XLSX and JSON exports land like CSV ones (Chinese headers, GeoJSON network)."""

from __future__ import annotations

import json

import pandas as pd

from collectors.ingest import ingest_file, ingest_path
from collectors.pipeline import IngestOptions, Pipeline
from db.queries import complaints, network, outages
from tests.collectors.helpers import load_network


def test_fmt001_xlsx_outages_with_chinese_headers(engine, tmp_path):
    pipe = Pipeline(engine)
    load_network(pipe)
    path = tmp_path / "停电记录.xlsx"
    pd.DataFrame(
        {
            "停电编号": ["X1", "X2", "X3"],
            "线路编号": ["F1", "F2", "F1"],
            "停电时间": ["2025-07-01 19:30", "2025-07-02 08:00", "2025/7/3 9:05"],
            "送电时间": ["2025-07-01 21:00", None, "2025-07-03 10:00"],
            "停电户数": [120, 30, 9],
            "计划停电": ["否", "是", "否"],
        }
    ).to_excel(path, index=False)
    summary = ingest_file(pipe, path, "outages", IngestOptions(source="xlsx"))
    assert (summary.upserted, summary.quarantined_total) == (3, 0)
    stored = outages(engine).set_index("outage_id")
    assert stored.loc["X2", "planned"] and not stored.loc["X1", "planned"]
    assert pd.isna(stored.loc["X2", "end"])
    assert stored.loc["X3", "start"] == pd.Timestamp("2025-07-03 01:05", tz="UTC")


def test_fmt002_json_complaints_and_geojson_network(engine, tmp_path):
    pipe = Pipeline(engine)
    subs = tmp_path / "substations.json"
    subs.write_text(json.dumps([{"substation": "S9", "name": "新区站", "capacity_mva": 31.5}]))
    feeders = tmp_path / "feeders.geojson"
    feeders.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"feeder": "F91", "substation": "S9", "length_km": 4.2},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[116.2, 36.5], [116.25, 36.52]],
                        },
                    }
                ],
            }
        )
    )
    areas = tmp_path / "transformers.json"
    areas.write_text(
        json.dumps(
            {"items": [{"transformer": "T91", "feeder": "F91", "customers": 60, "town": "新区"}]}
        )
    )
    summary = ingest_path(pipe, "network", tmp_path, IngestOptions(source="gis"))
    assert (summary.upserted, summary.quarantined_total) == (3, 0)
    net = network(engine)
    geometry = json.loads(net["feeders"].set_index("feeder").loc["F91", "geometry"])
    assert geometry == {
        "type": "MultiLineString",
        "coordinates": [[[116.2, 36.5], [116.25, 36.52]]],
    }
    tickets = tmp_path / "complaints.json"
    tickets.write_text(
        json.dumps(
            [
                {
                    "工单编号": "W1",
                    "受理时间": "2025-07-01T20:00:00+08:00",
                    "业务类型": "低电压",
                    "台区编号": "T91",
                    "受理内容": "晚上电压低，空调开不了",
                },
                {
                    "工单编号": "W2",
                    "受理时间": "2025-07-01T20:05:00+08:00",
                    "业务类型": "停电",
                    "乡镇": "新区",
                    "地址": "新区幸福路3号",
                    "受理内容": "<script>alert(1)</script>停电",
                },
            ]
        )
    )
    summary = ingest_file(pipe, tickets, "complaints", IngestOptions(source="95598"))
    assert (summary.upserted, summary.quarantined_total) == (2, 0)
    stored = complaints(engine).set_index("ticket_id")
    assert stored.loc["W1", "category"] == "low_voltage"
    assert stored.loc["W1", "feeder"] == "F91"  # through its area
    assert pd.isna(stored.loc["W2", "transformer"]) and stored.loc["W2", "town"] == "新区"
    assert stored.loc["W2", "text"] == "<script>alert(1)</script>停电"  # stored as given
