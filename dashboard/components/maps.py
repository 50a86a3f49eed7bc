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

The renderer, the base layer and the view are in ``map_base.py``, the colour classes in
``map_classes.py``; this module draws the network's figures over them, in this order: the
outage halo, the feeders class by class, the flagged feeders, the feeders' midpoints, the
substations, the active outages, the towns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.components.common import voltage_levels
from dashboard.components.map_base import (
    BaseLayer,
    Renderer,
    draw_base_layer,
    set_view,
    town_trace,
)
from dashboard.components.map_classes import Classes, class_colour, value_classes
from dashboard.i18n import fmt_num, tr

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


@dataclass
class Midpoints:
    """The feeders' midpoint markers (click targets, full hover texts), and the extent of the
    feeders drawn (the view of a chosen substation)."""

    at: dict[str, tuple[float, float]] = field(default_factory=dict)
    x: list = field(default_factory=list)
    y: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    colours: list = field(default_factory=list)
    extent_x: list = field(default_factory=list)
    extent_y: list = field(default_factory=list)

    def add(self, feeder: str, lon: list, lat: list, hover: str, colour: str) -> None:
        k = len(lon) // 2
        self.at[feeder] = (lon[k], lat[k])
        self.x.append(lon[k])
        self.y.append(lat[k])
        self.ids.append(feeder)
        self.texts.append(hover)
        self.colours.append(colour)
        self.extent_x += lon
        self.extent_y += lat


@dataclass
class _ClassLines:
    """One class's feeder lines: hoverable runs, and the segments touching a substation."""

    xs: list = field(default_factory=list)
    ys: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    near_x: list = field(default_factory=list)
    near_y: list = field(default_factory=list)
    near_ids: list = field(default_factory=list)


def _near_substations(subs: pd.DataFrame, transformers: pd.DataFrame, r: Renderer) -> Callable:
    """A test of line vertices for being at a substation: those carry no hover (they would win
    over the substation's own marker, which plotly scores as farther), so the segment touching
    it is drawn without hover."""
    sub_x, sub_y = r.xy(subs["lon"], subs["lat"])
    near_deg = 0.0
    if len(transformers):
        ext_x, ext_y = r.xy(transformers["lon"], transformers["lat"])
        near_deg = 0.012 * max(np.ptp(ext_x), np.ptp(ext_y), 1e-6)

    def near_sub(lon, lat):
        if not len(sub_x):
            return np.zeros(len(lon), bool)
        d = np.hypot(lon[:, None] - np.asarray(sub_x)[None, :], lat[:, None] - sub_y[None, :])
        return (d < near_deg).any(axis=1)

    return near_sub


def _feeder_hover(row, lang: str) -> str:
    """A feeder's full figures (its midpoint marker's hover)."""
    return (
        f"<b>{row['feeder']} {row['name'] or ''}</b><br>{row['substation']}"
        f"<br>{tr('measure.saidi', lang)}: {fmt_num(row['saidi'])}"
        f"<br>{tr('measure.saifi', lang)}: {fmt_num(row['saifi'], 2)}"
        f"<br>{tr('measure.low_voltage_days', lang)}: {fmt_num(row['low_voltage_days'], 0)}"
        f"<br>{tr('measure.complaints_per_1000', lang)}: {fmt_num(row['complaints_per_1000'])}"
        f"<br>{tr('measure.score', lang)}: {fmt_num(row['score'])}"
    )


def _feeder_lines(row, short: str, near_sub: Callable, acc: _ClassLines, r: Renderer):
    """Add a feeder's polylines to its class's lines; returns all its drawn vertices."""
    all_lon, all_lat = [], []
    for part in row["lines"]:
        if not part:
            continue
        lon, lat = r.xy([p[0] for p in part], [p[1] for p in part])
        lon, lat = np.round(lon, 5), np.round(lat, 5)
        near = near_sub(lon, lat)
        # hoverable runs: the vertices away from substations
        kept = np.flatnonzero(~near)
        if len(kept):
            lon_l, lat_l = lon.tolist(), lat.tolist()
            for run in np.split(kept, np.flatnonzero(np.diff(kept) > 1) + 1):
                acc.xs += [lon_l[k] for k in run] + [None]
                acc.ys += [lat_l[k] for k in run] + [None]
                acc.ids += [row["feeder"]] * len(run) + [None]
                acc.texts += [short] * len(run) + [None]
        # segments touching a substation: drawn, not hoverable
        for k in np.flatnonzero(near[:-1] | near[1:]):
            acc.near_x += [lon[k], lon[k + 1], None]
            acc.near_y += [lat[k], lat[k + 1], None]
            acc.near_ids += [row["feeder"], row["feeder"], None]
        all_lon += list(lon)
        all_lat += list(lat)
    return all_lon, all_lat


def _class_traces(cl: Classes, cls: int, colour: str, acc: _ClassLines, r: Renderer, lang: str):
    """A class's line trace (in the legend, worst class first) and its segments touching a
    substation (no hover, no legend entry)."""
    in_class = cl.values[cl.classes == cls]
    group = f"class{cls}"
    out = [
        r.trace(
            acc.xs,
            acc.ys,
            mode="lines",
            customdata=acc.ids,
            hovertext=acc.texts,
            hoverinfo="text",
            line={"width": 3.5, "color": colour},
            name=cl.name(cls, lang),
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
    ]
    if acc.near_x:
        out.append(
            r.trace(
                acc.near_x,
                acc.near_y,
                mode="lines",
                customdata=acc.near_ids,
                hoverinfo="skip",
                line={"width": 3.5, "color": colour},
                legendgroup=group,
                showlegend=False,
            )
        )
    return out


def _draw_feeders(
    fig: go.Figure,
    f: pd.DataFrame,
    cl: Classes,
    label: str,
    flagged: dict[str, str],
    near_sub: Callable,
    r: Renderer,
    lang: str,
) -> Midpoints:
    """The feeders, class by class (no value first), in their class's colour; each vertex
    carries a short text only, which keeps a 300-feeder map figure small, the full figures
    hover on the feeder's midpoint (returned)."""
    mids = Midpoints()
    for cls in (-1, *range(cl.n)):
        sel = np.flatnonzero(cl.classes == cls)
        if not len(sel):
            continue
        colour = class_colour(cls, cl.n, cl.only)
        acc = _ClassLines()
        for i in sel:
            row = f.iloc[i]
            hover = _feeder_hover(row, lang)
            value = cl.values[i]
            shown = fmt_num(value, cl.digits) if np.isfinite(value) else tr("map.no_value", lang)
            short = f"<b>{row['feeder']} {row['name'] or ''}</b><br>{label}: {shown}"
            if row["feeder"] in flagged:
                hover += f"<br>⚠ {flagged[row['feeder']]}"
                short += f"<br>⚠ {flagged[row['feeder']]}"
            all_lon, all_lat = _feeder_lines(row, short, near_sub, acc, r)
            if all_lon:
                mids.add(row["feeder"], all_lon, all_lat, hover, colour)
        for trace in _class_traces(cl, cls, colour, acc, r, lang):
            fig.add_trace(trace)
    return mids


def _halo_trace(polylines, r: Renderer, lang: str):
    """Feeders with an active outage, whether or not the outage has a position: a dark halo,
    under the coloured lines (None without any)."""
    halo_x, halo_y = r.joined(polylines)
    if not halo_x:
        return None
    return r.trace(
        halo_x,
        halo_y,
        mode="lines",
        hoverinfo="skip",
        line={"width": 9, "color": "rgba(0,0,0,0.35)"},
        name=tr("map.outage_feeder", lang),
        showlegend=True,
        legendrank=999,
    )


def _flagged_trace(polylines, flagged: dict[str, str], r: Renderer, lang: str):
    """Feeders with network findings: dotted over their class colour (None without any)."""
    fx, fy = r.joined(polylines)
    if not fx:
        return None
    line = (
        {"width": 1.5, "color": "#ffffff"}  # map tiles draw no dashes
        if r.tiles
        else {"width": 1.5, "color": "#ffffff", "dash": "dot"}
    )
    return r.trace(
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


def _midpoint_trace(mids: Midpoints, label: str, r: Renderer):
    """Feeder midpoints: click targets, in their class's colour (no separate colour bar)."""
    return r.trace(
        mids.x,
        mids.y,
        mode="markers",
        customdata=mids.ids,
        hovertext=mids.texts,
        hoverinfo="text",
        name=label,
        showlegend=False,
        marker={"size": 9 if not r.tiles else 11, "color": mids.colours},
    )


def _substation_trace(
    subs_all: pd.DataFrame,
    lines: pd.DataFrame,
    substation_scores: pd.DataFrame,
    substation: str | None,
    kv,
    r: Renderer,
    lang: str,
):
    """Substations, over the lines: size by capacity, colour by their own score's class (None
    without any)."""
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
    if not len(subs):
        return None
    sx, sy = r.xy(subs["lon"], subs["lat"])
    cap = pd.to_numeric(subs["capacity_mva"], errors="coerce").to_numpy(float)
    sc = subs["score"].to_numpy(float)
    avoid = subs.get("avoidable_complaints", pd.Series(np.nan, index=subs.index)).to_numpy(float)
    s_cls, s_n = value_classes(sc)
    s_only = float(sc[np.isfinite(sc)][0]) if s_n == 1 else None
    return r.trace(
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
        name=tr("map.substations_kv", lang, kv=kv),
        showlegend=True,
        legendrank=1000,
        marker={
            "size": 12 + 3 * np.sqrt(np.nan_to_num(cap, nan=5.0)),
            "color": [class_colour(c, s_n, s_only) for c in s_cls],
            "opacity": 0.9,
            # an outline tells substations from feeder midpoints (not on tile maps: their
            # markers have no outline)
            **({} if r.tiles else {"line": {"width": 2, "color": "#12324f"}}),
        },
    )


def _outage_trace(
    active: pd.DataFrame, substation: str | None, mids: Midpoints, r: Renderer, lang: str
):
    """Active outages: at their position, or at their feeder's midpoint when they carry only
    the feeder id (None when none is shown)."""
    a = active.copy()
    if substation:
        a = a[a["substation"] == substation]
    lon = pd.to_numeric(a["lon"], errors="coerce") if "lon" in a else pd.Series(np.nan, a.index)
    lat = pd.to_numeric(a["lat"], errors="coerce") if "lat" in a else pd.Series(np.nan, a.index)
    placed = lon.notna() & lat.notna() & (lon != 0) & (lat != 0)
    ox, oy = [], []
    if placed.any():
        px_, py_ = r.xy(lon[placed], lat[placed])
        ox += list(px_)
        oy += list(py_)
    rest = a[~placed]
    rest = rest[rest["feeder"].isin(list(mids.at))]
    ox += [mids.at[fd][0] for fd in rest["feeder"]]
    oy += [mids.at[fd][1] for fd in rest["feeder"]]
    shown = pd.concat([a[placed], rest])
    if not len(shown):
        return None
    return r.trace(
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


def _feeder_values(lines, measures, measure, substation, no_data):
    """The feeders drawn (of ``substation`` when given) with their measures, and the values of
    ``measure`` (none with ``no_data``)."""
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
    return f, values


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
    r = Renderer.of(settings.dashboard)
    f, values = _feeder_values(lines, measures, measure, substation, no_data)
    cl = Classes.of(values, measure)
    label = tr(f"measure.{measure}", lang)
    fig = go.Figure()
    base: BaseLayer = draw_base_layer(fig, network, settings, r)
    subs_all = network["substations"].dropna(subset=["lon", "lat"])
    near_sub = _near_substations(subs_all, base.transformers, r)
    outages = show_outages and len(active)
    outage_feeders = set(active["feeder"].dropna()) if outages else set()
    halo = _halo_trace(f.loc[f["feeder"].isin(outage_feeders), "lines"], r, lang)
    if halo is not None:
        fig.add_trace(halo)
    mids = _draw_feeders(fig, f, cl, label, flagged, near_sub, r, lang)
    kv = voltage_levels(network)["substation"]
    traces = [
        _flagged_trace(f.loc[f["feeder"].isin(flagged), "lines"], flagged, r, lang),
        _midpoint_trace(mids, label, r),
        _substation_trace(subs_all, lines, substation_scores, substation, kv, r, lang),
        _outage_trace(active, substation, mids, r, lang) if outages else None,
        town_trace(base, r, lang),
    ]
    for trace in traces:
        if trace is not None:
            fig.add_trace(trace)
    set_view(fig, label, substation, (mids.extent_x, mids.extent_y), base, settings, r)
    return fig
