"""Write the simulated county in the real external formats of docs/formats.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .numbering import calendar_spans

TIME_FMT = "%Y-%m-%dT%H:%M:%SZ"


def _fmt_times(df: pd.DataFrame, cols) -> pd.DataFrame:
    df = df.copy()
    for c in cols:
        df[c] = df[c].dt.strftime(TIME_FMT)
    return df


def _bools(df, cols):
    for c in cols:
        df[c] = df[c].astype(int)
    return df


def write_exports(sim, out_dir, progress=None) -> dict:
    """Write network, outages, complaints, monthly voltage CSVs, a wide sample and the truth.

    Files: substations.csv, feeders.csv, transformers.csv, outages.csv, complaints.csv,
    voltage/voltage_YYYY-MM.csv (long form), voltage_wide_sample.csv (96/24-point curves),
    ground_truth.json. Times are written in UTC with a ``Z``. Byte-identical for the same
    arguments. ``progress(step: str, fraction: float)`` is called after each file when given.
    Returns a summary dict (row counts).
    """
    out = Path(out_dir)
    (out / "voltage").mkdir(parents=True, exist_ok=True)
    report = progress or (lambda step, frac: None)
    summary = {}
    for name, df in sim.network().items():
        df.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
        summary[name] = len(df)
    report("network", 0.02)
    o = _bools(_fmt_times(sim.outages(), ["start", "end", "etr"]), ["planned", "supply_shortage"])
    o.to_csv(out / "outages.csv", index=False, lineterminator="\n")
    summary["outages"] = len(o)
    c = _bools(_fmt_times(sim.complaints(), ["time"]), ["reasonable"])
    c.to_csv(out / "complaints.csv", index=False, lineterminator="\n")
    summary["complaints"] = len(c)
    report("outages+complaints", 0.05)
    spans = calendar_spans(sim.start, 0, sim.days)
    n_v = 0
    sample_ids = list(sim.net.areas["id"][:: max(1, len(sim.net.areas["id"]) // 3)][:3])
    sample_ids += list(sim.broken_meters["transformer"][:1])
    wide_parts = []
    for k, (d0, d1) in enumerate(spans):
        v = sim.voltage_days(d0, d1)
        month = (sim.start + pd.Timedelta(days=d0)).strftime("%Y-%m")
        vv = v.copy()
        vv["time"] = vv["time"].dt.strftime(TIME_FMT)
        vv.to_csv(out / "voltage" / f"voltage_{month}.csv", index=False, lineterminator="\n")
        n_v += len(v)
        if k == 0:
            wide_parts.append(_wide(sim, v[v["transformer"].isin(sample_ids)], days=3))
        report(f"voltage {month}", 0.05 + 0.9 * (k + 1) / len(spans))
        del v, vv
    summary["voltage"] = n_v
    if wide_parts:
        wide_parts[0].to_csv(out / "voltage_wide_sample.csv", index=False, lineterminator="\n")
    gt = sim.ground_truth()
    (out / "ground_truth.json").write_text(
        json.dumps(gt, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    report("ground truth", 1.0)
    return summary


def _wide(sim, v: pd.DataFrame, days: int) -> pd.DataFrame:
    """96-point (or 24-point) daily curves: transformer, date, phase, p1..pN."""
    P = sim.points_per_day
    local = v["time"].dt.tz_convert(sim.tz)
    # point k is the value at 00:00 + k*step: point P (24:00) belongs to the previous date
    date = (local - pd.Timedelta(seconds=1)).dt.date
    step = pd.Timedelta(minutes=1440 // P)
    point = (local - pd.to_datetime(date.astype(str)).dt.tz_localize(sim.tz)) // step
    d = pd.DataFrame(
        {
            "transformer": v["transformer"].astype(str),
            "date": date.astype(str),
            "point": point.astype(int),
        }
    )
    dates = sorted(d["date"].unique())[:days]
    rows = []
    for phase, col in (("A", "va"), ("B", "vb"), ("C", "vc"), ("P", "kw")):
        x = d.assign(value=v[col].to_numpy())
        x = x[x["date"].isin(dates)]
        w = x.pivot_table(
            index=["transformer", "date"], columns="point", values="value", aggfunc="first"
        )
        w = w.reindex(columns=range(1, P + 1))
        w.columns = [f"p{k}" for k in w.columns]
        w = w.reset_index()
        w.insert(2, "phase", phase)
        rows.append(w)
    out = pd.concat(rows, ignore_index=True).sort_values(
        ["transformer", "date", "phase"], kind="stable"
    )
    return out.round(4).replace({np.nan: None})
