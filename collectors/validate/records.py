"""Validation of event records: outages and complaints (95598 work orders)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from collectors.parse import blank, clean_text, parse_bools, parse_numbers
from db.models import COMPLAINT_CATEGORIES

from .checks import (
    Checked,
    Context,
    Rejects,
    check_id,
    check_texts,
    check_time,
    check_version,
    lookup_ids,
    values_of,
)
from .reasons import CATEGORY_NAMES, ETR_HORIZON_DAYS, MAX_CUSTOMERS


def validate_outages(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Outage records -> rows for ``upsert_outages`` (see db.upsert.OUTAGE_COLUMNS)."""
    rej = Rejects(frame.index)
    notes: Counter = Counter()
    new_codes: dict[str, set[str]] = {}
    codes = {
        name: check_id(rej, values_of(frame, name), name, required=name == "outage_id")
        for name in ("outage_id", "event_id", "substation", "feeder", "transformer")
    }
    check_texts(rej, frame, ("area_text", "cause", "region"))
    planned, bad_planned = parse_bools(values_of(frame, "planned"))
    start, end, etr = _outage_times(rej, frame, ctx, planned, notes)
    customers = _customer_counts(rej, frame)
    shortage, bad_shortage = parse_bools(values_of(frame, "supply_shortage"))
    # Set by collectors that end an outage themselves (snapshot feeds: it vanished).
    inferred_end, bad_inferred = parse_bools(values_of(frame, "inferred_end"))
    rej.add(bad_planned | bad_shortage | bad_inferred, "bad_boolean")
    lon, bad_lon = parse_numbers(values_of(frame, "lon"))
    lat, bad_lat = parse_numbers(values_of(frame, "lat"))
    rej.add(bad_lon | bad_lat, "bad_coordinate")
    version = check_version(rej, frame, ctx)
    place = _place_in_network(rej, ctx, codes, new_codes)
    level = _outage_level(rej, frame, place)
    _check_served(rej, ctx, level, customers, place)
    now = pd.Timestamp(ctx.now)
    duration_h = ((end.where(end.notna(), now) - start).dt.total_seconds() / 3600).fillna(0)
    suspicious = duration_h > ctx.suspicious_hours
    bad_location = ((lon == 0) & (lat == 0)) | (lon.abs() > 180) | (lat.abs() > 90)
    notes["flag_suspicious"] += int((suspicious & rej.ok).sum())
    notes["flag_bad_location"] += int((bad_location & rej.ok).sum())
    # A blank count is unknown (stored NULL), never a real 0 customers.
    notes["customers_unknown"] += int((customers.isna() & rej.ok).sum())
    natural_id, event_id = codes["outage_id"], codes["event_id"]
    good = pd.DataFrame(
        {
            "natural_id": natural_id,
            "event_id": event_id.where(event_id.notna(), natural_id),
            "level": level,
            "substation_id": place["substation_id"],
            "feeder_id": place["feeder_id"],
            "transformer_id": place["transformer_id"],
            "lon": lon,
            "lat": lat,
            "area_text": clean_text(values_of(frame, "area_text")),
            "region": clean_text(values_of(frame, "region")),
            "start_at": start,
            "end_at": end,
            "etr_at": etr,
            "customers": customers,
            "cause": clean_text(values_of(frame, "cause")),
            "planned": planned,
            "supply_shortage": shortage,
            "inferred_end": inferred_end,
            "suspicious": suspicious,
            "bad_location": bad_location.fillna(False),
            "version": version,
            # Codes travel along for authoritative registration.
            "_substation": place["substation"],
            "_feeder": place["feeder"],
            "_transformer": place["transformer"],
        }
    )[rej.ok]
    return Checked(good, rej.frame(), notes, new_codes)


def _outage_times(
    rej: Rejects, frame: pd.DataFrame, ctx: Context, planned: pd.Series, notes: Counter
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Start, end and estimated restoration time (ETR); an ETR beyond ETR_HORIZON_DAYS is
    cleared and counted, not refused."""
    # a planned outage may be announced ahead (start and planned end in the future)
    start = check_time(
        rej, values_of(frame, "start"), ctx, "start", required=True, future_ok=planned
    )
    end = check_time(rej, values_of(frame, "end"), ctx, "end", required=False, future_ok=planned)
    etr = check_time(
        rej, values_of(frame, "etr"), ctx, "etr", required=False, future_ok=True, notes=notes
    )
    rej.add(end < start, "end_before_start")
    # An estimate years ahead is a typo in the estimate, not a reason to lose the outage.
    implausible_etr = (etr - start) > pd.Timedelta(days=ETR_HORIZON_DAYS)
    notes["etr_implausible_cleared"] += int((implausible_etr & rej.ok).sum())
    return start, end, etr.where(~implausible_etr)


def _customer_counts(rej: Rejects, frame: pd.DataFrame) -> pd.Series:
    """Customers out: a whole number from 0 to MAX_CUSTOMERS, or blank (unknown)."""
    customers, bad = parse_numbers(values_of(frame, "customers"))
    rej.add(bad | (customers.notna() & (customers % 1 != 0)), "bad_customers")
    rej.add(customers < 0, "negative_customers")
    rej.add(customers > MAX_CUSTOMERS, "absurd_customers")
    return customers


def _place_in_network(
    rej: Rejects, ctx: Context, codes: dict[str, pd.Series], new_codes: dict[str, set[str]]
) -> dict[str, pd.Series]:
    """The outage's substation, feeder and transformer codes and database ids, the parents the
    network knows filled in, so every row sits as deep in the tree as it can."""
    substation, feeder, transformer = codes["substation"], codes["feeder"], codes["transformer"]
    substation_id = lookup_ids(
        rej, substation, ctx.substations, "unknown_substation", ctx, new_codes, "substations"
    )
    feeder_id = lookup_ids(rej, feeder, ctx.feeders, "unknown_feeder", ctx, new_codes, "feeders")
    transformer_id = lookup_ids(
        rej, transformer, ctx.transformers, "unknown_transformer", ctx, new_codes, "transformers"
    )
    owner = transformer.map(ctx.feeder_of_transformer)
    rej.add(feeder.notna() & owner.notna() & (owner != feeder), "feeder_mismatch", transformer)
    feeder = feeder.where(feeder.notna(), owner)
    feeder_id = feeder_id.where(feeder_id.notna(), feeder.map(ctx.feeders))
    substation = substation.where(substation.notna(), feeder.map(ctx.feeder_of_substation))
    substation_id = substation_id.where(substation_id.notna(), substation.map(ctx.substations))
    return {
        "substation": substation,
        "feeder": feeder,
        "transformer": transformer,
        "substation_id": substation_id,
        "feeder_id": feeder_id,
        "transformer_id": transformer_id,
    }


def _outage_level(rej: Rejects, frame: pd.DataFrame, place: dict[str, pd.Series]) -> pd.Series:
    """The level given, or the deepest one the record names (``unknown`` when none)."""
    level_raw = clean_text(values_of(frame, "level"))
    derived = pd.Series(
        np.select(
            [place["transformer"].notna(), place["feeder"].notna(), place["substation"].notna()],
            ["transformer", "feeder", "substation"],
            "unknown",
        ),
        index=frame.index,
    )
    level = level_raw.where(level_raw.notna(), derived)
    rej.add(~level.isin(["substation", "feeder", "transformer", "unknown"]), "bad_level", level_raw)
    return level


def _check_served(
    rej: Rejects,
    ctx: Context,
    level: pd.Series,
    customers: pd.Series,
    place: dict[str, pd.Series],
) -> None:
    """Refuse more customers out than the transformer area (or else the feeder) serves."""
    served = pd.Series(
        np.where(
            level == "transformer",
            place["transformer"].map(ctx.served_transformer),
            place["feeder"].map(ctx.served_feeder),
        ),
        index=level.index,
        dtype="float64",
    )
    rej.add(
        customers > served,
        "customers_exceed_served",
        customers.astype(str) + " > " + served.astype(str),
    )


def validate_complaints(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Complaint (95598 work order) records -> rows for ``upsert_complaints``."""
    rej = Rejects(frame.index)
    new_codes: dict[str, set[str]] = {}
    ticket = check_id(rej, values_of(frame, "ticket_id"), "ticket_id")
    merged = check_id(rej, values_of(frame, "merged_into"), "merged_into", required=False)
    feeder = check_id(rej, values_of(frame, "feeder"), "feeder", required=False)
    transformer = check_id(rej, values_of(frame, "transformer"), "transformer", required=False)
    check_texts(rej, frame, ("text", "address", "town"))
    time = check_time(rej, values_of(frame, "time"), ctx, "time", required=True)
    raw_category = clean_text(values_of(frame, "category"))
    category = raw_category.map(lambda c: CATEGORY_NAMES.get(c, c) if c is not None else "other")
    rej.add(~category.isin(COMPLAINT_CATEGORIES), "unknown_category", raw_category)
    reasonable, bad_reasonable = parse_bools(values_of(frame, "reasonable"))
    rej.add(bad_reasonable, "bad_boolean", "reasonable")
    given_reasonable = ~blank(values_of(frame, "reasonable"))
    version = check_version(rej, frame, ctx)
    transformer_id = lookup_ids(
        rej, transformer, ctx.transformers, "unknown_transformer", ctx, new_codes, "transformers"
    )
    feeder_id = lookup_ids(rej, feeder, ctx.feeders, "unknown_feeder", ctx, new_codes, "feeders")
    owner = transformer.map(ctx.feeder_of_transformer)
    rej.add(feeder.notna() & owner.notna() & (owner != feeder), "feeder_mismatch", transformer)
    feeder_id = feeder_id.where(feeder_id.notna(), owner.map(ctx.feeders))
    good = pd.DataFrame(
        {
            "ticket_id": ticket,
            "received_at": time,
            "category": category,
            "reasonable": reasonable.astype(object).where(given_reasonable, None),
            "merged_into": merged,
            "transformer_id": transformer_id,
            "feeder_id": feeder_id,
            "town": clean_text(values_of(frame, "town")),
            "address": clean_text(values_of(frame, "address")),
            "text": clean_text(values_of(frame, "text")),
            "version": version,
            "_feeder": feeder,
            "_transformer": transformer,
        }
    )[rej.ok]
    return Checked(good, rej.frame(), Counter(), new_codes)
