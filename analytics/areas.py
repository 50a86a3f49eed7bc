"""The network's transformer areas (台区) and the cleaning of ids the analytics compare."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _clean(values: list) -> list:
    return [
        (str(v).strip() or None)
        if isinstance(v, str) or (v is not None and not pd.isna(v))
        else None
        for v in values
    ]


def text(series: pd.Series) -> pd.Series:
    """Ids as trimmed Python-object strings with missing values as None (simple to compare)."""
    obj = series.astype("object")
    if len(obj) > 64 and pd.api.types.infer_dtype(obj, skipna=True) == "string":
        # only strings (and missing values): clean each distinct id once (ids repeat: an
        # outage's areas, a county's daily rows); strings hash exactly, so no two ids merge
        codes, uniques = pd.factorize(obj, use_na_sentinel=True)
        cleaned = np.array(_clean(list(uniques)) + [None], dtype=object)
        return pd.Series(cleaned[codes], dtype=object)
    return pd.Series(_clean(obj.tolist()), dtype=object)


def factor_text(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, labels)`` of an id column, ids trimmed as :func:`text` does; missing ids get
    code -1. Cleans only the distinct values, so it is fast on long columns."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if isinstance(uniques, pd.CategoricalIndex) or hasattr(uniques, "categories"):
        uniques = np.asarray(uniques, dtype=object)
    cleaned = text(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    ok = cleaned.notna().to_numpy()
    labels, relabel = pd.factorize(cleaned[ok])
    mapping = np.full(len(cleaned) + 1, -1, dtype=np.int64)
    mapping[np.flatnonzero(ok)] = labels
    out = mapping[np.where(codes >= 0, codes, len(cleaned))]
    return out, np.asarray(relabel, dtype=object)


def areas_table(network: dict, basis: str = "households") -> pd.DataFrame:
    """One row per transformer area: transformer, feeder, substation, kind, kva, households,
    users_10kv and ``customers`` on the chosen basis.

    Households are the ``customers`` column (IEEE 1366 counts customers); 10 kV users count a
    public transformer as one user and a dedicated transformer by its customers (DL/T 836).
    """
    tr = network["transformers"]
    fd = network["feeders"]
    out = pd.DataFrame({"transformer": text(tr["transformer"]), "feeder": text(tr["feeder"])})
    kind = (
        text(tr["kind"]).str.lower().to_numpy() if "kind" in tr else np.array(["public"] * len(tr))
    )
    out["kind"] = np.where(
        pd.Series(kind).fillna("public").to_numpy() == "dedicated", "dedicated", "public"
    )
    hh = (
        pd.to_numeric(tr["customers"], errors="coerce").fillna(0).to_numpy(dtype=float)
        if "customers" in tr
        else np.ones(len(tr))
    )
    out["households"] = hh
    out["users_10kv"] = np.where(out["kind"].to_numpy() == "dedicated", np.maximum(hh, 1.0), 1.0)
    out["kva"] = (
        pd.to_numeric(tr["kva"], errors="coerce").to_numpy(dtype=float) if "kva" in tr else np.nan
    )
    for col in ("town", "address"):
        out[col] = text(tr[col]).to_numpy() if col in tr else None
    f2s = dict(zip(text(fd["feeder"]), text(fd["substation"])))
    out["substation"] = pd.Series([f2s.get(f) for f in out["feeder"]], dtype=object)
    out["customers"] = out["users_10kv"] if basis == "users_10kv" else out["households"]
    return out
