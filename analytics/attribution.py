"""Attribution of complaints to their drivers: a non-negative additive Poisson model
(expected complaints = Σ b_k · driver_k, b_k ≥ 0), fitted by maximum likelihood, whose terms
b_k · driver_k say how many complaints each driver causes. (The area complaint model of the
upgrade priorities that uses it: :mod:`analytics.complaint_model`.)"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def fit_nonnegative_poisson(
    X: np.ndarray,
    y: np.ndarray,
    *,
    iters: int = 3000,
    tol: float = 1e-10,
    exposure: np.ndarray | None = None,
) -> np.ndarray:
    """Coefficients b ≥ 0 of E[y] = X b maximising the Poisson likelihood (identity link), by
    the EM / multiplicative update of Shepp & Vardi (1982): b_k ← b_k Σ_i x_ik y_i/μ_i / Σ_i x_ik.
    Each iteration raises the likelihood and keeps b non-negative. ``X`` must be ≥ 0."""
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    colsum = X.sum(axis=0)
    ok = colsum > 0
    b = np.zeros(X.shape[1])
    if not ok.any() or y.sum() <= 0:
        return b
    Xo = X[:, ok]
    cs = colsum[ok]
    # start: every driver explains the same share of the total
    bo = np.full(ok.sum(), y.sum() / ok.sum()) / cs
    prev = -np.inf
    for it in range(iters):
        mu = Xo @ bo
        mu = np.maximum(mu, 1e-300)
        bo = bo * (Xo.T @ (y / mu)) / cs
        if it % 25 == 0:
            ll = float(np.sum(y * np.log(np.maximum(Xo @ bo, 1e-300)) - Xo @ bo))
            if abs(ll - prev) <= tol * max(1.0, abs(ll)):
                break
            prev = ll
    bo = _newton_polish(Xo, y, bo)
    b[ok] = bo
    return b


def _newton_polish(X: np.ndarray, y: np.ndarray, b: np.ndarray, iters: int = 30) -> np.ndarray:
    """Projected Newton steps on the Poisson log-likelihood over the coefficients not at zero,
    so the slow tail of EM near the boundary converges (Bertsekas 1982, projected Newton)."""

    def loglik(v):
        mu = X @ v
        if np.any(mu <= 0) and np.any(y[mu <= 0] > 0):
            return -np.inf
        return float(np.sum(y * np.log(np.maximum(mu, 1e-300)) - mu))

    ll = loglik(b)
    for _ in range(iters):
        free = b > 1e-12 * max(1.0, b.max())
        if not free.any():
            break
        mu = np.maximum(X @ b, 1e-300)
        g = X.T @ (y / mu - 1.0)
        Xf = X[:, free]
        # y / μ²: areas that no driver reaches have μ at the floor, whose square underflows to
        # 0; with y = 0 they add nothing (0/0 made the Hessian NaN and stopped the polish)
        w = np.divide(y, np.maximum(mu, 1e-150) ** 2, out=np.zeros_like(y), where=y > 0)
        H = Xf.T @ (Xf * w[:, None]) + 1e-12 * np.eye(free.sum())
        try:
            step = np.linalg.solve(H, g[free])
        except np.linalg.LinAlgError:
            break
        t = 1.0
        improved = False
        for _ in range(30):
            cand = b.copy()
            cand[free] = np.maximum(b[free] + t * step, 0.0)
            lc = loglik(cand)
            if lc >= ll:
                improved = lc > ll + 1e-12 * max(1.0, abs(ll))
                b, ll = cand, lc
                break
            t *= 0.5
        if not improved:
            break
    return b


def goodness_of_fit(y: np.ndarray, mu: np.ndarray) -> dict[str, float]:
    """R² (1 − SSE/SST), Poisson deviance explained (1 − D/D_null, McCullagh & Nelder) and the
    Pearson dispersion Σ (y−μ)²/μ / (n − 1)."""
    y = np.asarray(y, float)
    mu = np.maximum(np.asarray(mu, float), 1e-12)
    sst = float(((y - y.mean()) ** 2).sum())
    sse = float(((y - mu) ** 2).sum())

    def dev(m):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(y > 0, y * np.log(y / m), 0.0)
        return float(2 * np.sum(t - (y - m)))

    d, d0 = dev(mu), dev(np.full_like(y, max(y.mean(), 1e-12)))
    return {
        "r2": 1 - sse / sst if sst > 0 else np.nan,
        "deviance_explained": 1 - d / d0 if d0 > 0 else np.nan,
        "dispersion": float(np.sum((y - mu) ** 2 / mu) / max(len(y) - 1, 1)),
        "n": float(len(y)),
    }


def attribute(
    drivers: pd.DataFrame,
    complaints: pd.Series | np.ndarray,
    driver_columns: Sequence[str],
    *,
    key: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Fit expected complaints = Σ_k b_k · driver_k with b_k ≥ 0 (Poisson likelihood,
    :func:`fit_nonnegative_poisson`) and attribute each row's expected complaints to its drivers:
    the term b_k · driver_k is the number of complaints attributable to driver k.

    Returns (per-row table with ``expected`` and one ``from_<driver>`` column per driver,
    coefficient table, goodness of fit from :func:`goodness_of_fit`)."""
    X = drivers[list(driver_columns)].to_numpy(float)
    X = np.where(np.isfinite(X), np.maximum(X, 0.0), 0.0)
    y = np.asarray(complaints, float)
    # scale columns so that the EM start is balanced
    scale = X.mean(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    b = fit_nonnegative_poisson(X / scale, y) / scale
    terms = X * b
    mu = terms.sum(axis=1)
    rows = pd.DataFrame(
        {f"from_{k}": terms[:, j] for j, k in enumerate(driver_columns)}, index=drivers.index
    )
    rows.insert(0, "expected", mu)
    rows.insert(0, "observed", y)
    if key is not None:
        rows.insert(0, key, drivers[key].to_numpy())
    coef = pd.DataFrame(
        {
            "driver": list(driver_columns),
            "coefficient": b,
            "attributable": terms.sum(axis=0),
            "share": terms.sum(axis=0) / mu.sum() if mu.sum() > 0 else np.nan,
        }
    )
    return rows, coef, goodness_of_fit(y, mu)
