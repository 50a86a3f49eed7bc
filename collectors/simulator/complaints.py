"""Simulated 95598 tickets: sampled from the behavioural model (rep 0 of the events) as outage
calls and their repeats, calls about momentary flickers, low-voltage calls with their cooldown,
and background tickets independent of the grid; numbered per day and worded from templates."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from . import behaviour as bh
from . import names
from .numbering import day_stamps, seq_within

UNREASONABLE = ["customer_side_fault", "power_theft", "billing", "service_attitude"]
_FIELDS = ("t", "area", "cat", "driver", "merge", "unmatched", "n_out", "hours")


class _Draws:
    """Tickets drawn so far, in draw order; ``merge`` is the position of the ticket a repeat
    call is merged into (-1: none). Each ticket draws whether it is left unmatched (12 %)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.parts: dict[str, list] = {k: [] for k in _FIELDS}

    def __len__(self) -> int:
        return sum(len(x) for x in self.parts["t"])

    def add(self, t, area, cat, driver, merge, n_out=0, hours=0.0) -> None:
        n = len(t)
        p = self.parts
        p["t"].append(np.asarray(t, float))
        p["area"].append(np.asarray(area, int))
        p["cat"].append(np.broadcast_to(np.asarray(cat, object), (n,)))
        p["driver"].append(np.broadcast_to(np.asarray(driver, object), (n,)))
        p["merge"].append(np.asarray(merge, int))
        p["unmatched"].append(self.rng.random(n) < 0.12)
        p["n_out"].append(np.broadcast_to(np.asarray(n_out), (n,)))
        p["hours"].append(np.broadcast_to(np.asarray(hours, float), (n,)))

    def arrays(self) -> dict[str, np.ndarray]:
        out = {k: np.concatenate(v) for k, v in self.parts.items()}
        out["cat"], out["driver"] = out["cat"].astype(str), out["driver"].astype(str)
        return out


def make_complaints(
    net, events: dict, lv_weighted: tuple, seed: int, start: date, days: int, to_utc
) -> pd.DataFrame:
    """The period's tickets (canonical complaint columns plus ``_driver``): ``events`` are the
    outage events, ``lv_weighted`` the low-voltage experience as is, ``to_utc`` turns minutes
    since the start into UTC times."""
    rng = np.random.default_rng([seed, 11])
    draws = _Draws(rng)
    _outage_calls(draws, net, events, days)
    _flicker_calls(draws, net, events)
    _low_voltage_calls(draws, net, lv_weighted, days)
    _background_tickets(draws, net.areas, days)
    r = _in_time_order(draws.arrays(), days)
    day = (r["t"] // 1440).astype(int)
    tid = np.char.add(
        np.char.add("GD", day_stamps(start, day)), np.char.zfill(seq_within(day).astype(str), 5)
    )
    merged_into = np.where(r["merge"] >= 0, tid[np.maximum(r["merge"], 0)], None)
    a, f = net.areas, net.feeders
    area, unmatched = r["area"], r["unmatched"]
    addr = a["address"][area]
    return pd.DataFrame(
        {
            "ticket_id": tid.astype(str),
            "time": to_utc(r["t"]),
            "category": r["cat"],
            "transformer": pd.array(np.where(unmatched, None, a["id"][area]), dtype="str"),
            "feeder": pd.array(np.where(unmatched, None, f["id"][a["feeder"][area]]), dtype="str"),
            "town": net.towns["name"][a["town"][area]].astype(str),
            "address": addr.astype(str),
            "merged_into": pd.array(merged_into, dtype="str"),
            "reasonable": ~np.isin(r["cat"], UNREASONABLE),
            "text": _ticket_texts(seed, r, addr),
            "_driver": r["driver"],
        }
    )


def _outage_calls(draws: _Draws, net, ev: dict, days: int) -> None:
    """First calls about sustained outages (by driver: the outage, a slow repair, outages too
    frequent) and their repeats, merged into the first ticket."""
    rng = draws.rng
    pc = bh.outage_calls(net, ev, np.ones(len(ev["rep"]), bool), days)
    calls = rng.poisson(pc["m"])
    idx = np.flatnonzero(calls > 0)
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
    base = len(draws)
    area, n_out, hours = pc["area"][idx], pc["k60"][idx], ev["dur"][r] / 60
    draws.add(t_first, area, cat, driver, np.full(len(idx), -1), n_out, hours)
    extra = np.minimum(calls[idx] - 1, 15)
    if extra.sum():
        j = np.repeat(np.arange(len(idx)), extra)
        t_rep = t_first[j] + rng.uniform(0, 1, len(j)) * np.maximum(end[j] - t_first[j], 5)
        draws.add(t_rep, area[j], cat[j], driver[j], base + j, n_out[j], hours[j])


def _flicker_calls(draws: _Draws, net, ev: dict) -> None:
    """Voltage-fluctuation tickets after momentary interruptions."""
    rng = draws.rng
    mom = np.flatnonzero(ev["momentary"])
    if len(mom):
        rr, ar = bh.expand_pairs(net, ev, mom)
        pm = 0.004 * net.areas["propensity"][ar]
        hit = rng.random(len(rr)) < pm
        draws.add(
            ev["start"][rr][hit] + rng.uniform(2, 30, hit.sum()),
            ar[hit],
            "voltage_fluctuation",
            "interruptions",
            np.full(hit.sum(), -1),
        )


def _low_voltage_calls(draws: _Draws, net, lv_weighted: tuple, days: int) -> None:
    """Low-voltage tickets in the evening peak, sampled with the cooldown used by the
    expected-value machinery; a repeat call within the cooldown merges into the area's
    latest ticket."""
    rng = draws.rng
    n_a = len(net.areas["id"])
    wl, raw = lv_weighted
    p = bh.lv_daily_prob(net, wl)
    free_from = np.zeros(n_a, int)
    last = np.full(n_a, -1)
    lv_t, lv_a, lv_m = [], [], []
    for d in range(days):
        u = rng.random(n_a)
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
    if not lv_t:
        return
    t = np.concatenate(lv_t)
    ar = np.concatenate(lv_a)
    mg = np.concatenate(lv_m)
    base = len(draws)
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
    draws.add(t, ar, "low_voltage", "low_voltage", merge, 0, raw[(t // 1440).astype(int), ar])


def _background_tickets(draws: _Draws, a: dict, days: int) -> None:
    """Unreasonable and other tickets, independent of the grid."""
    rng = draws.rng
    lam = a["customers"] * 0.0045 * days / 365 * a["propensity"]
    cnt = rng.poisson(lam)
    ar = np.repeat(np.arange(len(a["id"])), cnt)
    cats = rng.choice(UNREASONABLE + ["other"], len(ar), p=[0.45, 0.08, 0.27, 0.12, 0.08])
    draws.add(rng.uniform(0, days * 1440.0, len(ar)), ar, cats, "none", np.full(len(ar), -1))


def _in_time_order(r: dict[str, np.ndarray], days: int) -> dict[str, np.ndarray]:
    """The tickets within the period by (time, area), merges pointing at new positions; a
    repeat inherits the matching of its first ticket."""
    keep = r["t"] < days * 1440.0
    merge = r["merge"]
    r["unmatched"] = np.where(merge >= 0, r["unmatched"][np.maximum(merge, 0)], r["unmatched"])
    order = np.lexsort((r["area"], r["t"]))
    order = order[keep[order]]
    new_pos = np.full(len(r["t"]), -1)
    new_pos[order] = np.arange(len(order))
    out = {k: v[order] for k, v in r.items()}
    out["merge"] = np.where(out["merge"] >= 0, new_pos[np.maximum(out["merge"], 0)], -1)
    return out


def _ticket_texts(seed: int, r: dict[str, np.ndarray], addr: np.ndarray) -> np.ndarray:
    """Each ticket's text from a template of its category (own random stream)."""
    rng_t = np.random.default_rng([seed, 12])
    texts = []
    for k in range(len(r["t"])):
        tpl = names.TEMPLATES[r["cat"][k]]
        s = tpl[int(rng_t.integers(len(tpl)))]
        mins = r["t"][k] % 1440
        texts.append(
            s.format(
                addr=addr[k],
                hhmm=f"{int(mins // 60):02d}:{int(mins % 60):02d}",
                hours=max(2, int(r["hours"][k])),
                n=max(3, int(r["n_out"][k])),
            )
        )
    return np.array(texts, dtype=object).astype(str)
