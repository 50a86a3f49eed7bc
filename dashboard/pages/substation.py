"""Substation detail (``/substation/<substation_id>``): the same views over all its feeders,
its 35 kV figures and its feeders' ranks."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, ids
from dashboard.components.common import (
    card,
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
    __name__,
    path_template="/substation/<substation_id>",
    name="nav.substation",
    title="FeederWatch",
)


def layout(substation_id: str | None = None, county: str | None = None, **_kw):
    lang = data.store().settings.dashboard.language
    return html.Div(
        [
            dcc.Store(id=ids.SUB_ID, data=substation_id),
            html.H1([t("nav.substation", lang), f" {substation_id or ''}"]),
            *drawn_body(
                ids.SUB_BODY,
                ids.SUB_SHOWN,
                substation_body,
                substation_id,
                county=county,
                owner=("substation", substation_id),
            ),
        ]
    )


def substation_body(sub_id: str | None, lang: str):
    store = data.store()
    net = store.network()
    row = net["substations"][net["substations"]["substation"] == sub_id]
    if row.empty:
        return html.Div(f"{tr('shell.not_found', lang)}: {sub_id}", className="card")
    r = row.iloc[0]
    feeders = net["feeders"].loc[net["feeders"]["substation"] == sub_id, "feeder"].tolist()
    o = store.outages()
    o = o[o["substation"] == sub_id]
    c = store.classified_complaints()
    c = c[c["substation_matched"] == sub_id]
    monthly = store.indices("substation", monthly=True)
    monthly = monthly[monthly["substation"] == sub_id]
    fr = store.frequent("feeder")
    status = fr[fr["feeder"].isin(feeders)].sort_values("outages_until_frequent").head(1)
    srank = store.substation_measures()
    sk = srank[srank["substation"] == sub_id]
    facts = [
        (
            f"{r['name'] or ''} · {fmt_num(r['voltage_kv'], 0)} kV · "
            f"{tr('col.capacity', lang)}: {fmt_num(r['capacity_mva'])} · {r['town'] or ''}"
        )
    ]
    if len(sk):
        k = sk.iloc[0]
        facts.append(
            f" · {tr('col.rank', lang)} {int(k['rank'])} · {tr('col.score', lang)} "
            f"{fmt_num(k['score'])} · {tr('col.project', lang)}: "
            f"{project_label(k['project'], lang, voltage_levels(store.network()))}"
        )
    fm = store.feeder_measures()
    fm = fm[fm["feeder"].isin(feeders)].sort_values("rank")
    links = html.Ul(
        [
            html.Li(
                [
                    dcc.Link(f"{x.feeder} {x.name or ''}", href=f"/feeder/{x.feeder}"),
                    (
                        f" — {tr('col.rank', lang)} {int(x.rank)}, "
                        f"{tr('col.score', lang)} {fmt_num(x.score)}"
                    ),
                ]
            )
            for x in fm.itertuples()
        ]
    )
    extra = html.Div([html.Div(facts, className="card"), card(t("det.feeders", lang), links)])
    return detail_body(store, lang, feeders, o, c, monthly, status, "sub-areas", extra)


@callback(
    Output(ids.SUB_BODY, "children"),
    Output(ids.SUB_SHOWN, "data"),
    Input(ids.SUB_ID, "data"),
    Input(ids.LANG, "data"),
    Input(ids.ANALYSIS_READY, "data"),
    State(ids.SUB_SHOWN, "data"),
    Input(ids.COUNTY, "data"),
)
@county_scoped(owner=("substation", "sub_id"))
def update_substation(sub_id, lang, _ready=None, shown=None, county=None):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    redraw_needed(shown, lang, sub_id)
    return render_substation(sub_id, lang), shown_as(lang, sub_id)


def render_substation(sub_id, lang, _ready=None):
    return substation_body(sub_id, norm_lang(lang, data.store().settings.dashboard.language))
