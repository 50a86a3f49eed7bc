"""Fault rates: how often an asset fails, from one short record, and how often it would fail
rebuilt to standard.

- :func:`shrink_rates`: empirical-Bayes (Poisson–Gamma) rates shrunk towards a Poisson
  regression on the asset's attributes, a typed :class:`RateFit`;
- :func:`excess_rates`: each unit's rate and its sound rate (the regression at the rebuilt
  asset's attributes, or a quantile), with the posterior mean excess;
- storms: :func:`find_storm_days` finds them, :func:`storm_hit_excess` fits each feeder's exposure
  to them (a complementary log-log GLM with storm fixed effects, :func:`cloglog_fit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.times import local_floor

#: Monte Carlo draws per feeder for the posterior expected excess rate.
POSTERIOR_DRAWS = 400


def poisson_glm(
    X: np.ndarray, y: np.ndarray, offset: np.ndarray, iters: int = 50, ridge: float = 1e-3
) -> np.ndarray:
    """log E[y] = offset + X β by IRLS with a small ridge (numpy only)."""
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(max(y.sum(), 1e-3) / np.exp(offset).sum())
    for _ in range(iters):
        eta = np.clip(offset + X @ beta, -30, 30)
        mu = np.exp(eta)
        z = eta - offset + (y - mu) / mu
        W = mu
        R = ridge * np.eye(X.shape[1])
        R[0, 0] = 0.0  # no penalty on the intercept
        A = X.T @ (X * W[:, None]) + R
        new = np.linalg.solve(A, X.T @ (W * z))
        if np.max(np.abs(new - beta)) < 1e-8:
            beta = new
            break
        beta = new
    return beta


@dataclass(frozen=True)
class RateFit:
    """An empirical-Bayes fit of event rates (:func:`shrink_rates`).

    ``rate``: posterior mean rate per unit exposure; ``prior``: the regression's prior mean m_i;
    ``weight``: credibility of each unit's own record; ``shape``: the Gamma prior's shape a.
    ``coefficients`` (intercept first) act on the attributes standardised by ``centre`` and
    ``scale``; :meth:`predict` gives the prior mean rate for other attribute values."""

    rate: np.ndarray
    prior: np.ndarray
    weight: np.ndarray
    shape: np.ndarray
    coefficients: np.ndarray | None = None
    centre: np.ndarray | None = None
    scale: np.ndarray | None = None

    def predict(self, covariates: np.ndarray) -> np.ndarray:
        """Prior mean rate for other attribute values (e.g. the asset rebuilt to standard)."""
        n = len(covariates)
        if self.coefficients is None:  # nothing was fitted
            return np.full(n, np.nan)
        if self.centre is None:  # no attributes: one prior rate for all
            return np.full(n, self.prior[0])
        C = (np.asarray(covariates, float).reshape(n, -1) - self.centre) / self.scale
        return np.exp(np.clip(np.column_stack([np.ones(n), C]) @ self.coefficients, -30, 30))


def shrink_rates(
    counts: np.ndarray,
    exposure: np.ndarray,
    covariates: np.ndarray | None = None,
    min_dispersion: float = 0.0,
    max_dispersion: float = np.inf,
    ridge: float = 1e-3,
) -> RateFit:
    """Empirical-Bayes (Poisson–Gamma) estimate of each unit's event rate per unit exposure.

    Prior: rate_i ~ Gamma(shape a, mean m_i) with log m_i = X_i β fitted by Poisson regression
    on the asset attributes (e.g. log length, conductor section, age, load) and a estimated by
    the method of moments from the over-dispersion; posterior mean
    (y_i + a) / (E_i + a / m_i) (Clayton & Kaldor 1987; the approach predictive reliability
    tools use to blend a feeder's short record with its asset class). Returns a
    :class:`RateFit`. ``min_dispersion`` / ``max_dispersion`` bound 1/a (the squared coefficient
    of variation of the rates around the regression), for when one period is too short to
    measure it."""
    y = np.asarray(counts, float)
    E = np.maximum(np.asarray(exposure, float), 1e-12)
    n = len(y)
    if n == 0:  # nothing to rate (a network without substations, say): nothing to fit
        empty = np.zeros(0)
        return RateFit(rate=empty, prior=empty, weight=empty, shape=empty)
    centre = scale = None
    if covariates is None or np.size(covariates) == 0:
        X = np.ones((n, 1))
    else:
        C = np.asarray(covariates, float).reshape(n, -1)
        centre, sd_c = C.mean(axis=0), C.std(axis=0)
        scale = np.where(sd_c > 0, sd_c, 1.0)
        X = np.column_stack([np.ones(n), (C - centre) / scale])
    beta = poisson_glm(X, y, np.log(E), ridge=ridge)
    m = np.exp(np.clip(X @ beta, -30, 30))  # prior mean rate
    fitted = m * E
    # method of moments: Var(y) = μ + μ²/a
    excess = np.sum((y - fitted) ** 2 - fitted)
    denom = np.sum(fitted**2)
    inv_a = max(excess / denom, 1e-6, min_dispersion) if denom > 0 else max(1e-6, min_dispersion)
    inv_a = min(inv_a, max_dispersion)
    a = 1.0 / inv_a
    return RateFit(
        rate=(y + a) / (E + a / m),
        prior=m,
        weight=E / (E + a / m),
        shape=np.full(n, a),
        coefficients=beta,
        centre=centre,
        scale=scale,
    )


def excess_rates(
    counts: np.ndarray,
    years: float,
    covariates: np.ndarray | None,
    length: np.ndarray,
    quantile: float,
    sound_covariates: np.ndarray | None = None,
    min_dispersion: float = 0.0,
    max_dispersion: float = np.inf,
    ridge: float = 1e-3,
    posterior_excess: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(EB rate per year, sound rate per year) for units of size ``length`` (km, or 1).

    Rates are per unit of length (outages of overhead lines grow with their length), shrunk
    towards the asset-attribute regression. The sound rate is the regression's prediction for
    the asset rebuilt to standard (``sound_covariates``) when given, else the ``quantile`` of
    the per-km rates over all units; never above the estimate itself.

    With ``posterior_excess`` the returned sound rate is ``rate − E[(λ − sound)⁺]``: the excess
    that counts is a positive part, and its posterior mean (over the Gamma posterior of the
    rate λ) is not the positive part of the posterior mean - a feeder whose record is short
    but whose attributes put it near the sound level still carries some expected excess.
    Evaluated by Monte Carlo with a fixed seed (reproducible)."""
    if len(counts) == 0:  # no units at this level (a network without substations)
        return np.zeros(0), np.zeros(0)
    exposure = years * np.maximum(length, 1e-6)
    fit = shrink_rates(
        counts,
        exposure,
        covariates,
        min_dispersion=min_dispersion,
        max_dispersion=max_dispersion,
        ridge=ridge,
    )
    per_km = fit.rate
    eb = per_km * np.maximum(length, 1e-6)
    if sound_covariates is not None:
        ref = fit.predict(sound_covariates) * np.maximum(length, 1e-6)
    else:
        ref = float(np.quantile(per_km, quantile)) * np.maximum(length, 1e-6)
    ref = np.minimum(ref, eb)
    if posterior_excess:
        shape = fit.shape + np.asarray(counts, float)  # posterior Gamma shape
        scale = np.maximum(per_km, 1e-12) / shape * np.maximum(length, 1e-6)
        draws = np.random.default_rng(20250101).standard_gamma(
            shape[:, None], size=(len(shape), POSTERIOR_DRAWS)
        )
        excess = np.maximum(draws * scale[:, None] - ref[:, None], 0.0).mean(axis=1)
        ref = np.clip(eb - excess, 0.0, eb)
    return eb, ref


def find_storm_days(fo: pd.DataFrame, n_feeders: int, tz: str) -> np.ndarray:
    """Local days on which unusually many feeders fault at once (storms): at least
    max(4, 5 % of the feeders) distinct feeders with a sustained unplanned outage."""
    if len(fo) == 0:
        return np.zeros(0, np.int64)
    day = local_floor(fo["start_ns"].to_numpy(), tz, "D")
    per_day = pd.DataFrame({"day": day, "feeder": fo["feeder"].to_numpy(object)}).drop_duplicates()
    counts = per_day["day"].value_counts()
    return counts.index[counts.to_numpy() >= max(4, int(np.ceil(0.05 * n_feeders)))].to_numpy(
        np.int64
    )


def cloglog_fit(
    H: np.ndarray, C: np.ndarray, ridge: float, iters: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Bernoulli GLM with a complementary log-log link: P(H[f, s] = 1) = 1 − exp(−θ_s·m_f),
    log m_f = C_f·β (C standardised; no intercept, the storm effects log θ_s carry the level).
    Fisher scoring (IRLS) with a ridge on β only; returns (log θ, β)."""
    n_f, n_s = H.shape
    k = C.shape[1]
    X = np.concatenate([np.tile(np.eye(n_s), (n_f, 1)), np.repeat(C, n_s, axis=0)], axis=1)
    y = H.reshape(-1).astype(float)
    beta = np.zeros(n_s + k)
    beta[:n_s] = np.log(-np.log(1 - np.clip(H.mean(axis=0), 0.01, 0.99)))
    pen = np.diag(np.concatenate([np.zeros(n_s), np.full(k, ridge)]))
    for _ in range(iters):
        eta = np.clip(X @ beta, -12, 4)
        lam = np.exp(eta)
        p = np.clip(1 - np.exp(-lam), 1e-9, 1 - 1e-9)
        dp = lam * (1 - p)  # dp/dη
        W = dp**2 / (p * (1 - p))
        z = eta + (y - p) / np.maximum(dp, 1e-12)
        new = np.linalg.solve(X.T @ (X * W[:, None]) + pen, X.T @ (W * z))
        done = np.max(np.abs(new - beta)) < 1e-7
        beta = new
        if done:
            break
    return beta[:n_s], beta[n_s:]


def storm_hit_excess(
    H: np.ndarray,
    cov: np.ndarray,
    sound_cov: np.ndarray,
    signs: np.ndarray,
    ridge: float,
    years: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Storm hits per feeder and year: (expected as is, posterior mean avoidable excess).

    On storm day s feeder f is hit (at least one fault) with probability 1 − exp(−θ_s·E_f):
    θ_s is the storm's severity, common to all feeders, E_f the feeder's exposure (a Poisson
    number of trips at unit severity, the form of storm-outage prediction models). Fitted over
    the period's storms by a complementary log-log GLM with storm fixed effects and
    log E_f = attributes·β + log u_f. An attribute whose fitted effect has the wrong physical
    sign (``signs``: +1 must raise exposure, −1 must lower it, 0 free) is dropped and the rest
    refitted: a few storms cannot tell such an effect from zero, and the sound exposure must
    not come out above the feeder's own. u_f, the exposure the attributes leave unexplained, is
    mean-one lognormal with a spread chosen by marginal likelihood (Gauss-Hermite
    quadrature); each feeder's posterior over u_f given its own hits and misses gives the
    expected excess Σ_s [P(hit | E_f) − P(hit | E_sound)]⁺, E_sound being the regression at the
    feeder's sound attributes (``sound_cov``) with u = 1. Summed over the period's storms, per
    year (the weather of the period, as the ground truth is defined)."""
    n_f, n_s = H.shape
    zero = np.zeros(n_f)
    if n_s == 0 or n_f < 3:
        return zero, zero
    mu_c, sd_c = cov.mean(axis=0), cov.std(axis=0)
    sd_c = np.where(sd_c > 0, sd_c, 1.0)
    C = (cov - mu_c) / sd_c
    Cs = (sound_cov - mu_c) / sd_c
    keep = np.ones(C.shape[1], bool)
    beta = np.zeros(C.shape[1])
    for _ in range(C.shape[1] + 1):
        log_theta, b_k = cloglog_fit(H, C[:, keep], ridge)
        beta = np.zeros(C.shape[1])
        beta[keep] = b_k
        wrong = keep & (signs * beta < 0)
        if not wrong.any():
            break
        keep &= ~wrong
    theta = np.exp(log_theta)
    m = np.exp(C @ beta)
    m_sound = np.minimum(np.exp(Cs @ beta), m)
    nodes, wts = np.polynomial.hermite_e.hermegauss(24)
    logw = np.log(wts / wts.sum())
    best = None
    for sigma in np.arange(0.0, 1.61, 0.1):
        u = np.exp(sigma * nodes - sigma**2 / 2)
        p = 1 - np.exp(-theta[None, None, :] * m[:, None, None] * u[None, :, None])  # f, k, s
        p = np.clip(p, 1e-12, 1 - 1e-12)
        ll = np.where(H[:, None, :] > 0, np.log(p), np.log1p(-p)).sum(axis=2) + logw[None, :]
        mx = ll.max(axis=1, keepdims=True)
        marginal = float(np.sum(mx[:, 0] + np.log(np.exp(ll - mx).sum(axis=1))))
        if best is None or marginal > best[0]:
            post = np.exp(ll - mx)
            best = (marginal, post / post.sum(axis=1, keepdims=True), p)
    _, post, p = best
    p_sound = 1 - np.exp(-theta[None, :] * m_sound[:, None])  # f, s
    excess = np.maximum(p - p_sound[:, None, :], 0.0).sum(axis=2)
    return (post * p.sum(axis=2)).sum(axis=1) / years, (post * excess).sum(axis=1) / years
