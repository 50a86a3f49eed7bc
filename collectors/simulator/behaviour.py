"""Behavioural model of customers calling 95598.

Not the analytics' additive formula: customers of an area call when an interruption crosses
their patience (long ones, after about two hours; planned ones only when they overrun), when it
is the n-th sustained outage in 60 days, and when low voltage spoils their evenings; calls
saturate (an area generates at most a handful of distinct callers per event), and each area
has an unobserved propensity (its town's habit times a local factor). The first call about an
event in an area is a ticket; the others are merged into it.
"""

from __future__ import annotations

import numpy as np

DRIVERS = ["interruptions", "long_interruptions", "frequent_outages", "low_voltage"]
K_OUTAGE = 0.018
K_LV = 0.010
LV_COOLDOWN = 20  # days an area waits after a low-voltage ticket before calling anew
WINDOW_MIN = 60 * 1440.0


def expand_pairs(net, ev, rows):
    """(row, area) pairs for the given outage rows: every area downstream of the feeder."""
    ptr = net.feeder_area_ptr
    f = ev["feeder"][rows]
    a = ev["area"][rows]
    n = np.where(a >= 0, 1, ptr[f + 1] - ptr[f])
    r = np.repeat(rows, n)
    first = np.where(a >= 0, a, ptr[f])
    pos = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return r, np.repeat(first, n) + pos


def outage_calls(net, ev, mask, days):
    """Expected callers per (sustained outage row, area) pair among rows where mask is True.

    Returns a dict with pair arrays: row, area, rep, m (expected callers), p (ticket
    probability = P(at least one call)), share (n, 3) over the first three DRIVERS, k60,
    prev_gap (minutes since the previous outage in the area ended), timeout (overran ETR).
    """
    a = net.areas
    rows = np.flatnonzero(mask & ~ev["momentary"])
    r, area = expand_pairs(net, ev, rows)
    rep = ev["rep"][r]
    start = ev["start"][r]
    n_a = len(a["id"])
    key = rep.astype(np.int64) * n_a + area
    order = np.lexsort((start, key))
    r, area, rep, start, key = r[order], area[order], rep[order], start[order], key[order]
    scale = (days + 70) * 1440.0
    comp = key * scale + start
    k60 = np.arange(len(comp)) - np.searchsorted(comp, comp - WINDOW_MIN, side="right") + 1
    same_prev = np.concatenate([[False], key[1:] == key[:-1]])
    prev_end = np.concatenate([[np.nan], ev["end"][r][:-1]])
    prev_gap = np.where(same_prev, start - prev_end, np.inf)

    dur_h = ev["dur"][r] / 60.0
    etr_h = np.nan_to_num(ev["etr"][r], nan=1e9) / 60.0
    planned = ev["planned"][r] | ev["shortage"][r]
    hour = (start % 1440.0) / 60.0
    evening = (hour >= 17) & (hour < 23.5)
    x_int = 0.15 * np.where(evening, 1.4, 1.0) * np.where(planned, 0.3, 1.0)
    x_long = np.where(
        planned,
        0.25 * np.clip((dur_h - 4) / 2, 0, 3) + np.clip(dur_h - etr_h, 0, 3),
        np.clip((dur_h - 2) / 2, 0, 3),
    )
    x_freq = 0.5 * np.clip(k60 - 2, 0, 4)
    x = np.stack([x_int, x_long, x_freq], axis=1)
    tot = x.sum(axis=1)
    n_cust = a["customers"][area].astype(float)
    lam = K_OUTAGE * a["propensity"][area] * n_cust**0.6 * tot
    cap = np.maximum(1.0, 0.06 * n_cust)
    m = cap * (1 - np.exp(-lam / cap))
    return dict(
        row=r,
        area=area,
        rep=rep,
        m=m,
        p=1 - np.exp(-m),
        share=x / tot[:, None],
        k60=k60,
        prev_gap=prev_gap,
        timeout=(dur_h > etr_h + 1) & ~planned,
    )


def lv_daily_prob(net, weighted_hours):
    """Probability per area-day that a low-voltage ticket is filed (outside cooldown)."""
    a = net.areas
    w = np.clip(weighted_hours - 0.5, 0, None) ** 1.2
    lam = K_LV * (a["propensity"] * a["customers"] ** 0.6)[None, :] * w
    return 1 - np.exp(-lam)


def lv_expected(p_daily):
    """Exact expected low-voltage tickets per area with the cooldown (no MC needed)."""
    days, n_a = p_daily.shape
    tick = np.zeros((days, n_a))
    for d in range(days):
        busy = tick[max(0, d - LV_COOLDOWN + 1) : d].sum(axis=0)
        tick[d] = np.clip(1 - busy, 0, 1) * p_daily[d]
    return tick.sum(axis=0)
