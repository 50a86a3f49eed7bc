"""The record of alert notifications (issue 17, table ``alerts_sent``): writes and reads.
SQL stays in db/ (DESIGN.md)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from db.models import AlertSent

COLUMNS = ("id", "rule", "key", "seq", "kind", "title", "body", "delivered", "error", "sent_at")


def claim_alert(engine: Engine, row: dict) -> int | None:
    """Insert one message's record (a dict with rule, key, seq, kind, title, body, delivered,
    error and sent_at (UTC)) unless that number of its (rule, key) is already recorded, by
    another process that evaluated the same change: the new row's id, or None when the number
    was taken."""
    try:
        with engine.begin() as conn:
            return conn.execute(
                insert(AlertSent).values(**row).returning(AlertSent.id)
            ).scalar_one()
    except IntegrityError:
        return None


def finish_alert(engine: Engine, alert_id: int, delivered: bool, error: str | None) -> None:
    """Record how the sending of a claimed message (:func:`claim_alert`) ended."""
    with engine.begin() as conn:
        conn.execute(
            update(AlertSent)
            .where(AlertSent.id == alert_id)
            .values(delivered=delivered, error=error)
        )


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
