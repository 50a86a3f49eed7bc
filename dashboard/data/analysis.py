"""The store's analysis: priorities, rankings, reliability indices, frequent outages, area
voltage and the restoration-time model, each computed once per data version (by the warmer)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import complaints as an_complaints
from analytics import etr
from analytics import priorities as an_priorities
from analytics import reliability as an_reliability
from analytics import voltage as an_voltage
from dashboard.data.reads import StoreReads


class StoreAnalysis(StoreReads):
    """The planners' analysis of the data version pages are shown."""

    def analysis(self, window_days: int | None = None):
        """The priority analysis (analytics.priorities.analyse) for the last ``window_days``."""
        s = self._settings_for(window_days)
        return self._cached(
            ("analysis", s.window_days),
            lambda: an_priorities.analyse(
                self.network(),
                self.outages(),
                self.complaints(),
                self.voltage_daily(),
                s,
                classified=self.classified_all(),
                reliability_cache=self._reliability_cache(),
            ),
        )

    def classified_all(self) -> pd.DataFrame:
        """Every complaint classified (repeats merged, unreasonable ones set apart, matched to
        an area): independent of the window, so computed once per data version."""
        return self._cached(
            ("classified_all",),
            lambda: an_complaints.classify_complaints(
                self.complaints(),
                network=self.network(),
                outages=None,
                voltage_daily=None,
                settings=self.analytics_settings,
            ),
        )

    def ranking(self, level: str, window_days: int | None = None) -> pd.DataFrame:
        """analytics.priorities.rank for ``level`` with SAIDI/SAIFI/CAIDI, config weights."""

        def compute() -> pd.DataFrame:
            a = self.analysis(window_days)
            out = a.rank(level)
            missing = [c for c in ("saidi", "saifi", "caidi") if c not in out]
            if missing:
                idx = an_reliability.indices(
                    level, a.network, a.outages, window=a.window, settings=a.settings
                )
                out = out.merge(idx[[level, *missing]], on=level, how="left")
            return out

        return self._cached(
            ("ranking", level, self._settings_for(window_days).window_days), compute
        )

    def reranked(
        self, level: str, window_days: int | None, weights: tuple[float, float, float]
    ) -> pd.DataFrame:
        """The ranking re-scored with other weights: the score of analytics.priorities
        (complaints + w_h · customer-hours/1000 + w_lv · low-voltage customer-hours/1000)."""
        wc, wh, wl = (max(0.0, float(w or 0)) for w in weights)
        out = self.ranking(level, window_days).copy()
        out["score"] = (
            wc * out["avoidable_complaints"]
            + wh * out["customer_hours_avoided"] / 1000.0
            + wl * out["lv_customer_hours_removed"] / 1000.0
        )
        out = out.sort_values(["score", level], ascending=[False, True], kind="stable")
        out = out.reset_index(drop=True)
        out["rank"] = np.arange(1, len(out) + 1)
        return out

    def window(self, window_days: int | None = None) -> tuple:
        return self.analysis(window_days).window

    def feeder_measures(self, window_days: int | None = None) -> pd.DataFrame:
        return self.ranking("feeder", window_days)

    def substation_measures(self, window_days: int | None = None) -> pd.DataFrame:
        return self.ranking("substation", window_days)

    def classified_complaints(self) -> pd.DataFrame:
        """Complaints of the default window as classified by the priority analysis."""
        return self.analysis().complaints

    def etr_model(self):
        """The restoration-time model of this data version (analytics/etr.py, issue 17), fitted
        on the whole outage history once (by the warmer); None with too little history. The
        whole company's, for every county too: more history, and a county's live board never
        waits for a model of its own."""

        def compute():
            o = self.outages()
            classes = etr.feeder_classes(self.network()["feeders"])
            return etr.fit(o.assign(feeder_class=o["feeder"].map(classes)), self.tz)

        return self.province(lambda: self._cached(("etr_model",), compute))

    def frequent(self, level: str = "feeder") -> pd.DataFrame:
        return self._cached(
            ("frequent", level),
            lambda: an_complaints.frequent_outages(
                self.network(),
                self.outages(),
                asof=pd.Timestamp.now(tz="UTC").floor("D"),
                level=level,
                settings=self.analytics_settings,
            ),
        )

    def area_voltage(self, window_days: int | None = None) -> pd.DataFrame:
        s = self._settings_for(window_days)
        return self._cached(
            ("area_voltage", s.window_days),
            lambda: an_voltage.area_voltage(
                self.voltage_daily(),
                self.network()["transformers"],
                window=self.window(window_days),
                settings=s,
                freq="D",
            ),
        )

    def indices(
        self, by: str, window_days: int | None = None, monthly: bool = False
    ) -> pd.DataFrame:
        return self._cached(
            ("indices", by, self._settings_for(window_days).window_days, monthly),
            lambda: self._reliability(
                an_reliability.indices, window_days, by, freq="M" if monthly else None
            ),
        )

    def system_indices(self, window_days: int | None = None) -> pd.DataFrame:
        return self._cached(
            ("system", self._settings_for(window_days).window_days),
            lambda: self._reliability(an_reliability.system_indices, window_days),
        )

    def major_event_days(self, window_days: int | None = None) -> tuple[pd.DataFrame, dict]:
        return self._cached(
            ("med", self._settings_for(window_days).window_days),
            lambda: self._reliability(an_reliability.major_event_days, window_days),
        )

    def _reliability(self, compute, window_days: int | None, *leading, **extra):
        """``compute(*leading, network, outages, ...)`` of analytics.reliability over the
        window, with this version's shared "now" and placed outages."""
        return compute(
            *leading,
            self.network(),
            self.outages(),
            window=self.window(window_days),
            settings=self._settings_for(window_days),
            now=self._indices_now(),
            cache=self._reliability_cache(),
            **extra,
        )

    def _indices_now(self) -> pd.Timestamp:
        """One "now" per data version for the indices: open outages count up to it (issue 15),
        and every window's figures of a version share the placed outages. Every county shares
        the province's (a county's figures are the province's figures of its part)."""
        return self.province(
            lambda: self._cached(("indices_now",), lambda: pd.Timestamp.now(tz="UTC").floor("min"))
        )

    def _reliability_cache(self) -> dict:
        """Placed and merged outages shared by every window's reliability figures (one data
        version: the same network, outages and settings but the window)."""
        return self._cached(("reliability_cache",), dict)
