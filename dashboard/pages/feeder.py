"""Feeder detail (``/feeder/<feeder_id>``): outage history and causes, reliability by month,
voltage heat map and worst areas, complaints by category, frequent-outage countdown, areas."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, ids
from dashboard.components.common import (
    county_scoped,
    drawn_body,
    project_label,
    redraw_needed,
    shown_as,
    t,
    voltage_levels,
)
from dashboard.components.detail import detail_body
from dashboard.i18n import fmt_num, norm_lang, tr

dash.register_page(
    __name__, path_template="/feeder/<feeder_id>", name="nav.feeder", title="FeederWatch"
)


def layout(feeder_id: str | None = None, county: str | None = None, **_kw):
    lang = data.store().settings.dashboard.language
    return html.Div(
        [
            dcc.Store(id=ids.FEEDER_ID, data=feeder_id),
            html.H1([t("nav.feeder", lang), f" {feeder_id or ''}"]),
            *drawn_body(
                ids.FEEDER_BODY,
                ids.FEEDER_SHOWN,
                feeder_body,
                feeder_id,
                county=county,
                owner=("feeder", feeder_id),
            ),
        ]
    )


def feeder_body(feeder_id: str | None, lang: str):
    store = data.store()
    feeders = store.network()["feeders"]
    row = feeders[feeders["feeder"] == feeder_id]
    if row.empty:
        return html.Div(f"{tr('shell.not_found', lang)}: {feeder_id}", className="card")
    r = row.iloc[0]
    o = store.outages()
    o = o[o["feeder"] == feeder_id]
    c = store.classified_complaints()
    c = c[c["feeder_matched"] == feeder_id]
    monthly = store.indices("feeder", monthly=True)
    monthly = monthly[monthly["feeder"] == feeder_id]
    status = store.frequent("feeder")
    status = status[status["feeder"] == feeder_id]
    rank = store.feeder_measures()
    rk = rank[rank["feeder"] == feeder_id]
    facts = [
        f"{r['name'] or ''} · {tr('col.substation', lang)}: ",
        dcc.Link(r["substation"], href=f"/substation/{r['substation']}"),
        (
            f" · {tr('col.length', lang)}: {fmt_num(r['length_km'])} · {r['conductor'] or ''}"
            f" · {r['year_built'] or ''}"
        ),
    ]
    if len(rk):
        k = rk.iloc[0]
        facts.append(
            f" · {tr('col.rank', lang)} {int(k['rank'])} · {tr('col.score', lang)} "
            f"{fmt_num(k['score'])} · {tr('col.project', lang)}: "
            f"{project_label(k['project'], lang, voltage_levels(store.network()))}"
        )
    extra = html.Div(facts, className="card")
    return detail_body(store, lang, [feeder_id], o, c, monthly, status, "feeder-areas", extra)


@callback(
    Output(ids.FEEDER_BODY, "children"),
    Output(ids.FEEDER_SHOWN, "data"),
    Input(ids.FEEDER_ID, "data"),
    Input(ids.LANG, "data"),
    Input(ids.ANALYSIS_READY, "data"),
    State(ids.FEEDER_SHOWN, "data"),
    Input(ids.COUNTY, "data"),
)
@county_scoped(owner=("feeder", "feeder_id"))
def update_feeder(feeder_id, lang, _ready=None, shown=None, county=None):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    redraw_needed(shown, lang, feeder_id)
    return render_feeder(feeder_id, lang), shown_as(lang, feeder_id)


def render_feeder(feeder_id, lang, _ready=None):
    return feeder_body(feeder_id, norm_lang(lang, data.store().settings.dashboard.language))
