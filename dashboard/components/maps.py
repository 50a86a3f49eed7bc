"""The feeder map figure: feeders coloured by a measure, substations, active outages, over a base
layer drawn from the network (town areas; names on hover) and from local GeoJSON files
(``dashboard.base_layers``: roads, ...).

Two renderers, one set of traces:

- **plain** (no tile source configured, the default): ``go.Scatter`` on longitude/latitude axes
  kept at the true east-west/north-south ratio (equirectangular at the county's latitude, exact
  enough over a county), drawn as SVG. It needs neither WebGL nor any tile, style or font file,
  so it draws on any intranet PC, and fits the whole network on first draw (about 0.8 s sooner
  than a WebGL map in headless Chromium here: bench/bench_dashboard.py).
- **tiles** (``dashboard.tile_url`` set): ``go.Scattermap`` over that raster source, converted
  to GCJ-02 when ``tile_crs = "gcj02"``; nothing else remote (markers are circles, base layers
  inline GeoJSON).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.components.common import FONT, SEVERITY
from dashboard.components.geo import convert_geojson, load_geojson, wgs84_to_gcj02
from dashboard.i18n import fmt_num, tr


def _hull(points: np.ndarray) -> list[list[float]]:
    """Convex hull (monotone chain) of lon/lat points, closed ring."""
    pts = sorted(set(map(tuple, points)))
    if len(pts) < 3:
        return []

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    ring = lower[:-1] + upper[:-1]
    return [list(p) for p in ring + ring[:1]]


def _bins(values: np.ndarray) -> np.ndarray:
    """Severity class 0..4 by quintile of the finite values (-1: no value)."""
    out = np.full(len(values), -1)
    ok = np.isfinite(values)
    if ok.sum() == 0:
        return out
    v = values[ok]
    if np.nanmax(v) == np.nanmin(v):
        out[ok] = 0 if np.nanmax(v) == 0 else 2
        return out
    edges = np.quantile(v, [0.2, 0.4, 0.6, 0.8])
    out[ok] = np.searchsorted(edges, v, side="right")
    return out


def _geojson_traces(doc: dict, trace, colour: str) -> list:
    """A GeoJSON FeatureCollection as plain-map traces: polygons filled, lines stroked."""
    lx, ly, px, py = [], [], [], []

    def ring(coords, xs, ys):
        for c in coords:
            xs.append(c[0])
            ys.append(c[1])
        xs.append(None)
        ys.append(None)

    for feat in doc["features"]:
        g = feat.get("geometry") or {}
        kind, coords = g.get("type"), g.get("coordinates") or []
        if kind == "LineString":
            ring(coords, lx, ly)
        elif kind == "MultiLineString":
            for part in coords:
                ring(part, lx, ly)
        elif kind == "Polygon":
            for part in coords:
                ring(part, px, py)
        elif kind == "MultiPolygon":
            for poly in coords:
                for part in poly:
                    ring(part, px, py)
    out = []
    if px:
        out.append(
            trace(
                px,
                py,
                mode="lines",
                fill="toself",
                fillcolor="rgba(228,224,214,0.6)",
                line={"width": 1, "color": colour},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    if lx:
        out.append(
            trace(
                lx,
                ly,
                mode="lines",
                line={"width": 2, "color": colour},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return out


def create_map_figure(
    lines: pd.DataFrame,
    measures: pd.DataFrame,
    measure: str,
    network: dict,
    substation_scores: pd.DataFrame,
    active: pd.DataFrame,
    settings,
    lang: str,
    substation: str | None = None,
    show_outages: bool = True,
) -> go.Figure:
    dash_cfg = settings.dashboard
    tiles = bool(dash_cfg.tile_url)
    convert = dash_cfg.tile_crs == "gcj02" and tiles

    def xy(lon, lat):
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        return wgs84_to_gcj02(lon, lat) if convert else (lon, lat)

    def trace(lon, lat, **kw):
        """One trace for the renderer in use."""
        if tiles:
            return go.Scattermap(lon=lon, lat=lat, **kw)
        return go.Scatter(x=lon, y=lat, **kw)

    f = lines.merge(
        measures[
            ["feeder", "saidi", "saifi", "low_voltage_days", "complaints_per_1000", "score", "rank"]
        ],
        on="feeder",
        how="left",
    )
    if substation:
        f = f[f["substation"] == substation]
    values = pd.to_numeric(f[measure], errors="coerce").to_numpy(float)
    classes = _bins(values)
    label = tr(f"measure.{measure}", lang)
    fig = go.Figure()

    # base layer: town areas drawn from transformer positions, then local GeoJSON files
    tr_df = network["transformers"].dropna(subset=["lon", "lat"])
    features, town_x, town_y, town_names = [], [], [], []
    for town, grp in tr_df.groupby("town"):
        lon, lat = xy(grp["lon"], grp["lat"])
        ring = _hull(np.c_[lon, lat])
        if ring:
            features.append(
                {
                    "type": "Feature",
                    "properties": {"town": town},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
        town_x.append(float(np.mean(lon)))
        town_y.append(float(np.mean(lat)))
        town_names.append(str(town))
    base_docs = [({"type": "FeatureCollection", "features": features}, "#b9b4a6")]
    for name in dash_cfg.base_layers:  # roads and the like, over the town areas
        path = Path(name) if Path(name).is_absolute() else settings.config_dir / name
        doc = load_geojson(path)
        if doc is not None:
            base_docs.append((convert_geojson(doc, xy) if convert else doc, "#c9b99a"))
    layers = []
    if tiles:
        layers.append({"sourcetype": "raster", "source": [dash_cfg.tile_url], "below": "traces"})
        for doc, colour in base_docs:
            layers += [
                {
                    "sourcetype": "geojson",
                    "source": doc,
                    "type": "fill",
                    "color": "#e4e0d6",
                    "opacity": 0.6,
                    "below": "traces",
                },
                {
                    "sourcetype": "geojson",
                    "source": doc,
                    "type": "line",
                    "color": colour,
                    "line": {"width": 1.5},
                    "below": "traces",
                },
            ]
    else:
        for doc, colour in base_docs:
            for tr_ in _geojson_traces(doc, trace, colour):
                fig.add_trace(tr_)

    # feeders: one trace per severity class, vertices carry the feeder id
    mids_x, mids_y, mids_id, mids_text, mids_val = [], [], [], [], []
    for cls in (-1, 0, 1, 2, 3, 4):
        sel = np.flatnonzero(classes == cls)
        if not len(sel):
            continue
        xs, ys, cd, ht = [], [], [], []
        for i in sel:
            row = f.iloc[i]
            hover = (
                f"<b>{row['feeder']} {row['name'] or ''}</b><br>{row['substation']}"
                f"<br>{tr('measure.saidi', lang)}: {fmt_num(row['saidi'])}"
                f"<br>{tr('measure.saifi', lang)}: {fmt_num(row['saifi'], 2)}"
                f"<br>{tr('measure.low_voltage_days', lang)}: {fmt_num(row['low_voltage_days'], 0)}"
                f"<br>{tr('measure.complaints_per_1000', lang)}: {fmt_num(row['complaints_per_1000'])}"
                f"<br>{tr('measure.score', lang)}: {fmt_num(row['score'])}"
            )
            # the full figures hover on the feeder's midpoint marker; each line vertex carries a
            # short text only, which keeps a 300-feeder map figure small
            short = f"<b>{row['feeder']} {row['name'] or ''}</b><br>{label}: {fmt_num(values[i])}"
            all_lon, all_lat = [], []
            for part in row["lines"]:
                if not part:
                    continue
                lon, lat = xy([p[0] for p in part], [p[1] for p in part])
                lon, lat = np.round(lon, 5), np.round(lat, 5)
                xs += lon.tolist() + [None]
                ys += lat.tolist() + [None]
                cd += [row["feeder"]] * len(lon) + [None]
                ht += [short] * len(lon) + [None]
                all_lon += list(lon)
                all_lat += list(lat)
            if all_lon:
                k = len(all_lon) // 2
                mids_x.append(all_lon[k])
                mids_y.append(all_lat[k])
                mids_id.append(row["feeder"])
                mids_text.append(hover)
                mids_val.append(values[i])
        fig.add_trace(
            trace(
                xs,
                ys,
                mode="lines",
                customdata=cd,
                hovertext=ht,
                hoverinfo="text",
                line={"width": 3.5, "color": "#9e9e9e" if cls < 0 else SEVERITY[cls]},
                name=("–" if cls < 0 else f"{label} {'▁▂▃▅▇'[cls]}"),
                showlegend=False,
            )
        )

    # feeder midpoints: click targets, and the colour legend of the measure
    finite = [v for v in mids_val if np.isfinite(v)]
    fig.add_trace(
        trace(
            mids_x,
            mids_y,
            mode="markers",
            customdata=mids_id,
            hovertext=mids_text,
            hoverinfo="text",
            name=label,
            showlegend=False,
            marker={
                "size": 9 if not tiles else 11,
                "color": [v if np.isfinite(v) else None for v in mids_val],
                "colorscale": [[i / 4, c] for i, c in enumerate(SEVERITY)],
                "cmin": min(finite) if finite else 0,
                "cmax": max(finite) if finite else 1,
                "colorbar": {"title": {"text": label}, "thickness": 14, "x": 1.0},
            },
        )
    )

    # substations: size by capacity, colour by their own score
    subs = (
        network["substations"]
        .dropna(subset=["lon", "lat"])
        .merge(substation_scores[["substation", "score"]], on="substation", how="left")
    )
    if substation:
        subs = subs[subs["substation"] == substation]
    if len(subs):
        sx, sy = xy(subs["lon"], subs["lat"])
        cap = pd.to_numeric(subs["capacity_mva"], errors="coerce").fillna(5).to_numpy(float)
        sc = subs["score"].to_numpy(float)
        fig.add_trace(
            trace(
                sx,
                sy,
                mode="markers",
                customdata=subs["substation"],
                hovertext=[
                    f"<b>{n}</b> {c}<br>{tr('col.capacity', lang)}: {fmt_num(m)}"
                    f"<br>{tr('measure.score', lang)}: {fmt_num(s)}"
                    for n, c, m, s in zip(subs["name"], subs["substation"], cap, sc)
                ],
                hoverinfo="text",
                name=tr("map.substations", lang),
                showlegend=True,
                marker={
                    "size": 12 + 3 * np.sqrt(cap),
                    "color": np.nan_to_num(sc),
                    "colorscale": [[i / 4, c] for i, c in enumerate(SEVERITY)],
                    "opacity": 0.85,
                },
            )
        )

    # active outages overlay
    if show_outages and len(active):
        a = active.dropna(subset=["lon", "lat"])
        a = a[(a["lon"] != 0) & (a["lat"] != 0)]
        if substation:
            a = a[a["substation"] == substation]
        if len(a):
            ax, ay = xy(a["lon"], a["lat"])
            fig.add_trace(
                trace(
                    ax,
                    ay,
                    mode="markers",
                    name=tr("map.outages", lang),
                    customdata=a["feeder"],
                    hoverinfo="text",
                    hovertext=[
                        # an unknown (blank) count shows as "?", never as 0 or "nan"
                        f"{o} {fd}<br>{tr('col.customers', lang)}: {c if pd.notna(c) else '?'}"
                        for o, fd, c in zip(a["outage_id"], a["feeder"], a["customers"])
                    ],
                    marker={"size": 16, "color": "#000000", "opacity": 0.75},
                )
            )

    if town_names:
        # Town names on hover only: map text labels need glyph files, which MapLibre fetches
        # from a remote font server (fonts.openmaptiles.org) - not on an air-gapped intranet.
        fig.add_trace(
            trace(
                town_x,
                town_y,
                mode="markers",
                hovertext=town_names,
                hoverinfo="text",
                marker={"size": 9, "color": "#8a8272", "opacity": 0.7},
                name=tr("map.towns", lang),
                showlegend=True,
            )
        )

    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=640,
        font={"family": FONT},
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.8)"},
        uirevision="map",
        clickmode="event",
    )
    if tiles:
        cx, cy = xy([settings.site.centre[0]], [settings.site.centre[1]])
        fig.update_layout(
            map={
                "style": "white-bg",
                "center": {"lon": float(cx[0]), "lat": float(cy[0])},
                "zoom": settings.site.zoom,
                "layers": layers,
            }
        )
    else:
        # longitude and latitude at their true ground ratio; the view fits the network
        lat0 = float(np.nanmean(tr_df["lat"])) if len(tr_df) else float(settings.site.centre[1])
        fig.update_layout(
            xaxis={
                "visible": False,
                "scaleanchor": "y",
                "scaleratio": float(np.cos(np.radians(lat0))),
            },
            yaxis={"visible": False},
            plot_bgcolor="#f7f6f2",
            paper_bgcolor="#f7f6f2",
            dragmode="pan",
            hovermode="closest",
        )
    return fig
