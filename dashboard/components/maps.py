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

from dashboard.components.common import FONT, SEVERITY, voltage_levels
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


def _bins(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Colour class of each value (-1: no value) and the number of classes: quintile breaks of
    the finite values, repeated breaks merged (many feeders at 0 make fewer, wider classes)."""
    out = np.full(len(values), -1)
    ok = np.isfinite(values)
    if not ok.any():
        return out, 0
    v = values[ok]
    edges = np.unique(np.quantile(v, [0.2, 0.4, 0.6, 0.8]))
    edges = edges[(edges > v.min()) & (edges <= v.max())]
    cls = np.searchsorted(edges, v, side="right")
    # interpolated breaks can leave a class empty (values 1, 2, 10): number only those used
    used, cls = np.unique(cls, return_inverse=True)
    out[ok] = cls
    return out, len(used)


def class_colour(cls: int, n: int, only_value: float | None = None) -> str:
    """The colour of class ``cls`` of ``n``, spread over the whole severity scale (grey: no
    value). One class alone is blue when its value is 0 (nothing bad), else the middle."""
    if cls < 0:
        return NO_VALUE
    if n <= 1:
        return SEVERITY[0] if not only_value else SEVERITY[2]
    return SEVERITY[round(cls * (len(SEVERITY) - 1) / (n - 1))]


NO_VALUE = "#9e9e9e"
DIGITS = {"saifi": 2, "low_voltage_days": 0}


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


#: network findings that mark a feeder on the map (open points are normal topology)
FLAG_KINDS_SKIPPED = {"open_line", "busbar_tie"}


def _flag_texts(flags: pd.DataFrame | None, lang: str) -> dict[str, str]:
    """Feeder -> the translated kinds of its network findings ("Loop, Bus without coordinates")."""
    if flags is None or flags.empty:
        return {}
    sep = "、" if lang == "zh" else ", "
    out = {}
    for feeder, kinds in zip(flags["feeder"], flags["flags"], strict=True):
        shown = [k for k in str(kinds).split(",") if k and k not in FLAG_KINDS_SKIPPED]
        if shown:
            out[str(feeder)] = sep.join(tr(f"network.{k}", lang) for k in shown)
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
    no_data: bool = False,
    flags: pd.DataFrame | None = None,
) -> go.Figure:
    """The map. ``no_data``: the measure has nothing to show yet (a freshly imported network):
    every line grey, no classes. Feeders are coloured by classes of the measure, and the legend
    lists exactly the classes drawn, each with the range of its feeders' values. ``flags``
    (``db.queries.network.feeder_flags``): feeders the network import found something wrong
    with (loops, islands, buses without coordinates, broken references) are drawn dotted over
    their class colour and say why on hover; open points, normal in a radial grid, are not."""
    flagged = _flag_texts(flags, lang)
    dash_cfg = settings.dashboard
    levels = voltage_levels(network)
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
    if no_data:
        values = np.full(len(values), np.nan)
    classes, n_classes = _bins(values)
    finite = values[np.isfinite(values)]
    only = float(finite[0]) if n_classes == 1 else None
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

    # line vertices at a substation carry no hover (they would win over the substation's own
    # marker, which plotly scores as farther): the segment touching it is drawn without hover
    subs_all = network["substations"].dropna(subset=["lon", "lat"])
    sub_x, sub_y = xy(subs_all["lon"], subs_all["lat"])
    near_deg = 0.0
    if len(tr_df):
        ext_x, ext_y = xy(tr_df["lon"], tr_df["lat"])
        near_deg = 0.012 * max(np.ptp(ext_x), np.ptp(ext_y), 1e-6)

    def near_sub(lon, lat):
        if not len(sub_x):
            return np.zeros(len(lon), bool)
        d = np.hypot(lon[:, None] - np.asarray(sub_x)[None, :], lat[:, None] - sub_y[None, :])
        return (d < near_deg).any(axis=1)

    digits = DIGITS.get(measure, 1)
    # enough decimals that neighbouring classes' ranges read apart (0.03 is not "0.0")
    bounds = sorted(
        {
            float(b)
            for c in range(n_classes)
            for b in (np.nanmin(values[classes == c]), np.nanmax(values[classes == c]))
        }
    )
    while digits < 4 and len({round(b, digits) for b in bounds}) < len(bounds):
        digits += 1
    shown_digits = digits
    digits = DIGITS.get(measure, 1)
    mids: dict[str, tuple[float, float]] = {}
    mids_x, mids_y, mids_id, mids_text, mids_col = [], [], [], [], []
    outage_feeders = set(active["feeder"].dropna()) if show_outages and len(active) else set()
    halo_x, halo_y = [], []
    extent_x, extent_y = [], []
    # feeders with an active outage, whether or not the outage has a position: a dark halo,
    # under the coloured lines
    for parts in f.loc[f["feeder"].isin(outage_feeders), "lines"]:
        for part in parts:
            if part:
                lon, lat = xy([p[0] for p in part], [p[1] for p in part])
                halo_x += np.round(lon, 5).tolist() + [None]
                halo_y += np.round(lat, 5).tolist() + [None]
    if halo_x:
        fig.add_trace(
            trace(
                halo_x,
                halo_y,
                mode="lines",
                hoverinfo="skip",
                line={"width": 9, "color": "rgba(0,0,0,0.35)"},
                name=tr("map.outage_feeder", lang),
                showlegend=True,
                legendrank=999,
            )
        )
    for cls in (-1, *range(n_classes)):
        sel = np.flatnonzero(classes == cls)
        if not len(sel):
            continue
        colour = class_colour(cls, n_classes, only)
        xs, ys, cd, ht = [], [], [], []
        sx_, sy_, scd = [], [], []
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
            shown_value = (
                fmt_num(values[i], digits) if np.isfinite(values[i]) else tr("map.no_value", lang)
            )
            short = f"<b>{row['feeder']} {row['name'] or ''}</b><br>{label}: {shown_value}"
            if row["feeder"] in flagged:
                hover += f"<br>⚠ {flagged[row['feeder']]}"
                short += f"<br>⚠ {flagged[row['feeder']]}"
            all_lon, all_lat = [], []
            for part in row["lines"]:
                if not part:
                    continue
                lon, lat = xy([p[0] for p in part], [p[1] for p in part])
                lon, lat = np.round(lon, 5), np.round(lat, 5)
                near = near_sub(lon, lat)
                # hoverable runs: the vertices away from substations
                kept = np.flatnonzero(~near)
                if len(kept):
                    lon_l, lat_l = lon.tolist(), lat.tolist()
                    for run in np.split(kept, np.flatnonzero(np.diff(kept) > 1) + 1):
                        xs += [lon_l[k] for k in run] + [None]
                        ys += [lat_l[k] for k in run] + [None]
                        cd += [row["feeder"]] * len(run) + [None]
                        ht += [short] * len(run) + [None]
                # segments touching a substation: drawn, not hoverable
                for k in np.flatnonzero(near[:-1] | near[1:]):
                    sx_ += [lon[k], lon[k + 1], None]
                    sy_ += [lat[k], lat[k + 1], None]
                    scd += [row["feeder"], row["feeder"], None]
                all_lon += list(lon)
                all_lat += list(lat)
            if all_lon:
                k = len(all_lon) // 2
                mids[row["feeder"]] = (all_lon[k], all_lat[k])
                mids_x.append(all_lon[k])
                mids_y.append(all_lat[k])
                mids_id.append(row["feeder"])
                mids_text.append(hover)
                mids_col.append(colour)
                extent_x += all_lon
                extent_y += all_lat
        in_class = values[sel]
        if cls < 0:
            name = tr("map.no_value", lang)
        else:
            lo, hi = np.nanmin(in_class), np.nanmax(in_class)
            d = shown_digits
            name = (
                fmt_num(lo, d)
                if fmt_num(lo, d) == fmt_num(hi, d)
                else f"{fmt_num(lo, d)} – {fmt_num(hi, d)}"
            )
        group = f"class{cls}"
        fig.add_trace(
            trace(
                xs,
                ys,
                mode="lines",
                customdata=cd,
                hovertext=ht,
                hoverinfo="text",
                line={"width": 3.5, "color": colour},
                name=name,
                legendgroup=group,
                legendrank=10 if cls < 0 else 100 - cls,  # worst class first
                showlegend=True,
                meta={
                    "class": int(cls),
                    "range": [float(np.nanmin(in_class)), float(np.nanmax(in_class))]
                    if cls >= 0
                    else None,
                },
            )
        )
        if sx_:
            fig.add_trace(
                trace(
                    sx_,
                    sy_,
                    mode="lines",
                    customdata=scd,
                    hoverinfo="skip",
                    line={"width": 3.5, "color": colour},
                    legendgroup=group,
                    showlegend=False,
                )
            )

    # feeders with network findings: dotted over their class colour
    fx, fy = [], []
    for parts in f.loc[f["feeder"].isin(flagged), "lines"]:
        for part in parts:
            if part:
                lon, lat = xy([p[0] for p in part], [p[1] for p in part])
                fx += np.round(lon, 5).tolist() + [None]
                fy += np.round(lat, 5).tolist() + [None]
    if fx:
        line = (
            {"width": 1.5, "color": "#ffffff"}  # map tiles draw no dashes
            if tiles
            else {"width": 1.5, "color": "#ffffff", "dash": "dot"}
        )
        fig.add_trace(
            trace(
                fx,
                fy,
                mode="lines",
                hoverinfo="skip",
                line=line,
                name=tr("map.flagged", lang),
                showlegend=True,
                legendrank=998,
                meta={"flagged": sorted(flagged)},
            )
        )

    # feeder midpoints: click targets, in their class's colour (no separate colour bar)
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
            marker={"size": 9 if not tiles else 11, "color": mids_col},
        )
    )

    # substations, over the lines: size by capacity, colour by their own score's class
    subs = subs_all.merge(
        substation_scores[
            [c for c in ("substation", "score", "avoidable_complaints") if c in substation_scores]
        ],
        on="substation",
        how="left",
    )
    n_feeders = lines.groupby("substation")["feeder"].count()
    if substation:
        subs = subs[subs["substation"] == substation]
    if len(subs):
        sx, sy = xy(subs["lon"], subs["lat"])
        cap = pd.to_numeric(subs["capacity_mva"], errors="coerce").to_numpy(float)
        sc = subs["score"].to_numpy(float)
        avoid = subs.get("avoidable_complaints", pd.Series(np.nan, index=subs.index)).to_numpy(
            float
        )
        s_cls, s_n = _bins(sc)
        s_only = float(sc[np.isfinite(sc)][0]) if s_n == 1 else None
        fig.add_trace(
            trace(
                sx,
                sy,
                mode="markers",
                customdata=subs["substation"],
                hovertext=[
                    f"<b>{c} {n or ''}</b>"
                    f"<br>{tr('col.capacity', lang)}: {fmt_num(m)}"
                    f"<br>{tr('map.feeders_n', lang)}: {int(n_feeders.get(c, 0))}"
                    f"<br>{tr('col.avoidable', lang)}: {fmt_num(a)}"
                    f"<br>{tr('measure.score', lang)}: {fmt_num(s_)}"
                    for n, c, m, a, s_ in zip(subs["name"], subs["substation"], cap, avoid, sc)
                ],
                hoverinfo="text",
                name=tr("map.substations_kv", lang, kv=levels["substation"]),
                showlegend=True,
                legendrank=1000,
                marker={
                    "size": 12 + 3 * np.sqrt(np.nan_to_num(cap, nan=5.0)),
                    "color": [class_colour(c, s_n, s_only) for c in s_cls],
                    "opacity": 0.9,
                    # an outline tells substations from feeder midpoints (not on tile maps:
                    # their markers have no outline)
                    **({} if tiles else {"line": {"width": 2, "color": "#12324f"}}),
                },
            )
        )

    # active outages: at their position, or at their feeder's midpoint when they carry only
    # the feeder id
    if show_outages and len(active):
        a = active.copy()
        if substation:
            a = a[a["substation"] == substation]
        lon = pd.to_numeric(a["lon"], errors="coerce") if "lon" in a else pd.Series(np.nan, a.index)
        lat = pd.to_numeric(a["lat"], errors="coerce") if "lat" in a else pd.Series(np.nan, a.index)
        placed = lon.notna() & lat.notna() & (lon != 0) & (lat != 0)
        ox, oy = [], []
        if placed.any():
            px_, py_ = xy(lon[placed], lat[placed])
            ox += list(px_)
            oy += list(py_)
        rest = a[~placed]
        rest = rest[rest["feeder"].isin(list(mids))]
        ox += [mids[fd][0] for fd in rest["feeder"]]
        oy += [mids[fd][1] for fd in rest["feeder"]]
        shown = pd.concat([a[placed], rest])
        if len(shown):
            fig.add_trace(
                trace(
                    ox,
                    oy,
                    mode="markers",
                    name=tr("map.outages", lang),
                    customdata=shown["feeder"],
                    hoverinfo="text",
                    hovertext=[
                        # an unknown (blank) count shows as "?", never as 0 or "nan"
                        f"{o} {fd}<br>{tr('col.customers', lang)}: {c if pd.notna(c) else '?'}"
                        for o, fd, c in zip(shown["outage_id"], shown["feeder"], shown["customers"])
                    ],
                    marker={"size": 16, "color": "#000000", "opacity": 0.75},
                )
            )

    if town_names:
        # On the plain map town names are SVG text (no font download). On a tile map they stay
        # on hover: MapLibre text needs glyph files from a font server, absent on an intranet.
        fig.add_trace(
            trace(
                town_x,
                town_y,
                mode="markers" if tiles else "markers+text",
                text=None if tiles else town_names,
                textposition="top center",
                textfont={"size": 12, "color": "#5f5748"},
                hovertext=town_names,
                hoverinfo="text",
                marker={"size": 7, "color": "#8a8272", "opacity": 0.7},
                name=tr("map.towns", lang),
                showlegend=True,
                legendrank=1001,
            )
        )

    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        autosize=True,
        font={"family": FONT},
        legend={
            "x": 0.01,
            "y": 0.99,
            "bgcolor": "rgba(255,255,255,0.85)",
            "title": {"text": label},
        },
        # a new substation choice is a new view (zoom to it); otherwise pan/zoom are kept
        uirevision=f"map:{substation or ''}",
        clickmode="event",
    )
    focus = bool(substation) and len(extent_x) > 0
    if tiles:
        if focus:
            cx, cy = [float(np.mean(extent_x))], [float(np.mean(extent_y))]
            span = max(np.ptp(extent_x), np.ptp(extent_y), 1e-3)
            zoom = float(np.clip(np.log2(360.0 / span) - 1.0, 3, 16))
        else:
            cx, cy = xy([settings.site.centre[0]], [settings.site.centre[1]])
            zoom = settings.site.zoom
        fig.update_layout(
            map={
                "style": "white-bg",
                "center": {"lon": float(cx[0]), "lat": float(cy[0])},
                "zoom": zoom,
                "layers": layers,
            }
        )
    else:
        # longitude and latitude at their true ground ratio; the view fits the network, or the
        # chosen substation's feeders
        lat0 = float(np.nanmean(tr_df["lat"])) if len(tr_df) else float(settings.site.centre[1])
        xaxis = {
            "visible": False,
            "scaleanchor": "y",
            "scaleratio": float(np.cos(np.radians(lat0))),
        }
        yaxis = {"visible": False}
        if focus:
            pad_x = 0.08 * max(np.ptp(extent_x), 1e-3)
            pad_y = 0.08 * max(np.ptp(extent_y), 1e-3)
            xaxis["range"] = [min(extent_x) - pad_x, max(extent_x) + pad_x]
            yaxis["range"] = [min(extent_y) - pad_y, max(extent_y) + pad_y]
        fig.update_layout(
            xaxis=xaxis,
            yaxis=yaxis,
            plot_bgcolor="#f7f6f2",
            paper_bgcolor="#f7f6f2",
            dragmode="pan",
            hovermode="closest",
        )
    return fig
