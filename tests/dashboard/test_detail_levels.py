"""Detail pages show each area's voltage in its own unit (issue 13): a 10 kV bus's lowest
voltage reads "9.85 kV", not its 220 V storage value; mixed levels read as % of nominal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.components.detail import heatmap_figure, voltage_display, worst_areas


def _network(nominal: dict[str, float]) -> dict:
    return {
        "transformers": pd.DataFrame(
            {
                "transformer": list(nominal),
                "feeder": "F1",
                "nominal_v": list(nominal.values()),
            }
        )
    }


def _hourly(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transformer": list(values),
            "period_start": pd.Timestamp("2025-07-01 02:00", tz="UTC"),
            "v_min": list(values.values()),
        }
    )


def test_lvl001_each_area_in_its_own_unit():
    bus = 9.85 / 10 * 220  # 9.85 kV stored per-unit on the 220 V base
    net = _network({"BUS": 10_000.0})
    factors, unit = voltage_display(["BUS"], net)
    assert (
        unit == "kV"
        and factors["BUS"] * bus == np.float64(9.85).item()
        or abs(factors["BUS"] * bus - 9.85) < 1e-9
    )
    fig = heatmap_figure(_hourly({"BUS": bus}), "en", "Asia/Shanghai", (factors, unit))
    heat = fig.data[0]
    assert abs(float(np.nanmin(heat.z)) - 9.85) < 1e-9
    assert heat.colorbar.title.text == "kV" and "kV" in heat.hovertemplate
    assert abs(heat.zmin - 180 / 22) < 1e-9 and abs(heat.zmax - 235 / 22) < 1e-9
    # 220 V terminals (no nominal stored) stay in volts, as stored
    plain = _network({"T1": np.nan})
    assert voltage_display(["T1"], plain) == ({"T1": 1.0}, "V")
    # mixed levels: per cent of nominal
    mixed = _network({"T1": np.nan, "BUS": 10_000.0})
    factors, unit = voltage_display(["T1", "BUS"], mixed)
    fig = heatmap_figure(_hourly({"T1": 198.0, "BUS": bus}), "zh", "Asia/Shanghai", (factors, unit))
    assert unit == "%" and fig.data[0].colorbar.title.text == "% 额定电压"
    assert abs(float(np.nanmin(fig.data[0].z)) - 90.0) < 1e-9  # 198 V is 90 % of 220 V
    figs = pd.DataFrame(
        {
            "transformer": ["T1", "BUS"],
            "compliance_rate": [0.9, 0.8],
            "v_min": [198.0, bus],
            "hours_below": [3.0, 5.0],
            "low_voltage_days": [1, 2],
        }
    )
    table = worst_areas(figs, mixed, ["F1"], "en")
    cells = {
        row.children[0].children: row.children[2].children for row in table.children[1].children
    }
    assert cells == {"BUS": "9.85 kV", "T1": "198.0"}
