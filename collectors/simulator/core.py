"""The Simulation object: a seeded county yielding canonical DataFrames (never touches a DB)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

from .complaints import make_complaints
from .events import CAUSE_NAMES, draw_events
from .network import PRESETS, build_network, network_frames, roads_geojson
from .numbering import calendar_spans, day_stamps, seq_within
from .readings import voltage_readings
from .weather import VoltageModel, make_weather

LEVELS = np.array(["substation", "feeder", "transformer"], dtype=object)
BROKEN_KINDS = ["kv_units", "line_to_line", "stuck", "gaps"]


@dataclass
class Batch:
    """One streamed chunk: local days [start, end)."""

    start: date
    end: date
    outages: pd.DataFrame
    voltage: pd.DataFrame
    complaints: pd.DataFrame


def _as_date(day: date | datetime | str) -> date:
    """A calendar date from a date, a datetime or an ISO date string."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return day.date() if isinstance(day, datetime) else day


class Simulation:
    """A deterministic simulated county: network, outages, voltage, complaints, ground truth.

    Same preset, seed, start, days, resolution and centre give identical output; with
    ``weather_start`` the content (weather, faults, readings, tickets) is that of a county
    starting on that date, only dated from ``start`` instead. Times in the
    frames are tz-aware UTC; "day" and "month" are local calendar days/months in ``tz``
    (DESIGN.md). Voltage is generated lazily, day by day, from per-day random streams, so any
    window (a month, the last N days) is the same slice of the same history.
    """

    def __init__(
        self,
        preset: str = "small",
        seed: int = 1,
        start: date = date(2025, 1, 1),
        days: int = 365,
        resolution: str = "15min",
        centre: tuple[float, float] = (116.25, 36.58),
        tz: str = "Asia/Shanghai",
        weather_start: date | str | None = None,
    ):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}")
        if resolution not in ("15min", "1h"):
            raise ValueError("resolution must be '15min' or '1h'")
        start = _as_date(start)
        self.preset, self.seed, self.start, self.days = preset, int(seed), start, int(days)
        # the calendar whose weather the county lives through (its season, storms and draws),
        # dated from ``start``: the same content on any dates (a test county "ending today"
        # that is the same county every day)
        self.weather_start = start if weather_start is None else _as_date(weather_start)
        self.resolution, self.centre, self.tz = resolution, tuple(centre), tz
        self.points_per_day = 96 if resolution == "15min" else 24
        self.t0 = pd.Timestamp(start).tz_localize(tz).tz_convert("UTC")

    # ---------------------------------------------------------------- model pieces
    @cached_property
    def net(self):
        return build_network(self.preset, self.seed, self.centre)

    @cached_property
    def weather(self):
        return make_weather(self.seed, self.weather_start, self.days)

    @cached_property
    def vmodel(self):
        return VoltageModel(self.net, self.weather, self.seed)

    @cached_property
    def _events(self):
        return draw_events(self.net, self.weather, np.random.default_rng([self.seed, 10]), 1)

    @cached_property
    def _lv_weighted(self):
        return self.vmodel.lv_experience("asis")

    @cached_property
    def broken_meters(self) -> pd.DataFrame:
        """The deliberately faulty meters: transformer, fault kind."""
        rng = np.random.default_rng([self.seed, 4])
        a = self.net.areas
        cand = np.flatnonzero(a["kind"] == 0)
        n = max(4, int(round(0.004 * len(a["id"]))))
        idx = np.sort(rng.choice(cand, n, replace=False))
        kinds = [BROKEN_KINDS[i % 4] for i in range(n)]
        stuck = np.round(rng.uniform(215, 232, (n, 3)), 1)
        return pd.DataFrame(
            {
                "transformer": a["id"][idx].astype(str),
                "fault": kinds,
                "idx": idx,
                "stuck_a": stuck[:, 0],
                "stuck_b": stuck[:, 1],
                "stuck_c": stuck[:, 2],
            }
        )

    def network(self) -> dict[str, pd.DataFrame]:
        """Network tables with canonical columns: substations, feeders, transformers."""
        return network_frames(self.net)

    def roads(self) -> dict:
        """The county's main roads (GeoJSON, WGS84), a base layer for the offline map."""
        return roads_geojson(self.net)

    def _to_utc(self, minutes):
        return self.t0 + pd.to_timedelta(np.round(np.asarray(minutes, float) * 60), unit="s")

    # ---------------------------------------------------------------- outages
    @cached_property
    def _outage_frame(self) -> pd.DataFrame:
        ev, net = self._events, self.net
        f, s, a = net.feeders, net.subs, net.areas
        n = len(ev["rep"])
        day = (ev["start"] // 1440).astype(int)
        if n:
            out_id, event_id = self._outage_ids(ev, day)
        else:  # a short period may have no outage at all
            out_id = event_id = np.array([], dtype="U14")
        is_area = ev["area"] >= 0
        ai = np.maximum(ev["area"], 0)
        ptr = net.feeder_area_ptr
        f_lon = np.array([a["lon"][ptr[i] : ptr[i + 1]].mean() for i in range(len(f["id"]))])
        f_lat = np.array([a["lat"][ptr[i] : ptr[i + 1]].mean() for i in range(len(f["id"]))])
        tn = net.towns["name"]
        area_text = np.where(
            is_area, a["name"][ai], np.char.add(f["name"][ev["feeder"]].astype(str), "沿线")
        )
        df = pd.DataFrame(
            {
                "outage_id": out_id.astype(str),
                "event_id": event_id.astype(str),
                "level": LEVELS[ev["level"]].astype(str),
                "substation": s["id"][ev["sub"]].astype(str),
                "feeder": f["id"][ev["feeder"]].astype(str),
                "transformer": pd.array(np.where(is_area, a["id"][ai], None), dtype="str"),
                "start": self._to_utc(ev["start"]),
                "end": self._to_utc(ev["end"]),
                "etr": self._to_utc(ev["start"] + ev["etr"]),
                "customers": ev["customers"].astype(np.int64),
                "cause": np.array(CAUSE_NAMES, dtype=object)[ev["cause"]].astype(str),
                "planned": ev["planned"].astype(bool),
                "supply_shortage": ev["shortage"].astype(bool),
                "lon": np.round(np.where(is_area, a["lon"][ai], f_lon[ev["feeder"]]), 5),
                "lat": np.round(np.where(is_area, a["lat"][ai], f_lat[ev["feeder"]]), 5),
                "area_text": area_text.astype(str),
                "region": tn[a["town"][np.where(is_area, ai, ptr[ev["feeder"]])]].astype(str),
                "version": np.ones(n, np.int64),
            }
        )
        return df

    def _outage_ids(self, ev, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outage ids ``O<yyyymmdd>-<seq>`` and event ids ``E<yyyymmdd>-<seq>`` (the event
        named by its first row), numbered within each day."""
        dstr = day_stamps(self.start, day)
        seq = seq_within(day)
        out_id = np.char.add(
            np.char.add(np.char.add("O", dstr), "-"), np.char.zfill(seq.astype(str), 4)
        )
        _, first, inv = np.unique(ev["event_key"], return_index=True, return_inverse=True)
        ev_order = np.argsort(first, kind="stable")
        ev_rank = np.empty_like(ev_order)
        ev_rank[ev_order] = np.arange(len(ev_order))
        first_row = first[inv]
        eseq = seq_within(day[np.sort(first)])[ev_rank][inv]
        edstr = dstr[first_row]
        event_id = np.char.add(
            np.char.add(np.char.add("E", edstr), "-"), np.char.zfill(eseq.astype(str), 4)
        )
        return out_id, event_id

    def outages(self) -> pd.DataFrame:
        """All outages of the period (canonical columns; UTC times; end never NaT)."""
        return self._outage_frame.copy()

    # ---------------------------------------------------------------- complaints
    @cached_property
    def _complaint_frame(self) -> pd.DataFrame:
        return make_complaints(
            self.net,
            self._events,
            self._lv_weighted,
            self.seed,
            self.start,
            self.days,
            self._to_utc,
        )

    def complaints(self) -> pd.DataFrame:
        """All 95598 tickets of the period (canonical complaint columns)."""
        return self._complaint_frame.drop(columns=["_driver"]).copy()

    # ---------------------------------------------------------------- voltage
    def _voltage_days(self, d0: int, d1: int) -> pd.DataFrame:
        """Long-form readings for local days [d0, d1)."""
        return voltage_readings(self, self._events, d0, d1)

    def voltage_days(self, first: int, last: int) -> pd.DataFrame:
        """Voltage readings of simulation days [first, last) (day 0 = the start date)."""
        return self._voltage_days(max(0, first), min(self.days, last))

    def voltage(self, days: int | None = None) -> pd.DataFrame:
        """Voltage readings (long form); only the last ``days`` local days when given."""
        d0 = 0 if days is None else max(0, self.days - int(days))
        parts = [self._voltage_days(a, b) for a, b in calendar_spans(self.start, d0, self.days)]
        if not parts:
            return self._voltage_days(0, 0)
        return pd.concat(parts, ignore_index=True)

    # ---------------------------------------------------------------- streaming
    def iter_batches(self, freq: str = "MS"):
        """Yield Batch objects over the period in local calendar chunks (default monthly)."""
        out, comp = self._outage_frame, self.complaints()
        o_day = ((out["start"] - self.t0) / pd.Timedelta(days=1)).to_numpy()
        c_day = ((comp["time"] - self.t0) / pd.Timedelta(days=1)).to_numpy()
        for d0, d1 in calendar_spans(self.start, 0, self.days, freq):
            om = (o_day >= d0) & (o_day < d1)
            cm = (c_day >= d0) & (c_day < d1)
            yield Batch(
                self.start + timedelta(days=d0),
                self.start + timedelta(days=d1),
                out[om].reset_index(drop=True),
                self._voltage_days(d0, d1),
                comp[cm].reset_index(drop=True),
            )

    # ---------------------------------------------------------------- truth & live
    def ground_truth(self, tolerance: float = 0.05, max_reps: int = 2000) -> dict:
        """The ground_truth.json content (see collectors.simulator.truth)."""
        from .truth import ground_truth

        return ground_truth(self, tolerance=tolerance, max_reps=max_reps)

    def live(self, now=None, speed: float = 1.0):
        """A LiveFeed continuing after the history (see collectors.simulator.live)."""
        from .live import LiveFeed

        return LiveFeed(self, now=now, speed=speed)
