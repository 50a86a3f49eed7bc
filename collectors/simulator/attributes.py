"""What the simulated grid's assets are: transformer areas' customers, load and low-voltage
weakness; feeders' load, voltage drop and hidden fault-rate multipliers; substations' capacity
against their load; and the names and codes utilities give them. Every draw comes from the one
generator of ``build_network``, in order."""

from __future__ import annotations

import numpy as np

from . import names
from .grid import (
    KVA_SIZES,
    RATED_MVA,
    REF_DROP_PER_KM,
    REF_RATE_PER_KM,
    REF_SUB_FAULT_RATE,
)


def area_attributes(rng, towns: dict, feeders: dict, places: dict) -> dict:
    """Each area's town, kind (6-10 % dedicated), customers, peak load, transformer size,
    low-voltage drop (a tenth of rural areas weak), tap, phase imbalance, load profile and
    complaint propensity."""
    tx, ty = towns["x"], towns["y"]
    ax_, ay_, adist, a_f = places["x"], places["y"], places["dist"], places["feeder"]
    n_a = len(a_f)
    a_town = np.argmin(np.hypot(ax_[:, None] - tx[None], ay_[:, None] - ty[None]), axis=1)
    town_dist = np.hypot(ax_ - tx[a_town], ay_ - ty[a_town])
    a_urban = feeders["urban"][a_f]
    dedicated = rng.random(n_a) < np.where(a_urban, 0.10, 0.06)
    cust_pub = np.where(
        a_urban,
        np.clip(rng.lognormal(np.log(150), 0.4, n_a), 50, 420),
        np.clip(
            rng.lognormal(np.log(46), 0.45, n_a) * np.clip(1.5 - town_dist / 8, 0.7, 1.5), 15, 260
        ),
    )
    customers = np.where(dedicated, 1, np.round(cust_pub)).astype(np.int64)
    kw_per_cust = np.where(a_urban, 1.25, 1.05) * rng.uniform(0.8, 1.2, n_a)
    ded_kva = rng.choice([100, 160, 200, 250, 315, 400, 500, 630, 800, 1000], n_a)
    peak_kw = np.where(
        dedicated, ded_kva * rng.uniform(0.35, 0.7, n_a), customers * kw_per_cust * 0.75
    )
    peak_kw = np.where(
        feeders["bad"][a_f], peak_kw * 1.35, peak_kw
    )  # weak lines also carry growing load
    need = np.where(dedicated, ded_kva, peak_kw / 0.85)
    kva = np.where(
        dedicated,
        ded_kva,
        KVA_SIZES[np.minimum(np.searchsorted(KVA_SIZES, need), len(KVA_SIZES) - 1)],
    )
    # a share of rural areas is undersized / has long low-voltage lines (area-level weakness)
    lv_weak = (~a_urban) & (~dedicated) & (rng.random(n_a) < 0.10)
    lv_drop = np.where(
        dedicated,
        0.01,
        np.where(a_urban, rng.uniform(0.025, 0.05, n_a), rng.uniform(0.035, 0.07, n_a)),
    )
    lv_drop = np.where(lv_weak, rng.uniform(0.07, 0.11, n_a), lv_drop)
    # utilities raise the transformer tap on far rural areas
    tap = np.where((~a_urban) & (adist > 8), 0.025, 0.0)
    # three-phase imbalance: per-phase extra drop at peak, pu
    imb = rng.dirichlet([2, 2, 2], n_a) * np.where(a_urban, 0.03, 0.05)[:, None]
    imb = np.where(dedicated[:, None], 0.004, imb)
    profile = np.where(dedicated, 2, np.where(a_urban, 0, 1))  # 0 urban, 1 rural, 2 industrial
    area_prop = np.exp(rng.normal(0, 0.3, n_a)) * towns["propensity"][a_town]
    return dict(
        town=a_town,
        urban=a_urban,
        dedicated=dedicated,
        customers=customers,
        peak_kw=peak_kw,
        kva=kva,
        lv_weak=lv_weak,
        lv_drop=lv_drop,
        tap=tap,
        imb=imb,
        profile=profile,
        propensity=area_prop,
    )


def feeder_electrics(feeders: dict, places: dict, peak_kw: np.ndarray) -> dict:
    """Each feeder's peak load, rating, longest electrical distance and voltage drop at its far
    end (as is, and for a sound feeder), and each area's share of that drop."""
    n_f, mm2 = len(feeders["sub"]), feeders["mm2"]
    adist, a_f, ptr = places["dist"], places["feeder"], places["ptr"]
    f_peak_mw = np.bincount(a_f, weights=peak_kw, minlength=n_f) / 1000 * 0.88
    f_rated = np.array([RATED_MVA[int(m)] for m in mm2])
    lmax = np.array([adist[ptr[f] : ptr[f + 1]].max() for f in range(n_f)])
    r_km = 28.3 / mm2
    drop_far = (f_peak_mw * r_km + 0.45 * f_peak_mw * 0.38) * lmax / 2 / 100
    drop_far = np.clip(drop_far, 0.005, 0.22)
    ref_drop_far = np.minimum(drop_far, np.maximum(0.01, REF_DROP_PER_KM * lmax))
    rel = adist / lmax[a_f]
    shape = rel * (2 - rel)
    return dict(
        peak_mw=f_peak_mw,
        rated_mva=f_rated,
        lmax=lmax,
        drop_far=drop_far,
        drop_far_ref=ref_drop_far,
        area_drop=drop_far[a_f] * shape,
        area_drop_ref=ref_drop_far[a_f] * shape,
    )


def feeder_weaknesses(rng, feeders: dict, f_len: np.ndarray, electrics: dict) -> dict:
    """Hidden feeder weaknesses, partly from observed attributes (age, section, urban) and
    partly unobserved: fault rates per cause as they are and for a sound feeder (``rate`` /
    ``rate_ref``), storm exposure, momentary and planned-work rates."""
    f_urban, bad, mm2 = feeders["urban"], feeders["bad"], feeders["mm2"]
    n_f = len(f_urban)
    age = 2025 - feeders["year"]
    cond = np.exp(0.035 * (age - 12)) * rng.lognormal(0, 0.35, n_f)
    veg = np.where(f_urban, 0.4, 1.4) * rng.lognormal(0, 0.5, n_f)
    thin = np.sqrt(120 / mm2)
    hidden = rng.lognormal(0, 0.3, n_f)
    mult = np.stack(
        [
            thin * hidden,  # weather: broken thin conductor
            cond,  # equipment
            veg,  # vegetation
            np.where(f_urban, 0.6, 1.3) * hidden,  # animal
            np.where(f_urban, 2.0, 1.0) * rng.lognormal(0, 0.3, n_f),  # third party
            np.zeros(n_f),
        ],
        axis=1,
    )
    mult[bad, 0] *= 1.8
    mult[bad, 1] *= 1.6
    mult[bad, 2] *= 1.5
    util = electrics["peak_mw"] / 0.92 / electrics["rated_mva"]
    f_rate = REF_RATE_PER_KM[None, :] * f_len[:, None] * mult
    f_rate[:, 5] = 2.5 * np.clip(util - 0.75, 0, None)  # overload trips in summer peaks
    f_rate_ref = np.minimum(
        f_rate, REF_RATE_PER_KM[None, :] * f_len[:, None] * np.where(f_urban, 1.0, 1.0)[:, None]
    )
    f_rate_ref[:, 5] = 0.0
    storm_exp = np.clip(f_len / 12, 0.3, 3.0) * np.sqrt(thin) * np.sqrt(np.maximum(veg, 0.3))
    storm_exp_ref = np.minimum(storm_exp, np.clip(f_len / 12, 0.3, 3.0) * 0.8)
    mom_rate = 0.10 * f_len * np.sqrt(veg) * hidden
    mom_rate_ref = np.minimum(mom_rate, 0.10 * f_len * 0.6)
    planned_rate = np.where(f_urban, 0.4, 0.7) * rng.uniform(0.6, 1.4, n_f)
    return dict(
        util=util,
        rate=f_rate,
        rate_ref=f_rate_ref,
        storm_exp=storm_exp,
        storm_exp_ref=storm_exp_ref,
        mom_rate=mom_rate,
        mom_rate_ref=mom_rate_ref,
        planned_rate=planned_rate,
        cond=cond,
        veg=veg,
        hidden=hidden,
    )


def feeder_labels(feeders: dict, sub_town: np.ndarray, town_names) -> dict:
    """Feeder names (town stem and a Roman numeral), codes ``F<ss><kk>`` and conductor types."""
    f_names, f_ids, cond_names = [], [], []
    f_sub, f_k, mm2 = feeders["sub"], feeders["k"], feeders["mm2"]
    for f in range(len(f_sub)):
        s = f_sub[f]
        stem = names.town_stem(town_names[sub_town[s]])
        f_names.append(f"{stem}{names.ROMAN[f_k[f] % len(names.ROMAN)]}线")
        f_ids.append(f"F{s + 1:02d}{f_k[f] + 1:02d}")
        cond_names.append(f"LGJ-{int(mm2[f])}")
    return dict(name=f_names, id=f_ids, conductor=cond_names)


def substation_capacity(
    rng, overloaded_subs: int, f_sub: np.ndarray, f_peak_mw: np.ndarray, sub_urban: np.ndarray
) -> dict:
    """Substation capacity against peak load, the deliberately overloaded ones (rural), and
    35 kV fault rates as they are and for a sound station."""
    n_s = len(sub_urban)
    s_peak_mva = np.bincount(f_sub, weights=f_peak_mw, minlength=n_s) / 0.92 * 0.9
    ratio = rng.uniform(0.5, 0.8, n_s)
    over = np.zeros(n_s, bool)
    cand = np.flatnonzero(~sub_urban) if (~sub_urban).sum() else np.arange(n_s)
    over[rng.choice(cand, min(overloaded_subs, len(cand)), replace=False)] = True
    ratio = np.where(over, rng.uniform(1.12, 1.25, n_s), ratio)
    sizes = np.array([6.3, 8.0, 10.0, 12.6, 16.0, 20.0, 25.0, 31.5, 40.0, 50.0, 63.0])
    capacity = sizes[np.minimum(np.searchsorted(sizes, s_peak_mva / ratio), len(sizes) - 1)]
    capacity = np.where(over, np.round(s_peak_mva / ratio, 1), capacity)
    s_fault = REF_SUB_FAULT_RATE * rng.lognormal(0, 0.4, n_s)
    s_fault[rng.integers(n_s)] *= 3.0  # one old 35 kV station with a bad record
    return dict(
        capacity_mva=capacity,
        peak_mva=s_peak_mva,
        load_ratio=s_peak_mva / capacity,
        overloaded=over,
        fault_rate=s_fault,
        fault_rate_ref=np.minimum(s_fault, REF_SUB_FAULT_RATE),
    )


def area_labels(
    rng, town_names, f_sub, f_k, places: dict, attrs: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area codes ``T<ss><kk><nnn>``, addresses (a village in the country, a street number in
    town) and area names (公变 numbered along the feeder, 专变 for dedicated ones)."""
    a_f, ptr = places["feeder"], places["ptr"]
    n_a = len(a_f)
    a_k = np.arange(n_a) - ptr[a_f]
    a_ids = np.array(
        [f"T{f_sub[f] + 1:02d}{f_k[f] + 1:02d}{k + 1:03d}" for f, k in zip(a_f, a_k)], dtype=object
    )
    vill = [f"{rng.choice(names.SURNAMES)}{rng.choice(names.VILLAGE_SUFFIX)}村" for _ in range(n_a)]
    street = [f"{rng.choice(names.STREETS)}{rng.integers(1, 300)}号" for _ in range(n_a)]
    a_urban, a_town = attrs["urban"], attrs["town"]
    addr = np.array(
        [(town_names[t] + (st if u else v)) for t, u, v, st in zip(a_town, a_urban, vill, street)],
        dtype=object,
    )
    a_name = np.array(
        [
            (v if not u else st.split("路")[0] + "路") + ("专变" if d else f"{k + 1}号台区")
            for v, u, st, d, k in zip(vill, a_urban, street, attrs["dedicated"], a_k)
        ],
        dtype=object,
    )
    return a_ids, addr, a_name
