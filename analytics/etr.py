"""Predicted restoration when the source gives no ETR (issue 17): a quantile model of restoration
time fitted on the utility's own outage history. Pure: DataFrames in, DataFrames out.

The model, chosen so that it explains itself and calibrates on held-out history:

- log(duration in minutes) = intercept + an effect for each of the outage's cause (``planned``
  when planned), level (substation / feeder / transformer), feeder class (the caller's class of
  the feeder, e.g. its length tertile or region), time of day (four six-hour blocks, local), the
  concurrent load (how many outages were active when it started: 0-1, 2-4, 5-9, 10-19, 20+) and
  its size (customers: <10, 10-99, 100-999, 1000+), plus a slope on log(1 + concurrent load).
  Effects are fitted by median (least absolute deviation) regression with a ridge penalty that
  keeps rare levels near zero; a cause with ``2 * MIN_POOL`` outages gets its own effects.
- The spread is the distribution of out-of-fold residuals (five folds of whole weeks, so it
  carries the error of predicting a storm the fit did not see), one pool per cause when it has
  ``MIN_POOL`` residuals, else the pool of all. A quantile q of the duration is
  exp(predicted log + residual quantile q): an empirical quantile model (split conformal).
- For an outage already out ``elapsed`` minutes, the quantiles are those of the durations
  longer than ``elapsed`` (the same residual pool, truncated): a long outage's prediction moves
  later as it goes on instead of falling into the past.

Only sustained outages (longer than 5 minutes, IEEE 1366) with a recorded (not inferred) end
are learnt from; momentary ones are over before anyone looks at a board. Planned outages are
left out (they are announced with their end, which the board shows).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FEATURES = ("cause", "level", "feeder_class", "time_of_day", "load", "size")
SUSTAINED_MINUTES = 5.0
MIN_POOL = 40
MIN_HISTORY = 30
RIDGE = 100.0
FOLDS = 5
IRLS_STEPS = 25
#: the longest restoration time the model states (14 days)
MAX_MINUTES = 14 * 24 * 60.0
IRLS_EPS = 0.05
LOAD_EDGES = (2, 5, 10, 20)
SIZE_EDGES = (10, 100, 1000)


@dataclass
class _Block:
    """One least-squares fit: its one-hot columns, coefficients and residual pool."""

    columns: list[str]
    coef: np.ndarray
    pool: np.ndarray
    drop: tuple[str, ...] = ()


@dataclass
class EtrModel:
    """A fitted restoration-time model (see the module docstring): one block per cause with
    enough history, a shared block for the rest."""

    shared: _Block
    by_cause: dict[str, _Block] = field(default_factory=dict)
    n_train: int = 0
    tz: str = "UTC"

    def block(self, cause: str) -> _Block:
        return self.by_cause.get(cause, self.shared)


def feeder_classes(feeders: pd.DataFrame) -> pd.Series:
    """Each feeder's class for the model (index ``feeder``): the tertile of its length
    (short / medium / long: longer lines take crews longer to patrol); "?" without a length."""
    length = pd.to_numeric(feeders["length_km"], errors="coerce")
    cls = pd.Series("?", index=feeders["feeder"].to_numpy(), dtype=object)
    known = length.notna().to_numpy()
    if known.sum() >= 3 and length[known].nunique() >= 3:
        tertile = pd.qcut(length[known], 3, labels=["short", "medium", "long"]).astype(str)
        cls[known] = tertile.to_numpy()
    return cls


def concurrent_load(start: pd.Series, end: pd.Series) -> np.ndarray:
    """For each outage, how many other outages were active at its start (started before it,
    ended after it or not yet ended)."""
    st = pd.to_datetime(start, utc=True).to_numpy("datetime64[ns]").astype(np.int64)
    en_ts = pd.to_datetime(end, utc=True)
    en = en_ts.to_numpy("datetime64[ns]").astype(np.int64)
    en = np.where(en_ts.isna().to_numpy(), np.iinfo(np.int64).max, en)
    order_s = np.sort(st)
    order_e = np.sort(en)
    started = np.searchsorted(order_s, st, side="left")  # strictly before
    ended = np.searchsorted(order_e, st, side="right")  # ended at or before the start
    return np.maximum(0, started - ended)


def _bucket(values, edges, labels_prefix: str) -> pd.Series:
    v = pd.to_numeric(pd.Series(values), errors="coerce").fillna(0).to_numpy()
    idx = np.searchsorted(np.asarray(edges), v, side="right")
    return pd.Series([f"{labels_prefix}{i}" for i in idx])


def features(outages: pd.DataFrame, tz: str = "UTC", load=None) -> pd.DataFrame:
    """The model's categorical features of each outage (columns ``FEATURES``). ``outages`` has
    ``start`` (UTC), ``cause``, and optionally ``planned``, ``level``, ``feeder_class``,
    ``customers`` and ``load`` (concurrent outages; computed from ``start``/``end`` when absent
    and ``load`` is not given)."""
    n = len(outages)
    o = outages.reset_index(drop=True)

    def col(name, default="?"):
        if name in o:
            return o[name].astype(object).where(o[name].notna(), default).astype(str)
        return pd.Series([default] * n)

    cause = col("cause")
    if "planned" in o:
        cause = cause.where(~o["planned"].fillna(False).astype(bool), "planned")
    start = pd.to_datetime(o["start"], utc=True)
    hour = start.dt.tz_convert(tz).dt.hour if n else pd.Series([], dtype=int)
    if load is None:
        load = o["load"] if "load" in o else concurrent_load(o["start"], o.get("end", pd.NaT))
    return pd.DataFrame(
        {
            "cause": cause.to_numpy(),
            "level": col("level").to_numpy(),
            "feeder_class": col("feeder_class").to_numpy(),
            "time_of_day": [f"h{h // 6}" for h in hour],
            "load": _bucket(load, LOAD_EDGES, "l").to_numpy(),
            "load_n": pd.to_numeric(pd.Series(np.asarray(load)), errors="coerce")
            .fillna(0)
            .to_numpy(float),
            "size": _bucket(
                o["customers"] if "customers" in o else [0] * n, SIZE_EDGES, "s"
            ).to_numpy(),
        }
    )


def _design(feats: pd.DataFrame, columns: list[str] | None = None, drop: tuple[str, ...] = ()):
    """Intercept, log(1 + concurrent outages) (so that a storm larger than any seen still
    lengthens the prediction) and the one-hot features (less ``drop``)."""
    cats = [c for c in FEATURES if c not in drop]
    dummies = pd.get_dummies(feats[cats], prefix_sep="=", dtype=float)
    if columns is None:
        columns = list(dummies.columns)
    x = dummies.reindex(columns=columns, fill_value=0.0).to_numpy(float)
    load = np.log1p(feats["load_n"].to_numpy(float))[:, None]
    return np.hstack([np.ones((len(x), 1)), load, x]), columns


def _solve(x: np.ndarray, y: np.ndarray, iterations: int = IRLS_STEPS) -> np.ndarray:
    """Median (least absolute deviation) regression of ``y`` on ``x`` with a ridge penalty, by
    iteratively reweighted least squares: the median of the log duration is the log of the
    median duration, what a median absolute error rewards."""
    penalty = RIDGE * np.eye(x.shape[1])
    penalty[0, 0] = penalty[1, 1] = 0.0  # the intercept and the load slope are not shrunk
    w = np.ones(len(y))
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        xw = x * w[:, None]
        beta = np.linalg.solve(xw.T @ x + penalty, xw.T @ y)
        w = 1.0 / np.maximum(np.abs(y - x @ beta), IRLS_EPS)
    return beta


def training_set(history: pd.DataFrame) -> pd.DataFrame:
    """The outages the model learns from: ended, not an inferred end, sustained, unplanned."""
    h = history[history["end"].notna()].copy()
    if "planned" in h:
        h = h[~h["planned"].fillna(False).astype(bool)]
    if "inferred_end" in h:
        h = h[~h["inferred_end"].fillna(False).astype(bool)]
    minutes = (
        pd.to_datetime(h["end"], utc=True) - pd.to_datetime(h["start"], utc=True)
    ).dt.total_seconds() / 60.0
    h["duration_min"] = minutes
    return h[minutes > SUSTAINED_MINUTES].reset_index(drop=True)


def fit(history: pd.DataFrame, tz: str = "UTC", load=None) -> EtrModel | None:
    """Fit the model on ``history`` (outages with ``start``, ``end`` and the optional feature
    columns of :func:`features`); None when fewer than ``MIN_HISTORY`` outages qualify.
    ``load`` (optional, aligned with ``history``) gives each outage's concurrent load when the
    history alone does not show it (e.g. a history slice)."""
    if load is not None:
        history = history.assign(load=np.asarray(load))
    elif "load" not in history:
        history = history.assign(load=concurrent_load(history["start"], history["end"]))
    h = training_set(history)
    if len(h) < MIN_HISTORY:
        return None
    feats = features(h, tz)
    y = np.log(h["duration_min"].to_numpy(float))
    # folds of whole weeks: the outages of one storm are never on both sides of a fold, so
    # the residuals carry the storm-to-storm spread a new storm will have
    start = pd.to_datetime(h["start"], utc=True)
    weeks = ((start - start.min()).dt.days // 7).to_numpy()
    shared = _fit_block(feats, y, weeks)
    by_cause = {}
    for cause, idx in feats.groupby("cause").indices.items():
        if len(idx) >= 2 * MIN_POOL:
            by_cause[str(cause)] = _fit_block(feats.iloc[idx], y[idx], weeks[idx], drop=("cause",))
        elif len(idx) >= MIN_POOL:  # the shared effects, its own spread
            sub = _design(feats.iloc[idx], shared.columns)[0]
            pool = np.sort(y[idx] - sub @ shared.coef)
            by_cause[str(cause)] = _Block(shared.columns, shared.coef, pool)
    return EtrModel(shared, by_cause, len(h), tz)


def _fit_block(
    feats: pd.DataFrame, y: np.ndarray, weeks: np.ndarray, drop: tuple[str, ...] = ()
) -> _Block:
    x, columns = _design(feats, drop=drop)
    # out-of-fold residuals: the error on outages the fit did not see
    resid = np.empty(len(y))
    folds = weeks % FOLDS
    for k in range(FOLDS):
        test = folds == k
        if not test.any() or test.all():
            continue
        resid[test] = y[test] - x[test] @ _solve(x[~test], y[~test])
    if len(np.unique(folds)) < 2:  # too short a history for folds: in-sample residuals
        resid = y - x @ _solve(x, y)
    return _Block(columns, _solve(x, y), np.sort(resid), drop)


def _quantile(sorted_values: np.ndarray, q: float) -> float:
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    pos = q * (len(sorted_values) - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo]))


def predict_minutes(
    model: EtrModel,
    outages: pd.DataFrame,
    elapsed_min=None,
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    load=None,
) -> pd.DataFrame:
    """Quantiles of each outage's total duration in minutes (columns ``q10``, ``q50``, ``q90``
    for the default ``quantiles``), given it has lasted ``elapsed_min`` (array, default 0)."""
    feats = features(outages, model.tz, load)
    n = len(outages)
    mu = np.empty(n)
    pools: list[np.ndarray] = [model.shared.pool] * n
    for cause, idx in feats.groupby("cause").indices.items():
        b = model.block(str(cause))
        mu[idx] = _design(feats.iloc[idx], b.columns, b.drop)[0] @ b.coef
        for i in idx:
            pools[i] = b.pool
    elapsed = np.zeros(n) if elapsed_min is None else np.asarray(elapsed_min, float)
    out = np.empty((n, len(quantiles)))
    for i in range(n):
        pool = pools[i]
        if elapsed[i] > 0:
            # durations longer than what has already passed
            cut = np.searchsorted(pool, np.log(max(elapsed[i], 1e-9)) - mu[i], side="right")
            rest = pool[cut:]
        else:
            rest = pool
        if len(rest) == 0:  # longer than anything seen: soon, but not in the past
            out[i] = [elapsed[i] + 15.0 * (1 + k) for k in range(len(quantiles))]
            continue
        out[i] = [np.exp(mu[i] + _quantile(rest, q)) for q in quantiles]
    # an extrapolation past anything sane (or not finite) says "very long", not a date in 2300
    out = np.where(np.isfinite(out), np.minimum(out, MAX_MINUTES), MAX_MINUTES)
    return pd.DataFrame(out, columns=[f"q{round(q * 100)}" for q in quantiles])


def predict_restoration(
    model: EtrModel, active: pd.DataFrame, now, load=None, level: float = 0.8
) -> pd.DataFrame:
    """Predicted restoration of active outages (UTC times): ``p50`` and the ``level`` interval
    ``lo``-``hi`` (never before ``now``), indexed like ``active``. ``load`` defaults to the
    number of other active outages (the board's concurrent load)."""
    now = pd.Timestamp(now)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    start = pd.to_datetime(active["start"], utc=True)
    elapsed = ((now - start).dt.total_seconds() / 60.0).clip(lower=0).to_numpy()
    if load is None:
        load = np.full(len(active), max(0, len(active) - 1))
    a = (1 - level) / 2
    q = predict_minutes(model, active, elapsed, (a, 0.5, 1 - a), load)
    res = pd.DataFrame(index=active.index)
    for name, c in zip(("lo", "p50", "hi"), q.columns, strict=True):
        t = pd.Series(start.to_numpy(), index=active.index) + pd.to_timedelta(
            q[c].to_numpy(), unit="min"
        )
        res[name] = t.where(t > now, now)
    return res


def median_by_cause(train: pd.DataFrame) -> tuple[dict[str, float], float]:
    """The naive baseline: the median duration (minutes) of each cause in ``train`` (a
    :func:`training_set`), and the overall median for causes it has not seen."""
    feats = features(train, load=np.zeros(len(train)))
    d = pd.Series(train["duration_min"].to_numpy(), index=feats["cause"].to_numpy())
    return d.groupby(level=0).median().to_dict(), float(d.median())


def evaluate(
    history: pd.DataFrame,
    tz: str = "UTC",
    split: str = "weeks",
    level: float = 0.8,
) -> dict:
    """Hold out part of ``history``, fit on the rest, and predict each held-out outage at its
    start: coverage of the ``level`` interval, median absolute error (minutes) of the median
    prediction, and the same error of the naive median-by-cause baseline (fitted on the same
    training part). ``split="weeks"`` holds out every fourth week (whole weeks, so a storm's
    outages are all on one side, and every season is on both); ``"last"`` the last quarter."""
    h = history.sort_values("start").reset_index(drop=True)
    load = concurrent_load(h["start"], h["end"])
    h = h.assign(load=load)
    start = pd.to_datetime(h["start"], utc=True)
    if split == "last":
        held = (start >= start.iloc[int(len(h) * 0.75)]).to_numpy()
    else:
        week = ((start - start.min()).dt.days // 7).to_numpy()
        held = week % 4 == 3
    train_all, test_all = h[~held], h[held]
    model = fit(train_all, tz)
    test = training_set(test_all)
    if model is None or test.empty:
        return {"n_train": 0, "n_test": len(test)}
    a = (1 - level) / 2
    q = predict_minutes(model, test, None, (a, 0.5, 1 - a))
    actual = test["duration_min"].to_numpy()
    lo, med, hi = (q[c].to_numpy() for c in q.columns)
    medians, overall = median_by_cause(training_set(train_all))
    causes = features(test, load=np.zeros(len(test)))["cause"]
    base = np.array([medians.get(c, overall) for c in causes])
    return {
        "n_train": model.n_train,
        "n_test": len(test),
        "coverage": float(np.mean((actual >= lo) & (actual <= hi))),
        "mae_model": float(np.median(np.abs(med - actual))),
        "mae_baseline": float(np.median(np.abs(base - actual))),
    }
