"""Feeders with network findings are drawn dotted on the map and say why on hover (issue 14,
item 5); open points, normal in a radial grid, mark nothing."""

from __future__ import annotations

import pandas as pd


def test_mapflag001_flagged_feeders_dotted_with_reasons(app):
    from dashboard import data
    from dashboard.components.maps import create_map_figure

    store = data.store()
    lines = store.feeder_lines()
    drawn = lines[lines["lines"].map(lambda parts: any(parts))]
    loop, gaps, normal = drawn["feeder"].iloc[:3]
    flags = pd.DataFrame(
        {
            "feeder": [loop, gaps, normal],
            "flags": ["loop,open_line", "no_coordinates", "open_line"],
        }
    )

    def figure(lang, flags=flags):
        return create_map_figure(
            lines,
            store.feeder_measures(365),
            "score",
            store.network(),
            store.substation_measures(365),
            store.active(),
            store.settings,
            lang,
            flags=flags,
        )

    fig = figure("en")
    dotted = [t for t in fig.data if t.name == "Feeder with network findings (dotted)"]
    assert len(dotted) == 1 and dotted[0].line.dash == "dot"
    assert dotted[0].meta["flagged"] == sorted([loop, gaps])  # not the open point's feeder
    # exactly the two feeders' drawn points, in order
    expected = []
    for parts in drawn.set_index("feeder").loc[[loop, gaps], "lines"]:
        for part in parts:
            if part:
                expected += [round(p[0], 5) for p in part] + [None]
    assert list(dotted[0].x) == expected
    mids = next(t for t in fig.data if t.mode == "markers" and t.customdata is not None)
    hover = dict(zip(mids.customdata, mids.hovertext, strict=True))
    assert "⚠ Loop" in hover[loop] and "Open point" not in hover[loop]
    assert "⚠ Bus without coordinates" in hover[gaps]
    assert "⚠" not in hover[normal]
    zh = figure("zh")
    assert any(t.name == "网络模型有问题的线路（点线）" for t in zh.data)
    # no findings: no extra trace
    assert not any(t.name == dotted[0].name for t in figure("en", flags=None).data)
