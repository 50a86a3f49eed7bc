"""Alerts to people who are not looking at the board (issue 17): rules ``[alerts.NAME]``
(feederwatch/config.py ``AlertRule``), evaluated after each collector run (the runner's
``AFTER_RUN`` hook; never in a dashboard callback), sent through apprise.

Each rule turns the database's state into a set of *conditions*, one per key (an outage, a
feeder, a source, or the whole system). Compared with the latest record of each (rule, key) in
``alerts_sent``:
- a condition that is new (or whose last message failed) is sent once (``alert``);
- one that lasts is silent, except a quiet ``reminder`` every ``renotify_minutes`` (0: never);
- one that has ended gets a ``restored`` message (``restored_message``) and is closed;
- an unchanged poll sends nothing. Every message, delivered or not, is recorded.

apprise (one light, pure-Python library; WeCom, DingTalk, Feishu, e-mail and generic JSON
webhooks behind one URL scheme) sends them; the URLs come only from the environment variables a
rule names in ``urls_env``. One evaluation runs at a time in a process: a run finishing while
another evaluates asks it to go round once more instead of waiting (no lock is held while
sending). Across processes (several collector processes on one database), each message is
claimed before it is sent by inserting its record under the next number of its (rule, key),
unique in the table: of two processes evaluating the same change, one sends it.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine

from collectors import runner
from collectors.health import collectors_health
from dashboard.i18n import LANGS, tr
from db import queries
from db.alerts import claim_alert, finish_alert, latest_alerts

log = logging.getLogger(__name__)

OPEN_KINDS = ("alert", "reminder")


@dataclass(frozen=True)
class Condition:
    """A rule's condition for one key, with its message in the rule's language."""

    key: str
    title: str
    body: str


def _t(lang: str, key: str, **values) -> str:
    """The alert text ``key`` (dashboard/i18n/messages.py) in ``lang``, filled in."""
    return tr(key, lang).format(**values)


def _local(ts, tz: str) -> str:
    return pd.Timestamp(ts).tz_convert(tz).strftime("%m-%d %H:%M") if pd.notna(ts) else "–"


def _outage_text(r, lang: str, tz: str) -> str:
    where = r.feeder or r.substation or r.transformer or "?"
    cust = "?" if pd.isna(r.customers) else f"{int(r.customers):,}"
    return _t(
        lang,
        "alert.outage",
        where=where,
        substation=r.substation or "-",
        customers=cust,
        start=_local(r.start, tz),
        cause=r.cause or "-",
    )


def conditions(engine: Engine, settings, rule, now: datetime) -> dict[str, Condition]:
    """The rule's conditions that hold at ``now`` (UTC), by key."""
    lang, tz, kind = rule.language, settings.site.timezone, rule.kind
    out: dict[str, Condition] = {}
    if kind in ("new_outage", "substation_outage", "etr_overdue", "customers_out"):
        act = queries.active_outages(engine)
    if kind == "new_outage":
        for r in act.itertuples(index=False):
            if pd.notna(r.customers) and int(r.customers) >= rule.min_customers:
                text = _outage_text(r, lang, tz)
                out[f"{r.source}:{r.outage_id}"] = Condition(
                    f"{r.source}:{r.outage_id}", _t(lang, "alert.new_outage"), text
                )
    elif kind == "substation_outage":
        subs = queries.network(engine)["substations"].set_index("substation")["voltage_kv"]
        for r in act.itertuples(index=False):
            kv = subs.get(r.substation) if r.substation else None
            if r.level == "substation" and kv is not None and abs(float(kv) - rule.voltage_kv) < 1:
                out[f"{r.source}:{r.outage_id}"] = Condition(
                    f"{r.source}:{r.outage_id}",
                    _t(lang, "alert.substation_outage", kv=rule.voltage_kv),
                    _outage_text(r, lang, tz),
                )
    elif kind == "etr_overdue":
        limit = pd.Timestamp(now) - pd.Timedelta(minutes=rule.overdue_minutes)
        for r in act.itertuples(index=False):
            if pd.notna(r.etr) and r.etr < limit:
                out[f"{r.source}:{r.outage_id}"] = Condition(
                    f"{r.source}:{r.outage_id}",
                    _t(lang, "alert.etr_overdue"),
                    _outage_text(r, lang, tz) + _t(lang, "alert.etr_was", etr=_local(r.etr, tz)),
                )
    elif kind == "customers_out":
        total = int(pd.to_numeric(act["customers"]).fillna(0).sum()) if len(act) else 0
        if total > rule.level:
            out["system"] = Condition(
                "system",
                _t(lang, "alert.customers_out"),
                _t(
                    lang,
                    "alert.customers_out_body",
                    total=total,
                    level=rule.level,
                    outages=len(act),
                ),
            )
    elif kind == "frequent_feeder":
        out.update(_frequent(engine, settings, rule, now))
    elif kind == "data_stale":
        for name, h in collectors_health(engine, settings, now).items():
            if h["stale"]:
                out[name] = Condition(
                    name,
                    _t(lang, "alert.data_stale"),
                    _t(
                        lang,
                        "alert.data_stale_body",
                        name=name,
                        last=h["last_success"] or _t(lang, "alert.never"),
                    ),
                )
    return out


def _frequent(engine: Engine, settings, rule, now: datetime) -> dict[str, Condition]:
    """Feeders with ``frequent_feeder_count`` or more sustained outages (planned included,
    momentary not; DESIGN.md) in the rolling ``frequent_feeder_days`` ending now."""
    th = settings.thresholds
    start = pd.Timestamp(now) - pd.Timedelta(days=th.frequent_feeder_days)
    o = queries.outages(engine, start=start.to_pydatetime(), end=now)
    o = o[o["feeder"].notna() & (o["start"] >= start)]
    end = o["end"].fillna(pd.Timestamp(now))
    o = o[(end - o["start"]).dt.total_seconds() / 60.0 > th.momentary_minutes]
    counts = o.groupby("feeder").size()
    lang = rule.language
    return {
        f: Condition(
            f,
            _t(lang, "alert.frequent_feeder"),
            _t(
                lang,
                "alert.frequent_feeder_body",
                feeder=f,
                days=th.frequent_feeder_days,
                count=n,
                threshold=th.frequent_feeder_count,
            ),
        )
        for f, n in counts.items()
        if n >= th.frequent_feeder_count
    }


def rule_urls(rule) -> list[str]:
    """The apprise URLs of a rule, from the environment variables it names (whitespace or
    comma separated); a missing variable gives none."""
    urls: list[str] = []
    for name in rule.urls_env:
        value = os.environ.get(name, "")
        urls += [u for u in value.replace(",", " ").split() if u]
    return urls


def send(urls: list[str], title: str, body: str) -> tuple[bool, str | None]:
    """Send one message to every URL; (delivered everywhere, error text without the URLs)."""
    import apprise  # imported on first use: the server starts without it when no rule is set

    if not urls:
        return False, "no notification URL in the environment"
    sender = apprise.Apprise()
    bad = [i for i, u in enumerate(urls) if not sender.add(u)]
    if bad:
        return False, f"unusable notification URL(s) at position {bad}"
    ok = bool(sender.notify(title=title, body=body))
    return ok, None if ok else "a notification service refused or could not be reached"


#: a claimed message younger than this is still being sent by the process that claimed it
#: (apprise's own timeouts are seconds); an older one without a result was lost with its
#: process, and the condition is sent again
IN_FLIGHT_SECONDS = 120
#: the ``error`` of a claimed message while it is being sent
SENDING = "sending"


def _in_flight(prev, now: datetime) -> bool:
    return (
        not prev.delivered
        and prev.error == SENDING
        and pd.Timestamp(now) - prev.sent_at < pd.Timedelta(seconds=IN_FLIGHT_SECONDS)
    )


def evaluate(engine: Engine, settings, now: datetime | None = None) -> list[dict]:
    """Evaluate every enabled rule once, send what changed, record it; returns the records.

    Each message is claimed before it is sent: its record is inserted with the next number of
    its (rule, key), unique in ``alerts_sent``. When two processes evaluate the same change
    (two collector processes of a province), one insert wins and only that process sends; no
    lock is held while sending."""
    now = now or datetime.now(UTC)
    rules = {n: r for n, r in settings.alerts.items() if r.enabled}
    if not rules:
        return []
    state = latest_alerts(engine)
    last = {(r.rule, r.key): r for r in state.itertuples(index=False)}
    records: list[dict] = []

    def record(prev, name, key, kind, title, body, urls=None):
        row = {
            "rule": name,
            "key": key,
            "seq": 1 if prev is None else int(prev.seq) + 1,
            "kind": kind,
            "title": title,
            "body": body,
            "delivered": urls is None,  # a quiet closing is recorded as done
            "error": None if urls is None else SENDING,
            "sent_at": now,
        }
        alert_id = claim_alert(engine, row)
        if alert_id is None:  # another process evaluated this change and sends it
            return
        if urls is not None:
            row["delivered"], row["error"] = send(urls, title, body)
            finish_alert(engine, alert_id, row["delivered"], row["error"])
        records.append(row)

    for name, rule in rules.items():
        try:
            now_on = conditions(engine, settings, rule, now)
        except Exception:
            log.warning("alert rule %s could not be evaluated", name, exc_info=True)
            continue
        urls = rule_urls(rule)
        for key, c in now_on.items():
            prev = last.get((name, key))
            if prev is not None and _in_flight(prev, now):
                continue
            if prev is None or prev.kind not in OPEN_KINDS or not prev.delivered:
                record(prev, name, key, "alert", c.title, c.body, urls)
            elif rule.renotify_minutes and pd.Timestamp(now) - prev.sent_at >= pd.Timedelta(
                minutes=rule.renotify_minutes
            ):
                title = _t(rule.language, "alert.still_on") + c.title
                record(prev, name, key, "reminder", title, c.body, urls)
        for (rname, key), prev in last.items():
            if rname != name or key in now_on or prev.kind not in OPEN_KINDS:
                continue
            if _in_flight(prev, now):
                continue
            if not prev.delivered or not rule.restored_message:  # close it quietly
                record(prev, name, key, "restored", "", "")
                continue
            base = prev.title
            for lang in LANGS:
                base = base.removeprefix(_t(lang, "alert.still_on"))
            title = _t(rule.language, "alert.restored") + base
            record(prev, name, key, "restored", title, prev.body, urls)
    return records


_guard = threading.Lock()
_busy = False
_again = False


def after_run(engine: Engine, settings, _result=None) -> None:
    """The runner's hook: evaluate now, or, when an evaluation is already running in this
    process, have it go round once more when done (the guard covers two flags only)."""
    global _busy, _again
    if not any(r.enabled for r in settings.alerts.values()):
        return
    with _guard:
        if _busy:
            _again = True
            return
        _busy = True
    try:
        while True:
            evaluate(engine, settings)
            with _guard:
                if not _again:
                    break
                _again = False
    finally:
        with _guard:
            _busy = False


#: how often the rules are also evaluated without a collector run (a source that stopped
#: running must still raise its "data stale" alert)
PERIODIC_SECONDS = 60


def schedule(scheduler, settings, engine: Engine) -> None:
    """Evaluate the rules every ``PERIODIC_SECONDS`` on the collectors' scheduler too (so that
    ``data_stale`` fires when no collector runs at all); nothing when no rule is enabled."""
    if not any(r.enabled for r in settings.alerts.values()):
        return
    scheduler.add_job(
        after_run,
        "interval",
        seconds=PERIODIC_SECONDS,
        args=[engine, settings],
        id="alerts",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=PERIODIC_SECONDS,
    )


def install() -> None:
    """Evaluate the alerts after every collector run (idempotent)."""
    if after_run not in runner.AFTER_RUN:
        runner.AFTER_RUN.append(after_run)
