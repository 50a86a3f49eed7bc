"""The record of alert notifications (issue 17, table ``alerts_sent``): writes and reads.
SQL stays in db/ (DESIGN.md)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, insert, select

from db.models import AlertSent

COLUMNS = ("id", "rule", "key", "kind", "title", "body", "delivered", "error", "sent_at")


def record_alerts(engine: Engine, rows: list[dict]) -> None:
    """Record sent (or failed) notifications: dicts with rule, key, kind, title, body,
    delivered, error and sent_at (UTC)."""
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(insert(AlertSent), rows)


def _frame(rows) -> pd.DataFrame:
    df = pd.DataFrame([tuple(r) for r in rows], columns=list(COLUMNS))
    df["sent_at"] = pd.to_datetime(df["sent_at"], utc=True)
    return df


def latest_alerts(engine: Engine) -> pd.DataFrame:
    """The latest record of each (rule, key): the state of every alert ever raised."""
    a = AlertSent
    last = select(func.max(a.id).label("id")).group_by(a.rule, a.key).subquery()
    stmt = select(*(getattr(a, c) for c in COLUMNS)).join(last, a.id == last.c.id)
    with engine.connect() as conn:
        return _frame(conn.execute(stmt).all())


def alerts_sent(
    engine: Engine,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Notifications recorded in [start, end), newest first (at most ``limit``)."""
    a = AlertSent
    stmt = select(*(getattr(a, c) for c in COLUMNS))
    if start is not None:
        stmt = stmt.where(a.sent_at >= start)
    if end is not None:
        stmt = stmt.where(a.sent_at < end)
    stmt = stmt.order_by(a.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return _frame(conn.execute(stmt).all())
