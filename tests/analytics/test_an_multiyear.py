"""Issue 15 item 6: the ranking uses several years: the covered earlier years pooled with the
latest into one analysis, and the latest year's own estimates weighed ``recent_year_weight``
against the pooled ones; only years the data cover are used."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.priorities import OUTAGE_ESTIMATES, analyse
from analytics.settings import AnalyticsSettings

WINDOW = ("2025-01-01", "2026-01-01")


@pytest.fixture(scope="module")
def three_years():
    from collectors.simulator import Simulation

    sim = Simulation(preset="small", seed=3, start=date(2023, 1, 1), days=3 * 365, resolution="1h")
    return sim.network(), sim.outages(), sim.complaints()


def test_my001_three_years_pooled_and_recent(three_years):
    net, out, comp = three_years
    settings = AnalyticsSettings(history_years=3, recent_year_weight=0.25)
    a = analyse(net, out, comp, None, settings, window=WINDOW)
    # the latest window, and the pooled one: three windows of 365 days back from 2026-01-01
    assert [str(pd.Timestamp(w[0]).date()) for w in a.years] == ["2025-01-01", "2023-01-02"]
    ranked = a.rank("feeder").set_index("feeder")
    assert (ranked["years_used"] == 3).all()
    one = AnalyticsSettings(history_years=1)
    latest = analyse(net, out, comp, None, one, window=a.years[0]).rank("feeder")
    pooled = analyse(net, out, comp, None, one, window=a.years[1]).rank("feeder")
    latest, pooled = latest.set_index("feeder"), pooled.set_index("feeder")
    for col in (*OUTAGE_ESTIMATES, "from_low_voltage"):
        expected = 0.25 * latest[col] + 0.75 * pooled[col]
        assert ranked[col].to_numpy() == pytest.approx(
            expected.reindex(ranked.index).to_numpy(), rel=1e-9
        ), col
    parts = ["from_interruptions", "from_duration", "from_repeated_outages", "from_low_voltage"]
    assert ranked["avoidable_complaints"].to_numpy() == pytest.approx(
        ranked[parts].sum(axis=1).to_numpy()
    )
    # observed figures stay the latest year's
    assert ranked["observed_complaints"].to_numpy() == pytest.approx(
        latest["observed_complaints"].reindex(ranked.index).to_numpy()
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


def test_my003_rank_command_reads_the_earlier_years(tmp_path, capsys):
    """``feederwatch rank`` loads the earlier years' complaints from the database (SQLite)."""
    from collectors.simulator import Simulation
    from collectors.simulator.load import load_history
    from db.engine import make_engine
    from db.migrate import upgrade
    from feederwatch.config import load_settings
    from feederwatch.reports import rank_command

    url = f"sqlite:///{tmp_path / 'fw.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sim = Simulation(preset="small", seed=3, start=date(2024, 1, 1), days=2 * 365, resolution="1h")
    load_history(engine, sim, voltage="none")
    engine.dispose()
    config = tmp_path / "fw.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[ranking]\nhistory_years = 3\n')
    assert rank_command(load_settings(config), "feeder", 5, "json") == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5
    assert {r["years_used"] for r in rows} == {2}  # two years of data: all there is
