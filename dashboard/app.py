"""``create_app(settings, engine)``: the Dash app shell. Wiring only: header with the site name,
navigation from ``dash.page_registry``, the zh/en switch (remembered in local storage), last
updated and the stale-data banner; pages live in ``dashboard/pages``."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import dash
import pandas as pd
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update, set_props

from dashboard import auth, data, ids, watchdog
from dashboard.components.county import county_box, county_callbacks
from dashboard.i18n import LABELS, fmt_clock, norm_lang, tr

if TYPE_CHECKING:
    # the engine type as the data package names it: dashboard/ reaches db only through it
    from dashboard.data import Engine

HERE = Path(__file__).resolve().parent
log = logging.getLogger("feederwatch.dashboard")


def fault_banner(lang: str):
    """(children, style) of the banner shown when the database cannot be read."""
    store = data.store()
    since = store.last_good_at
    when = fmt_clock(since, lang, store.tz) if since else tr("shell.never", lang)
    return (
        [
            html.Strong(tr("shell.db_down", lang)),
            html.Span(f" {tr('shell.db_down_since', lang)} {when}"),
        ],
        {"display": "block"},
    )


def on_callback_error(err: Exception):
    """Any callback that fails (the database is down, a read fails): keep what is on screen
    (the last good data), show the warning banner, never a traceback."""
    if isinstance(err, data.AnalysisNotReady):
        # not a fault: the server's first analysis is being computed; the page renders again
        # when it is ready (ANALYSIS_READY)
        lang = _callback_lang()
        set_props(ids.ANALYSIS_WAITING, {"data": True})
        set_props(
            ids.ANALYSIS_BANNER,
            {"children": tr("shell.analysis_preparing", lang), "style": {"display": "block"}},
        )
        return
    log.warning("callback failed: %s: %s", err.__class__.__name__, str(err)[:200])
    children, style = fault_banner(_callback_lang())
    set_props(ids.STALE_BANNER, {"children": children, "style": style})
    # no_update for every output


def _callback_lang() -> str:
    """The language of the page whose callback is running."""
    try:
        lang = norm_lang(
            ctx.states.get(f"{ids.LANG}.data") or ctx.inputs.get(f"{ids.LANG}.data"),
            data.store().settings.dashboard.language,
        )
    except Exception:  # noqa: BLE001
        lang = data.store().settings.dashboard.language
    return lang


def _nav(lang: str) -> html.Nav:
    links = []
    for page in dash.page_registry.values():
        if page.get("nav_order") is None:
            continue
        links.append(
            (
                page["nav_order"],
                dcc.Link(
                    html.Span(
                        tr(page["name"], lang),
                        id={"type": ids.I18N, "key": page["name"], "n": f"nav-{page['module']}"},
                    ),
                    href=page["relative_path"],
                    className="nav-link",
                    id=f"nav-{page['nav_order']}",
                ),
            )
        )
    return html.Nav(
        [link for _, link in sorted(links, key=lambda x: x[0])], id=ids.NAV, className="nav"
    )


PARTIAL_PLOTLY = HERE / "assets" / "vendor" / "plotly-cartesian.min.js"


#: id of the preload link of the vendored plotly.js (assets/fw-locale.js runs it)
PLOTLY_LINK_ID = "fw-plotly"


def plotly_preload(settings) -> list[dict[str, str]]:
    """The vendored cartesian plotly.js bundle (assets/vendor/README.md) when the pages need
    nothing else: no tile source (the tile map needs the full bundle's MapLibre), and the same
    plotly.js major version as the installed plotly writes figures for. dcc.Graph uses a
    ``window.Plotly`` that is there instead of loading the full bundle.

    A preload link, not a script: fetched at once, but run only once Dash has started
    (assets/fw-locale.js adds it as an async script when the document is parsed), so that its
    1.5 MB are compiled off the main thread and run while the page waits for the server (its
    layout and first callbacks) instead of holding up Dash's start. A graph drawn before it has
    run waits for it."""
    import re

    from plotly.offline import get_plotlyjs_version

    if settings.dashboard.tile_url or not PARTIAL_PLOTLY.exists():
        return []
    with PARTIAL_PLOTLY.open(encoding="utf-8") as fh:
        head = fh.read(200)
    found = re.search(r"v(\d+)\.\d+\.\d+", head)
    if not found or found.group(1) != get_plotlyjs_version().split(".")[0]:
        log.warning(
            "vendored plotly.js (%s) does not match plotly's %s: using the full bundle",
            found.group(0) if found else "?",
            get_plotlyjs_version(),
        )
        return []
    mtime = int(PARTIAL_PLOTLY.stat().st_mtime)
    src = f"/assets/vendor/{PARTIAL_PLOTLY.name}?m={mtime}"
    return [{"rel": "preload", "as": "script", "href": src, "id": PLOTLY_LINK_ID}]


def _forget_unserved_callbacks() -> None:
    """Drop the page callbacks an earlier app of this process registered but never took.

    Page modules register their callbacks with ``dash.callback`` into Dash's module-level
    list and map when use_pages (re)imports them; an app takes them over, and empties both,
    only on its first request (``Dash._setup_server``). An app built and never served (a
    test's, the bench's, a command's) leaves them there, and the next app would take them
    as well: duplicates of its own. Dash 4 has no public way to reset them: its supported
    ways are one app per process (as ``feederwatch serve`` runs) or ``app.callback`` instead of
    ``dash.callback``, which page modules cannot use (they do not see the app). So the two
    private containers are emptied here, before the pages are imported again."""
    dash._callback.GLOBAL_CALLBACK_LIST.clear()
    dash._callback.GLOBAL_CALLBACK_MAP.clear()


def create_app(settings, engine: Engine | None = None) -> Dash:
    """The dashboard for ``settings`` on ``engine`` (made from ``settings.database_url`` when
    omitted). Everything is served locally (no CDN): Dash's bundles and ``assets/``."""
    engine = data.configure(settings, engine).engine
    lang = settings.dashboard.language
    _forget_unserved_callbacks()
    app = Dash(
        "dashboard",
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        serve_locally=True,
        title=settings.site.name,
        assets_ignore=r"^plotly-cartesian\.min\.js$",
        external_stylesheets=plotly_preload(settings),
        suppress_callback_exceptions=True,
        update_title=None,
        on_error=on_callback_error,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = shell_layout(settings, lang)

    watchdog.install(app.server, settings.dashboard.stall_seconds)
    auth.install(app.server, settings, engine)
    from dashboard.pages.data import upload_limit_bytes

    # a request body can carry at most one upload (base64 in JSON) within the browser's limit
    app.server.config["MAX_CONTENT_LENGTH"] = 3 * upload_limit_bytes() + 2**20

    @app.server.errorhandler(500)
    def _internal_error(_exc):  # never a traceback page
        return {"error": "internal error"}, 500

    _language_callbacks(app, lang)
    county_callbacks(app, lang)
    _status_callbacks(app, settings, lang)
    # the hashes cover Dash's own inline scripts (renderer, clientside callbacks), nothing else
    auth.install_headers(app.server, app.csp_hashes)
    return app


def shell_layout(settings, lang: str) -> html.Div:
    """The shell around every page: the header, the banners, the page container."""
    return html.Div(
        [
            dcc.Store(id=ids.LANG, storage_type="local"),
            dcc.Store(id=ids.COUNTY, storage_type="session"),
            dcc.Location(id=ids.NAV_LOCATION, refresh="callback-nav"),
            dcc.Interval(
                id=ids.STATUS_TICK, interval=int(settings.dashboard.refresh_seconds * 1000)
            ),
            _header(settings, lang),
            watchdog_banner(settings),
            html.Div(id=ids.STALE_BANNER, className="stale-banner", style={"display": "none"}),
            html.Div(
                id=ids.ANALYSIS_BANNER, className="analysis-banner", style={"display": "none"}
            ),
            dcc.Store(id=ids.ANALYSIS_WAITING, data=False),
            dcc.Store(id=ids.ANALYSIS_READY, data=0),
            html.Main(dash.page_container, className="main"),
        ]
    )


def _header(settings, lang: str) -> html.Header:
    """The site name, the navigation, the data time, the language switch and the account."""
    return html.Header(
        [
            html.Div(settings.site.name, id=ids.SITE_NAME, className="site-name"),
            _nav(lang),
            html.Div(
                [
                    county_box(lang),
                    html.Span(id=ids.LAST_UPDATED, className="last-updated"),
                    dcc.RadioItems(
                        id=ids.LANG_SWITCH,
                        options=[
                            {"label": "中文", "value": "zh"},
                            {"label": "EN", "value": "en"},
                        ],
                        value=lang,
                        inline=True,
                        className="lang-switch",
                    ),
                    *_account(settings, lang),
                ],
                className="header-right",
            ),
        ],
        className="header",
    )


def _language_callbacks(app: Dash, lang: str) -> None:
    """The language switch, kept in local storage, and the shell's labels in that language."""

    @app.callback(
        Output(ids.LANG, "data"),
        Output(ids.LANG_SWITCH, "value"),
        Input(ids.LANG_SWITCH, "value"),
        Input(ids.LANG, "modified_timestamp"),
        State(ids.LANG, "data"),
    )
    def sync_language(choice, _ts, stored):
        if ctx.triggered_id == ids.LANG_SWITCH:
            return (choice, no_update) if choice != stored else (no_update, no_update)
        wanted = norm_lang(stored, lang)
        return no_update, (wanted if wanted != choice else no_update)

    @app.callback(
        Output({"type": ids.I18N, "key": ALL, "n": ALL}, "children"),
        Input(ids.LANG, "data"),
        Input({"type": ids.I18N, "key": ALL, "n": ALL}, "id"),
    )
    def translate_labels(chosen, label_ids):
        current = norm_lang(chosen, lang)
        return [tr(i["key"], current) for i in label_ids]


def _status_callbacks(app: Dash, settings, lang: str) -> None:
    """At each status tick: the signed-in user (with login on), the data time and the
    stale-data banner, and the pages waiting for the first analysis."""
    if settings.dashboard.login:

        @app.callback(
            Output(ids.ACCOUNT_USER, "children"),
            Output(ids.LOGOUT_CSRF, "value"),
            Input(ids.STATUS_TICK, "n_intervals"),
        )
        def show_account(_n):
            return auth.current_user() or "", auth.csrf_token()

    @app.callback(
        Output(ids.LAST_UPDATED, "children"),
        Output(ids.STALE_BANNER, "children"),
        Output(ids.STALE_BANNER, "style"),
        Input(ids.STATUS_TICK, "n_intervals"),
        Input(ids.LANG, "data"),
    )
    def update_status(_n, chosen):
        return status_bar(norm_lang(chosen, lang))

    @app.callback(
        Output(ids.ANALYSIS_READY, "data"),
        Output(ids.ANALYSIS_WAITING, "data"),
        Output(ids.ANALYSIS_BANNER, "style"),
        Input(ids.STATUS_TICK, "n_intervals"),
        State(ids.ANALYSIS_WAITING, "data"),
        State(ids.ANALYSIS_READY, "data"),
        State(ids.COUNTY, "data"),
        prevent_initial_call=True,
    )
    def analysis_ready(_n, waiting, ready, county=None):
        """Once the first analysis (or the page's county's) is published, the pages that were
        told to wait render again (their callbacks take ANALYSIS_READY as an input) and the
        notice goes."""
        if not waiting or not data.store().analysis_ready(county):
            return no_update, no_update, no_update
        return (ready or 0) + 1, False, {"display": "none"}


def watchdog_banner(settings) -> html.Div:
    """The red banner of assets/watchdog.js, with its limits and both languages' texts (the
    script must work when the server no longer answers, so everything it says is here)."""
    refresh_ms = int(settings.dashboard.refresh_seconds * 1000)
    texts = {}
    for key in ("failed", "stalled"):
        for i, code in enumerate(("zh", "en")):
            texts[f"data-text-{key}-{code}"] = LABELS[f"shell.watchdog_{key}"][i]
    return html.Div(
        id=ids.WATCHDOG_BANNER,
        className="watchdog-banner",
        role="alert",
        style={"display": "none"},
        **{
            "data-refresh-ms": str(refresh_ms),
            "data-stall-ms": str(max(5000, refresh_ms)),
            "data-lang": settings.dashboard.language,
            "data-state": "ok",
            **texts,
        },
    )


def _account(settings, lang: str) -> list:
    """The signed-in user's name and a sign-out button: a POST form whose CSRF token the
    account callback fills in (only with login on)."""
    if not settings.dashboard.login:
        return []
    return [
        html.Span(id=ids.ACCOUNT_USER, className="account-user"),
        html.Form(
            [
                dcc.Input(type="hidden", name="csrf", id=ids.LOGOUT_CSRF, value=""),
                html.Button(
                    tr("login.logout", lang),
                    type="submit",
                    id=ids.LOGOUT,
                    className="logout",
                ),
            ],
            method="post",
            action="/logout",
            className="logout-form",
        ),
    ]


def data_as_of_text(lang: str, health: dict[str, dict]) -> str:
    """ "Data as of HH:MM:SS": the newest data, i.e. the latest of the sources' last successful
    runs and the last ingested change (never the time the page asked, which says nothing
    about the data when the collectors have stopped)."""
    store = data.store()
    times = [pd.Timestamp(s["last_success"]) for s in health.values() if s.get("last_success")]
    changed = store.data_updated_at()
    if changed is not None:
        times.append(pd.Timestamp(changed))
    times = [t.tz_localize("UTC") if t.tzinfo is None else t for t in times]
    when = fmt_clock(max(times), lang, store.tz) if times else "–"
    return f"{tr('shell.data_as_of', lang)} {when}"


def status_bar(lang: str, now: datetime | None = None):
    """(data-as-of text, banner children, banner style) for the header."""
    store = data.store()
    try:
        health = store.sources_health(now)
    except Exception as exc:  # noqa: BLE001 - the database is down: say so, keep the page
        log.warning("status read failed: %s", exc.__class__.__name__)
        children, style = fault_banner(lang)
        return f"{tr('shell.data_as_of', lang)} –", children, style
    try:
        updated = data_as_of_text(lang, health)
    except Exception as exc:  # noqa: BLE001
        log.warning("data time read failed: %s", exc.__class__.__name__)
        updated = f"{tr('shell.data_as_of', lang)} –"
    if store.degraded:
        children, style = fault_banner(lang)
        return updated, children, style
    stale = {n: s for n, s in health.items() if s["stale"]}
    if not stale:
        return updated, [], {"display": "none"}
    items = []
    for name, s in sorted(stale.items()):
        if s["last_success"]:
            when = fmt_clock(pd.Timestamp(s["last_success"]), lang, store.tz)
            when = f"{tr('data.last_success', lang)}: {when}"
        else:
            when = tr("shell.no_success", lang)
        err = f" — {s['last_error']}" if s.get("last_error") else ""
        items.append(html.Li(f"{name}: {when}{err}"))
    return updated, [html.Strong(tr("shell.stale", lang)), html.Ul(items)], {"display": "block"}
