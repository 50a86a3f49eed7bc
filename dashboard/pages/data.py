"""Data: each source's health (last run, status, rows, errors, lag), quarantined records with
reasons (browsable), database size and row counts, and an admin upload that goes through the
same pipeline as the file source and shows its summary."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import auth, data, ids
from dashboard.components.common import card, county_scoped, grid, header_row, records, t
from dashboard.i18n import (
    REASONS,
    RECORD_KINDS,
    STATUSES,
    TABLES,
    fmt_int,
    fmt_time,
    norm_lang,
    tr,
    tr_map,
)
from dashboard.privacy import mask

dash.register_page(__name__, path="/data", name="nav.data", nav_order=5, title="FeederWatch")

PAGE_SIZE = 50
KINDS = ("outages", "complaints", "voltage", "network")
#: uploads larger than this are refused before anything is decoded or parsed
UPLOAD_LIMIT_MB = 50
UPLOAD_LIMIT_ENV = "FEEDERWATCH_UPLOAD_LIMIT_MB"


def upload_limit_bytes() -> int:
    """The upload size limit: ``FEEDERWATCH_UPLOAD_LIMIT_MB`` when set, else 50 MB."""
    try:
        mb = float(os.environ.get(UPLOAD_LIMIT_ENV) or UPLOAD_LIMIT_MB)
    except ValueError:
        mb = UPLOAD_LIMIT_MB
    return int(max(0.001, mb) * 1024 * 1024)


def layout(**_kw):
    store = data.store()
    lang = store.settings.dashboard.language
    return html.Div(
        [
            html.H1(t("data.title", lang)),
            html.Div(
                [
                    card(t("data.sources", lang), html.Div(id=ids.DATA_SOURCES)),
                    card(t("data.counts", lang), html.Div(id=ids.DATA_COUNTS)),
                ],
                className="grid-2",
            ),
            card(t("storm.alerts_sent", lang), html.Div(id=ids.DATA_ALERTS)),  # issue 17
            card(
                t("data.quarantine", lang),
                html.Div(
                    [
                        html.Div(
                            [
                                html.Label(t("data.source", lang)),
                                dcc.Input(id=ids.DATA_Q_SOURCE, type="text", debounce=True),
                            ],
                            className="control",
                        ),
                        html.Div(
                            [
                                html.Label(t("data.page", lang)),
                                dcc.Input(
                                    id=ids.DATA_Q_PAGE, type="number", min=1, step=1, value=1
                                ),
                            ],
                            className="control",
                        ),
                    ],
                    className="controls",
                ),
                grid(ids.DATA_QUARANTINE, row_id_field="id", height="380px", columnDefs=[]),
            ),
            card(t("data.network", lang), html.Div(id=ids.DATA_NETWORK)),  # issue 14
            card(
                t("data.upload", lang),
                html.Div(
                    [
                        html.Div(
                            [
                                html.Label(t("data.kind", lang)),
                                dcc.Dropdown(
                                    id=ids.DATA_UPLOAD_KIND,
                                    value="outages",
                                    clearable=False,
                                    options=kind_options(lang),
                                ),
                            ],
                            className="control",
                        ),
                        dcc.Upload(
                            id=ids.DATA_UPLOAD,
                            children=html.Div(t("data.upload_hint", lang)),
                            # the browser passes files up to twice the limit so that the server can
                            # say why it refuses them (beyond that the browser drops them)
                            className="upload",
                            max_size=2 * upload_limit_bytes(),
                        ),
                        html.Div(
                            tr("data.limit", lang, limit=f"{upload_limit_bytes() / 2**20:.3g}"),
                            className="note",
                        ),
                    ],
                    className="controls",
                    style=None if auth.is_admin() else {"display": "none"},
                ),
                dcc.Loading(html.Div(id=ids.DATA_UPLOAD_RESULT)),
            ),
            dcc.Interval(
                id=ids.DATA_REFRESH, interval=int(store.settings.dashboard.refresh_seconds * 1000)
            ),
        ]
    )


def sources_table(lang):
    store = data.store()
    health = store.sources_health()
    status = store.collector_status().set_index("source")
    names = sorted(n for n in set(health) | set(status.index) if store.shows_source(n))
    head = header_row(
        (
            "data.source",
            "data.status",
            "data.last_success",
            "data.lag",
            "data.rows",
            "data.error",
            "data.notes",
        ),
        lang,
    )
    body = []
    for n in names:
        h = health.get(n, {})
        s = status.loc[n] if n in status.index else None
        stale = h.get("stale", False)
        badge = html.Span(
            tr_map(STATUSES, "stale" if stale else s["status"], lang)
            if stale or s is not None
            else "–",
            className="badge "
            + (
                "badge-bad"
                if stale or (s is not None and s["status"] in data.FAILED_STATUSES)
                else "badge-ok"
            ),
        )
        rows = (
            "–"
            if s is None
            else f"{fmt_int(s['rows_read'])} / {fmt_int(s['rows_upserted'])} / {fmt_int(s['rows_quarantined'])}"
        )
        err = (
            h.get("last_error")
            or (s["error"] if s is not None and isinstance(s["error"], str) else "")
        ) or ""
        body.append(
            html.Tr(
                [
                    html.Td(n),
                    html.Td(badge),
                    html.Td(
                        fmt_time(h.get("last_success"), lang, store.tz)
                        if h.get("last_success")
                        else tr("shell.never", lang)
                    ),
                    html.Td(fmt_int(h.get("lag_seconds")), className="num"),
                    html.Td(rows, className="num"),
                    html.Td(err[:120]),
                    html.Td(notes_text(s["detail"] if s is not None else None), className="note"),
                ]
            )
        )
    return html.Table([html.Thead(head), html.Tbody(body)], className="simple")


def kind_options(lang: str) -> list[dict]:
    return [{"label": tr_map(RECORD_KINDS, k, lang), "value": k} for k in KINDS[:3]]


@callback(Output(ids.DATA_UPLOAD_KIND, "options"), Input(ids.LANG, "data"))
def kind_labels(lang):
    return kind_options(norm_lang(lang, data.store().settings.dashboard.language))


def reason_text(code, text, lang: str) -> str:
    """The reason in the user's language: the code's description, then the record's own
    detail (what the validator wrote after "description: "), if any."""
    if code not in REASONS:
        return text if isinstance(text, str) else ""
    detail = text.split(": ", 1)[1] if isinstance(text, str) and ": " in text else ""
    shown = tr_map(REASONS, code, lang)
    if not detail:
        return shown
    return f"{shown}：{detail}" if lang == "zh" else f"{shown}: {detail}"


def notes_text(detail, limit: int = 8) -> str:
    """A run's notes (detail["notes"]), most frequent first: unmapped values of a value map
    (``unmapped category: ZZ9 × 2``), blank customer counts and the like."""
    notes = detail.get("notes") if isinstance(detail, dict) else None
    if not notes:
        return ""
    shown = sorted(((k, v) for k, v in notes.items() if v), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} × {v:,}" for k, v in shown[:limit])
    return text + (f", … (+{len(shown) - limit})" if len(shown) > limit else "")


def counts_table(lang):
    store = data.store()
    counts = store.table_counts()
    size = store.database_size()
    rows = [
        html.Tr([html.Td(tr_map(TABLES, k, lang)), html.Td(fmt_int(v), className="num")])
        for k, v in counts.items()
    ]
    if size is not None:
        rows.append(
            html.Tr(
                [
                    html.Td(tr("data.db_size", lang)),
                    html.Td(f"{size / 1e6:,.1f} MB", className="num"),
                ]
            )
        )
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(tr("data.table", lang)), html.Th(tr("data.rows", lang))])),
            html.Tbody(rows),
        ],
        className="simple",
    )


@callback(
    Output(ids.DATA_SOURCES, "children"),
    Output(ids.DATA_COUNTS, "children"),
    Input(ids.DATA_REFRESH, "n_intervals"),
    Input(ids.LANG, "data"),
    Input(ids.DATA_UPLOAD_RESULT, "children"),
    Input(ids.COUNTY, "data"),
)
@county_scoped
def render_status(_n, lang, _upload, county=None):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    return sources_table(lang), counts_table(lang)


@callback(
    Output(ids.DATA_QUARANTINE, "rowData"),
    Output(ids.DATA_QUARANTINE, "columnDefs"),
    Input(ids.DATA_Q_SOURCE, "value"),
    Input(ids.DATA_Q_PAGE, "value"),
    Input(ids.LANG, "data"),
    Input(ids.DATA_UPLOAD_RESULT, "children"),
)
def render_quarantine(source, page, lang, _upload):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    page = max(1, int(page or 1))
    q = store.quarantine(
        source=(source or "").strip() or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    q = q.assign(created_at=[fmt_time(x, lang, store.tz) for x in q["created_at"]])
    q = q.assign(
        reason_text=[reason_text(c, x, lang) for c, x in zip(q["reason_code"], q["reason_text"])],
        kind=[tr_map(RECORD_KINDS, k, lang) for k in q["kind"]],
    )
    if not auth.is_admin():  # viewers: no raw content, personal numbers masked in the reasons
        q = q.assign(
            raw=tr("data.raw_admin_only", lang), reason_text=[mask(x) for x in q["reason_text"]]
        )
    cols = [
        ("id", "#"),
        ("created_at", tr("data.time", lang)),
        ("source", tr("data.source", lang)),
        ("kind", tr("data.kind", lang)),
        ("reason_code", tr("data.reason_code", lang)),
        ("reason_text", tr("data.reason", lang)),
        ("raw", tr("data.raw", lang)),
    ]
    defs = [
        {
            "field": f,
            "headerName": h,
            "minWidth": 60 if f == "id" else 120,
            "flex": 3 if f in ("raw", "reason_text") else 1,
            "tooltipField": f,
        }
        for f, h in cols
    ]
    return records(q[[c for c, _ in cols]]), defs


def run_upload(contents: str, filename: str, kind: str, lang: str):
    """Decode a dcc.Upload payload to a temporary file and ingest it (source ``upload``)."""
    store = data.store()
    if not auth.is_admin():  # enforced here, not only by hiding the control
        return html.Div(
            tr("shell.forbidden", lang), className="stale-banner", id="upload-forbidden"
        )
    if kind not in KINDS[:3]:
        kind = "outages"
    _, b64 = contents.split(",", 1) if "," in contents else ("", contents)
    limit = upload_limit_bytes()
    if len(b64) * 3 // 4 - b64[-2:].count("=") > limit:  # decoded size, before decoding
        return html.Div(
            [
                html.Strong(tr("data.upload_refused", lang)),
                f": {tr('data.too_big', lang, limit=f'{limit / 2**20:.3g}')}",
            ],
            className="stale-banner",
            id="upload-refused",
        )
    suffix = Path(filename or "upload.csv").suffix or ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(base64.b64decode(b64))
        try:
            summary = store.upload(kind, path)
        except data.UploadRefused as exc:
            return html.Div(
                [html.Strong(tr("data.upload_refused", lang)), f": {exc}"],
                className="stale-banner",
                id="upload-refused",
            )
    q = summary.quarantined
    reasons = ", ".join(f"{k} × {v}" for k, v in q.most_common()) if q else ""
    return html.Div(
        [
            html.Strong(f"{tr('data.upload_done', lang)}: {str(filename or '')[:200]}"),
            html.Div(
                f"{tr('data.read', lang)} {fmt_int(summary.read)} · "
                f"{tr('data.upserted', lang)} {fmt_int(summary.upserted)} · "
                f"{tr('data.unchanged', lang)} {fmt_int(summary.unchanged)} · "
                f"{tr('data.quarantined', lang)} {fmt_int(sum(q.values()))}"
            ),
            html.Div(reasons, className="note"),
            html.Div(notes_text({"notes": summary.notes}), className="note", id="upload-notes"),
        ],
        className="card",
        id="upload-summary",
    )


@callback(
    Output(ids.DATA_UPLOAD_RESULT, "children"),
    Input(ids.DATA_UPLOAD, "contents"),
    State(ids.DATA_UPLOAD, "filename"),
    State(ids.DATA_UPLOAD_KIND, "value"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def upload(contents, filename, kind, lang):
    if not contents:
        return dash.no_update
    return run_upload(
        contents, filename, kind, norm_lang(lang, data.store().settings.dashboard.language)
    )


# --- network import findings (issue 14) -------------------------------------------------------


def network_table(lang):
    """One row per kind of finding of the last network imports: count, feeders named, one
    example (docs/formats.md "Network diagnostics")."""
    diags = data.store().network_diagnostics()
    if diags.empty:
        return html.Div(tr("data.network_none", lang), className="note")
    head = header_row(
        (
            "data.source",
            "data.network_kind",
            "data.network_count",
            "data.network_feeders",
            "data.network_example",
        ),
        lang,
    )
    body = []
    for (source, kind), group in diags.groupby(["source", "kind"], sort=True):
        feeders = sorted(set(group["feeder"].dropna()))
        body.append(
            html.Tr(
                [
                    html.Td(source),
                    html.Td(tr(f"network.{kind}", lang)),
                    html.Td(fmt_int(len(group)), className="num"),
                    html.Td(", ".join(feeders[:8]) + (" …" if len(feeders) > 8 else "")),
                    html.Td(str(group["detail"].iloc[0] or "")[:120]),
                ],
                **{"data-kind": kind},
            )
        )
    return html.Table([html.Thead(head), html.Tbody(body)], className="simple")


@callback(
    Output(ids.DATA_NETWORK, "children"),
    Input(ids.DATA_REFRESH, "n_intervals"),
    Input(ids.LANG, "data"),
    Input(ids.DATA_UPLOAD_RESULT, "children"),
    Input(ids.COUNTY, "data"),
)
@county_scoped
def render_network(_n, lang, _upload, county=None):
    lang = norm_lang(lang, data.store().settings.dashboard.language)
    return network_table(lang)


# --- alerts sent (issue 17): what feederwatch/alerts.py sent, newest first -------------------
@callback(
    Output(ids.DATA_ALERTS, "children"),
    Input(ids.DATA_REFRESH, "n_intervals"),
    Input(ids.LANG, "data"),
)
def render_alerts(_n, lang):
    store = data.store()
    lang = norm_lang(lang, store.settings.dashboard.language)
    sent = store.alerts_sent(limit=50)
    if sent.empty:
        return html.Div(tr("storm.alerts_none", lang), className="note")
    head = header_row(
        (
            "data.time",
            "storm.alert_rule",
            "storm.alert_kind",
            "storm.alert_message",
            "storm.alert_delivered",
        ),
        lang,
    )
    body = [
        html.Tr(
            [
                html.Td(fmt_time(r.sent_at, lang, store.tz)),
                html.Td(r.rule),
                html.Td(tr(f"storm.alert_{r.kind}", lang)),
                html.Td(f"{r.title} — {r.body}"),
                html.Td(
                    html.Span("✓", className="badge badge-ok")
                    if r.delivered
                    else html.Span(r.error or "✗", className="badge badge-bad")
                ),
            ]
        )
        for r in sent.itertuples(index=False)
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="simple")
