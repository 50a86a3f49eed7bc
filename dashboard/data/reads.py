"""The store's reads: the database's tables as pages use them (cached by data version, or
shared for a few seconds when they depend on the clock too), the live board's figures, the
data page's and the detail pages' reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analytics import handover as an_handover
from collectors.health import collectors_health
from collectors.health import health as installation_health
from dashboard.data.core import StoreCore
from db import alerts as db_alerts
from db import queries
from db.engine import sqlite_file
from db.queries import counties as county_queries

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: how long the sources' health is shared between requests
HEALTH_SECONDS = 2

#: the planned-outage list is read at most this often (every open board shares it)
PLANNED_SECONDS = 30.0


class StoreReads(StoreCore):
    """Reads of the database, cached or shared."""

    # --- raw reads (cached; a county's are the province's narrowed to it, db.queries.counties)
    def network(self) -> dict[str, pd.DataFrame]:
        if self.county() is not None:
            return self._cached(
                ("network",),
                lambda: county_queries.county_network(
                    self.province(self.network), self.county_members()
                ),
            )
        return self._cached(("network",), lambda: queries.network(self.engine))

    def county_members(self) -> county_queries.Members | None:
        """What this thread's county owns (None for the province)."""
        county = self.county()
        if county is None:
            return None
        return self._cached(
            ("county_members",),
            lambda: county_queries.members(
                self.province(self.network), county, self.settings.source_counties()
            ),
        )

    def _narrowed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame``'s rows of this thread's county (all of them for the province)."""
        members = self.county_members()
        return frame if members is None else county_queries.county_records(frame, members)

    def _records(self, key: tuple, read, version: int | None = None) -> pd.DataFrame:
        """A cached read of records; a county's are the province's narrowed to it."""
        if self.county() is None:
            return self._cached(key, read, version=version)
        return self._cached(
            key,
            lambda: self._narrowed(self.province(lambda: self._records(key, read, version))),
            version=version,
        )

    def outages(self) -> pd.DataFrame:
        return self._records(("outages",), lambda: queries.outages(self.engine))

    def complaints(self) -> pd.DataFrame:
        return self._records(("complaints",), lambda: queries.complaints(self.engine))

    def voltage_daily(self) -> pd.DataFrame:
        return self._records(("voltage_daily",), lambda: queries.voltage_rollups(self.engine, "D"))

    def active(self) -> pd.DataFrame:
        """Active outages with feeder names, newest first."""

        def compute() -> pd.DataFrame:
            df = queries.active_outages(self.engine)
            names = self.network()["feeders"].set_index("feeder")["name"]
            df["feeder_name"] = df["feeder"].map(names)
            return df

        return self._records(("active",), compute, version=self.latest_version())

    def feeder_lines(self) -> pd.DataFrame:
        """Per feeder: id, substation, name, and its polylines as lists of (lon, lat)."""

        def compute() -> pd.DataFrame:
            f = self.network()["feeders"]
            lines = []
            for geom in f["geometry"]:
                try:
                    g = json.loads(geom) if isinstance(geom, str) else None
                except ValueError:
                    g = None
                if not g:
                    lines.append([])
                elif g["type"] == "LineString":
                    lines.append([g["coordinates"]])
                else:
                    lines.append(g["coordinates"])
            out = f[["feeder", "substation", "name", "length_km"]].copy()
            out["lines"] = lines
            return out

        return self._cached(("feeder_lines",), compute)

    # --- live -----------------------------------------------------------------------------
    def live_summary(self, now: datetime | None = None) -> dict:
        """The ``/api/live`` body (docs/formats.md)."""
        asked, now = now, now or datetime.now(UTC)
        version = self.latest_version()
        act = self.active()
        start = act["start"]
        minutes = (pd.Timestamp(now) - start).dt.total_seconds() / 60.0 if len(act) else pd.Series()
        stale = self.stale_sources(asked)
        return {
            "generated_at": pd.Timestamp(now).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "active_outages": len(act),
            "customers_out": int(pd.to_numeric(act["customers"]).fillna(0).sum())
            if len(act)
            else 0,
            "feeders_affected": int(act["feeder"].dropna().nunique()) if len(act) else 0,
            "started_last_hour": int((minutes <= 60).sum()) if len(act) else 0,
            "longest_active_minutes": int(max(0.0, float(minutes.max()))) if len(act) else 0,
            "data_version": version,
            "stale": bool(stale),
            "stale_sources": stale,
        }

    def sources_health(self, now: datetime | None = None) -> dict[str, dict]:
        def read() -> dict[str, dict]:
            return self._fallback(
                ("health",), lambda: collectors_health(self.engine, self.settings, now)
            )

        # a second-old answer is as good for a refresh; a given ``now`` is read as asked
        return read() if now is not None else self.fresh(("health",), HEALTH_SECONDS, read)

    def health(self) -> tuple[int, dict]:
        """(HTTP status, body) of ``/healthz`` for the database and the collectors."""
        return installation_health(self.engine, self.settings)

    def data_updated_at(self) -> datetime | None:
        """When the newest ingested change landed (UTC); the last one read if the database
        cannot be read now."""
        return self._fallback(("data_updated_at",), lambda: queries.data_updated_at(self.engine))

    def stale_sources(self, now: datetime | None = None) -> list[str]:
        return sorted(
            name
            for name, s in self.sources_health(now).items()
            if s["stale"] and self.shows_source(name)
        )

    def shows_source(self, name: str) -> bool:
        """Whether this thread's county shows the source: the province shows every source, a
        county those bound to it and those bound to none."""
        county = self.county()
        bound = self.settings.source_counties().get(name)
        return county is None or bound is None or bound == county

    def customers_out_series(
        self, now: datetime | None = None, hours: int = 24, step_minutes: int = 10
    ) -> pd.DataFrame:
        """Customers out at each step of the last ``hours`` (time UTC, customers)."""
        now = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
        start = now - pd.Timedelta(hours=hours)
        o = self._narrowed(
            self._fallback(
                ("outages_24h", hours),
                lambda: queries.outages(
                    self.engine, start=start.to_pydatetime(), end=now.to_pydatetime()
                ),
            )
        )
        grid = pd.date_range(start.floor(f"{step_minutes}min"), now, freq=f"{step_minutes}min")
        total = np.zeros(len(grid))
        if len(o):
            st = o["start"].astype("datetime64[ns, UTC]").to_numpy("datetime64[ns]")
            en = (
                o["end"]
                .astype("datetime64[ns, UTC]")
                .fillna(now + pd.Timedelta(minutes=1))
                .to_numpy("datetime64[ns]")
            )
            cust = pd.to_numeric(o["customers"]).fillna(0).to_numpy(float)
            g = grid.tz_convert(None).to_numpy("datetime64[ns]")
            on = (st[None, :] <= g[:, None]) & (en[None, :] > g[:, None])
            total = on.astype(float) @ cust
        return pd.DataFrame({"time": grid, "customers": total})

    # --- voltage --------------------------------------------------------------------------
    def voltage_compliance_daily(self) -> pd.DataFrame:
        """System voltage compliance (GB/T 12325: time within limits / time monitored) per day."""

        def compute() -> pd.DataFrame:
            v = self.voltage_daily()
            v = v[v["phase"] != "X"]
            if v.empty:
                return pd.DataFrame({"day": [], "compliance": []})
            g = (
                v.assign(ok=v["minutes_monitored"] - v["minutes_below"] - v["minutes_above"])
                .groupby("period_start")[["ok", "minutes_monitored"]]
                .sum()
            )
            return pd.DataFrame(
                {"day": g.index, "compliance": (g["ok"] / g["minutes_monitored"]).to_numpy()}
            )

        return self._cached(("compliance_daily",), compute)

    def voltage_last_day(self) -> pd.Timestamp | None:
        """The newest day with readings (None without readings)."""

        def compute() -> pd.Timestamp | None:
            daily = self.voltage_daily()
            return None if daily.empty else daily["period_start"].max()

        return self._cached(("voltage_last_day",), compute)

    def voltage_hourly(self, transformers: list[str], days: int = 21) -> pd.DataFrame:
        """Hourly phase-X rollups of these areas over the last ``days`` days of readings."""

        def compute() -> pd.DataFrame:
            last = self.voltage_last_day()
            if last is None:
                return pd.DataFrame()
            start = last - pd.Timedelta(days=days - 1)
            return queries.voltage_rollups(
                self.engine,
                "h",
                start=start.to_pydatetime(),
                transformers=transformers,
                phases=("x",),
            )

        return self._cached(("voltage_hourly", tuple(transformers), days), compute)

    # --- data page ------------------------------------------------------------------------
    def collector_status(self) -> pd.DataFrame:
        status = self._fallback(("source_status",), lambda: queries.source_status(self.engine))
        if self.county() is None or status.empty or "source" not in status:
            return status
        shown = status["source"].map(self.shows_source).astype(bool)
        return status[shown.to_numpy()].reset_index(drop=True)

    def quarantine(
        self, source: str | None = None, limit: int = 50, offset: int = 0
    ) -> pd.DataFrame:
        return self._fallback(
            ("quarantine", source or None, limit, offset),
            lambda: queries.quarantine(
                self.engine, source=source or None, limit=limit, offset=offset
            ),
        )

    def table_counts(self) -> dict[str, int]:
        return self._cached(("counts",), lambda: queries.table_counts(self.engine))

    def database_size(self) -> int | None:
        """Bytes of a SQLite file (with its WAL); None for other back ends."""
        path = sqlite_file(self.engine.url)
        if path is None:
            return None
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())

    # --- network import findings (issue 14) ---------------------------------------------
    def network_diagnostics(self) -> pd.DataFrame:
        """The current findings of the last network import of each source
        (``db.queries.network.network_diagnostics``)."""
        from db.queries.network import network_diagnostics

        return self._fallback(("network_diagnostics",), lambda: network_diagnostics(self.engine))

    def feeder_flags(self) -> pd.DataFrame:
        """Feeders named by a network finding: ``feeder, flags, loops,
        buses_without_coordinates, open_points, findings`` (for the map: draw them dashed)."""
        from db.queries.network import feeder_flags

        return self._cached(("feeder_flags",), lambda: feeder_flags(self.engine))

    # --- planned outages, alerts, handover (issue 17) -----------------------------------
    def planned(self, days: float = 7.0, now: datetime | None = None) -> pd.DataFrame:
        """Planned outages announced to start within ``days`` (issue 17), soonest first, with
        feeder names; shared by every open board for PLANNED_SECONDS (they start by the clock,
        not by a data version)."""

        def read() -> pd.DataFrame:
            df = self._narrowed(queries.planned_outages(self.engine, days, now))
            names = self.network()["feeders"].set_index("feeder")["name"]
            df["feeder_name"] = df["feeder"].map(names)
            return df

        if now is not None:
            return read()
        return self.fresh(
            ("planned", days),
            PLANNED_SECONDS,
            lambda: self._fallback(self._county_key(("planned", days)), read),
        )

    def alerts_sent(self, limit: int = 50) -> pd.DataFrame:
        """The latest alert notifications (issue 17), newest first; none when unreadable."""
        return self._fallback(
            ("alerts_sent", limit), lambda: db_alerts.alerts_sent(self.engine, limit=limit)
        )

    def handover(self, start: datetime, end: datetime) -> dict:
        """The shift handover's figures for [start, end) (analytics/handover.py, issue 17):
        read when asked (a button or the command), never at a refresh."""
        th = self.settings.thresholds
        since = pd.Timestamp(start) - pd.Timedelta(days=th.frequent_feeder_days)
        return an_handover.shift_summary(
            queries.outages(self.engine, start=since.to_pydatetime(), end=end),
            queries.complaints(self.engine, start=start, end=end),
            db_alerts.alerts_sent(self.engine, start=start, end=end),
            queries.quarantine(self.engine, limit=100_000),
            self.stale_sources(end if end < datetime.now(UTC) else None),
            start,
            end,
            frequent_days=th.frequent_feeder_days,
            frequent_count=th.frequent_feeder_count,
            momentary_minutes=th.momentary_minutes,
        )


#: run statuses shown as failures (a run left running by a dead process is "abandoned")
FAILED_STATUSES = queries.FAILED_STATUSES


def database_folder(url) -> Path | None:
    """The folder of an SQLite database file, None for other databases."""
    path = sqlite_file(url)
    return path.resolve().parent if path is not None else None


def user_credentials(engine: Engine, name: str) -> tuple[str, str] | None:
    """(role, password hash) of a dashboard user, None when unknown."""
    return queries.user_credentials(engine, name)


def user_session_state(engine: Engine, name: str) -> tuple[str, int, bool] | None:
    """(role, session generation, disabled) of a dashboard user, None when unknown."""
    return queries.user_session_state(engine, name)
