"""The reliability page says how it counts (issue 15) and names every index with its unit and
one number format (issue 18); called directly on the session's small simulated county."""

from __future__ import annotations

import json

from dashboard.i18n import fmt_num
from tests.dashboard.test_dash_pages import texts


def _find(component, cid):
    if getattr(component, "id", None) == cid:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            found = _find(child, cid)
            if found is not None:
                return found
    return None


def test_rel101_counting_panel_and_split_table(app):
    from dashboard import data
    from dashboard.pages import reliability as rel

    store = data.store()
    days, info = store.major_event_days(365)
    system = store.system_indices(365).iloc[0]
    body = rel.render_reliability(365, "en")
    text = texts(body)
    assert "Period rule" in text
    assert texts(_find(body, "rel-rule")).startswith("start: each interruption charged whole")
    assert texts(_find(body, "rel-base")) == "the network (customers per transformer area)"
    # 120 days of data with outages on 23 days: too few for any T_MED, and the page says so
    assert info["status"] == "too_few_days" and info["n_days"] < 30
    assert texts(_find(body, "rel-tmed")) == (
        "none: too few days with interruptions for a threshold"
    )
    assert texts(_find(body, "rel-med-days")) == (", ".join(info["med_days"]) or "none")
    assert texts(_find(body, "rel-open")) == str(int(system["open_outages"]))
    assert system["open_outages"] >= 2  # the session's two active outages
    # the split table: SAIDI with and without MEDs, planned and unplanned, one decimal
    split = _find(body, "rel-split")
    saidi_row = [texts(td) for td in split.children[1].children[1].children]
    assert saidi_row == [
        "SAIDI (minutes per customer)",
        *(
            fmt_num(system[f"saidi{sfx}"], 1)
            for sfx in ("", "_ex_med", "_planned", "_planned_ex_med", "_fault", "_fault_ex_med")
        ),
    ]
    # a short history: the panel and the daily chart mark the threshold provisional
    short = {**info, "threshold": 12.5, "provisional": True, "history_days": 68}
    short.update(status="provisional", med_days=[str(days["day"].iloc[3].date())])
    panel = rel.counting_panel(store.system_indices(365), short, "en", store.analytics_settings)
    assert texts(_find(panel, "rel-tmed")) == (
        "12.50 minutes per customer per day (provisional: only 68 days of history before the "
        "period, less than a year; computed from the period itself)"
    )
    assert texts(_find(panel, "rel-med-days")) == short["med_days"][0]
    zh = texts(rel.counting_panel(store.system_indices(365), short, "zh", store.analytics_settings))
    assert "暂定：本期之前仅有68天历史" in zh and "按开始时刻" in zh
    fig = rel.daily_figure(days, short, "en")
    assert any(a.text == "T_MED = 12.50 (provisional)" for a in fig.layout.annotations)


def test_rel102_substation_table_named_with_units_and_formats(app):
    from dashboard.pages import reliability as rel

    for lang in ("en", "zh"):
        body = rel.render_reliability(365, lang)
        grid = _find(body, "rel-sub-grid")
        defs = grid.columnDefs
        headers = [d["headerName"] for d in defs]
        # no raw keys: every header is a translated name, not a column key in capitals
        assert not any(h.upper() == h and "_" in h for h in headers)
        assert not {"CUSTOMERS_SERVED", "SAIDI_EX_MED", "RS1"} & set(headers)
        for d in defs[1:]:
            assert "d3.format" in d["valueFormatter"]["function"]
        rows = grid.rowData
        assert rows and all(isinstance(r["saidi"], float) for r in rows)  # numbers, sortable
    by_field = {d["field"]: d for d in rel.substation_column_defs("en")}
    assert by_field["saidi_ex_med"]["headerName"] == (
        "SAIDI without major event days (minutes per customer)"
    )
    assert "',.1f'" in by_field["saidi"]["valueFormatter"]["function"]
    assert "'.4%'" in by_field["asai"]["valueFormatter"]["function"]
    assert "+ '%'" in by_field["rs1"]["valueFormatter"]["function"]
    zh = rel.substation_column_defs("zh")
    assert zh[3]["headerName"] == "SAIDI 平均停电时间（分钟/户）"
    zh_text = texts(rel.render_reliability(365, "zh"))
    assert "按开始时刻" in zh_text and "有停电的日数太少" in zh_text
    json.dumps(rel.render_reliability(365, "zh").to_plotly_json(), default=str)
