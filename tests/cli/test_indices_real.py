"""Issue 15: the indices of a real utility year (BC Hydro 2024, ../shared/data/real) through the
product's own path (file source by configuration, database, ``feederwatch indices``), on SQLite
and PostgreSQL, under both period rules, against a reference computed here in plain pandas from
the raw CSV (no product code): SAIFI, SAIDI planned / unplanned, with and without Major Event
Days, the provisional T_MED and the MED days (four under the "start" rule).

SQLite gets the whole year; PostgreSQL, to keep the suite fast (its ingest of the year takes
about 20 s here), every report of each outage that reaches into the fourth quarter, and is
judged on that quarter: the same data path (times, zones, flags read back) on less volume."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from feederwatch.config import load_settings
from tests.conftest import PgSchema, postgres_available, real_data, require

# slow: loads a utility's real year of outages on both databases
pytestmark = pytest.mark.slow

TZ = "America/Vancouver"
SERVED = 2_000_000  # BC Hydro's customers, order of magnitude (PROVENANCE.md)

CONFIG = """
[database]
url = "{url}"

[site]
timezone = "America/Vancouver"

[sources.bchydro]
type = "file"
path = "drop"
# BC Hydro re-reports an outage under the same id; lastUpdated says which report is newer.
version_column = "lastUpdated"

# "Planned work being done on our equipment": planned; every other cause text unplanned
[sources.bchydro.value_map.planned]
from = "cause"
patterns = {{ "^planned" = true }}
default = false
{extra}
"""


def _year():
    return real_data("bchydro-outages-2024", "bchydro_outages_2024_365days.csv.gz")


WINDOWS = {"sqlite": ("2024-01-01", "2025-01-01"), "postgresql": ("2024-10-01", "2025-01-01")}
_REFERENCE: dict = {}


def reference(window):
    """IEEE 1366 figures of a local window from the raw file (the latest report of each id
    wins), under both period rules."""
    if window not in _REFERENCE:
        _REFERENCE[window] = _reference(window)
    return _REFERENCE[window]


def _reference(window):
    raw = pd.read_csv(_year())
    raw["updated"] = pd.to_datetime(raw["lastUpdated"], utc=True)
    d = raw.sort_values(["id", "updated"]).drop_duplicates("id", keep="last")
    start = pd.to_datetime(d["dateOff"], utc=True)
    ws, we = pd.Timestamp(window[0], tz=TZ), pd.Timestamp(window[1], tz=TZ)
    end = pd.to_datetime(d["dateOn"], utc=True).fillna(we)
    cust = d["numCustomersOut"].astype(float)
    planned = d["cause"].str.lower().str.startswith("planned")
    inside = (start >= ws) & (start < we)
    day = start.dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize()
    whole = (end - start).dt.total_seconds() / 60
    days = pd.date_range(window[0], window[1], freq="D", tz=TZ)
    out = {}
    for rule in ("start", "clip"):
        if rule == "start":
            daily = (cust * whole)[inside].groupby(day[inside]).sum()
            daily = daily.reindex(days[:-1].tz_localize(None), fill_value=0.0)
        else:
            daily = pd.Series(
                [
                    (
                        cust
                        * ((end.clip(upper=b) - start.clip(lower=a)).dt.total_seconds() / 60).clip(
                            lower=0
                        )
                    ).sum()
                    for a, b in zip(days[:-1], days[1:])
                ],
                index=days[:-1].tz_localize(None),
            )
        daily = daily / SERVED
        logs = np.log(daily[daily > 0])
        t_med = math.exp(logs.mean() + 2.5 * logs.std(ddof=1))
        med = [x.date().isoformat() for x in daily.index[daily > t_med]]
        on_med = day.dt.date.astype(str).isin(med)

        def cmi(sel, drop_med=False, _rule=rule, on_med=on_med, med=med):
            if _rule == "start":
                keep = (sel & inside & ~on_med) if drop_med else (sel & inside)
                return (cust * whole)[keep].sum()
            mins = ((end.clip(upper=we) - start.clip(lower=ws)).dt.total_seconds() / 60).clip(
                lower=0
            )
            if drop_med:
                for m in med:
                    a = pd.Timestamp(m, tz=TZ)
                    b = a + pd.Timedelta(days=1)
                    mins = mins - (
                        (end.clip(upper=b) - start.clip(lower=a)).dt.total_seconds() / 60
                    ).clip(lower=0)
            return (cust * mins.clip(lower=0))[sel].sum()

        def ci(sel, drop_med=False, on_med=on_med):
            return cust[(sel & inside & ~on_med) if drop_med else (sel & inside)].sum()

        every = pd.Series(True, index=d.index)
        fig = {"t_med": t_med, "med_days": med}
        for suffix, sel in (("", every), ("_planned", planned), ("_unplanned", ~planned)):
            fig[f"saifi{suffix}"] = ci(sel) / SERVED
            fig[f"saidi{suffix}"] = cmi(sel) / SERVED
            fig[f"saifi{suffix}_ex_med"] = ci(sel, True) / SERVED
            fig[f"saidi{suffix}_ex_med"] = cmi(sel, True) / SERVED
        out[rule] = fig
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def loaded(request, tmp_path_factory):
    """The year ingested once per back end by configuration; yields (folder, url)."""
    from collectors.ingest import ingest_file_command

    folder = tmp_path_factory.mktemp("bchydro")
    window = WINDOWS[request.param]
    path = _year()
    if request.param == "sqlite":
        schema = None
        url = f"sqlite:///{folder / 'fw.db'}"
    else:
        require(postgres_available(), "PostgreSQL not reachable")
        schema = PgSchema().__enter__()
        url = schema.url
        # every report of the outages that reach into the window (start or end in it or later)
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        edge = pd.Timestamp(window[0], tz=TZ)
        late = (pd.to_datetime(raw["dateOff"], utc=True) >= edge) | (
            pd.to_datetime(raw["dateOn"], utc=True) >= edge
        )
        path = folder / "quarter.csv"
        raw[raw["id"].isin(set(raw.loc[late, "id"]))].to_csv(path, index=False)
    (folder / "fw.toml").write_text(CONFIG.format(url=url, extra=""))
    settings = load_settings(folder / "fw.toml")
    assert ingest_file_command(settings, "outages", path, "bchydro") == 0
    yield folder, url, window
    if schema is not None:
        schema.__exit__(None, None, None)


def _settings(loaded, extra):
    folder, url, _ = loaded
    path = folder / "with_base.toml"
    path.write_text(CONFIG.format(url=url, extra=extra))
    return load_settings(path)


def _indices(capsys, settings, window, rule=None, fmt="json", by="system"):
    from datetime import date

    from feederwatch.reports import indices_command

    capsys.readouterr()
    start, end = (date.fromisoformat(x) for x in window)
    code = indices_command(settings, by, start, end, fmt, period_rule=rule)
    return code, capsys.readouterr()


def test_idx001_no_customer_base_is_refused(loaded, capsys):
    code, out = _indices(capsys, _settings(loaded, ""), loaded[2])
    assert code == 2
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "no customers served" in lines[0]
    assert "[indices] customers_served" in lines[0]


@pytest.mark.parametrize("rule", ["start", "clip"])
def test_idx002_real_year_matches_reference(loaded, capsys, rule):
    settings = _settings(loaded, f"[indices]\ncustomers_served = {SERVED}\n")
    window = loaded[2]
    code, out = _indices(capsys, settings, window, rule)
    assert code == 0, out.err
    row = json.loads(out.out)[0]
    ref = reference(window)[rule]
    assert row["period_rule"] == rule
    assert row["customer_base"] == "config"
    assert row["customers_served"] == SERVED
    # less than a year of history before the window (the file begins 2023-10-25): provisional
    assert row["t_med_provisional"] is True
    assert row["t_med"] == pytest.approx(ref["t_med"], rel=1e-9)
    assert row["med_days"].split() == ref["med_days"]
    assert ref["med_days"]  # the storms of November and December
    if window[0] != "2024-01-01":
        pass
    elif rule == "start":
        assert ref["med_days"] == ["2024-11-04", "2024-11-19", "2024-11-20", "2024-12-14"]
        assert row["saidi"] == pytest.approx(657.86, abs=0.01)  # the reference
    else:
        assert row["saidi"] == pytest.approx(678.16, abs=0.01)
    for key in (
        "saifi",
        "saidi",
        "saifi_ex_med",
        "saidi_ex_med",
        "saifi_planned",
        "saidi_planned",
        "saidi_planned_ex_med",
        "saifi_unplanned",
        "saidi_unplanned",
        "saidi_unplanned_ex_med",
    ):
        assert row[key] == pytest.approx(ref[key], rel=1e-9), key
    assert row["open_outages"] == 0
    # CSV carries the same figures
    code, csv = _indices(capsys, settings, window, rule, fmt="csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(csv.out))
    assert frame.loc[0, "saidi_ex_med"] == pytest.approx(row["saidi_ex_med"], rel=1e-9)
    assert frame.loc[0, "med_days"] == row["med_days"]
    assert frame.loc[0, "t_med"] == pytest.approx(row["t_med"], rel=1e-9)


def test_idx003_table_names_rule_and_provisional_t_med(loaded, capsys):
    settings = _settings(loaded, f"[indices]\ncustomers_served = {SERVED}\n")
    window = loaded[2]
    code, out = _indices(capsys, settings, window, fmt="table")
    assert code == 0, out.err
    text = out.out
    ref = reference(window)["start"]
    assert "period rule: start (each interruption charged whole" in text
    assert f"T_MED: {ref['t_med']:,.3f} min/day  PROVISIONAL" in text
    assert f"MED days ({len(ref['med_days'])}): {' '.join(ref['med_days'])}" in text
    assert "all ex MED" in text and "unplanned ex MED" in text
    # outages overlapping the window whose record gives no customer count, counted from the file
    raw = pd.read_csv(_year())
    raw["updated"] = pd.to_datetime(raw["lastUpdated"], utc=True)
    d = raw.sort_values(["id", "updated"]).drop_duplicates("id", keep="last")
    ws, we = pd.Timestamp(window[0], tz=TZ), pd.Timestamp(window[1], tz=TZ)
    start = pd.to_datetime(d["dateOff"], utc=True)
    end = pd.to_datetime(d["dateOn"], utc=True)
    overlap = (start < we) & (end.isna() | (end > ws))
    blank = int((d["numCustomersOut"].isna() & overlap).sum())
    assert f"outages without a customer count (counted as 0 customers): {blank:,}" in text
