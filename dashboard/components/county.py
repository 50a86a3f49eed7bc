"""The header's county selector (issue 19): shown only when the database has two or more
counties; "全省 / Whole company" first. The choice is kept per browser tab in ``ids.COUNTY``
(session storage), which every page callback that reads data takes as an input, and in the
page's address (``?county=CODE``): a link names its county, back and forward move between
them; a page without one shows the tab's last choice."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlencode

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboard import data, ids
from dashboard.i18n import norm_lang, tr

#: the selector's value for the province (not a county code: codes start with a letter,
#: digit or '_'); a Dropdown shows no label for None or ""
PROVINCE = "*"


def county_box(lang: str) -> html.Div:
    """The header's selector, hidden until the database has several counties (its options as
    the database has them now; the status tick keeps them up to date)."""
    try:
        options = county_options(lang)
    except Exception:  # noqa: BLE001 - the database is not there yet: the tick fills them
        options = [{"label": tr("shell.province", lang), "value": PROVINCE}]
    return html.Div(
        [
            html.Span(tr("shell.county", lang), className="county-label"),
            dcc.Dropdown(
                id=ids.COUNTY_SWITCH,
                options=options,
                value=PROVINCE,
                clearable=False,
                searchable=True,
                className="county-switch",
                style={"minWidth": "190px"},
            ),
        ],
        id=ids.COUNTY_BOX,
        className="county-box",
        style={"display": "flex"} if len(options) > 1 else {"display": "none"},
    )


def county_options(lang: str) -> list[dict]:
    """The province, then each county by its name in ``lang`` (its code when unnamed)."""
    table = data.store().counties()
    options = [{"label": tr("shell.province", lang), "value": PROVINCE}]
    if len(table) < 2:
        return options
    for code, name, name_en in zip(table["code"], table["name"], table["name_en"], strict=True):
        label = name_en if lang == "en" and isinstance(name_en, str) and name_en else name
        options.append({"label": label or code, "value": code})
    return options


def asked_county(search: str | None) -> str | None:
    """The ``county`` of a page address's query (``?county=LC``), None without one."""
    values = parse_qs((search or "").lstrip("?")).get("county")
    return values[0] if values else None


def county_callbacks(app: Dash, lang: str) -> None:
    """The selector's options (at each status tick: counties may arrive with a network) and
    its two-way link with the ``ids.COUNTY`` store and the address."""

    @app.callback(
        Output(ids.COUNTY_SWITCH, "options"),
        Output(ids.COUNTY_BOX, "style"),
        Input(ids.STATUS_TICK, "n_intervals"),
        Input(ids.LANG, "data"),
        State(ids.COUNTY_SWITCH, "options"),
        State(ids.COUNTY_BOX, "style"),
    )
    def show_counties(_n, chosen, shown, shown_style):
        options = county_options(norm_lang(chosen, lang))
        style = {"display": "flex"} if len(options) > 1 else {"display": "none"}
        return (
            no_update if options == shown else options,
            no_update if style == shown_style else style,
        )

    @app.callback(
        Output(ids.COUNTY, "data"),
        Output(ids.COUNTY_SWITCH, "value"),
        Output(ids.NAV_LOCATION, "search"),
        Input(ids.COUNTY_SWITCH, "value"),
        Input(ids.COUNTY, "modified_timestamp"),
        Input(ids.NAV_LOCATION, "search"),
        State(ids.COUNTY, "data"),
    )
    def sync_county(choice, _ts, search, stored):
        stored = stored or None
        asked = asked_county(search)
        if ctx.triggered_id == ids.COUNTY_SWITCH:  # the user's choice: kept, and in the address
            if not choice:  # the dropdown cleared itself (not a choice: the province is "*")
                return no_update, no_update, no_update
            wanted = None if choice == PROVINCE else choice
            moved = with_county(search, wanted)
            return (
                wanted if wanted != stored else no_update,
                no_update,
                moved if moved != (search or "") else no_update,
            )
        if asked is not None:  # an address naming a county (a link, back/forward)
            return (
                asked if asked != stored else no_update,
                asked if asked != choice else no_update,
                no_update,
            )
        value = stored or PROVINCE  # the tab's last choice, on a page without one
        return no_update, (value if value != choice else no_update), no_update


def with_county(search: str | None, county: str | None) -> str:
    """``search`` with its ``county`` set to ``county`` (removed for the province), the other
    parameters kept (``?storm=1``)."""
    pairs = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k != "county"]
    if county:
        pairs.append(("county", county))
    return f"?{urlencode(pairs)}" if pairs else ""
