"""Issue 15 item 6: the ranking combines several years with a recency weighting: each per-year
estimate is the weighted mean of the years' own analyses (weights 0.5^(k / half-life)), and
only years the data cover are used."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.priorities import OUTAGE_ESTIMATES, analyse
from analytics.settings import AnalyticsSettings

WINDOW = ("2025-01-01", "2026-01-01")


@pytest.fixture(scope="module")
def three_years():
    from collectors.simulator import Simulation

    sim = Simulation(preset="small", seed=3, start=date(2023, 1, 1), days=3 * 365, resolution="1h")
    return sim.network(), sim.outages(), sim.complaints()


def test_my001_three_years_recency_weighted(three_years):
    net, out, comp = three_years
    settings = AnalyticsSettings(history_years=3, recency_half_life_years=1.0)
    a = analyse(net, out, comp, None, settings, window=WINDOW)
    assert len(a.years) == 3
    ranked = a.rank("feeder").set_index("feeder")
    assert (ranked["years_used"] == 3).all()
    # each of the product's windows alone, with one-year settings
    # windows of the same length (365 days) back from the window: 2024 is a leap year
    assert [str(w[0].date()) for w in a.years[1:]] == ["2024-01-02", "2023-01-02"]
    one = AnalyticsSettings(history_years=1)
    alone = [
        analyse(net, out, comp, None, one, window=w).rank("feeder").set_index("feeder")
        for w in a.years
    ]
    weights = [1.0, 0.5, 0.25]  # half-life one year
    for col in OUTAGE_ESTIMATES:
        expected = sum(w * t[col] for w, t in zip(weights, alone)) / sum(weights)
        assert ranked[col].to_numpy() == pytest.approx(
            expected.reindex(ranked.index).to_numpy(), rel=1e-9
        ), col
    parts = ["from_interruptions", "from_duration", "from_repeated_outages", "from_low_voltage"]
    assert ranked["avoidable_complaints"].to_numpy() == pytest.approx(
        ranked[parts].sum(axis=1).to_numpy()
    )
    # observed figures stay the latest year's
    assert ranked["observed_complaints"].to_numpy() == pytest.approx(
        alone[0]["observed_complaints"].reindex(ranked.index).to_numpy()
    )
    table = a.rank("feeder")
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert table["score"].is_monotonic_decreasing


def test_my002_only_years_the_data_cover(three_years):
    net, out, comp = three_years
    # outages and complaints from mid-2024 on only: 2024 is not covered, one year is used
    late = out[out["start"] >= "2024-07-01"]
    late_c = comp[comp["time"] >= "2024-07-01"]
    a = analyse(net, late, late_c, None, AnalyticsSettings(history_years=5), window=WINDOW)
    assert len(a.years or [a.window]) == 1
    assert (a.rank("feeder")["years_used"] == 1).all()
    single = analyse(net, late, late_c, None, AnalyticsSettings(history_years=1), window=WINDOW)
    assert a.rank("feeder")["avoidable_complaints"].tolist() == pytest.approx(
        single.rank("feeder")["avoidable_complaints"].tolist()
    )
