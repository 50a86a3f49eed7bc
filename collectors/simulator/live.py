"""Live continuation of a simulated county: outages start, change (ETR, customers) and end.

The live stream is a second Simulation of the same network (same preset and seed) over a
window starting the day before ``now``; its ids carry an ``L`` so they never collide with the
history. Each outage emits up to three versions: at its start (end empty), half-way for
long ones (customers partly restored on feeder-level outages, ETR pushed back when overrun),
and at its end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd


@dataclass
class LiveBatch:
    """What changed in (since, until]: outage versions, readings and tickets."""

    since: pd.Timestamp
    until: pd.Timestamp
    outages: pd.DataFrame
    voltage: pd.DataFrame
    complaints: pd.DataFrame


class LiveFeed:
    """Step a simulated county forward in (possibly accelerated) real time."""

    def __init__(self, sim, now=None, speed: float = 1.0, horizon_days: int = 8):
        self.sim = sim
        self.speed = float(speed)
        hist_end = sim.t0 + pd.Timedelta(days=sim.days)
        self.now = (
            pd.Timestamp(now).tz_convert("UTC")
            if now is not None and pd.Timestamp(now).tzinfo
            else (
                pd.Timestamp(now).tz_localize(sim.tz).tz_convert("UTC")
                if now is not None
                else hist_end
            )
        )
        local_day = self.now.tz_convert(sim.tz).date() - timedelta(days=1)
        # the same kind of simulation as ``sim`` (not an import of .core, which imports us)
        self.fut = type(sim)(
            sim.preset,
            seed=sim.seed,
            start=local_day,
            days=horizon_days,
            resolution=sim.resolution,
            centre=sim.centre,
            tz=sim.tz,
        )
        self._wall0 = time.monotonic()
        self._sim0 = self.now
        self.changes = self._versions()
        self.log: list[pd.DataFrame] = []

    def _versions(self) -> pd.DataFrame:
        o = self.fut.outages()
        o = o[o["end"] > self.now - pd.Timedelta(hours=6)].copy()
        for c in ("outage_id", "event_id"):
            o[c] = o[c].str.replace(r"^([OE])", r"\1L", regex=True)
        o["etr"] = o["etr"].fillna(o["end"])
        start_v = o.assign(end=pd.NaT, changed=o["start"])
        dur = o["end"] - o["start"]
        long = dur > pd.Timedelta(hours=1)
        mid = o[long].copy()
        mid["changed"] = mid["start"] + (mid["end"] - mid["start"]) / 2
        mid["customers"] = np.where(
            mid["level"] == "transformer",
            mid["customers"],
            (mid["customers"] * 0.6).round().astype("int64"),
        )
        overrun = mid["etr"] < mid["changed"]
        mid.loc[overrun, "etr"] = mid.loc[overrun, "changed"] + pd.Timedelta(hours=1)
        mid["end"] = pd.NaT
        end_v = o.assign(changed=o["end"])
        v = pd.concat([start_v, mid, end_v], ignore_index=True)
        v = v.sort_values(["changed", "outage_id"], kind="stable").reset_index(drop=True)
        # Whole seconds whatever the resolution pandas chose (microseconds by default).
        v["version"] = (v["changed"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
        return v

    def jump(self, to) -> None:
        """Move the feed's clock to ``to`` (within its window) and restart its wall-clock
        mapping there: benches replay a chosen stretch, e.g. a storm, at ``speed``."""
        to = pd.Timestamp(to)
        self.now = self._sim0 = to.tz_localize("UTC") if to.tzinfo is None else to.tz_convert("UTC")
        self._wall0 = time.monotonic()

    def sim_time(self) -> pd.Timestamp:
        """Simulated 'now' advanced from the wall clock by ``speed``."""
        return self._sim0 + pd.Timedelta(seconds=(time.monotonic() - self._wall0) * self.speed)

    def wall_at(self, at) -> float:
        """The ``time.monotonic()`` at which the feed's clock reads ``at`` (benches compare
        what a page shows with when it happened)."""
        at = pd.Timestamp(at)
        at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
        return self._wall0 + (at - self._sim0).total_seconds() / self.speed

    def step(self, until=None) -> LiveBatch:
        """Advance to ``until`` (default: wall clock times speed) and return what changed."""
        until = self.sim_time() if until is None else pd.Timestamp(until).tz_convert("UTC")
        since = self.now
        c = self.changes
        m = (c["changed"] > since) & (c["changed"] <= until)
        outs = c[m].drop(columns=["changed"]).reset_index(drop=True)
        self.log.append(c[m])
        comp = self.fut.complaints()
        comp = comp[(comp["time"] > since) & (comp["time"] <= until)].copy()
        comp["ticket_id"] = comp["ticket_id"].str.replace("GD", "GDL", n=1)
        comp["merged_into"] = comp["merged_into"].str.replace("GD", "GDL", n=1)
        d0 = int((since - self.fut.t0) / pd.Timedelta(days=1))
        d1 = int(np.ceil((until - self.fut.t0) / pd.Timedelta(days=1)))
        d0, d1 = max(0, d0), min(self.fut.days, max(d1, d0))
        v = self.fut.voltage_days(d0, d1)
        v = v[(v["time"] > since) & (v["time"] <= until)].reset_index(drop=True)
        self.now = max(self.now, until)
        return LiveBatch(since, until, outs, v, comp.reset_index(drop=True))

    def active(self, at=None) -> pd.DataFrame:
        """Outages active at ``at`` (default: the feed's current time), end empty."""
        at = self.now if at is None else pd.Timestamp(at).tz_convert("UTC")
        c = self.changes[self.changes["changed"] <= at]
        last = c.groupby("outage_id", sort=False).tail(1)
        act = last[last["end"].isna()]
        return act.drop(columns=["changed"]).sort_values("start").reset_index(drop=True)

    def changed_since(self, since) -> pd.DataFrame:
        """All outage versions changed after ``since`` up to the current time."""
        since = pd.Timestamp(since)
        since = since.tz_localize("UTC") if since.tzinfo is None else since.tz_convert("UTC")
        c = self.changes
        m = (c["changed"] > since) & (c["changed"] <= self.now)
        return c[m].drop(columns=["changed"]).reset_index(drop=True)
