"""The area complaint model of the upgrade priorities (step 2 of :mod:`analytics.priorities`):
each area's counted complaints attributed to its drivers (:func:`analytics.attribution.attribute`),
the drivers weighted by customers^γ and by the town's propensity to call 95598."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.area_drivers import CLASSES, InterruptionDrivers, VoltageDrivers, design_matrix
from analytics.attribution import attribute
from analytics.settings import AnalyticsSettings


@dataclass(frozen=True)
class ComplaintModel:
    """The fitted area complaint model: E[complaints] = Σ_k b_k · driver_k · weight."""

    #: per area: customers^γ times the propensity to call
    weights: np.ndarray
    #: :func:`attribute`'s rows: observed, expected and ``from_<driver>`` per area
    rows: pd.DataFrame
    #: :func:`attribute`'s coefficient table
    coefficients: pd.DataFrame
    #: goodness of fit (:func:`goodness_of_fit`) with ``gamma`` and ``loglik``
    fit: dict

    @property
    def b(self) -> dict[str, float]:
        """Coefficient per driver name."""
        return dict(zip(self.coefficients["driver"], self.coefficients["coefficient"]))


def _poisson_loglik(y: np.ndarray, rows: pd.DataFrame) -> float:
    mu = np.maximum(rows["expected"].to_numpy(), 1e-12)
    return float(np.sum(y * np.log(mu) - mu))


def fit_complaint_model(
    outages: InterruptionDrivers,
    voltage: VoltageDrivers,
    areas: pd.DataFrame,
    observed: np.ndarray,
    s: AnalyticsSettings,
) -> ComplaintModel:
    """Attribute each area's counted complaints (``observed``) to its drivers: drivers weighted
    by customers^γ, γ ∈ {0.5, 0.75, 1} chosen by likelihood (calls grow less than
    proportionally with households), then by the town's propensity to call
    (:func:`town_propensity`), and refitted."""
    raw, y = outages.per_area, observed
    customers = areas["households"].to_numpy(float)
    best = None
    for gamma in (0.5, 0.75, 1.0):
        w = np.power(np.maximum(customers, 1.0), gamma)
        X = design_matrix(raw, voltage.hours, voltage.days, w)
        rows, coef, gof = attribute(X, y, list(X.columns))
        ll = _poisson_loglik(y, rows)
        if best is None or ll > best[0]:
            best = (ll, gamma, w, rows, coef, gof)
    ll, gamma, w, rows, coef, gof = best
    if s.propensity_iterations:
        w = w * town_propensity(outages, voltage, areas, y, w, s)
        X = design_matrix(raw, voltage.hours, voltage.days, w)
        rows, coef, gof = attribute(X, y, list(X.columns))
        ll = _poisson_loglik(y, rows)
    return ComplaintModel(w, rows, coef, dict(gof, gamma=gamma, loglik=ll))


def town_propensity(
    outages: InterruptionDrivers,
    voltage: VoltageDrivers,
    areas: pd.DataFrame,
    observed: np.ndarray,
    weights: np.ndarray,
    s: AnalyticsSettings,
) -> np.ndarray:
    """Propensity to call per area: towns (and areas within them) differ in how readily
    customers call 95598; estimated as empirical-Bayes ratios of observed to expected
    complaints, the town's pooled over its areas, each area's shrunk towards its town
    (gamma-Poisson), over ``propensity_iterations`` refits. Mean one over the expected
    complaints."""
    y = observed
    prop = np.ones(len(areas))
    town = areas["town"].astype(object).where(areas["town"].notna(), "").to_numpy(object)
    t_code, _ = pd.factorize(town)
    for _ in range(s.propensity_iterations):
        X = design_matrix(outages.per_area, voltage.hours, voltage.days, weights * prop)
        rows, _coef, _gof = attribute(X, y, list(X.columns))
        base_mu = rows["expected"].to_numpy() / prop
        O_t = np.bincount(t_code, weights=y)
        E_t = np.bincount(t_code, weights=base_mu)
        p_t = (O_t + s.propensity_prior_town) / (E_t + s.propensity_prior_town)
        k_a = s.propensity_prior_area
        p_a = (y + k_a * p_t[t_code]) / (base_mu + k_a) if np.isfinite(k_a) else p_t[t_code]
        norm = np.sum(p_a * base_mu) / max(np.sum(base_mu), 1e-12)
        if not (np.isfinite(norm) and norm > 0 and np.all(np.isfinite(p_a))):
            break  # nothing to learn from (no complaints, or no drivers)
        prop = p_a / norm
    return prop


def attributed_areas(
    areas: pd.DataFrame,
    outages: InterruptionDrivers,
    voltage: VoltageDrivers,
    observed: np.ndarray,
    model: ComplaintModel,
) -> pd.DataFrame:
    """Per area: observed and expected complaints, the drivers, and what each driver causes
    (``from_<driver>_<owner class>``, ``from_low_voltage``, ``from_base``)."""
    raw, w, b = outages.per_area, model.weights, model.b
    ad = areas[["transformer", "feeder", "substation", "households", "kva"]].copy()
    ad["observed_complaints"] = observed
    ad["expected_complaints"] = model.rows["expected"].to_numpy()
    ad["lv_hours"] = voltage.hours
    ad["lv_days"] = voltage.days
    ad["from_low_voltage"] = (b["lv_hours"] * voltage.hours + b["lv_days"] * voltage.days) * w
    for drv in ("interruptions", "hours", "repeated"):
        for c in CLASSES:
            key = f"{drv}_planned" if (c == "planned" and drv != "repeated") else drv
            ad[f"from_{drv}_{c}"] = b[key] * raw[(drv, c)] * w
    ad["n_interruptions"] = sum(raw[("interruptions", c)] for c in CLASSES)
    ad["n_interruptions_feeder"] = raw[("interruptions", "feeder")]
    ad["from_base"] = b["base"] * w
    ad["kw_max"] = voltage.kw_max
    return ad
