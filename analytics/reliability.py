"""Reliability indices: SAIFI, SAIDI, CAIDI, CAIFI, ASAI, MAIFI, CEMI-n, CELID-t (IEEE 1366-2022),
AIHC, RS-1, RS-3 (DL/T 836-2016), Major Event Days by the 2.5β method (IEEE 1366-2022 §4.5).

Counting rules (DESIGN.md, Definitions):

- Customers are counted per transformer area (台区). An outage at transformer level interrupts
  its area; at feeder level every area on the feeder; at substation level (a 35 kV event, one row
  per feeder) every area on the named feeder, or on all the substation's feeders when the row
  names none. Overlapping outages on one area are merged into one interruption (union of time;
  intervals that merely touch stay separate).
- An interruption is sustained when it lasts more than ``momentary_minutes`` (5 min) and
  momentary otherwise (IEEE 1366), judged on the merged interval's whole duration. An active
  outage (``end`` missing) is taken to end at ``now`` (default: the window end).
- In a window or month, an interruption is *counted* (SAIFI, MAIFI, CAIFI, CEMI-n) in the period
  where it starts. Its minutes (SAIDI, AIHC, CELID-t) follow ``settings.period_rule``: ``start``
  (default) charges them whole to the period it starts in, as IEEE 1366's daily accounting does;
  ``clip`` takes only the minutes inside the period. Daily SAIDI for Major Event Days follows the
  same rule. An active outage ends at the window end (or ``now``, when earlier) and is counted in
  ``open_outages``.
- Customers served: the network's; where it has none, ``settings.customers_served`` (system) and
  ``customers_served_feeders`` / ``_substations``; ``attrs["customer_base"]`` says which.
- Major Event Days: 2.5β over up to ``med_years`` of history; with less than
  ``med_min_history_days`` of it, a provisional T_MED from the window's own days
  (``info["provisional"]``); none from fewer than ``med_min_days`` days with interruptions.
- Two customer bases: ``households`` (the transformers' ``customers``; IEEE 1366) and
  ``users_10kv`` (one per public transformer plus the customers of dedicated transformers;
  DL/T 836).
- Outages that cannot be placed in the network (feeder empty or unknown, transformer unknown)
  count with their own ``customers`` (on the users basis scaled by the network's
  users/households ratio) in the system totals, and in their substation's when it is known; they
  add to the numerators only, never to the customers served.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.interruptions import BY_KEYS, InterruptionModel, interruption_table, outage_frame
from analytics.major_events import major_event_analysis, med_day_spans, med_threshold
from analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from analytics.times import (
    NAT,
    NS_PER_MIN,
    local_floor,
    local_periods,
    to_ns,
    window_ns,
)

__all__ = [
    "area_interruptions",
    "indices",
    "major_event_days",
    "med_threshold",
    "outages_without_customers",
    "system_indices",
]


# --------------------------------------------------------------------------------------------
# Indices
# --------------------------------------------------------------------------------------------
def _overlap_minutes(start, end, lo, hi) -> np.ndarray:
    """Minutes of each [start, end) inside [lo, hi) (ns)."""
    return np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0, None) / NS_PER_MIN


def _slot_stats(
    merged: pd.DataFrame,
    n_slots: int,
    period_start: int,
    period_end: int,
    rule: str = "start",
    med: list[tuple[int, int]] | None = None,
    tz: str = "UTC",
):
    """Per slot: sustained interruptions counted, momentary counted, sustained minutes.

    An interruption is counted in the period it starts in. Its minutes are, by ``rule``:
    ``start``, all of them, charged to the period it starts in (IEEE 1366 daily accounting);
    ``clip``, those inside the period. ``med``: the local Major Event Days as (start, end) ns;
    given, the figures leave them out (interruptions starting on one; with ``clip`` also the
    minutes inside one)."""
    start, end = merged["start"].to_numpy(), merged["end"].to_numpy()
    slot = merged["slot"].to_numpy()
    momentary = merged["momentary"].to_numpy()
    sus = ~momentary
    counted = (start >= period_start) & (start < period_end)
    if med is not None and len(med):
        on_med = np.isin(local_floor(start, tz, "D"), np.array([d for d, _ in med], np.int64))
        counted = counted & ~on_med
    if rule == "start":
        minutes = np.where(counted, merged["minutes"].to_numpy(), 0.0)
    else:
        minutes = _overlap_minutes(start, end, period_start, period_end)
        for d0, d1 in med or ():
            minutes = minutes - _overlap_minutes(
                start, end, max(d0, period_start), min(d1, period_end)
            )
        minutes = np.clip(minutes, 0, None)
    cnt = np.bincount(slot[counted & sus], minlength=n_slots).astype(float)
    mom = np.bincount(slot[counted & momentary], minlength=n_slots).astype(float)
    mins = np.bincount(slot[sus], weights=minutes[sus], minlength=n_slots)
    return cnt, mom, mins


def _aggregate(
    model: InterruptionModel, codes: np.ndarray, n_groups: int, sustained, momentary, minutes
) -> dict[str, np.ndarray]:
    s = model.settings
    ok = codes >= 0
    c = codes[ok]
    N = model.customers[ok]

    served = np.bincount(c, weights=model.served[ok], minlength=n_groups)
    ci = np.bincount(c, weights=N * sustained[ok], minlength=n_groups)
    cmi = np.bincount(c, weights=N * minutes[ok], minlength=n_groups)
    distinct = np.bincount(c, weights=N * (sustained[ok] >= 1), minlength=n_groups)
    momci = np.bincount(c, weights=N * momentary[ok], minlength=n_groups)
    cemi = np.bincount(c, weights=N * (sustained[ok] > s.cemi_n), minlength=n_groups)
    celid = np.bincount(c, weights=N * (minutes[ok] >= s.celid_t_hours * 60.0), minlength=n_groups)
    return {
        "served": served,
        "ci": ci,
        "cmi": cmi,
        "distinct": distinct,
        "momci": momci,
        "cemi": cemi,
        "celid": celid,
    }


def _div(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _period_frame(
    model: InterruptionModel,
    by: str,
    period_start: int,
    period_end: int,
    med: list[tuple[int, int]],
) -> pd.DataFrame:
    codes, labels = model.group_codes(by)
    g = len(labels)
    rule = model.settings.period_rule
    tz = model.tz
    minutes_in_period = (period_end - period_start) / NS_PER_MIN
    hours = minutes_in_period / 60.0

    def stats(kind: str, drop_med: bool = False) -> dict[str, np.ndarray]:
        m = model.merged(kind)
        return _aggregate(
            model,
            codes,
            g,
            *_slot_stats(
                m, model.n_slots, period_start, period_end, rule, med if drop_med else None, tz
            ),
        )

    base = stats("all")
    served = base["served"]
    # where the network gives no customers, the configured count (issue 15)
    configured = model.configured_served(by)
    if configured:
        fill = np.array([float(configured.get(label, 0.0)) for label in labels])
        served = np.where(served > 0, served, fill)
    saifi = _div(base["ci"], served)
    saidi = _div(base["cmi"], served)
    out = {
        "customers_served": served,
        "customers_interrupted": base["ci"],
        "customer_minutes": base["cmi"],
        "customer_hours": base["cmi"] / 60.0,
        "saifi": saifi,
        "saidi": saidi,
        "caidi": _div(saidi, saifi),
        "caifi": _div(base["ci"], base["distinct"]),
        "asai": 1.0 - saidi / minutes_in_period,
        "maifi": _div(base["momci"], served),
        "cemi_n": _div(base["cemi"], served),
        "celid_t": _div(base["celid"], served),
        "aihc": saidi / 60.0,
        "rs1": (1.0 - (saidi / 60.0) / hours) * 100.0,
    }
    ns = stats("no_shortage")
    out["rs3"] = (1.0 - _div(ns["cmi"], served) / 60.0 / hours) * 100.0
    for kind in ("planned", "fault"):
        k = stats(kind)
        out[f"saifi_{kind}"] = _div(k["ci"], served)
        out[f"saidi_{kind}"] = _div(k["cmi"], served)
        out[f"caidi_{kind}"] = _div(out[f"saidi_{kind}"], out[f"saifi_{kind}"])
        out[f"aihc_{kind}"] = out[f"saidi_{kind}"] / 60.0
    # without Major Event Days (IEEE 1366 2.5β): all, planned and fault (unplanned)
    for kind, suffix in (("all", ""), ("planned", "_planned"), ("fault", "_fault")):
        ex = stats(kind, drop_med=True)
        out[f"saifi{suffix}_ex_med"] = _div(ex["ci"], served)
        out[f"saidi{suffix}_ex_med"] = _div(ex["cmi"], served)
        out[f"caidi{suffix}_ex_med"] = _div(
            out[f"saidi{suffix}_ex_med"], out[f"saifi{suffix}_ex_med"]
        )
    budget = model.settings.aihc_budget_hours
    out["budget_use"] = (
        _div(out["aihc"], np.full(g, budget * 1.0)) if budget > 0 else np.full(g, np.nan)
    )
    out["open_outages"] = _open_outages(model, by, labels, period_start, period_end)
    frame = pd.DataFrame(out)
    key = BY_KEYS[by]
    if key is not None:
        frame.insert(0, key, labels)
    return frame


def _open_outages(
    model: InterruptionModel, by: str, labels: list, period_start: int, period_end: int
) -> np.ndarray:
    """Outage records without a restoration time that count in [period_start, period_end)
    (started in it; with ``clip``, also those that started before and are still open), per
    group."""
    o = model.o
    start, end = o["start"].to_numpy(), o["end"].to_numpy()
    sel = (end == NAT) & (start < period_end)
    if model.settings.period_rule == "start":
        sel &= start >= period_start
    if by == "system":
        return np.array([float(sel.sum())])
    if by in ("area", "transformer"):
        keys = o["transformer"].to_numpy(object)
    elif by == "feeder":
        keys = o["feeder"].to_numpy(object)
    else:
        f2s = model.areas.feeder_substation
        keys = np.array(
            [s if s is not None else f2s.get(f) for s, f in zip(o["substation"], o["feeder"])],
            dtype=object,
        )
    counts = pd.Series(keys[sel]).value_counts()
    return np.array([float(counts.get(label, 0)) for label in labels])


def _now(now: Any, we: int, tz: str) -> int:
    if now is None:
        return we
    t = pd.Timestamp(now)
    t = t.tz_localize(tz) if t.tzinfo is None else t
    return int(t.tz_convert("UTC").as_unit("ns").value)


def _prepared(
    network: dict,
    outages: pd.DataFrame,
    settings: AnalyticsSettings,
    basis: str | None,
    now: int,
    cache: dict | None,
) -> InterruptionModel:
    """The outages placed and merged on the network; memoised in ``cache`` when given."""
    if cache is None:
        return InterruptionModel(network, outages, settings, basis, now)
    key = ("model", basis or settings.customer_basis, now)
    if key not in cache:
        cache[key] = InterruptionModel(network, outages, settings, basis, now)
    return cache[key]


def _med_cached(
    model: InterruptionModel, ws: int, we: int, history_start: Any, cache: dict | None
) -> tuple[pd.DataFrame, dict]:
    if cache is None:
        return major_event_analysis(model, ws, we, history_start)
    key = ("med", model.areas.basis, model.now, ws, we, str(history_start))
    if key not in cache:
        cache[key] = major_event_analysis(model, ws, we, history_start)
    table, info = cache[key]
    return table.copy(), dict(info)


def major_event_days(
    network: dict,
    outages: pd.DataFrame,
    *,
    window: tuple,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    basis: str | None = None,
    history_start: Any = None,
    now: Any = None,
    cache: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Major Event Days of the window by the IEEE 1366-2022 2.5β method.

    The threshold comes from daily system SAIDI over the ``med_years`` (5) years before the window
    (or what the outage history covers, from its first outage or ``history_start``; the number of
    years used is reported as ``years_available``; with less than ``med_min_history_days`` of
    it, a provisional threshold from the window's own days, see
    :func:`analytics.major_events.major_event_analysis`; open outages end at ``now`` or the
    window end, whichever is earlier). Returns a table of the window's local days
    (day, day_start UTC, saidi, is_med) and a dict: alpha, beta, threshold, n_days,
    years_available, med_days (ISO dates)."""
    ws, we = window_ns(window, settings.tz)
    model = _prepared(network, outages, settings, basis, min(_now(now, we, settings.tz), we), cache)
    return _med_cached(model, ws, we, history_start, cache)


def indices(
    by: str,
    network: dict,
    outages: pd.DataFrame,
    *,
    window: tuple,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    basis: str | None = None,
    freq: str | None = None,
    now: Any = None,
    history_start: Any = None,
    cache: dict | None = None,
) -> pd.DataFrame:
    """Reliability indices per ``by`` ("system", "substation", "feeder" or "area") over a window,
    or per local month inside it with ``freq="M"``.

    Columns: the group key (substation / feeder / transformer; none for system), ``period_start``
    and ``month`` with ``freq``, customers_served, customers_interrupted, customer_minutes,
    customer_hours, SAIFI, SAIDI (minutes), CAIDI, CAIFI, ASAI, MAIFI, CEMI-n, CELID-t
    (IEEE 1366-2022; n and t from settings, CELID-t on total duration), AIHC (hours), RS-1 and
    RS-3 (%; DL/T 836, RS-3 leaves supply-shortage outages out), SAIFI/SAIDI/CAIDI/AIHC split
    into planned and fault (unplanned), SAIFI/SAIDI/CAIDI without Major Event Days, all, planned
    and fault (``*_ex_med``, ``*_planned_ex_med``, ``*_fault_ex_med``; IEEE 1366 2.5β, see
    :func:`major_event_days`), ``budget_use`` = AIHC / yearly ``aihc_budget_hours``, and
    ``open_outages`` (records without a restoration time counted in the period). Minutes follow
    ``settings.period_rule``; ``attrs`` carry ``med`` (T_MED, provisional or not, MED days),
    ``period_rule`` and ``customer_base`` (network, config or none).
    ``window`` is (start, end), end exclusive; dates and naive times are local. ``cache``: a dict
    shared by calls on the same network, outages and settings (the window may differ), in which
    the placed and merged outages and the MED analysis are kept, so that they are built once.
    """
    if by not in BY_KEYS:
        raise ValueError(f"by must be one of system, substation, feeder, area: {by!r}")
    ws, we = window_ns(window, settings.tz)
    # open outages end at the window end, or at ``now`` when that is earlier
    model = _prepared(network, outages, settings, basis, min(_now(now, we, settings.tz), we), cache)
    _, info = _med_cached(model, ws, we, history_start, cache)
    med = med_day_spans(info, settings.tz)
    if freq is None:
        frame = _period_frame(model, by, ws, we, med)
    elif freq in ("M", "MS", "month"):
        parts = []
        for ps, pe in local_periods(ws, we, settings.tz, "M"):
            f = _period_frame(model, by, ps, pe, med)
            local = pd.Timestamp(ps, tz="UTC").tz_convert(settings.tz)
            f.insert(0, "month", local.strftime("%Y-%m"))
            f.insert(1, "period_start", pd.Timestamp(ps, tz="UTC"))
            parts.append(f)
        frame = pd.concat(parts, ignore_index=True)
    else:
        raise ValueError(f"freq must be None or 'M': {freq!r}")
    frame.attrs.update(
        {
            "med": info,
            "basis": model.areas.basis,
            "period_rule": settings.period_rule,
            # where customers served come from: the network, config, or nowhere (issue 15)
            "customer_base": (
                "network"
                if model.served.sum() > 0
                else "config"
                if (settings.customers_served > 0 or model.configured_served(by))
                else "none"
            ),
            "cemi_n": settings.cemi_n,
            "celid_t_hours": settings.celid_t_hours,
            # outages in the window whose source gave no customer count (counted as 0)
            "outages_without_customers": outages_without_customers(
                outages, window=window, tz=settings.tz
            ),
        }
    )
    return frame


def outages_without_customers(
    outages: pd.DataFrame, *, window: tuple | None = None, tz: str = "UTC"
) -> int:
    """How many outages (overlapping ``window`` when given) have no customer count (NULL,
    blank: unknown, which the indices count as 0 customers interrupted)."""
    if outages.empty:
        return 0
    if "customers" not in outages:
        unknown = np.ones(len(outages), bool)
    else:
        unknown = pd.to_numeric(outages["customers"], errors="coerce").isna().to_numpy(copy=True)
    if window is not None and "start" in outages:
        ws, we = window_ns(window, tz)
        start = to_ns(outages["start"], tz)
        end = to_ns(outages["end"], tz) if "end" in outages else np.full(len(outages), NAT)
        unknown &= (start != NAT) & (start < we) & ((end == NAT) | (end > ws))
    return int(unknown.sum())


def system_indices(
    network: dict,
    outages: pd.DataFrame,
    *,
    window: tuple,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    basis: str | None = None,
    now: Any = None,
    history_start: Any = None,
    cache: dict | None = None,
) -> pd.DataFrame:
    """System indices for the window: one row as :func:`indices` with ``by="system"``, plus the
    MED figures (IEEE 1366-2022 2.5β): med_threshold, med_alpha, med_beta, med_count,
    med_years_available, and the budget figures budget_hours_per_customer and budget_use."""
    frame = indices(
        "system",
        network,
        outages,
        window=window,
        settings=settings,
        basis=basis,
        now=now,
        history_start=history_start,
        cache=cache,
    )
    info = frame.attrs["med"]
    frame["med_threshold"] = info["threshold"]
    frame["med_alpha"] = info["alpha"]
    frame["med_beta"] = info["beta"]
    frame["med_count"] = len(info["med_days"])
    frame["med_years_available"] = info["years_available"]
    frame["med_history_days"] = info["history_days"]
    frame["med_provisional"] = info["provisional"]
    frame["med_days"] = " ".join(info["med_days"])
    frame["period_rule"] = settings.period_rule
    frame["budget_hours_per_customer"] = settings.aihc_budget_hours
    return frame


def area_interruptions(
    network: dict,
    outages: pd.DataFrame,
    *,
    settings: AnalyticsSettings = DEFAULT_SETTINGS,
    now: Any = None,
    kind: str = "all",
    basis: str | None = None,
) -> pd.DataFrame:
    """Merged interruptions per transformer area (union of overlapping outages, DESIGN.md).

    One row per interruption: transformer (None for outages not placed in the network), feeder,
    substation, start/end (UTC), minutes, momentary (≤ ``momentary_minutes``, IEEE 1366),
    customers (on the basis), planned / supply_shortage (true when every merged outage was),
    n_outages, and from the earliest merged outage: outage_id, event_id, level, cause.
    ``kind`` restricts the outages first: all, planned, fault or no_shortage. Active outages end
    at ``now`` (default: the latest time in the data)."""
    tmp = outage_frame(outages, settings.tz)
    if now is None:
        ends = np.r_[tmp["start"].to_numpy(), tmp["end"].to_numpy()[tmp["end"].to_numpy() != NAT]]
        now_ns = int(ends.max()) if len(ends) else 0
    else:
        now_ns = _now(now, 0, settings.tz)
    model = InterruptionModel(network, outages, settings, basis, now_ns)
    return interruption_table(model, kind)
