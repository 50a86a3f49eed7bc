"""The Data page lists the findings of the last network import (issue 14), in both languages,
and the store exposes the feeders they name for the map (``feeder_flags``)."""

from __future__ import annotations

import importlib

import pandas as pd

from db.queries.network import replace_network_diagnostics

SOURCE = "test-network-findings"


def test_netui001_findings_listed_by_kind_and_feeders_flagged(app):
    dp = importlib.import_module("dashboard.pages.data")
    store = dp.data.store()
    findings = pd.DataFrame(
        [
            {"kind": "loop", "feeder": "F0101", "substation": "SS01", "line_id": "7",
             "detail": "bus 4 reached twice (from bus 3)"},
            {"kind": "no_coordinates", "feeder": "F0101", "bus": "12", "detail": "feeder bus"},
            {"kind": "no_coordinates", "feeder": "F0102", "bus": "13", "detail": "feeder bus"},
            {"kind": "open_line", "line_id": "9",
             "detail": "open switch 3 at bus 2; bus 2 (F0101) - bus 4 (F0201)"},
        ]
    )  # fmt: skip
    before = store.feeder_flags()  # read at the data version before the findings
    assert "F0101" not in set(before.get("feeder", []))
    replace_network_diagnostics(store.engine, SOURCE, None, findings)  # a new data version
    try:
        en = str(dp.network_table("en"))
        assert "Loop" in en and "Bus without coordinates" in en and "Open point" in en
        zh = str(dp.network_table("zh"))
        assert "环路" in zh and "无坐标节点" in zh
        rows = dp.network_table("en").children[1].children
        counts = {
            r.children[1].children: r.children[2].children
            for r in rows
            if r.children[0].children == SOURCE
        }
        assert counts == {
            "Loop": "1",
            "Bus without coordinates": "2",
            "Open point / open line": "1",
        }
        flags = store.feeder_flags().set_index("feeder")
        assert flags.at["F0101", "flags"] == "loop,no_coordinates,open_line"
        assert flags.at["F0101", "buses_without_coordinates"] == 1
        assert flags.at["F0102", "buses_without_coordinates"] == 1
        assert flags.at["F0201", "open_points"] == 1 and flags.at["F0201", "loops"] == 0
        # a later import of the source replaces its findings
        replace_network_diagnostics(store.engine, SOURCE, None, findings.iloc[:0])
        assert SOURCE not in set(store.network_diagnostics()["source"])
    finally:
        replace_network_diagnostics(store.engine, SOURCE, None, findings.iloc[:0])
