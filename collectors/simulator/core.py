"""The Simulation object: a seeded county yielding canonical DataFrames (never touches a DB)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

from . import behaviour as bh
from . import names
from .events import CAUSE_NAMES, LEVEL_AREA, draw_events, f_customers
from .network import PRESETS, build_network, network_frames, roads_geojson
from .weather import V_BASE, VoltageModel, load_profiles, make_weather

LEVELS = np.array(["substation", "feeder", "transformer"], dtype=object)
BROKEN_KINDS = ["kv_units", "line_to_line", "stuck", "gaps"]
GRID_CATEGORIES = [
    "outage",
    "frequent_outage",
    "low_voltage",
    "voltage_fluctuation",
    "repair_timeout",
    "repair_quality",
]
UNREASONABLE = ["customer_side_fault", "power_theft", "billing", "service_attitude"]


@dataclass
class Batch:
    """One streamed chunk: local days [start, end)."""

    start: date
    end: date
    outages: pd.DataFrame
    voltage: pd.DataFrame
    complaints: pd.DataFrame


class Simulation:
    """A deterministic simulated county: network, outages, voltage, complaints, ground truth.

    Same preset, seed, start, days, resolution and centre give identical output. Times in the
    frames are tz-aware UTC; "day" and "month" are local calendar days/months in ``tz``
    (DESIGN.md). Voltage is generated lazily, day by day, from per-day random streams, so any
    window (a month, the last N days) is the same slice of the same history.
    """

    def __init__(
        self,
        preset: str = "small",
        seed: int = 1,
        start: date = date(2025, 1, 1),
        days: int = 365,
        resolution: str = "15min",
        centre: tuple[float, float] = (116.25, 36.58),
        tz: str = "Asia/Shanghai",
    ):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}")
        if resolution not in ("15min", "1h"):
            raise ValueError("resolution must be '15min' or '1h'")
        if isinstance(start, str):
            start = date.fromisoformat(start)
        if isinstance(start, datetime):
            start = start.date()
        self.preset, self.seed, self.start, self.days = preset, int(seed), start, int(days)
        self.resolution, self.centre, self.tz = resolution, tuple(centre), tz
        self.points_per_day = 96 if resolution == "15min" else 24
        self.t0 = pd.Timestamp(start).tz_localize(tz).tz_convert("UTC")

    # ---------------------------------------------------------------- model pieces
    @cached_property
    def net(self):
        return build_network(self.preset, self.seed, self.centre)

    @cached_property
    def weather(self):
        return make_weather(self.seed, self.start, self.days)

    @cached_property
    def vmodel(self):
        return VoltageModel(self.net, self.weather, self.seed)

    @cached_property
    def _events(self):
        return draw_events(self.net, self.weather, np.random.default_rng([self.seed, 10]), 1)

    @cached_property
    def _lv_weighted(self):
        return self.vmodel.lv_experience("asis")

    @cached_property
    def broken_meters(self) -> pd.DataFrame:
        """The deliberately faulty meters: transformer, fault kind."""
        rng = np.random.default_rng([self.seed, 4])
        a = self.net.areas
        cand = np.flatnonzero(a["kind"] == 0)
        n = max(4, int(round(0.004 * len(a["id"]))))
        idx = np.sort(rng.choice(cand, n, replace=False))
        kinds = [BROKEN_KINDS[i % 4] for i in range(n)]
        stuck = np.round(rng.uniform(215, 232, (n, 3)), 1)
        return pd.DataFrame(
            {
                "transformer": a["id"][idx].astype(str),
                "fault": kinds,
                "idx": idx,
                "stuck_a": stuck[:, 0],
                "stuck_b": stuck[:, 1],
                "stuck_c": stuck[:, 2],
            }
        )

    def network(self) -> dict[str, pd.DataFrame]:
        """Network tables with canonical columns: substations, feeders, transformers."""
        return network_frames(self.net)

    def roads(self) -> dict:
        """The county's main roads (GeoJSON, WGS84), a base layer for the offline map."""
        return roads_geojson(self.net)

    def _to_utc(self, minutes):
        return self.t0 + pd.to_timedelta(np.round(np.asarray(minutes, float) * 60), unit="s")

    # ---------------------------------------------------------------- outages
    @cached_property
    def _outage_frame(self) -> pd.DataFrame:
        ev, net = self._events, self.net
        f, s, a = net.feeders, net.subs, net.areas
        n = len(ev["rep"])
        day = (ev["start"] // 1440).astype(int)
        if n:
            out_id, event_id = self._outage_ids(ev, day)
        else:  # a short period may have no outage at all
            out_id = event_id = np.array([], dtype="U14")
        is_area = ev["area"] >= 0
        ai = np.maximum(ev["area"], 0)
        ptr = net.feeder_area_ptr
        f_lon = np.array([a["lon"][ptr[i] : ptr[i + 1]].mean() for i in range(len(f["id"]))])
        f_lat = np.array([a["lat"][ptr[i] : ptr[i + 1]].mean() for i in range(len(f["id"]))])
        tn = net.towns["name"]
        area_text = np.where(
            is_area, a["name"][ai], np.char.add(f["name"][ev["feeder"]].astype(str), "沿线")
        )
        df = pd.DataFrame(
            {
                "outage_id": out_id.astype(str),
                "event_id": event_id.astype(str),
                "level": LEVELS[ev["level"]].astype(str),
                "substation": s["id"][ev["sub"]].astype(str),
                "feeder": f["id"][ev["feeder"]].astype(str),
                "transformer": pd.array(np.where(is_area, a["id"][ai], None), dtype="str"),
                "start": self._to_utc(ev["start"]),
                "end": self._to_utc(ev["end"]),
                "etr": self._to_utc(ev["start"] + ev["etr"]),
                "customers": ev["customers"].astype(np.int64),
                "cause": np.array(CAUSE_NAMES, dtype=object)[ev["cause"]].astype(str),
                "planned": ev["planned"].astype(bool),
                "supply_shortage": ev["shortage"].astype(bool),
                "lon": np.round(np.where(is_area, a["lon"][ai], f_lon[ev["feeder"]]), 5),
                "lat": np.round(np.where(is_area, a["lat"][ai], f_lat[ev["feeder"]]), 5),
                "area_text": area_text.astype(str),
                "region": tn[a["town"][np.where(is_area, ai, ptr[ev["feeder"]])]].astype(str),
                "version": np.ones(n, np.int64),
            }
        )
        del is_area
        _ = LEVEL_AREA
        return df

    def _outage_ids(self, ev, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outage ids ``O<yyyymmdd>-<seq>`` and event ids ``E<yyyymmdd>-<seq>`` (the event
        named by its first row), numbered within each day."""
        dstr = np.array([(self.start + timedelta(days=int(d))).strftime("%Y%m%d") for d in day])
        seq = _seq_within(day)
        out_id = np.char.add(
            np.char.add(np.char.add("O", dstr), "-"), np.char.zfill(seq.astype(str), 4)
        )
        _, first, inv = np.unique(ev["event_key"], return_index=True, return_inverse=True)
        ev_order = np.argsort(first, kind="stable")
        ev_rank = np.empty_like(ev_order)
        ev_rank[ev_order] = np.arange(len(ev_order))
        first_row = first[inv]
        eseq = _seq_within(day[np.sort(first)])[ev_rank][inv]
        edstr = dstr[first_row]
        event_id = np.char.add(
            np.char.add(np.char.add("E", edstr), "-"), np.char.zfill(eseq.astype(str), 4)
        )
        return out_id, event_id

    def outages(self) -> pd.DataFrame:
        """All outages of the period (canonical columns; UTC times; end never NaT)."""
        return self._outage_frame.copy()

    # ---------------------------------------------------------------- complaints
    @cached_property
    def _complaint_frame(self) -> pd.DataFrame:
        return _make_complaints(self)

    def complaints(self) -> pd.DataFrame:
        """All 95598 tickets of the period (canonical complaint columns)."""
        return self._complaint_frame.drop(columns=["_driver"]).copy()

    # ---------------------------------------------------------------- voltage
    def _voltage_days(self, d0: int, d1: int) -> pd.DataFrame:
        """Long-form readings for local days [d0, d1)."""
        net, vm = self.net, self.vmodel
        a = net.areas
        n_a = len(a["id"])
        P = self.points_per_day
        di = np.arange(d0, d1)
        hours = np.arange(1, P + 1) * (24.0 / P)
        u_p = load_profiles(self.weather, di, hours)
        v, u_a = vm.mean_pu(u_p)
        T = len(di) * P
        noise = np.empty((T, n_a, 4), np.float32)
        for j, d in enumerate(di):
            rng = np.random.default_rng([self.seed, 7, int(d)])
            noise[j * P : (j + 1) * P] = rng.standard_normal((P, n_a, 4), dtype=np.float32)
        vals = np.empty((T, n_a, 4), np.float32)
        for i in range(3):
            vals[:, :, i] = (v - vm.imb_c[:, i][None, :] * u_a) * V_BASE + 0.8 * noise[:, :, i]
        vals[:, :, 3] = a["peak_kw"].astype(np.float32)[None, :] * u_a * (1 + 0.05 * noise[:, :, 3])
        del noise, v
        np.maximum(vals[:, :, 3], 0, out=vals[:, :, 3])
        keep = np.ones((T, n_a), bool)
        # no readings while an area is interrupted
        ev = self._events
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
        # deliberately broken meters
        vals[:, :, :3] = np.round(vals[:, :, :3], 1)  # meters report 0.1 V
        for row in self.broken_meters.itertuples():
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
                            np.random.default_rng([self.seed, 8, int(d), int(i)]).random(P) < 0.3
                            for d in di
                        ]
                    )
                    if len(di)
                    else np.zeros(0, bool)
                )
                drop |= np.repeat(di % 7 == 3, P)
                keep[drop, i] = False
        times = self.t0.value + (
            (di[:, None] * 1440 + hours[None, :] * 60).reshape(-1) * 60e9
        ).astype(np.int64)
        flat = keep.reshape(-1)
        t_idx = np.repeat(np.arange(T, dtype=np.int32), n_a)[flat]
        codes = np.tile(np.arange(n_a, dtype=np.int32), T)[flat]
        vals = vals.reshape(-1, 4)[flat]
        df = pd.DataFrame(
            {
                "transformer": pd.Categorical.from_codes(codes, categories=a["id"].astype(str)),
                "time": pd.DatetimeIndex(times[t_idx]).tz_localize("UTC"),
                "va": _r(vals[:, 0], 4),
                "vb": _r(vals[:, 1], 4),
                "vc": _r(vals[:, 2], 4),
                "kw": _r(vals[:, 3], 2),
            }
        )
        return df

    def voltage_days(self, first: int, last: int) -> pd.DataFrame:
        """Voltage readings of simulation days [first, last) (day 0 = the start date)."""
        return self._voltage_days(max(0, first), min(self.days, last))

    def voltage(self, days: int | None = None) -> pd.DataFrame:
        """Voltage readings (long form); only the last ``days`` local days when given."""
        d0 = 0 if days is None else max(0, self.days - int(days))
        parts = [self._voltage_days(a, b) for a, b in _month_spans(self, d0, self.days)]
        if not parts:
            return self._voltage_days(0, 0)
        return pd.concat(parts, ignore_index=True)

    # ---------------------------------------------------------------- streaming
    def iter_batches(self, freq: str = "MS"):
        """Yield Batch objects over the period in local calendar chunks (default monthly)."""
        out, comp = self._outage_frame, self.complaints()
        o_day = ((out["start"] - self.t0) / pd.Timedelta(days=1)).to_numpy()
        c_day = ((comp["time"] - self.t0) / pd.Timedelta(days=1)).to_numpy()
        for d0, d1 in _spans(self, 0, self.days, freq):
            om = (o_day >= d0) & (o_day < d1)
            cm = (c_day >= d0) & (c_day < d1)
            yield Batch(
                self.start + timedelta(days=d0),
                self.start + timedelta(days=d1),
                out[om].reset_index(drop=True),
                self._voltage_days(d0, d1),
                comp[cm].reset_index(drop=True),
            )

    # ---------------------------------------------------------------- truth & live
    def ground_truth(self, tolerance: float = 0.05, max_reps: int = 2000) -> dict:
        """The ground_truth.json content (see collectors.simulator.truth)."""
        from .truth import ground_truth

        return ground_truth(self, tolerance=tolerance, max_reps=max_reps)

    def live(self, now=None, speed: float = 1.0):
        """A LiveFeed continuing after the history (see collectors.simulator.live)."""
        from .live import LiveFeed

        return LiveFeed(self, now=now, speed=speed)


def _r(x, decimals):
    # float32 arithmetic, float64 output without float32 artefacts (230.1000061 -> 230.1)
    return np.round(x.astype(np.float64), decimals)


def _seq_within(day):
    """1-based sequence number within runs of equal values (input sorted or not)."""
    order = np.argsort(day, kind="stable")
    ds = day[order]
    start_idx = np.concatenate([[0], np.flatnonzero(ds[1:] != ds[:-1]) + 1])
    run = np.repeat(start_idx, np.diff(np.concatenate([start_idx, [len(ds)]])))
    seq = np.empty(len(day), int)
    seq[order] = np.arange(len(ds)) - run + 1
    return seq


def _spans(sim, d0, d1, freq):
    if d1 <= d0:
        return []
    start = pd.Timestamp(sim.start)
    bounds = pd.date_range(start, start + pd.Timedelta(days=d1), freq=freq)
    cuts = sorted({d0, d1} | {int((b - start).days) for b in bounds if d0 < (b - start).days < d1})
    return list(zip(cuts[:-1], cuts[1:]))


def _month_spans(sim, d0, d1):
    return _spans(sim, d0, d1, "MS")


def _make_complaints(sim) -> pd.DataFrame:
    """Sample the history's tickets from the behavioural model (rep 0)."""
    net, ev = sim.net, sim._events
    a, f = net.areas, net.feeders
    rng = np.random.default_rng([sim.seed, 11])
    days = sim.days
    recs = {k: [] for k in ("t", "area", "cat", "driver", "merge", "unmatched", "n_out", "hours")}

    def add(t, area, cat, driver, merge, n_out=0, hours=0.0):
        n = len(t)
        recs["t"].append(np.asarray(t, float))
        recs["area"].append(np.asarray(area, int))
        recs["cat"].append(np.broadcast_to(np.asarray(cat, object), (n,)))
        recs["driver"].append(np.broadcast_to(np.asarray(driver, object), (n,)))
        recs["merge"].append(np.asarray(merge, int))
        recs["unmatched"].append(rng.random(n) < 0.12)
        recs["n_out"].append(np.broadcast_to(np.asarray(n_out), (n,)))
        recs["hours"].append(np.broadcast_to(np.asarray(hours, float), (n,)))

    # outage calls
    pc = bh.outage_calls(net, ev, np.ones(len(ev["rep"]), bool), days)
    calls = rng.poisson(pc["m"])
    has = calls > 0
    idx = np.flatnonzero(has)
    drv = (
        np.array([rng.choice(3, p=pc["share"][i]) for i in idx], int)
        if len(idx)
        else np.zeros(0, int)
    )
    r = pc["row"][idx]
    start, end = ev["start"][r], ev["end"][r]
    delay = np.where(
        drv == 1,
        np.minimum(120 + rng.exponential(60, len(idx)), ev["dur"][r]),
        rng.uniform(5, 40, len(idx)),
    )
    t_first = np.minimum(start + delay, end + 30)
    cat = np.where(drv == 0, "outage", np.where(drv == 1, "outage", "frequent_outage"))
    cat = np.where((drv == 1) & pc["timeout"][idx], "repair_timeout", cat)
    cat = np.where((drv == 2) & (pc["prev_gap"][idx] < 3 * 1440), "repair_quality", cat)
    driver = np.array(bh.DRIVERS[:3], object)[drv]
    base = sum(len(x) for x in recs["t"])
    add(
        t_first,
        pc["area"][idx],
        cat,
        driver,
        np.full(len(idx), -1),
        pc["k60"][idx],
        ev["dur"][r] / 60,
    )
    # repeated calls, merged into the first ticket
    extra = np.minimum(calls[idx] - 1, 15)
    if extra.sum():
        j = np.repeat(np.arange(len(idx)), extra)
        t_rep = t_first[j] + rng.uniform(0, 1, len(j)) * np.maximum(end[j] - t_first[j], 5)
        add(
            t_rep,
            pc["area"][idx][j],
            cat[j],
            driver[j],
            base + j,
            pc["k60"][idx][j],
            ev["dur"][r][j] / 60,
        )
    # momentary flickers
    mom = np.flatnonzero(ev["momentary"])
    if len(mom):
        rr, ar = bh.expand_pairs(net, ev, mom)
        pm = 0.004 * a["propensity"][ar]
        hit = rng.random(len(rr)) < pm
        add(
            ev["start"][rr][hit] + rng.uniform(2, 30, hit.sum()),
            ar[hit],
            "voltage_fluctuation",
            "interruptions",
            np.full(hit.sum(), -1),
        )
    # low voltage, sampled with the cooldown used by the expected-value machinery
    wl, raw = sim._lv_weighted
    p = bh.lv_daily_prob(net, wl)
    free_from = np.zeros(len(a["id"]), int)
    last = np.full(len(a["id"]), -1)
    lv_t, lv_a, lv_m = [], [], []
    for d in range(days):
        u = rng.random(len(a["id"]))
        call = u < p[d]
        new = call & (d >= free_from)
        rep_call = call & ~new & (u < p[d] * 0.5)
        for m_, merge in ((new, False), (rep_call, True)):
            ii = np.flatnonzero(m_)
            if len(ii):
                lv_t.append(d * 1440.0 + rng.uniform(18.5, 22.5, len(ii)) * 60)
                lv_a.append(ii)
                lv_m.append(last[ii] if merge else np.full(len(ii), -2))
        free_from[new] = d + bh.LV_COOLDOWN
    if lv_t:
        t = np.concatenate(lv_t)
        ar = np.concatenate(lv_a)
        mg = np.concatenate(lv_m)
        base = sum(len(x) for x in recs["t"])
        # resolve merges: -2 marks a new ticket, others point to the area's latest new ticket
        order = np.argsort(t, kind="stable")
        t, ar, mg = t[order], ar[order], mg[order]
        last_pos = {}
        merge = np.full(len(t), -1)
        for k in range(len(t)):
            if mg[k] == -2:
                last_pos[ar[k]] = base + k
            else:
                merge[k] = last_pos.get(ar[k], -1)
        add(t, ar, "low_voltage", "low_voltage", merge, 0, raw[(t // 1440).astype(int), ar])
    # background: unreasonable and other tickets, independent of the grid
    lam = a["customers"] * 0.0045 * days / 365 * a["propensity"]
    cnt = rng.poisson(lam)
    ar = np.repeat(np.arange(len(a["id"])), cnt)
    cats = rng.choice(UNREASONABLE + ["other"], len(ar), p=[0.45, 0.08, 0.27, 0.12, 0.08])
    add(rng.uniform(0, days * 1440.0, len(ar)), ar, cats, "none", np.full(len(ar), -1))

    t = np.concatenate(recs["t"])
    area = np.concatenate(recs["area"])
    cat = np.concatenate(recs["cat"]).astype(str)
    driver = np.concatenate(recs["driver"]).astype(str)
    merge = np.concatenate(recs["merge"])
    unmatched = np.concatenate(recs["unmatched"])
    n_out = np.concatenate(recs["n_out"])
    hours = np.concatenate(recs["hours"])
    keep = t < days * 1440.0
    # repeats inherit the matching of their first ticket
    unmatched = np.where(merge >= 0, unmatched[np.maximum(merge, 0)], unmatched)
    order = np.lexsort((area, t))
    order = order[keep[order]]
    new_pos = np.full(len(t), -1)
    new_pos[order] = np.arange(len(order))
    t, area, cat, driver = t[order], area[order], cat[order], driver[order]
    merge, unmatched, n_out, hours = merge[order], unmatched[order], n_out[order], hours[order]
    merge = np.where(merge >= 0, new_pos[np.maximum(merge, 0)], -1)
    day = (t // 1440).astype(int)
    dstr = np.array([(sim.start + timedelta(days=int(d))).strftime("%Y%m%d") for d in day])
    seq = _seq_within(day)
    tid = np.char.add(np.char.add("GD", dstr), np.char.zfill(seq.astype(str), 5))
    merged_into = np.where(merge >= 0, tid[np.maximum(merge, 0)], None)
    tn = net.towns["name"]
    addr = a["address"][area]
    local = sim.start.toordinal()
    texts = []
    rng_t = np.random.default_rng([sim.seed, 12])
    for k in range(len(t)):
        tpl = names.TEMPLATES[cat[k]]
        s = tpl[int(rng_t.integers(len(tpl)))]
        mins = t[k] % 1440
        texts.append(
            s.format(
                addr=addr[k],
                hhmm=f"{int(mins // 60):02d}:{int(mins % 60):02d}",
                hours=max(2, int(hours[k])),
                n=max(3, int(n_out[k])),
            )
        )
    del local
    df = pd.DataFrame(
        {
            "ticket_id": tid.astype(str),
            "time": sim._to_utc(t),
            "category": cat,
            "transformer": pd.array(np.where(unmatched, None, a["id"][area]), dtype="str"),
            "feeder": pd.array(np.where(unmatched, None, f["id"][a["feeder"][area]]), dtype="str"),
            "town": tn[a["town"][area]].astype(str),
            "address": addr.astype(str),
            "merged_into": pd.array(merged_into, dtype="str"),
            "reasonable": ~np.isin(cat, UNREASONABLE),
            "text": np.array(texts, dtype=object).astype(str),
            "_driver": driver,
        }
    )
    _ = f_customers
    return df
