"""The feeder map's canvas: the renderer in use (plain or tiles, see ``maps.py``), the base layer
drawn from the network (town areas, town names) and from local GeoJSON files
(``dashboard.base_layers``: roads, ...), and the view (layout, zoom, the axes' ground ratio)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import data
from dashboard.components.common import FONT
from dashboard.components.geo import convert_geojson, load_geojson, wgs84_to_gcj02
from dashboard.i18n import tr


@dataclass(frozen=True)
class Renderer:
    """The renderer in use: ``go.Scattermap`` over the configured tile source (converted to
    GCJ-02 when ``tile_crs = "gcj02"``), else ``go.Scatter`` on longitude/latitude axes."""

    tiles: bool
    convert: bool

    @classmethod
    def of(cls, dash_cfg) -> Renderer:
        tiles = bool(dash_cfg.tile_url)
        return cls(tiles=tiles, convert=dash_cfg.tile_crs == "gcj02" and tiles)

    def xy(self, lon, lat):
        """Longitudes and latitudes as drawn (converted for a GCJ-02 tile source)."""
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        return wgs84_to_gcj02(lon, lat) if self.convert else (lon, lat)

    def trace(self, lon, lat, **kw):
        """One trace for the renderer in use."""
        if self.tiles:
            return go.Scattermap(lon=lon, lat=lat, **kw)
        return go.Scatter(x=lon, y=lat, **kw)

    def joined(self, polylines) -> tuple[list, list]:
        """The parts of every feeder's polylines as one line trace's x and y (rounded to 5
        decimals, parts separated by None)."""
        xs, ys = [], []
        for parts in polylines:
            for part in parts:
                if part:
                    lon, lat = self.xy([p[0] for p in part], [p[1] for p in part])
                    xs += np.round(lon, 5).tolist() + [None]
                    ys += np.round(lat, 5).tolist() + [None]
        return xs, ys


@dataclass
class BaseLayer:
    """What the base layer leaves for the rest of the map: the placed transformers (the
    network's extent), the towns' centres and names, and the tile map's layers."""

    transformers: pd.DataFrame
    town_x: list[float] = field(default_factory=list)
    town_y: list[float] = field(default_factory=list)
    town_names: list[str] = field(default_factory=list)
    layers: list[dict] = field(default_factory=list)


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


def _town_areas(base: BaseLayer, r: Renderer) -> dict:
    """The town areas (the hulls of their transformers) as a GeoJSON FeatureCollection; the
    towns' centres and names go to ``base``."""
    features = []
    for town, grp in base.transformers.groupby("town"):
        lon, lat = r.xy(grp["lon"], grp["lat"])
        ring = _hull(np.c_[lon, lat])
        if ring:
            features.append(
                {
                    "type": "Feature",
                    "properties": {"town": town},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
        base.town_x.append(float(np.mean(lon)))
        base.town_y.append(float(np.mean(lat)))
        base.town_names.append(str(town))
    return {"type": "FeatureCollection", "features": features}


def _tile_layers(tile_url: str, base_docs: list[tuple[dict, str]]) -> list[dict]:
    """The tile map's layers: the raster source, then each base document filled and stroked."""
    layers = [{"sourcetype": "raster", "source": [tile_url], "below": "traces"}]
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
    return layers


def draw_base_layer(fig: go.Figure, network: dict, settings, r: Renderer) -> BaseLayer:
    """Town areas drawn from transformer positions, then local GeoJSON files over them: as
    traces on the plain map, as map layers (in the returned :class:`BaseLayer`) on tiles."""
    dash_cfg = settings.dashboard
    base = BaseLayer(network["transformers"].dropna(subset=["lon", "lat"]))
    base_docs = [(_town_areas(base, r), "#b9b4a6")]
    for name in dash_cfg.base_layers:  # roads and the like, over the town areas
        path = Path(name) if Path(name).is_absolute() else settings.config_dir / name
        doc = load_geojson(path)
        if doc is not None:
            base_docs.append((convert_geojson(doc, r.xy) if r.convert else doc, "#c9b99a"))
    if r.tiles:
        base.layers = _tile_layers(dash_cfg.tile_url, base_docs)
    else:
        for doc, colour in base_docs:
            for tr_ in _geojson_traces(doc, r.trace, colour):
                fig.add_trace(tr_)
    return base


def town_trace(base: BaseLayer, r: Renderer, lang: str):
    """The towns' names (None without towns). On the plain map they are SVG text (no font
    download). On a tile map they stay on hover: MapLibre text needs glyph files from a font
    server, absent on an intranet."""
    if not base.town_names:
        return None
    return r.trace(
        base.town_x,
        base.town_y,
        mode="markers" if r.tiles else "markers+text",
        text=None if r.tiles else base.town_names,
        textposition="top center",
        textfont={"size": 12, "color": "#5f5748"},
        hovertext=base.town_names,
        hoverinfo="text",
        marker={"size": 7, "color": "#8a8272", "opacity": 0.7},
        name=tr("map.towns", lang),
        showlegend=True,
        legendrank=1001,
    )


def set_view(
    fig: go.Figure,
    label: str,
    substation: str | None,
    extent: tuple[list, list],
    base: BaseLayer,
    settings,
    r: Renderer,
) -> None:
    """The figure's layout: legend, margins, and the view: the site's centre (tiles) or the
    whole network (plain), or the chosen substation's feeders (``extent``)."""
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
        # a new substation or county choice is a new view (zoom to it); otherwise pan/zoom
        # are kept
        uirevision=":".join(["map", *filter(None, [data.store().county()]), substation or ""]),
        clickmode="event",
    )
    focus = bool(substation) and len(extent[0]) > 0
    if r.tiles:
        _tile_view(fig, extent if focus else None, base, settings, r)
    else:
        _plain_view(fig, extent if focus else None, base, settings)


def _tile_view(fig: go.Figure, extent, base: BaseLayer, settings, r: Renderer) -> None:
    if extent is not None:
        extent_x, extent_y = extent
        cx, cy = [float(np.mean(extent_x))], [float(np.mean(extent_y))]
        span = max(np.ptp(extent_x), np.ptp(extent_y), 1e-3)
        zoom = float(np.clip(np.log2(360.0 / span) - 1.0, 3, 16))
    else:
        cx, cy = r.xy([settings.site.centre[0]], [settings.site.centre[1]])
        zoom = settings.site.zoom
    fig.update_layout(
        map={
            "style": "white-bg",
            "center": {"lon": float(cx[0]), "lat": float(cy[0])},
            "zoom": zoom,
            "layers": base.layers,
        }
    )


def _plain_view(fig: go.Figure, extent, base: BaseLayer, settings) -> None:
    # longitude and latitude at their true ground ratio; the view fits the network, or the
    # chosen substation's feeders
    tr_df = base.transformers
    lat0 = float(np.nanmean(tr_df["lat"])) if len(tr_df) else float(settings.site.centre[1])
    xaxis = {
        "visible": False,
        "scaleanchor": "y",
        "scaleratio": float(np.cos(np.radians(lat0))),
    }
    yaxis = {"visible": False}
    if extent is not None:
        extent_x, extent_y = extent
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
