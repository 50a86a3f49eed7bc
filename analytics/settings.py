"""Thresholds and weights the analytics use, with the DESIGN.md defaults.

The analytics never read ``config.toml`` themselves: callers (CLI, dashboard) build an
:class:`AnalyticsSettings` from their typed config with :meth:`AnalyticsSettings.from_config`
and pass it in, so every function stays pure. The defaults here are the only ones: the typed
config (``feederwatch/config.py``) takes its analytics defaults from :data:`DEFAULT_SETTINGS`,
and :data:`CONFIG_FIELDS` joins its keys to the fields here by an explicit table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

#: Complaint categories that are unreasonable for grid analysis (DESIGN.md, "Complaints").
UNREASONABLE_CATEGORIES: tuple[str, ...] = (
    "customer_side_fault",
    "power_theft",
    "billing",
    "service_attitude",
)

#: Text keywords that mark a ticket as unreasonable whatever its category: faults behind the
#: meter (表后/户内), theft, arrears and billing, attitude.
UNREASONABLE_KEYWORDS: tuple[str, ...] = (
    "表后",
    "户内",
    "内部线路",
    "客户内部",
    "空开跳闸",
    "漏电保护",
    "窃电",
    "欠费",
    "电费",
    "服务态度",
    "customer side",
    "inside the house",
    "breaker in the house",
    "theft",
    "arrears",
    "bill",
    "attitude",
)

#: Complaint categories that are expected to coincide with an outage.
OUTAGE_CATEGORIES: tuple[str, ...] = (
    "outage",
    "frequent_outage",
    "repair_timeout",
    "repair_quality",
)
#: Complaint categories that are expected to coincide with a low-voltage period.
VOLTAGE_CATEGORIES: tuple[str, ...] = ("low_voltage", "voltage_fluctuation")


@dataclass(frozen=True)
class AnalyticsSettings:
    """Every threshold and weight the analytics use; defaults follow DESIGN.md / config.toml.

    Times: ``tz`` defines local days and months. Reliability: IEEE 1366-2022 momentary limit,
    2.5β MED rule over ``med_years`` preceding years, CEMI-n / CELID-t parameters. Voltage:
    GB/T 12325-2008 limits for 220 V single phase (198.0 V to 235.4 V), low-voltage rule and
    minimum hours per local day. Frequent outages: provincial 频繁停电 rules. Ranking: score
    weights, customer basis, AIHC budget and optional project costs (10,000 yuan).
    """

    tz: str = "Asia/Shanghai"
    momentary_minutes: float = 5.0
    customer_basis: str = "households"  # or "users_10kv" (DL/T 836)
    # Issue 15. "start": an interruption is charged whole to the day and period it starts in
    # (IEEE 1366's daily accounting); "clip": only its minutes inside the period count.
    period_rule: str = "start"
    # Customers served where the network gives no count (0 = none): the system, and per feeder
    # or substation (``[indices.feeders]`` / ``[indices.substations]`` in config.toml).
    customers_served: float = 0.0
    customers_served_feeders: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    customers_served_substations: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    med_years: int = 5
    # With less daily history than this before the period, T_MED is provisional: computed from
    # the period's own days (never from a handful of earlier days).
    med_min_history_days: int = 365
    # A T_MED needs at least this many days with interruptions in its sample.
    med_min_days: int = 30
    med_beta_multiplier: float = 2.5
    cemi_n: int = 3
    celid_t_hours: float = 8.0
    aihc_budget_hours: float = 10.0

    voltage_nominal: float = 220.0
    voltage_low: float = 198.0
    voltage_high: float = 235.4
    low_voltage_rule: str = "any"
    low_voltage_min_hours: float = 1.0
    evening_peak_hours: tuple[int, int] = (18, 22)  # local hours [18, 22)
    overload_ratio: float = 1.0  # kW above ratio * kVA counts as overloaded

    frequent_feeder_count: int = 3
    frequent_feeder_days: int = 60
    frequent_area_count_window: int = 3
    frequent_area_window_days: int = 60
    frequent_area_count_year: int = 5

    unreasonable_categories: tuple[str, ...] = UNREASONABLE_CATEGORIES
    unreasonable_keywords: tuple[str, ...] = UNREASONABLE_KEYWORDS
    # A complaint about an outage matches one on its area/feeder from this many hours before the
    # outage starts until this many hours after it ends.
    complaint_match_before_hours: float = 1.0
    complaint_match_after_hours: float = 48.0
    # Treat outage / low-voltage complaints with no matching event as unreasonable.
    require_matching_event: bool = False

    # A sound asset's outage rate: this quantile of the estimated per-km (per-substation) rates.
    reference_quantile: float = 0.0
    # Sound rate = the rate regression at new-build attributes (else the quantile above).
    sound_by_attributes: bool = True
    # Floor on the squared coefficient of variation of feeder outage rates around the asset
    # regression (empirical Bayes prior), so that a feeder's own record always counts.
    rate_min_dispersion: float = 0.1
    # Feeder excess fault rate = posterior mean of (rate - sound rate)+ (else the positive part
    # of the posterior mean rate minus the sound rate).
    rate_posterior_excess: bool = True
    # Ridge penalty of the per-cause rate regressions (standardised attributes).
    rate_ridge: float = 5.0
    # Storm outages: weight of the per-storm hit model (complementary log-log GLM over the
    # period's storm days, see fault_rates.storm_hit_excess) against the per-km storm outage
    # rate; the two are averaged, neither dominating on simulated counties (0: per-km only).
    storm_hit_weight: float = 0.5
    # Cap on the same for 35 kV substations (few units: one bad record must not set the spread).
    substation_rate_max_dispersion: float = 0.25
    # A sound feeder's voltage drop per km: this quantile of the feeders' estimated drops per km.
    drop_reference_quantile: float = 0.5
    # Propensity to call 95598 per town and area: EB pseudo-counts of the town / area priors.
    propensity_iterations: int = 3
    propensity_prior_town: float = 10.0
    propensity_prior_area: float = float("inf")  # inf: areas take their town's propensity
    weight_complaints: float = 1.0
    weight_customer_hours: float = 0.5
    weight_low_voltage_hours: float = 0.5
    window_days: int = 365
    # Multi-year ranking (issue 15): up to this many windows of window_days, the earlier ones
    # pooled; the latest year's estimate weighs recent_year_weight against the pooled one.
    history_years: int = 5
    recent_year_weight: float = 0.25
    costs: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.customer_basis not in ("households", "users_10kv"):
            raise ValueError(
                f"customer_basis must be households or users_10kv: {self.customer_basis!r}"
            )
        if self.low_voltage_rule not in ("any", "all"):
            raise ValueError(f"low_voltage_rule must be any or all: {self.low_voltage_rule!r}")
        if self.period_rule not in ("start", "clip"):
            raise ValueError(f"period_rule must be start or clip: {self.period_rule!r}")
        for name in _MAPPINGS:
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(value)))

    def __reduce__(self):
        # a read-only mapping cannot be pickled: rebuilt from a plain dict (the dashboard's
        # analysis process sends settings inside its results)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _MAPPINGS:
            values[name] = dict(getattr(self, name))
        return (_rebuild_settings, (type(self), values))

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> AnalyticsSettings:
        """Build settings from the application's typed config (``feederwatch.config.Settings``).

        Duck-typed so that ``analytics`` does not import the application shell: it reads
        ``config.site.timezone`` and the keys of the sections in :data:`CONFIG_FIELDS`, each
        into the field that table names. A key of those sections that is neither there nor in
        :data:`CONFIG_KEYS_ELSEWHERE` is refused, so that a renamed field fails loudly instead
        of being dropped. Sections or keys missing from ``config`` keep the defaults.
        """
        values: dict[str, Any] = {}
        site = getattr(config, "site", None)
        if site is not None and getattr(site, "timezone", None):
            values["tz"] = site.timezone
        for section, keys in CONFIG_FIELDS.items():
            sec = getattr(config, section, None)
            if sec is None:
                continue
            data = sec.model_dump() if hasattr(sec, "model_dump") else dict(vars(sec))
            unknown = set(data) - set(keys) - CONFIG_KEYS_ELSEWHERE.get(section, set())
            if unknown:
                raise ValueError(
                    f"[{section}] keys not mapped to analytics settings: {sorted(unknown)}"
                    " (analytics/settings.py CONFIG_FIELDS)"
                )
            for key, value in data.items():
                if key in keys:
                    values[keys[key]] = value
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> AnalyticsSettings:
        """A copy with some fields changed."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(changes)
        return AnalyticsSettings(**data)


_MAPPINGS = ("costs", "customers_served_feeders", "customers_served_substations")

#: config.toml section -> {key of the section: the :class:`AnalyticsSettings` field it sets}.
#: The one join between the application's config (``feederwatch/config.py``, whose defaults
#: are taken from :data:`DEFAULT_SETTINGS`) and the analytics; tests/analytics/test_an_settings.py
#: checks that both sides name real fields and agree on every default.
CONFIG_FIELDS: dict[str, dict[str, str]] = {
    "thresholds": {
        name: name
        for name in (
            "momentary_minutes",
            "voltage_nominal",
            "voltage_low",
            "voltage_high",
            "low_voltage_rule",
            "low_voltage_min_hours",
            "frequent_feeder_count",
            "frequent_feeder_days",
            "frequent_area_count_window",
            "frequent_area_window_days",
            "frequent_area_count_year",
        )
    },
    "ranking": {
        name: name
        for name in (
            "window_days",
            "weight_complaints",
            "weight_customer_hours",
            "weight_low_voltage_hours",
            "customer_basis",
            "aihc_budget_hours",
            "history_years",
            "recent_year_weight",
            "costs",
        )
    },
    "indices": {
        "period_rule": "period_rule",
        "customers_served": "customers_served",
        "med_years": "med_years",
        "med_min_history_days": "med_min_history_days",
        "med_min_days": "med_min_days",
        # [indices.feeders] / [indices.substations]: customers served per id
        "feeders": "customers_served_feeders",
        "substations": "customers_served_substations",
    },
}
#: keys of those sections that the application uses and the analytics do not
CONFIG_KEYS_ELSEWHERE: dict[str, set[str]] = {"thresholds": {"stale_after_seconds"}}

_unknown_targets = {target for keys in CONFIG_FIELDS.values() for target in keys.values()} - {
    f.name for f in fields(AnalyticsSettings)
}
if _unknown_targets:  # a renamed settings field must not leave the config behind unnoticed
    raise RuntimeError(
        f"CONFIG_FIELDS names no AnalyticsSettings field: {sorted(_unknown_targets)}"
    )

DEFAULT_SETTINGS = AnalyticsSettings()


def _rebuild_settings(cls: type, values: dict[str, Any]) -> AnalyticsSettings:
    return cls(**values)
