"""Synthetic county grid: towns, 35 kV substations, radial 10 kV feeders and transformer areas.

Everything is drawn from one seeded generator, so a seed and a preset fix the whole network.
Coordinates are built in a local kilometre plane around the centre and converted to WGS84 at
the end. The hidden attributes (weakness multipliers, complaint propensities) live in the same
arrays but never leave the simulator except through ``ground_truth.json``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .attributes import (
    area_attributes,
    area_labels,
    feeder_electrics,
    feeder_labels,
    feeder_weaknesses,
    substation_capacity,
)
from .grid import (
    CAUSES,
    CONDUCTORS,
    KVA_SIZES,
    PRESETS,
    RATED_MVA,
    REF_DROP_PER_KM,
    REF_RATE_PER_KM,
    REF_SUB_FAULT_RATE,
    Network,
)
from .layout import draw_feeders, draw_routes, draw_towns, place_areas, place_substations, route_wkt

__all__ = [
    "CAUSES",
    "CONDUCTORS",
    "KVA_SIZES",
    "PRESETS",
    "RATED_MVA",
    "REF_DROP_PER_KM",
    "REF_RATE_PER_KM",
    "REF_SUB_FAULT_RATE",
    "Network",
    "build_network",
    "network_frames",
    "roads_geojson",
]


def build_network(preset: str, seed: int, centre: tuple[float, float]) -> Network:
    """Draw the whole grid for a preset and seed (deterministic): where it lies (towns,
    substations, feeder routes, areas), then what its assets are, in one random order."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    p = PRESETS[preset]
    rng = np.random.default_rng([seed, 1])
    net = Network(lon0=float(centre[0]), lat0=float(centre[1]))
    net.towns = draw_towns(rng, p["towns"], p["extent_km"])
    site = place_substations(rng, p["substations"], net.towns)
    fd = draw_feeders(rng, p, site["urban"])
    f_paths, f_len = draw_routes(rng, fd, site)
    places = place_areas(rng, p["areas_per_feeder"], fd["urban"], f_paths)
    attrs = area_attributes(rng, net.towns, fd, places)
    elec = feeder_electrics(fd, places, attrs["peak_kw"])
    weak = feeder_weaknesses(rng, fd, f_len, elec)
    labels = feeder_labels(fd, site["town"], net.towns["name"])
    cap = substation_capacity(rng, p["overloaded_subs"], fd["sub"], elec["peak_mw"], site["urban"])
    n_s = len(site["town"])
    net.subs = dict(
        id=np.array([f"SS{s + 1:02d}" for s in range(n_s)], dtype=object),
        name=np.array(site["name"], dtype=object),
        town=site["town"],
        x=site["x"],
        y=site["y"],
        **cap,
    )
    net.feeders = _feeder_arrays(fd, f_len, elec, weak, labels, route_wkt(net, f_paths))
    a_ids, addr, a_name = area_labels(rng, net.towns["name"], fd["sub"], fd["k"], places, attrs)
    net.areas = _area_arrays(net, fd, places, attrs, elec, a_ids, addr, a_name)
    net.feeder_area_ptr = places["ptr"]
    return net


def _feeder_arrays(fd, f_len, elec, weak, labels, geoms) -> dict:
    return dict(
        id=np.array(labels["id"], dtype=object),
        sub=fd["sub"],
        name=np.array(labels["name"], dtype=object),
        urban=fd["urban"],
        bad=fd["bad"],
        length_km=f_len,
        conductor=np.array(labels["conductor"], dtype=object),
        mm2=fd["mm2"],
        year=fd["year"],
        rated_mva=elec["rated_mva"],
        peak_mw=elec["peak_mw"],
        util=weak["util"],
        lmax=elec["lmax"],
        drop_far=elec["drop_far"],
        drop_far_ref=elec["drop_far_ref"],
        rate=weak["rate"],
        rate_ref=weak["rate_ref"],
        storm_exp=weak["storm_exp"],
        storm_exp_ref=weak["storm_exp_ref"],
        mom_rate=weak["mom_rate"],
        mom_rate_ref=weak["mom_rate_ref"],
        planned_rate=weak["planned_rate"],
        cond=weak["cond"],
        veg=weak["veg"],
        hidden=weak["hidden"],
        geometry=np.array(geoms, dtype=object),
    )


def _area_arrays(net, fd, places, attrs, elec, a_ids, addr, a_name) -> dict:
    lon, lat = net.to_lonlat(places["x"], places["y"])
    a_f = places["feeder"]
    return dict(
        id=a_ids,
        feeder=a_f,
        sub=fd["sub"][a_f],
        name=a_name,
        kind=np.where(attrs["dedicated"], 1, 0),
        kva=attrs["kva"].astype(float),
        customers=attrs["customers"],
        town=attrs["town"],
        address=addr,
        x=places["x"],
        y=places["y"],
        lon=lon,
        lat=lat,
        distance_km=places["dist"],
        peak_kw=attrs["peak_kw"],
        profile=attrs["profile"],
        drop=elec["area_drop"],
        drop_ref=elec["area_drop_ref"],
        lv_drop=attrs["lv_drop"],
        lv_weak=attrs["lv_weak"],
        tap=attrs["tap"],
        imb=attrs["imb"],
        propensity=attrs["propensity"],
        urban=attrs["urban"],
    )


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
