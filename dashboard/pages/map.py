"""Feeder map (for planners): every 10 kV feeder coloured by a measure, 35 kV substations,
active outages; filters by substation, window and measure; a click opens the feeder's page."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html, no_update

from dashboard import data, ids
from dashboard.components.common import card, t
from dashboard.components.maps import create_map_figure
from dashboard.data import MEASURES
from dashboard.i18n import norm_lang, tr

dash.register_page(__name__, path="/map", name="nav.map", nav_order=2, title="FeederWatch")

WINDOWS = (90, 180, 365)


def controls(lang: str, substations: list[str], window: int):
    return html.Div(
        [
            html.Div(
                [
                    html.Label(t("map.measure", lang)),
                    dcc.Dropdown(
                        id=ids.MAP_MEASURE,
                        value="saidi",
                        clearable=False,
                        options=[{"label": tr(f"measure.{m}", lang), "value": m} for m in MEASURES],
                    ),
                ],
                className="control",
                style={"minWidth": "260px"},
            ),
            html.Div(
                [
                    html.Label(t("map.substation", lang)),
                    dcc.Dropdown(
                        id=ids.MAP_SUBSTATION,
                        value=None,
                        placeholder=tr("map.all", lang),
                        options=[{"label": s, "value": s} for s in substations],
                    ),
                ],
                className="control",
            ),
            html.Div(
                [
                    html.Label(t("map.window", lang)),
                    dcc.Dropdown(
                        id=ids.MAP_WINDOW,
                        value=window,
                        clearable=False,
                        options=[{"label": tr(f"window.{w}", lang), "value": w} for w in WINDOWS],
                    ),
                ],
                className="control",
            ),
            dcc.Checklist(
                id=ids.MAP_OUTAGES,
                value=["on"],
                options=[{"label": tr("map.outages", lang), "value": "on"}],
            ),
        ],
        className="controls",
    )


def layout(**_kw):
    store = data.store()
    lang = store.settings.dashboard.language
    subs = store.network()["substations"]
    names = [f"{c}" for c in subs["substation"]]
    window = default_window(store)
    return html.Div(
        [
            html.H1(t("map.title", lang)),
            controls(lang, names, window),
            card(
                None,
                dcc.Graph(
                    id=ids.MAP_GRAPH,
                    style={"height": "640px"},
                    config={"displaylogo": False, "scrollZoom": True},
                ),
            ),
        ]
    )


def default_window(store) -> int:
    return min(WINDOWS, key=lambda w: abs(w - store.settings.ranking.window_days))


def _warm_default_views(store) -> None:
    for lang in ("zh", "en"):
        map_figure(store, "saidi", None, default_window(store), ["on"], lang)


data.WARMERS["map"] = _warm_default_views


@callback(
    Output(ids.MAP_GRAPH, "figure"),
    Input(ids.MAP_MEASURE, "value"),
    Input(ids.MAP_SUBSTATION, "value"),
    Input(ids.MAP_WINDOW, "value"),
    Input(ids.MAP_OUTAGES, "value"),
    Input(ids.LANG, "data"),
    Input(ids.ANALYSIS_READY, "data"),
)
def update_map(measure, substation, window, outages_on, lang, _ready=None):
    return map_figure(data.store(), measure, substation, window, outages_on, lang)


def map_figure(store, measure, substation, window, outages_on, lang):
    lang = norm_lang(lang, store.settings.dashboard.language)
    measure = measure if measure in MEASURES else "saidi"
    # a figure per view and data version: a wall screen cycling measures reuses them; kept as
    # a plain dict (what the browser gets): a plotly Figure object takes 0.1 s to rebuild when
    # the analysis process sends it
    key = ("map_figure", measure, substation or None, window, bool(outages_on), lang)
    return store.memo(
        key,
        lambda: create_map_figure(
            store.feeder_lines(),
            store.feeder_measures(window),
            measure,
            store.network(),
            store.substation_measures(window),
            store.active(),
            store.settings,
            lang,
            substation=substation or None,
            show_outages=bool(outages_on),
        ).to_dict(),
    )


@callback(
    Output(ids.MAP_MEASURE, "options"),
    Output(ids.MAP_WINDOW, "options"),
    Output(ids.MAP_SUBSTATION, "placeholder"),
    Output(ids.MAP_OUTAGES, "options"),
    Input(ids.LANG, "data"),
)
def map_option_labels(lang):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    return (
        [{"label": tr(f"measure.{m}", lang), "value": m} for m in MEASURES],
        [{"label": tr(f"window.{w}", lang), "value": w} for w in WINDOWS],
        tr("map.all", lang),
        [{"label": tr("map.outages", lang), "value": "on"}],
    )


@callback(
    Output(ids.NAV_LOCATION, "href", allow_duplicate=True),
    Input(ids.MAP_GRAPH, "clickData"),
    prevent_initial_call=True,
)
def open_feeder(click):
    """A click on a feeder (its line or its midpoint marker) opens its detail page; a click on
    a substation opens the substation's."""
    if not click or not click.get("points"):
        return no_update
    point = click["points"][0]
    code = point.get("customdata")
    if not code:
        return no_update
    store = data.store()
    if code in set(store.network()["substations"]["substation"]):
        return f"/substation/{code}"
    return f"/feeder/{code}"
