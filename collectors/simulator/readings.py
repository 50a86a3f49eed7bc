"""Simulated meter readings: each transformer area's phase voltages and active power, day by
day from per-day random streams, with no readings while the area is interrupted and the
deliberately broken meters broken."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .weather import V_BASE, load_profiles


def voltage_readings(sim, events: dict, d0: int, d1: int) -> pd.DataFrame:
    """Long-form readings of ``sim`` (a Simulation) for local days [d0, d1); ``events`` are
    its outage events (readings stop while an area is out)."""
    n_a = len(sim.net.areas["id"])
    P = sim.points_per_day
    di = np.arange(d0, d1)
    hours = np.arange(1, P + 1) * (24.0 / P)
    vals = _true_values(sim, di, hours)
    keep = np.ones((len(di) * P, n_a), bool)
    _drop_interrupted(keep, sim.net, events, d0, d1, P)
    vals[:, :, :3] = np.round(vals[:, :, :3], 1)  # meters report 0.1 V
    _break_meters(vals, keep, sim, di)
    times = sim.t0.value + ((di[:, None] * 1440 + hours[None, :] * 60).reshape(-1) * 60e9).astype(
        np.int64
    )
    return _long_frame(vals, keep, times, sim.net.areas["id"])


def _true_values(sim, di: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """(time, area, [va, vb, vc, kw]) float32: the voltage model's phase voltages and the load,
    with meter noise from one random stream per day."""
    vm, a = sim.vmodel, sim.net.areas
    n_a, P = len(a["id"]), sim.points_per_day
    u_p = load_profiles(sim.weather, di, hours)
    v, u_a = vm.mean_pu(u_p)
    T = len(di) * P
    noise = np.empty((T, n_a, 4), np.float32)
    for j, d in enumerate(di):
        rng = np.random.default_rng([sim.seed, 7, int(d)])
        noise[j * P : (j + 1) * P] = rng.standard_normal((P, n_a, 4), dtype=np.float32)
    vals = np.empty((T, n_a, 4), np.float32)
    for i in range(3):
        vals[:, :, i] = (v - vm.imb_c[:, i][None, :] * u_a) * V_BASE + 0.8 * noise[:, :, i]
    vals[:, :, 3] = a["peak_kw"].astype(np.float32)[None, :] * u_a * (1 + 0.05 * noise[:, :, 3])
    del noise, v
    np.maximum(vals[:, :, 3], 0, out=vals[:, :, 3])
    return vals


def _drop_interrupted(keep: np.ndarray, net, ev: dict, d0: int, d1: int, P: int) -> None:
    """No readings while an area is interrupted (momentary events excepted)."""
    T = keep.shape[0]
    lo, hi = d0 * 1440.0, d1 * 1440.0
    sel = np.flatnonzero((ev["end"] > lo) & (ev["start"] < hi) & ~ev["momentary"])
    step = 1440.0 / P
    ptr = net.feeder_area_ptr
    for r in sel:
        t_a = int(np.ceil((ev["start"][r] - lo) / step - 1))
        t_b = int(np.floor((ev["end"][r] - lo) / step - 1))
        t_a, t_b = max(t_a, 0), min(t_b, T - 1)
        if t_b < t_a:
            continue
        if ev["area"][r] >= 0:
            keep[t_a : t_b + 1, ev["area"][r]] = False
        else:
            f = ev["feeder"][r]
            keep[t_a : t_b + 1, ptr[f] : ptr[f + 1]] = False


def _break_meters(vals: np.ndarray, keep: np.ndarray, sim, di: np.ndarray) -> None:
    """The deliberately broken meters: kV units, line-to-line voltages, stuck values on some
    days, gaps."""
    P = sim.points_per_day
    for row in sim.broken_meters.itertuples():
        i = row.idx
        if row.fault == "kv_units":
            vals[:, i, :3] = vals[:, i, :3] / 1000.0
        elif row.fault == "line_to_line":
            vals[:, i, :3] = vals[:, i, :3] * np.float32(np.sqrt(3))
        elif row.fault == "stuck":
            stuck_day = (di // 10) % 3 == 1
            m = np.repeat(stuck_day, P)
            vals[m, i, 0], vals[m, i, 1], vals[m, i, 2] = row.stuck_a, row.stuck_b, row.stuck_c
        elif row.fault == "gaps":
            drop = (
                np.concatenate(
                    [
                        np.random.default_rng([sim.seed, 8, int(d), int(i)]).random(P) < 0.3
                        for d in di
                    ]
                )
                if len(di)
                else np.zeros(0, bool)
            )
            drop |= np.repeat(di % 7 == 3, P)
            keep[drop, i] = False


def _long_frame(
    vals: np.ndarray, keep: np.ndarray, times: np.ndarray, area_ids: np.ndarray
) -> pd.DataFrame:
    """The kept (time, area) values as canonical voltage columns."""
    T, n_a = keep.shape
    flat = keep.reshape(-1)
    t_idx = np.repeat(np.arange(T, dtype=np.int32), n_a)[flat]
    codes = np.tile(np.arange(n_a, dtype=np.int32), T)[flat]
    vals = vals.reshape(-1, 4)[flat]
    return pd.DataFrame(
        {
            "transformer": pd.Categorical.from_codes(codes, categories=area_ids.astype(str)),
            "time": pd.DatetimeIndex(times[t_idx]).tz_localize("UTC"),
            "va": _r(vals[:, 0], 4),
            "vb": _r(vals[:, 1], 4),
            "vc": _r(vals[:, 2], 4),
            "kw": _r(vals[:, 3], 2),
        }
    )


def _r(x, decimals):
    # float32 arithmetic, float64 output without float32 artefacts (230.1000061 -> 230.1)
    return np.round(x.astype(np.float64), decimals)
