"""Feeder map (for planners): every feeder coloured by a measure (classes with a legend of their
ranges), the substations, active outages; filters by substation (zooming to it), window and
measure; a click opens the feeder's or the substation's page. On a network without outages,
complaints or voltage readings the lines are grey and a note says which measure has no data."""

from __future__ import annotations

import logging

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import data, ids
from dashboard.components.common import (
    card,
    county_scoped,
    empty_figure,
    t,
    voltage_levels,
    window_control,
    window_options,
)
from dashboard.components.maps import create_map_figure
from dashboard.data import MEASURES
from dashboard.i18n import norm_lang, tr

dash.register_page(__name__, path="/map", name="nav.map", nav_order=2, title="FeederWatch")

WINDOWS = (90, 180, 365)
log = logging.getLogger("feederwatch.dashboard")


#: what each measure needs in the database (table_counts keys) before it means anything
NEEDS = {
    "saidi": ("outages",),
    "saifi": ("outages",),
    "low_voltage_days": ("voltage",),
    "complaints_per_1000": ("complaints",),
    "score": ("outages", "complaints", "voltage"),
}


def substation_options(subs) -> list[dict]:
    names = subs["name"] if "name" in subs else [None] * len(subs)
    return [
        {"label": f"{c} {n}" if isinstance(n, str) and n else str(c), "value": c}
        for c, n in zip(subs["substation"], names)
    ]


def controls(lang: str, substations: list[dict], window: int):
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
                        options=substations,
                    ),
                ],
                className="control",
            ),
            window_control(ids.MAP_WINDOW, lang, window, WINDOWS),
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
    network = store.network()
    window = default_window(store)
    kv = voltage_levels(network)["feeder"]
    return html.Div(
        [
            html.H1(tr("map.title_kv", lang, kv=kv), id=ids.MAP_TITLE),
            controls(lang, substation_options(network["substations"]), window),
            html.Div(id=ids.MAP_NOTE, className="note"),
            card(
                None,
                # the map fills the window below the controls (1366×768 to wall screens)
                dcc.Graph(
                    id=ids.MAP_GRAPH,
                    responsive=True,
                    className="map-graph",
                    style={"height": "calc(100vh - 250px)", "minHeight": "420px"},
                    config={"displaylogo": False, "scrollZoom": True},
                ),
            ),
        ]
    )


@callback(
    Output(ids.MAP_SUBSTATION, "options"),
    Output(ids.MAP_SUBSTATION, "value"),
    Input(ids.COUNTY, "data"),
    State(ids.MAP_SUBSTATION, "options"),
    State(ids.MAP_SUBSTATION, "value"),
)
@county_scoped
def county_substations(county=None, shown=None, chosen=None):
    """The substation filter lists the chosen county's substations (issue 19)."""
    options = substation_options(data.store().network()["substations"])
    keep = chosen if chosen in {o["value"] for o in options} else None
    return (no_update if options == shown else options), (no_update if keep == chosen else keep)


def default_window(store) -> int:
    return min(WINDOWS, key=lambda w: abs(w - store.settings.ranking.window_days))


def _warm_default_views(store) -> None:
    for lang in ("zh", "en"):
        map_view(store, "saidi", None, default_window(store), ["on"], lang)


data.WARMERS["map"] = _warm_default_views


@callback(
    Output(ids.MAP_GRAPH, "figure"),
    Output(ids.MAP_NOTE, "children"),
    Input(ids.MAP_MEASURE, "value"),
    Input(ids.MAP_SUBSTATION, "value"),
    Input(ids.MAP_WINDOW, "value"),
    Input(ids.MAP_OUTAGES, "value"),
    Input(ids.LANG, "data"),
    Input(ids.ANALYSIS_READY, "data"),
    Input(ids.COUNTY, "data"),
)
@county_scoped
def update_map(measure, substation, window, outages_on, lang, _ready=None, county=None):
    return map_view(data.store(), measure, substation, window, outages_on, lang)


def missing_data(store, measure: str) -> list[str]:
    """What the measure still lacks in the database ("outages", "complaints", "voltage")."""
    counts = store.table_counts()
    have = {
        "outages": counts.get("outages", 0) > 0,
        "complaints": counts.get("complaints", 0) > 0,
        "voltage": counts.get("voltage_daily", 0) + counts.get("voltage_hourly", 0) > 0,
    }
    needs = NEEDS.get(measure, ())
    lacking = [n for n in needs if not have[n]]
    # the score means something as soon as any of its inputs has data
    return lacking if len(lacking) == len(needs) else []


def map_view(store, measure, substation, window, outages_on, lang):
    """(figure, note). Reading the database may fail (the shell's banner then says so); a
    figure that cannot be drawn says that instead, never that the database is unreadable."""
    lang = norm_lang(lang, store.settings.dashboard.language)
    measure = measure if measure in MEASURES else "saidi"
    lacking = missing_data(store, measure)
    note = None
    if lacking:
        note = tr(
            "map.no_data",
            lang,
            measure=tr(f"measure.{measure}", lang),
            missing="、".join(tr(f"map.missing.{m}", lang) for m in lacking)
            if lang == "zh"
            else ", ".join(tr(f"map.missing.{m}", lang) for m in lacking),
        )
    try:
        figure = map_figure(store, measure, substation, window, outages_on, lang, bool(lacking))
    except data.AnalysisNotReady:
        raise
    except Exception as err:  # noqa: BLE001 - a drawing fault, shown as such
        if store.degraded:
            raise
        log.warning("map figure failed: %s: %s", err.__class__.__name__, str(err)[:200])
        figure = empty_figure(
            tr("map.figure_failed", lang, error=err.__class__.__name__), 420
        ).to_dict()
        note = tr("map.figure_failed", lang, error=err.__class__.__name__)
    return figure, note


def map_figure(store, measure, substation, window, outages_on, lang, no_data=False):
    lang = norm_lang(lang, store.settings.dashboard.language)
    measure = measure if measure in MEASURES else "saidi"
    # a figure per view and data version: a wall screen cycling measures reuses them; kept as
    # a plain dict (what the browser gets): a plotly Figure object takes 0.1 s to rebuild when
    # the analysis process sends it
    key = ("map_figure", measure, substation or None, window, bool(outages_on), lang, no_data)
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
            no_data=no_data,
            flags=store.feeder_flags(),
        ).to_dict(),
    )


@callback(
    Output(ids.MAP_MEASURE, "options"),
    Output(ids.MAP_WINDOW, "options"),
    Output(ids.MAP_SUBSTATION, "placeholder"),
    Output(ids.MAP_OUTAGES, "options"),
    Output(ids.MAP_TITLE, "children"),
    Input(ids.LANG, "data"),
)
def map_option_labels(lang):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    kv = voltage_levels(store.network())["feeder"]
    return (
        [{"label": tr(f"measure.{m}", lang), "value": m} for m in MEASURES],
        window_options(lang, WINDOWS),
        tr("map.all", lang),
        [{"label": tr("map.outages", lang), "value": "on"}],
        tr("map.title_kv", lang, kv=kv),
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
