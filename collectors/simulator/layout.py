"""Where the simulated grid lies, in a local kilometre plane: towns, 35 kV substations near the
town centres, each 10 kV feeder's trunk and branches along road-like routes, and the transformer
areas placed along them. Every draw comes from the one generator of ``build_network``, in
order."""

from __future__ import annotations

import numpy as np

from . import names


def draw_towns(rng, n_t: int, ext: float) -> dict:
    """The county seat at the centre, the others spread on a jittered ring/grid, each with its
    unobserved readiness to call 95598 (``propensity``)."""
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
    return dict(name=np.array(town_names, dtype=object), x=tx, y=ty, propensity=town_propensity)


def place_substations(rng, n_s: int, towns: dict) -> dict:
    """The seat gets several substations, the other towns one each, near their centres."""
    tx, ty, town_names = towns["x"], towns["y"], towns["name"]
    n_t = len(tx)
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
    return dict(town=sub_town, x=sx, y=sy, name=sub_names, urban=sub_town == 0)


def draw_feeders(rng, preset: dict, sub_urban: np.ndarray) -> dict:
    """Each substation's feeders: urban or rural, the deliberately bad ones (rural), their
    trunk length, conductor section (mm²) and year built."""
    n_s = len(sub_urban)
    fpb = preset["feeders_per_sub"]
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
        bad[rng.choice(rural_idx, min(preset["bad_feeders"], len(rural_idx)), replace=False)] = True
    trunk_len = np.where(f_urban, rng.uniform(2.0, 6.0, n_f), rng.uniform(7.0, 18.0, n_f))
    trunk_len = np.where(bad, trunk_len * 1.5 + 4.0, trunk_len)
    mm2 = np.where(
        f_urban, rng.choice([150, 185, 240], n_f), rng.choice([50, 70, 70, 95, 95, 120], n_f)
    )
    mm2 = np.where(bad, rng.choice([35, 50], n_f), mm2)
    year = np.where(f_urban, rng.integers(2005, 2023, n_f), rng.integers(1995, 2020, n_f))
    year = np.where(bad, rng.integers(1990, 2002, n_f), year)
    return dict(
        sub=f_sub,
        k=f_k,
        per_sub=n_f_per_sub,
        urban=f_urban,
        bad=bad,
        trunk_len=trunk_len,
        mm2=mm2,
        year=year,
    )


def draw_routes(rng, feeders: dict, subs: dict) -> tuple[list, np.ndarray]:
    """Each feeder's paths, a trunk from its substation and a few branches off it, as
    (polyline, electrical distance at its root) pairs; and each feeder's total length, km."""
    f_sub, f_k, trunk_len = feeders["sub"], feeders["k"], feeders["trunk_len"]
    n_f = len(f_sub)
    f_len, f_paths = np.zeros(n_f), []
    for f in range(n_f):
        s = f_sub[f]
        heading = 2 * np.pi * f_k[f] / feeders["per_sub"][s] + rng.normal(0, 0.25) + s
        trunk = _grid_walk(rng, subs["x"][s], subs["y"][s], heading, trunk_len[f])
        paths = [(trunk, 0.0)]  # (polyline, electrical distance at its root)
        cum = _cumlen(trunk)
        n_br = rng.integers(1, 3) if feeders["urban"][f] else rng.integers(2, 5)
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
    return f_paths, f_len


def place_areas(rng, areas_per_feeder: float, f_urban: np.ndarray, f_paths: list) -> dict:
    """Transformer areas placed along each feeder's paths, ordered by feeder then electrical
    distance (``dist``, km from the substation); ``ptr`` is the CSR pointer of each feeder's
    areas."""
    n_f = len(f_paths)
    n_a_f = np.clip(rng.poisson(areas_per_feeder * np.where(f_urban, 0.85, 1.05)), 4, 999)
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
    order = np.lexsort((adist, a_f))
    ax_, ay_, adist, a_f = ax_[order], ay_[order], adist[order], a_f[order]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(a_f, minlength=n_f))])
    return dict(x=ax_, y=ay_, dist=adist, feeder=a_f, ptr=ptr)


def route_wkt(net, f_paths: list) -> list[str]:
    """Each feeder's routes as WKT in WGS84 (a LINESTRING, or a MULTILINESTRING with branches)."""
    lines = []
    for paths in f_paths:
        parts = []
        for pth, _ in paths:
            lo, la = net.to_lonlat(pth[:, 0], pth[:, 1])
            parts.append(", ".join(f"{a:.5f} {b:.5f}" for a, b in zip(lo, la)))
        if len(parts) == 1:
            lines.append(f"LINESTRING({parts[0]})")
        else:
            lines.append("MULTILINESTRING(" + ", ".join(f"({q})" for q in parts) + ")")
    return lines


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
