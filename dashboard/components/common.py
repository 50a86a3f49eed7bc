"""Layout pieces: translated labels, cards, KPI tiles, grids, empty figures, colours."""

from __future__ import annotations

import functools
import inspect
import itertools
import re
from urllib.parse import quote

import dash_ag_grid as dag
import plotly.graph_objects as go
from dash import ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data, ids
from dashboard.components.margins import FONT_PX, fit_margin, space_date_ticks
from dashboard.i18n import tr

# Colour-blind-safe severity scale (ColorBrewer RdYlBu, reversed: blue = good, red = bad).
SEVERITY = ["#4575b4", "#91bfdb", "#e0c34a", "#fc8d59", "#d73027"]
DRIVER_COLOURS = {
    "from_interruptions": "#0072b2",
    "from_duration": "#e69f00",
    "from_repeated_outages": "#cc79a7",
    "from_low_voltage": "#009e73",
}
SERIES = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]
FONT = "system-ui, -apple-system, 'Segoe UI', 'Microsoft YaHei', 'PingFang SC', 'Noto Sans CJK SC', sans-serif"

_counter = itertools.count()


def county_scoped(func=None, *, owner: tuple[str, str] | None = None):
    """A page callback whose reads are those of the county it is given (its ``county``
    parameter: the shell's ``ids.COUNTY`` store, issue 19); None or unknown: the province.
    ``owner`` (level, parameter), a detail page's: a feeder or substation of another county
    (a shared link) is shown as the whole company sees it."""
    if func is None:
        return functools.partial(county_scoped, owner=owner)
    signature = inspect.signature(func)

    @functools.wraps(func)
    def scoped(*args, **kwargs):
        given = signature.bind_partial(*args, **kwargs).arguments
        item = (owner[0], given.get(owner[1])) if owner else None
        with data.store().in_county(given.get("county"), item):
            return func(*args, **kwargs)

    return scoped


def t(key: str, lang: str = "zh", **fmt) -> html.Span:
    """A static label that the shell's language callback re-translates (pattern-matching id)."""
    return html.Span(tr(key, lang, **fmt), id={"type": ids.I18N, "key": key, "n": next(_counter)})


def window_options(lang: str, windows=data.WINDOWS) -> list[dict]:
    """The analysis windows a dropdown offers, labelled in ``lang``."""
    return [{"label": tr(f"window.{w}", lang), "value": w} for w in windows]


def window_control(component_id: str, lang: str, window: int, windows=data.WINDOWS) -> html.Div:
    """The labelled dropdown of analysis windows the planner pages share."""
    return html.Div(
        [
            html.Label(t("map.window", lang)),
            dcc.Dropdown(
                id=component_id,
                value=window,
                clearable=False,
                options=window_options(lang, windows),
            ),
        ],
        className="control",
    )


def header_row(keys, lang: str) -> html.Tr:
    """A table's header row: one cell per i18n key, in the page's language."""
    return html.Tr([html.Th(tr(k, lang)) for k in keys])


def card(title, *children, class_name: str = "") -> html.Div:
    head = html.Div(title, className="card-title") if title is not None else None
    return html.Div([c for c in (head, *children) if c is not None], className=f"card {class_name}")


def kpi(value_id: str, label_key: str, lang: str, value: str = "–") -> html.Div:
    return html.Div(
        [
            html.Div(value, id=value_id, className="kpi-value"),
            html.Div(t(label_key, lang), className="kpi-label"),
        ],
        className="kpi",
    )


def grid(
    grid_id, row_id_field: str | None = None, height: str = "420px", lang: str = "zh", **kw
) -> dag.AgGrid:
    options = {
        "animateRows": False,
        "pagination": False,
        "enableCellTextSelection": True,
        # the grid's own texts (filter menus, "no rows") in the user's language:
        # assets/fw-locale.js; ``lang`` is the configured one, used until the user chooses
        "getLocaleText": {"function": f"fwLocaleText(params, '{lang}')"},
    }
    options.update(kw.pop("dashGridOptions", {}))
    if row_id_field:
        # rows keep their identity across refreshes: sort, filter and scroll survive new rowData
        kw["getRowId"] = f"params.data.{row_id_field} + ''"
    return dag.AgGrid(
        id=grid_id,
        rowData=[],
        columnDefs=kw.pop("columnDefs", []),
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "minWidth": 80,
            "flex": 1,
        },
        dashGridOptions=options,
        style={"height": height, "width": "100%"},
        **kw,
    )


#: What our charts take from plotly's default "plotly" template, and only that: the default one
#: (7 KB of settings for two dozen trace types) is written into every figure sent and applied
#: by plotly.js to every plot drawn.
_AXIS = {
    "automargin": True,
    "linecolor": "white",
    "ticks": "",
    "title": {"standoff": 15},
    "zerolinecolor": "white",
    "zerolinewidth": 2,
}
HOUSE_TEMPLATE = {
    "layout": {
        "autotypenumbers": "strict",
        "colorway": [
            "#636efa",
            "#EF553B",
            "#00cc96",
            "#ab63fa",
            "#FFA15A",
            "#19d3f3",
            "#FF6692",
            "#B6E880",
            "#FF97FF",
            "#FECB52",
        ],
        "font": {"color": "#2a3f5f"},
        "hovermode": "closest",
        "hoverlabel": {"align": "left"},
        "title": {"x": 0.05},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
    },
    "data": {
        "bar": [{"marker": {"line": {"color": "#E5ECF6", "width": 0.5}}}],
        "heatmap": [{"colorbar": {"outlinewidth": 0, "ticks": ""}}],
    },
}


#: a second value axis on the right, over the first: its own nice ticks from zero (left to
#: itself, plotly aligns its ticks with the first axis's grid, at values such as "−0.0135")
SECOND_AXIS = {
    "overlaying": "y",
    "side": "right",
    "showgrid": False,
    "tickmode": "auto",
    "rangemode": "tozero",
}


def figure_layout(fig: go.Figure, height: int = 300, width: int = 600, **kw) -> go.Figure:
    """The house layout (one ``update_layout``: each plotly update validates the whole tree),
    with margins fitted to the figure's labels for a plot about ``width`` px wide
    (:func:`fit_margin`) unless ``margin`` is given.

    Tick labels may overflow the plot (``ticklabeloverflow="allow"``): plotly.js's default for
    value and date axes, "hide past div", measures every label again for each label drawn (a
    quadratic number of text measurements, a third of a detail page's drawing time)."""
    grid = {"gridcolor": "#e5e5e5", "ticklabeloverflow": "allow"}
    for key in kw:
        if key.startswith(("xaxis", "yaxis")) and key not in ("xaxis", "yaxis"):
            kw[key] = {"ticklabeloverflow": "allow", **kw[key]}
    base = {
        "height": height,
        "font": {"family": FONT, "size": FONT_PX},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.18},
        "xaxis": {**grid, **kw.pop("xaxis", {})},
        "yaxis": {**grid, **kw.pop("yaxis", {})},
    }
    fig.layout.template = HOUSE_TEMPLATE  # assigned: update_layout would merge into the default
    margin = kw.pop("margin", None)
    fig.update_layout(**{**base, **kw})
    fig.layout.margin = margin or fit_margin(fig, height, width)
    space_date_ticks(fig, width)
    return fig


def empty_figure(message: str, height: int = 300) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        font={"size": 16, "color": "#666"},
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return figure_layout(fig, height)


def records(df) -> list[dict]:
    """DataFrame rows as JSON-safe dicts (NaN -> None)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")


def md_link(text, href_prefix: str) -> str:
    """A markdown link for ag-grid's markdown renderer whose text is shown literally (markdown
    and HTML characters escaped) and whose target is ``href_prefix`` + the URL-quoted text, so a
    hostile id can neither inject markup nor point the link elsewhere."""
    if not isinstance(text, str) or not text:
        return ""
    label = _MD_SPECIAL.sub(r"\\\1", text)
    return f"[{label}]({href_prefix}{quote(text, safe='')})"


#: the same in ag-grid's valueGetter (JavaScript), for a field of the row
def md_link_js(field: str, href_prefix: str) -> str:
    return (
        f"params.data.{field} == null ? '' : '[' + String(params.data.{field})"
        f".replace(/[\\\\`*_{{}}\\[\\]()<>#+\\-.!|~&]/g, '\\\\$&') + ']({href_prefix}' + "
        f"encodeURIComponent(String(params.data.{field})) + ')'"
    )


# --- issue 18: voltage levels, links in grids --------------------------------------------------
DEFAULT_KV = {"feeder": 10.0, "substation": 35.0}


def _kv_text(values) -> str:
    kv = sorted({float(v) for v in values if v is not None and v == v and float(v) > 0})
    return "/".join(f"{v:g}" for v in kv)


def voltage_levels(network: dict) -> dict[str, str]:
    """The voltage levels present, as "10 kV" or "10/20 kV" per level ("feeder", "substation"),
    from the ``voltage_kv`` of feeders and substations; a Chinese county's 10 and 35 kV when
    the network does not say."""
    out = {}
    for level, table in (("feeder", "feeders"), ("substation", "substations")):
        df = network.get(table)
        text = ""
        if df is not None and "voltage_kv" in df:
            text = _kv_text(df["voltage_kv"].tolist())
        out[level] = f"{text or f'{DEFAULT_KV[level]:g}'} kV"
    return out


def project_label(code, lang: str, levels: dict[str, str]) -> str:
    """A recommended project's name, its voltage levels those of the network."""
    from dashboard.i18n import PROJECTS, tr_map

    text = tr_map(PROJECTS, code, lang)
    return text.replace("35 kV", levels["substation"]).replace("10 kV", levels["feeder"])


def link_column(field: str, header: str, href_prefix: str, **kw) -> dict:
    """An AG Grid column whose cells are links to ``href_prefix`` + the URL-encoded value
    (the ``FwLink`` renderer of assets/dashAgGridComponentFunctions.js)."""
    return {
        "field": field,
        "headerName": header,
        "cellRenderer": "FwLink",
        "cellRendererParams": {"prefix": href_prefix},
        **kw,
    }


# --- pages drawn in their layout ---------------------------------------------------------------
def drawn_body(
    body_id: str,
    shown_id: str,
    build,
    *args,
    county: str | None = None,
    owner: tuple[str, str | None] | None = None,
) -> list:
    """A page's body drawn in its layout by ``build(*args, lang)`` in the configured language,
    so that it comes with the page (a callback drawing it after the layout is one more round
    trip, and the page's whole server work, before the first chart), plus a store saying what
    it shows ([language, *args]). Before the first analysis is published, or when the body
    cannot be drawn (the database is down), the body is left empty: the page's callback then
    draws it, or fails as every callback does (the shell's banner; told to wait for the
    analysis, it runs again when that is ready), while the page itself is shown. ``county``:
    the page address's (issue 19); the tab's own choice, when the address has none, is drawn by
    the callback."""
    store = data.store()
    lang = store.settings.dashboard.language
    try:
        with store.in_county(county, owner):
            body, shown = build(*args, lang), shown_as(lang, *args)
    except Exception:  # noqa: BLE001 - the callback meets it again and reports it
        body, shown = None, None
    return [
        dcc.Store(id=shown_id, data=shown),
        dcc.Loading(html.Div(body, id=body_id), delay_show=300),
    ]


def redraw_needed(shown, lang: str, *args) -> None:
    """In a page's body callback: stop (PreventUpdate) when the body on the page already shows
    ``[lang, *args]`` (the one drawn in the layout, when the user's language is the configured
    one); go on when the language or a control changed, or the analysis the page waited for is
    ready."""
    if shown == shown_as(lang, *args) and ctx.triggered_id != ids.ANALYSIS_READY:
        raise PreventUpdate


def shown_as(lang: str, *args) -> list:
    """What a body callback records as shown: ``[lang, *args]``, and the county when one is
    chosen (issue 19: the layout draws the whole company's body)."""
    county = data.store().county()
    return [lang, *args] if county is None else [lang, *args, county]
