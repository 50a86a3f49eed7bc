"""Outage events, vectorised over replications (rep 0 of the history run is the history).

Every row is one outage on one feeder (35 kV events: one row per affected feeder, sharing an
event number) or on one transformer area. Times are minutes from the local start of the period.
``keep_f`` / ``keep_s`` say whether a row survives when the feeders' / substations' weaknesses
are removed (thinning with a shared uniform, so counterfactuals use common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CAUSE_NAMES = [
    "weather",
    "equipment",
    "vegetation",
    "animal",
    "third_party",
    "overload",
    "planned",
    "supply_shortage",
    "unknown",
]
C_WEATHER, C_EQUIP, C_VEG, C_ANIMAL, C_THIRD, C_OVER, C_PLANNED, C_SHORT, C_UNKNOWN = range(9)
LEVEL_SUB, LEVEL_FEEDER, LEVEL_AREA = 0, 1, 2
DUR_MEDIAN = np.array([150, 200, 120, 70, 220, 90, 300, 120, 100], float)
DUR_SIGMA = np.array([0.7, 0.6, 0.6, 0.5, 0.6, 0.5, 0.3, 0.2, 0.6])
# local-hour weights per cause (24 bins)
_H = np.arange(24)
HOUR_W = {
    "day": np.exp(-0.5 * ((_H - 13) / 4.0) ** 2) + 0.1,
    "evening": np.exp(-0.5 * ((_H - 19) / 3.0) ** 2) + 0.15,
    "flat": np.ones(24),
    "animal": np.exp(-0.5 * ((_H - 7) / 3.0) ** 2) + 0.2,
}
CAUSE_HOURS = ["day", "flat", "day", "animal", "day", "evening", "day", "day", "flat"]


def _pick_days(rng, weights, n):
    c = np.cumsum(weights)
    return np.minimum(np.searchsorted(c, rng.random(n) * c[-1], side="right"), len(c) - 1)


def _pick_minute_of_day(rng, kind, n):
    w = HOUR_W[kind]
    h = _pick_days(rng, w, n)
    return h * 60 + rng.random(n) * 60


class _Rows:
    def __init__(self):
        self.cols: dict[str, list] = {}

    def add(self, **kw):
        kw.setdefault("event_key", -1)
        lens = [np.size(v) for v in kw.values() if np.ndim(v) > 0]
        n = 0 if 0 in lens else (max(lens) if lens else 1)
        for k, v in kw.items():
            self.cols.setdefault(k, []).append(np.broadcast_to(np.asarray(v), (n,)).copy())

    def build(self):
        return {k: np.concatenate(v) for k, v in self.cols.items()}


@dataclass
class _Period:
    """What every kind of outage is drawn from: the grid, the period's weather, the random
    stream and the day weights per cause."""

    net: object
    weather: object
    rng: np.random.Generator
    n_reps: int
    years: float
    day_w: dict[int, np.ndarray]  # cause -> weight of each day
    work_w: np.ndarray  # weight of each day for planned work

    def dur_noise(self, n, c):
        return DUR_MEDIAN[c] * np.exp(DUR_SIGMA[c] * self.rng.standard_normal(n))

    def etr_for(self, dur, n):
        est = dur * np.exp(0.35 * self.rng.standard_normal(n))
        return np.maximum(60.0, np.round(est / 30.0) * 30.0)


def draw_events(net, weather, rng, n_reps: int) -> dict:
    """Draw n_reps independent realisations of the period's outages (given its weather)."""
    p = _period(net, weather, rng, n_reps)
    rows = _Rows()
    _feeder_faults(p, rows)
    _storms(p, rows)
    _momentary(p, rows)
    _planned_feeder_work(p, rows)
    _area_outages(p, rows)
    # 35 kV events: faults, maintenance, overload trips, supply shortage (限电)
    sub_rows = _Rows()
    _substation_faults(p, sub_rows)
    _substation_work(p, sub_rows)
    _overload_trips(p, sub_rows)
    _supply_shortage(p, rows)
    _spread_to_feeders(p, sub_rows.build(), rows)
    return _in_order(net, rows.build(), len(weather.temp))


def _period(net, weather, rng, n_reps: int) -> _Period:
    summer = np.exp(-0.5 * ((weather.doy - 200) / 45.0) ** 2)
    hot = np.clip(weather.temp - 26.5, 0, None)
    day_w = {
        C_WEATHER: weather.rain,
        C_EQUIP: 0.8 + 0.6 * summer + 0.3 * (weather.temp < 0),
        C_VEG: 0.3 + 1.7 * summer * weather.rain,
        C_ANIMAL: 0.4 + np.exp(-0.5 * ((weather.doy - 150) / 50.0) ** 2),
        C_THIRD: 1.0 + 0.4 * np.isin(weather.month, (3, 4, 5, 9, 10, 11)),
        C_OVER: hot**2 + 1e-6 + 0.3 * (weather.temp < -2),
    }
    # planned work: working days, mostly spring and autumn, not on festivals
    pw = (1.0 + 0.8 * np.isin(weather.month, (3, 4, 5, 9, 10, 11))) * (weather.weekday < 6)
    pw = pw * (1 - weather.festival) + 1e-9
    return _Period(net, weather, rng, n_reps, len(weather.temp) / 365.0, day_w, pw)


def _repeat_counts(cnt: np.ndarray) -> tuple[np.ndarray, ...]:
    """One entry per event: the indices of each cell of ``cnt`` repeated by its count."""
    idx = np.nonzero(cnt)
    k = cnt[idx]
    return tuple(np.repeat(i, k) for i in idx)


def _feeder_faults(p: _Period, rows: _Rows) -> None:
    """1. Feeder background faults by cause."""
    f, rng = p.net.feeders, p.rng
    lam = f["rate"] * p.years
    rep, fi, ci = _repeat_counts(rng.poisson(np.broadcast_to(lam, (p.n_reps,) + lam.shape)))
    n = len(rep)
    day = np.empty(n, int)
    mod = np.empty(n)
    for c in range(6):
        m = ci == c
        day[m] = _pick_days(rng, p.day_w[c], m.sum())
        mod[m] = _pick_minute_of_day(rng, CAUSE_HOURS[c], m.sum())
    dur = p.dur_noise(n, ci)
    ratio = f["rate_ref"][fi, ci] / np.maximum(f["rate"][fi, ci], 1e-12)
    rows.add(
        rep=rep,
        level=LEVEL_FEEDER,
        feeder=fi,
        area=-1,
        start=day * 1440.0 + mod,
        dur=dur,
        cause=ci,
        planned=False,
        shortage=False,
        etr=p.etr_for(dur, n),
        keep_f=rng.random(n) < ratio,
        keep_s=True,
        storm=False,
    )


def _storms(p: _Period, rows: _Rows) -> None:
    """2. Storms: many feeders at once."""
    f, rng, w = p.net.feeders, p.rng, p.weather
    n_f = len(f["id"])
    for d, inten, hr in zip(w.storm_days, w.storm_intensity, w.storm_hour):
        prob = 1 - np.exp(-(inten**2) * f["storm_exp"] * 1.1)
        p_ref = 1 - np.exp(-(inten**2) * f["storm_exp_ref"] * 1.1)
        hit = rng.random((p.n_reps, n_f)) < prob[None, :]
        rep, fi = np.nonzero(hit)
        n = len(rep)
        start = d * 1440.0 + hr * 60 + rng.exponential(50.0, n)
        dur = 240.0 * (0.7 + inten) * np.exp(0.6 * rng.standard_normal(n))
        cause = np.where(rng.random(n) < 0.8, C_WEATHER, C_VEG)
        rows.add(
            rep=rep,
            level=LEVEL_FEEDER,
            feeder=fi,
            area=-1,
            start=start,
            dur=dur,
            cause=cause,
            planned=False,
            shortage=False,
            etr=p.etr_for(dur, n),
            keep_f=rng.random(n) < p_ref[fi] / prob[fi],
            keep_s=True,
            storm=True,
        )


def _momentary(p: _Period, rows: _Rows) -> None:
    """3. Momentary interruptions (reclosing), <= 5 minutes."""
    f, rng = p.net.feeders, p.rng
    lam = np.broadcast_to(f["mom_rate"] * p.years, (p.n_reps, len(f["id"])))
    rep, fi = _repeat_counts(rng.poisson(lam))
    n = len(rep)
    day = _pick_days(rng, p.weather.rain, n)
    rows.add(
        rep=rep,
        level=LEVEL_FEEDER,
        feeder=fi,
        area=-1,
        start=day * 1440.0 + _pick_minute_of_day(rng, "day", n),
        dur=rng.uniform(0.1, 4.0, n),
        cause=np.where(rng.random(n) < 0.6, C_WEATHER, C_UNKNOWN),
        planned=False,
        shortage=False,
        etr=np.nan,
        keep_f=rng.random(n) < f["mom_rate_ref"][fi] / f["mom_rate"][fi],
        keep_s=True,
        storm=False,
    )


def _planned_feeder_work(p: _Period, rows: _Rows) -> None:
    """4. Planned feeder work, announced with an ETR, daytime, mostly spring and autumn."""
    f, rng = p.net.feeders, p.rng
    lam = np.broadcast_to(f["planned_rate"] * p.years, (p.n_reps, len(f["id"])))
    rep, fi = _repeat_counts(rng.poisson(lam))
    n = len(rep)
    day = _pick_days(rng, p.work_w, n)
    plan = rng.choice([240.0, 300.0, 360.0, 480.0, 600.0], n)
    over = np.where(rng.random(n) < 0.12, rng.uniform(60, 180, n), 0.0)
    dur = np.maximum(30.0, plan + rng.normal(-20, 20, n) + over)
    rows.add(
        rep=rep,
        level=LEVEL_FEEDER,
        feeder=fi,
        area=-1,
        start=day * 1440.0 + rng.choice([420.0, 450.0, 480.0, 510.0], n),
        dur=dur,
        cause=C_PLANNED,
        planned=True,
        shortage=False,
        etr=plan,
        keep_f=True,
        keep_s=True,
        storm=False,
    )


def _area_outages(p: _Period, rows: _Rows) -> None:
    """5. Transformer-area faults and area work (not the feeder's weakness)."""
    a, rng = p.net.areas, p.rng
    a_rate = np.where(a["urban"], 0.12, 0.18) * (1 + 1.5 * a["lv_weak"]) * p.years
    rep, ai = _repeat_counts(rng.poisson(np.broadcast_to(a_rate, (p.n_reps, len(a["id"])))))
    n = len(rep)
    cause = rng.choice([C_EQUIP, C_EQUIP, C_OVER, C_ANIMAL, C_THIRD, C_WEATHER, C_PLANNED], n)
    day = np.where(
        cause == C_OVER,
        _pick_days(rng, p.day_w[C_OVER], n),
        _pick_days(rng, p.day_w[C_EQUIP], n),
    )
    day = np.where(cause == C_PLANNED, _pick_days(rng, p.work_w, n), day)
    mod = np.where(
        cause == C_OVER, _pick_minute_of_day(rng, "evening", n), _pick_minute_of_day(rng, "day", n)
    )
    dur = p.dur_noise(n, cause)
    planned = cause == C_PLANNED
    dur = np.where(planned, rng.choice([180.0, 240.0, 300.0], n), dur)
    rows.add(
        rep=rep,
        level=LEVEL_AREA,
        feeder=a["feeder"][ai],
        area=ai,
        start=day * 1440.0 + mod,
        dur=dur,
        cause=cause,
        planned=planned,
        shortage=False,
        etr=np.where(planned, dur, p.etr_for(dur, n)),
        keep_f=True,
        keep_s=True,
        storm=False,
    )


def _substation_faults(p: _Period, sub_rows: _Rows) -> None:
    """6. 35 kV faults, taking all or half of the substation's feeders."""
    s, rng = p.net.subs, p.rng
    lam = s["fault_rate"] * p.years
    rep, si = _repeat_counts(rng.poisson(np.broadcast_to(lam, (p.n_reps, len(s["id"])))))
    n = len(rep)
    day = _pick_days(rng, p.day_w[C_EQUIP] + p.weather.rain * 0.5, n)
    cause = np.where(rng.random(n) < 0.6, C_EQUIP, C_WEATHER)
    dur = 90.0 * np.exp(0.7 * rng.standard_normal(n))
    sub_rows.add(
        rep=rep,
        sub=si,
        start=day * 1440.0 + _pick_minute_of_day(rng, "flat", n),
        dur=dur,
        cause=cause,
        planned=False,
        shortage=False,
        etr=p.etr_for(dur, n),
        keep_s=rng.random(n) < s["fault_rate_ref"][si] / s["fault_rate"][si],
        frac=np.where(rng.random(n) < 0.55, 1.0, 0.5),
    )


def _substation_work(p: _Period, sub_rows: _Rows) -> None:
    """7. 35 kV maintenance, planned."""
    rng = p.rng
    rep, si = _repeat_counts(rng.poisson(np.full((p.n_reps, len(p.net.subs["id"])), 0.3 * p.years)))
    n = len(rep)
    plan = rng.choice([240.0, 360.0], n)
    sub_rows.add(
        rep=rep,
        sub=si,
        start=_pick_days(rng, p.work_w, n) * 1440.0 + 480.0,
        dur=plan + rng.normal(-15, 15, n),
        cause=C_PLANNED,
        planned=True,
        shortage=False,
        etr=plan,
        keep_s=True,
        frac=1.0,
    )


def _overload_trips(p: _Period, sub_rows: _Rows) -> None:
    """8. Overloaded substations trip on hot evenings (half their feeders)."""
    rng = p.rng
    hot_days = np.flatnonzero(p.weather.temp > 28.0)
    for si in np.flatnonzero(p.net.subs["overloaded"]):
        if len(hot_days) == 0:
            break
        trip = rng.random((p.n_reps, len(hot_days))) < 0.2
        rep, di = np.nonzero(trip)
        n = len(rep)
        dur = rng.uniform(50, 130, n)
        sub_rows.add(
            rep=rep,
            sub=si,
            start=hot_days[di] * 1440.0 + rng.uniform(1140, 1290, n),
            dur=dur,
            cause=C_OVER,
            planned=False,
            shortage=False,
            etr=p.etr_for(dur, n),
            keep_s=False,
            frac=0.5,
        )


def _supply_shortage(p: _Period, rows: _Rows) -> None:
    """9. Orderly power use on the hottest days where the 35 kV capacity is short: feeders
    shed in two-hour slots."""
    f, rng = p.net.feeders, p.rng
    shed_days = np.flatnonzero(p.weather.temp > 29.0)
    for si in np.flatnonzero(p.net.subs["load_ratio"] > 0.95):
        for d in shed_days:
            feeders = np.flatnonzero(f["sub"] == si)
            on = rng.random((p.n_reps, len(feeders))) < 0.6
            rep, j = np.nonzero(on)
            n = len(rep)
            slot = rng.integers(0, 5, n)
            rows.add(
                rep=rep,
                level=LEVEL_SUB,
                feeder=feeders[j],
                area=-1,
                start=d * 1440.0 + 660.0 + slot * 120.0,
                dur=rng.uniform(110, 125, n),
                cause=C_SHORT,
                planned=False,
                shortage=True,
                etr=120.0,
                keep_f=True,
                keep_s=False,
                storm=False,
                event_key=10**15 + (rep * 1000 + si) * 100000 + d,
            )


def _spread_to_feeders(p: _Period, sr: dict, rows: _Rows) -> None:
    """One row per feeder a 35 kV event takes out (its first ``frac`` of the substation's
    feeders, at least one), the rows of one event sharing its event key."""
    if not len(sr.get("rep", [])):
        return
    f, n_s = p.net.feeders, len(p.net.subs["id"])
    ptr_f = np.concatenate([[0], np.cumsum(np.bincount(f["sub"], minlength=n_s))])
    order_f = np.argsort(f["sub"], kind="stable")
    nf = ptr_f[sr["sub"] + 1] - ptr_f[sr["sub"]]
    naff = np.maximum(1, np.ceil(nf * sr["frac"]).astype(int))
    ev = np.repeat(np.arange(len(sr["rep"])), naff)
    pos = np.arange(len(ev)) - np.repeat(np.cumsum(naff) - naff, naff)
    fi = order_f[ptr_f[sr["sub"][ev]] + pos]
    rows.add(
        rep=sr["rep"][ev],
        level=LEVEL_SUB,
        feeder=fi,
        area=-1,
        start=sr["start"][ev],
        dur=np.maximum(sr["dur"][ev] + p.rng.normal(0, 3, len(ev)), 6.0),
        cause=sr["cause"][ev],
        planned=sr["planned"][ev],
        shortage=sr["shortage"][ev],
        etr=sr["etr"][ev],
        keep_f=True,
        keep_s=sr["keep_s"][ev],
        storm=False,
        event_key=2 * 10**15 + ev,
    )


def _in_order(net, out: dict, days: int) -> dict:
    """The rows by (rep, start, feeder) with their event keys, ends, substation, customers
    and the momentary flag."""
    f, a = net.feeders, net.areas
    own = out["event_key"] < 0
    out["event_key"] = np.where(own, 4 * 10**15 + np.arange(len(own)), out["event_key"])
    out["start"] = np.clip(out["start"], 0, days * 1440.0 - 1)
    out["end"] = out["start"] + out["dur"]
    order = np.lexsort((out["feeder"], out["start"], out["rep"]))
    out = {k: v[order] for k, v in out.items()}
    out["sub"] = f["sub"][out["feeder"]]
    out["customers"] = np.where(
        out["area"] >= 0,
        a["customers"][np.maximum(out["area"], 0)],
        f_customers(net)[out["feeder"]],
    )
    out["momentary"] = out["dur"] <= 5.0
    return out


def f_customers(net):
    """Households downstream of each feeder."""
    return np.bincount(
        net.areas["feeder"], weights=net.areas["customers"], minlength=len(net.feeders["id"])
    ).astype(np.int64)
