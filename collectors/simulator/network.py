"""Synthetic county grid: towns, 35 kV substations, radial 10 kV feeders and transformer areas.

Everything is drawn from one seeded generator, so a seed and a preset fix the whole network.
Coordinates are built in a local kilometre plane around the centre and converted to WGS84 at
the end. The hidden attributes (weakness multipliers, complaint propensities) live in the same
arrays but never leave the simulator except through ``ground_truth.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import names

PRESETS: dict[str, dict] = {
    "small": dict(
        substations=4,
        feeders_per_sub=5,
        areas_per_feeder=15,
        towns=4,
        extent_km=14.0,
        bad_feeders=2,
        overloaded_subs=1,
    ),
    "medium": dict(
        substations=10,
        feeders_per_sub=11,
        areas_per_feeder=18,
        towns=9,
        extent_km=26.0,
        bad_feeders=6,
        overloaded_subs=1,
    ),
    "county": dict(
        substations=30,
        feeders_per_sub=10,
        areas_per_feeder=20,
        towns=20,
        extent_km=44.0,
        bad_feeders=15,
        overloaded_subs=2,
    ),
}

CONDUCTORS = np.array([35, 50, 70, 95, 120, 150, 185, 240])
# rough thermal rating of a 10 kV overhead line per conductor section, MVA
RATED_MVA = {35: 2.6, 50: 3.4, 70: 4.3, 95: 5.3, 120: 6.2, 150: 7.1, 185: 8.2, 240: 9.8}
KVA_SIZES = np.array([50, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250])

# Reference ("strong feeder") sustained fault rates per km and year, by cause.
CAUSES = ["weather", "equipment", "vegetation", "animal", "third_party", "overload"]
REF_RATE_PER_KM = np.array([0.008, 0.006, 0.0035, 0.0025, 0.004, 0.0])
REF_SUB_FAULT_RATE = 0.3  # 35 kV faults per substation-year for a sound substation
REF_DROP_PER_KM = 0.0035  # feeder voltage drop at design peak per km for a sound feeder, pu


@dataclass
class Network:
    """All arrays describing the simulated grid (index = position in the arrays)."""

    lon0: float
    lat0: float
    towns: dict = field(default_factory=dict)
    subs: dict = field(default_factory=dict)
    feeders: dict = field(default_factory=dict)
    areas: dict = field(default_factory=dict)
    feeder_area_ptr: np.ndarray | None = None  # CSR pointer: areas of feeder f are ptr[f]:ptr[f+1]

    def to_lonlat(self, x, y):
        """Local km coordinates to WGS84 degrees."""
        lon = self.lon0 + np.asarray(x) / (111.32 * np.cos(np.radians(self.lat0)))
        lat = self.lat0 + np.asarray(y) / 110.57
        return lon, lat


def _grid_walk(rng, x0, y0, heading, length, step=(0.35, 1.1)):
    """A road-like polyline: mostly along one axis, with perpendicular jogs."""
    main = np.array([np.cos(heading), np.sin(heading)])
    ax = np.array([np.sign(main[0]) or 1.0, 0.0])
    ay = np.array([0.0, np.sign(main[1]) or 1.0])
    wx = abs(main[0]) / (abs(main[0]) + abs(main[1]))
    pts = [(x0, y0)]
    done = 0.0
    while done < length - 1e-9:
        s = min(rng.uniform(*step), length - done)
        d = ax if rng.random() < wx else ay
        x, y = pts[-1]
        pts.append((x + d[0] * s, y + d[1] * s))
        done += s
    # merge consecutive collinear segments so the geometry stays small
    out = [pts[0]]
    for i in range(1, len(pts) - 1):
        a, b, c = np.array(out[-1]), np.array(pts[i]), np.array(pts[i + 1])
        u, w = b - a, c - b
        if abs(u[0] * w[1] - u[1] * w[0]) > 1e-12:
            out.append(pts[i])
    out.append(pts[-1])
    return np.array(out)


def _cumlen(path):
    seg = np.hypot(*np.diff(path, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(seg)])


def _point_at(path, cum, s):
    i = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(path) - 2)
    t = (s - cum[i]) / np.maximum(cum[i + 1] - cum[i], 1e-12)
    return path[i] + (path[i + 1] - path[i]) * t[:, None]


def build_network(preset: str, seed: int, centre: tuple[float, float]) -> Network:
    """Draw the whole grid for a preset and seed (deterministic)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    p = PRESETS[preset]
    rng = np.random.default_rng([seed, 1])
    net = Network(lon0=float(centre[0]), lat0=float(centre[1]))
    ext = p["extent_km"]

    # --- towns: the county seat at the centre, the others spread on a jittered ring/grid
    n_t = p["towns"]
    tx, ty = [0.0], [0.0]
    tries = 0
    while len(tx) < n_t and tries < 10000:
        tries += 1
        x, y = rng.uniform(-ext / 2, ext / 2, 2)
        if min(np.hypot(np.array(tx) - x, np.array(ty) - y)) > ext / (1.2 * np.sqrt(n_t)):
            tx.append(x)
            ty.append(y)
    tx, ty = np.array(tx), np.array(ty)
    n_t = len(tx)
    town_names = list(names.TOWNS[:1]) + list(rng.permutation(names.TOWNS[1:])[: n_t - 1])
    town_propensity = np.exp(rng.normal(0, 0.45, n_t))  # unobserved readiness to call 95598
    net.towns = dict(
        name=np.array(town_names, dtype=object), x=tx, y=ty, propensity=town_propensity
    )

    # --- substations: the seat gets several, others one each, near town centres
    n_s = p["substations"]
    seat_subs = max(1, n_s // 6)
    sub_town = np.concatenate(
        [
            np.zeros(seat_subs, int),
            (np.arange(n_s - seat_subs) % (n_t - 1)) + 1
            if n_t > 1
            else np.zeros(n_s - seat_subs, int),
        ]
    )
    sx = tx[sub_town] + rng.normal(0, 1.5, n_s)
    sy = ty[sub_town] + rng.normal(0, 1.5, n_s)
    seq_in_town: dict[int, int] = {}
    sub_names = []
    for t in sub_town:
        k = seq_in_town.get(int(t), 0)
        seq_in_town[int(t)] = k + 1
        stem = names.town_stem(town_names[t])
        sub_names.append(f"35kV{stem}{'' if k == 0 else names.CN_NUM[k]}站")
    sub_urban = sub_town == 0

    # --- feeders
    fpb = p["feeders_per_sub"]
    # exactly n_s * fpb feeders when n_s is a multiple of 4 or 5, spread unevenly
    n_f_per_sub = fpb + rng.permutation(np.resize([-2, 2, -1, 1, 0], n_s))
    f_sub = np.repeat(np.arange(n_s), n_f_per_sub)
    n_f = len(f_sub)
    f_k = np.concatenate([np.arange(k) for k in n_f_per_sub])
    # urban feeders: seat substations, and the first feeder of town substations
    f_urban = sub_urban[f_sub] & (rng.random(n_f) < 0.75) | (~sub_urban[f_sub] & (f_k == 0))
    bad = np.zeros(n_f, bool)
    rural_idx = np.flatnonzero(~f_urban)
    if len(rural_idx):
        bad[rng.choice(rural_idx, min(p["bad_feeders"], len(rural_idx)), replace=False)] = True
    trunk_len = np.where(f_urban, rng.uniform(2.0, 6.0, n_f), rng.uniform(7.0, 18.0, n_f))
    trunk_len = np.where(bad, trunk_len * 1.5 + 4.0, trunk_len)
    mm2 = np.where(
        f_urban, rng.choice([150, 185, 240], n_f), rng.choice([50, 70, 70, 95, 95, 120], n_f)
    )
    mm2 = np.where(bad, rng.choice([35, 50], n_f), mm2)
    year = np.where(f_urban, rng.integers(2005, 2023, n_f), rng.integers(1995, 2020, n_f))
    year = np.where(bad, rng.integers(1990, 2002, n_f), year)

    geoms, f_len, f_paths = [], np.zeros(n_f), []
    for f in range(n_f):
        s = f_sub[f]
        heading = 2 * np.pi * f_k[f] / n_f_per_sub[s] + rng.normal(0, 0.25) + s
        trunk = _grid_walk(rng, sx[s], sy[s], heading, trunk_len[f])
        paths = [(trunk, 0.0)]  # (polyline, electrical distance at its root)
        cum = _cumlen(trunk)
        n_br = rng.integers(1, 3) if f_urban[f] else rng.integers(2, 5)
        for _ in range(n_br):
            i = rng.integers(1, len(trunk))
            seg_dir = trunk[i] - trunk[i - 1]
            ang = np.arctan2(seg_dir[1], seg_dir[0]) + rng.choice([-1, 1]) * np.pi / 2
            br = _grid_walk(
                rng, trunk[i][0], trunk[i][1], ang, trunk_len[f] * rng.uniform(0.15, 0.45)
            )
            paths.append((br, cum[i]))
        f_paths.append(paths)
        f_len[f] = sum(_cumlen(pth)[-1] for pth, _ in paths)

    # --- transformer areas placed along each feeder's paths
    apf = p["areas_per_feeder"]
    n_a_f = np.clip(rng.poisson(apf * np.where(f_urban, 0.85, 1.05)), 4, 999)
    ax_, ay_, adist, a_f = [], [], [], []
    for f in range(n_f):
        paths = f_paths[f]
        lens = np.array([_cumlen(pth)[-1] for pth, _ in paths])
        which = rng.choice(len(paths), n_a_f[f], p=lens / lens.sum())
        pos = rng.uniform(0.05, 1.0, n_a_f[f]) * lens[which]
        order = np.lexsort((pos, which))
        which, pos = which[order], pos[order]
        for k in range(len(paths)):
            m = which == k
            if not m.any():
                continue
            pth, root = paths[k]
            pt = _point_at(pth, _cumlen(pth), pos[m])
            pt = pt + rng.normal(0, 0.08, pt.shape)
            ax_.append(pt[:, 0])
            ay_.append(pt[:, 1])
            adist.append(root + pos[m])
            a_f.append(np.full(m.sum(), f))
    ax_, ay_ = np.concatenate(ax_), np.concatenate(ay_)
    adist, a_f = np.concatenate(adist), np.concatenate(a_f)
    # order areas by feeder, then electrical distance
    order = np.lexsort((adist, a_f))
    ax_, ay_, adist, a_f = ax_[order], ay_[order], adist[order], a_f[order]
    n_a = len(a_f)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(a_f, minlength=n_f))])

    a_town = np.argmin(np.hypot(ax_[:, None] - tx[None], ay_[:, None] - ty[None]), axis=1)
    town_dist = np.hypot(ax_ - tx[a_town], ay_ - ty[a_town])
    a_urban = f_urban[a_f]
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
    peak_kw = np.where(bad[a_f], peak_kw * 1.35, peak_kw)  # weak lines also carry growing load
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
    area_prop = np.exp(rng.normal(0, 0.3, n_a)) * town_propensity[a_town]

    # --- feeder electrical quantities
    f_peak_mw = np.bincount(a_f, weights=peak_kw, minlength=n_f) / 1000 * 0.88
    f_rated = np.array([RATED_MVA[int(m)] for m in mm2])
    lmax = np.array([adist[ptr[f] : ptr[f + 1]].max() for f in range(n_f)])
    r_km = 28.3 / mm2
    drop_far = (f_peak_mw * r_km + 0.45 * f_peak_mw * 0.38) * lmax / 2 / 100
    drop_far = np.clip(drop_far, 0.005, 0.22)
    ref_drop_far = np.minimum(drop_far, np.maximum(0.01, REF_DROP_PER_KM * lmax))
    rel = adist / lmax[a_f]
    shape = rel * (2 - rel)
    a_drop = drop_far[a_f] * shape
    a_drop_ref = ref_drop_far[a_f] * shape

    # --- hidden feeder weaknesses (partly from observed attributes, partly unobserved)
    age = 2025 - year
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
    util = f_peak_mw / 0.92 / f_rated
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

    f_names, f_ids, cond_names = [], [], []
    for f in range(n_f):
        s = f_sub[f]
        stem = names.town_stem(town_names[sub_town[s]])
        f_names.append(f"{stem}{names.ROMAN[f_k[f] % len(names.ROMAN)]}线")
        f_ids.append(f"F{s + 1:02d}{f_k[f] + 1:02d}")
        cond_names.append(f"LGJ-{int(mm2[f])}")

    # --- substations: capacity versus load; the deliberately overloaded ones
    s_peak_mva = np.bincount(f_sub, weights=f_peak_mw, minlength=n_s) / 0.92 * 0.9
    ratio = rng.uniform(0.5, 0.8, n_s)
    over = np.zeros(n_s, bool)
    cand = np.flatnonzero(~sub_urban) if (~sub_urban).sum() else np.arange(n_s)
    over[rng.choice(cand, min(p["overloaded_subs"], len(cand)), replace=False)] = True
    ratio = np.where(over, rng.uniform(1.12, 1.25, n_s), ratio)
    sizes = np.array([6.3, 8.0, 10.0, 12.6, 16.0, 20.0, 25.0, 31.5, 40.0, 50.0, 63.0])
    capacity = sizes[np.minimum(np.searchsorted(sizes, s_peak_mva / ratio), len(sizes) - 1)]
    capacity = np.where(over, np.round(s_peak_mva / ratio, 1), capacity)
    s_load_ratio = s_peak_mva / capacity
    s_fault = REF_SUB_FAULT_RATE * rng.lognormal(0, 0.4, n_s)
    s_fault[rng.integers(n_s)] *= 3.0  # one old 35 kV station with a bad record
    s_fault_ref = np.minimum(s_fault, REF_SUB_FAULT_RATE)

    net.subs = dict(
        id=np.array([f"SS{s + 1:02d}" for s in range(n_s)], dtype=object),
        name=np.array(sub_names, dtype=object),
        town=sub_town,
        x=sx,
        y=sy,
        capacity_mva=capacity,
        peak_mva=s_peak_mva,
        load_ratio=s_load_ratio,
        overloaded=over,
        fault_rate=s_fault,
        fault_rate_ref=s_fault_ref,
    )
    lines = []
    for f in range(n_f):
        parts = []
        for pth, _ in f_paths[f]:
            lo, la = net.to_lonlat(pth[:, 0], pth[:, 1])
            parts.append(", ".join(f"{a:.5f} {b:.5f}" for a, b in zip(lo, la)))
        if len(parts) == 1:
            lines.append(f"LINESTRING({parts[0]})")
        else:
            lines.append("MULTILINESTRING(" + ", ".join(f"({q})" for q in parts) + ")")
        geoms.append(lines[-1])
    net.feeders = dict(
        id=np.array(f_ids, dtype=object),
        sub=f_sub,
        name=np.array(f_names, dtype=object),
        urban=f_urban,
        bad=bad,
        length_km=f_len,
        conductor=np.array(cond_names, dtype=object),
        mm2=mm2,
        year=year,
        rated_mva=f_rated,
        peak_mw=f_peak_mw,
        util=util,
        lmax=lmax,
        drop_far=drop_far,
        drop_far_ref=ref_drop_far,
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
        geometry=np.array(geoms, dtype=object),
    )
    a_k = np.arange(n_a) - ptr[a_f]
    a_ids = np.array(
        [f"T{f_sub[f] + 1:02d}{f_k[f] + 1:02d}{k + 1:03d}" for f, k in zip(a_f, a_k)], dtype=object
    )
    vill = [f"{rng.choice(names.SURNAMES)}{rng.choice(names.VILLAGE_SUFFIX)}村" for _ in range(n_a)]
    street = [f"{rng.choice(names.STREETS)}{rng.integers(1, 300)}号" for _ in range(n_a)]
    addr = np.array(
        [(town_names[t] + (st if u else v)) for t, u, v, st in zip(a_town, a_urban, vill, street)],
        dtype=object,
    )
    a_name = np.array(
        [
            (v if not u else st.split("路")[0] + "路") + ("专变" if d else f"{k + 1}号台区")
            for v, u, st, d, k in zip(vill, a_urban, street, dedicated, a_k)
        ],
        dtype=object,
    )
    lon, lat = net.to_lonlat(ax_, ay_)
    net.areas = dict(
        id=a_ids,
        feeder=a_f,
        sub=f_sub[a_f],
        name=a_name,
        kind=np.where(dedicated, 1, 0),
        kva=kva.astype(float),
        customers=customers,
        town=a_town,
        address=addr,
        x=ax_,
        y=ay_,
        lon=lon,
        lat=lat,
        distance_km=adist,
        peak_kw=peak_kw,
        profile=profile,
        drop=a_drop,
        drop_ref=a_drop_ref,
        lv_drop=lv_drop,
        lv_weak=lv_weak,
        tap=tap,
        imb=imb,
        propensity=area_prop,
        urban=a_urban,
    )
    net.feeder_area_ptr = ptr
    return net


def network_frames(net: Network) -> dict[str, pd.DataFrame]:
    """Canonical network tables (docs/formats.md)."""
    s, f, a = net.subs, net.feeders, net.areas
    tn = net.towns["name"]
    slon, slat = net.to_lonlat(s["x"], s["y"])
    subs = pd.DataFrame(
        {
            "substation": s["id"],
            "name": s["name"],
            "voltage_kv": 35,
            "capacity_mva": np.round(s["capacity_mva"], 1),
            "lon": np.round(slon, 5),
            "lat": np.round(slat, 5),
            "town": tn[s["town"]],
        }
    )
    feeders = pd.DataFrame(
        {
            "feeder": f["id"],
            "substation": s["id"][f["sub"]],
            "name": f["name"],
            "length_km": np.round(f["length_km"], 2),
            "conductor": f["conductor"],
            "conductor_mm2": f["mm2"].astype(np.int64),
            "year_built": f["year"].astype(np.int64),
            "rated_mva": f["rated_mva"],
            "geometry": f["geometry"],
        }
    )
    trs = pd.DataFrame(
        {
            "transformer": a["id"],
            "feeder": f["id"][a["feeder"]],
            "name": a["name"],
            "kind": np.where(a["kind"] == 1, "dedicated", "public"),
            "kva": a["kva"],
            "customers": a["customers"],
            "town": tn[a["town"]],
            "address": a["address"],
            "lon": np.round(a["lon"], 5),
            "lat": np.round(a["lat"], 5),
            "distance_km": np.round(a["distance_km"], 2),
        }
    )
    for df in (subs, feeders, trs):
        for c in df.columns:
            if df[c].dtype == object:
                df[c] = df[c].astype("str")
    return {"substations": subs, "feeders": feeders, "transformers": trs}


def roads_geojson(net: Network) -> dict:
    """The simulated county's main roads as a GeoJSON FeatureCollection (WGS84): a road between
    each town and its nearest neighbours that keeps the towns connected (a minimum spanning
    tree plus the shortest extra links), drawn with right-angle jogs like the feeders' routes.
    A base layer for the offline map; the grid does not depend on it."""
    tx, ty, tn = net.towns["x"], net.towns["y"], net.towns["name"]
    n = len(tx)
    d = np.hypot(tx[:, None] - tx[None], ty[:, None] - ty[None])
    links: set[tuple[int, int]] = set()
    inside, rest = {0}, set(range(1, n))
    while rest:  # Prim's minimum spanning tree from the county seat
        i, j = min(((i, j) for i in inside for j in rest), key=lambda ij: d[ij])
        links.add((min(i, j), max(i, j)))
        inside.add(j)
        rest.discard(j)
    for i in range(n):  # and each town's second-nearest neighbour: a few loops, as real roads
        near = [int(j) for j in np.argsort(d[i]) if j != i][:2]
        for j in near:
            links.add((min(i, j), max(i, j)))
    features = []
    for i, j in sorted(links):
        # an L-shaped route with a bend halfway, as country roads follow field boundaries
        mx = (tx[i] + tx[j]) / 2
        xs = np.array([tx[i], mx, mx, tx[j]])
        ys = np.array([ty[i], ty[i], ty[j], ty[j]])
        lon, lat = net.to_lonlat(xs, ys)
        features.append(
            {
                "type": "Feature",
                "properties": {"name": f"{tn[i]}—{tn[j]}", "kind": "road"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(float(a), 5), round(float(b), 5)] for a, b in zip(lon, lat)
                    ],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
