"""Validation of network rows: substations, feeders (with their line geometry) and
transformer areas."""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import pandas as pd

from collectors.parse import clean_text, parse_numbers

from .checks import Checked, Context, Rejects, check_id, check_texts, values_of

_WKT_LINE = re.compile(r"^\s*(MULTI)?LINESTRING\s*(?:Z\s*)?\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def _coords(text: str) -> list[list[float]]:
    points = []
    for pair in text.split(","):
        parts = pair.strip().strip("()").split()
        if len(parts) < 2:
            raise ValueError("a point needs x and y")
        lon, lat = float(parts[0]), float(parts[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError("coordinate out of range")
        points.append([lon, lat])
    if len(points) < 2:
        raise ValueError("a line needs two points")
    return points


def parse_geometry(value) -> str | None:
    """WKT (MULTI)LINESTRING or a GeoJSON (Multi)LineString -> GeoJSON MultiLineString text.

    Raises ValueError for anything else; returns None for a blank value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dict):
        geo = value
    else:
        text = str(value).strip()
        if not text:
            return None
        if text.startswith("{"):
            geo = json.loads(text)
        else:
            match = _WKT_LINE.match(text)
            if not match:
                raise ValueError("not a WKT line")
            body = match.group(2)
            if match.group(1):
                lines = [_coords(part) for part in re.findall(r"\(([^()]*)\)", body)]
            else:
                lines = [_coords(body)]
            return json.dumps({"type": "MultiLineString", "coordinates": lines})
    kind = geo.get("type")
    if kind == "Feature":
        return parse_geometry(geo.get("geometry"))
    if kind == "LineString":
        lines = [geo["coordinates"]]
    elif kind == "MultiLineString":
        lines = geo["coordinates"]
    else:
        raise ValueError(f"GeoJSON {kind} is not a line")
    lines = [_coords(",".join(f"{p[0]} {p[1]}" for p in line)) for line in lines]
    return json.dumps({"type": "MultiLineString", "coordinates": lines})


def _numbers(rej: Rejects, frame: pd.DataFrame, names) -> dict[str, pd.Series]:
    out = {}
    for name in names:
        values, bad = parse_numbers(values_of(frame, name))
        rej.add(bad | (values < 0), "bad_number", name)
        out[name] = values
    return out


def validate_substations(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Substation rows -> rows for ``upsert_network`` (code, name, ...); a ``county`` column
    (a configured county's code, issue 19) becomes ``county_id``."""
    rej = Rejects(frame.index)
    code = check_id(rej, values_of(frame, "substation"), "substation")
    check_texts(rej, frame, ("name", "town"))
    nums = _numbers(rej, frame, ("voltage_kv", "capacity_mva"))
    lon, bad_lon = parse_numbers(values_of(frame, "lon"))
    lat, bad_lat = parse_numbers(values_of(frame, "lat"))
    rej.add(bad_lon | bad_lat | (lon.abs() > 180) | (lat.abs() > 90), "bad_coordinate")
    county = check_id(rej, values_of(frame, "county"), "county", required=False)
    county_id = county.map(ctx.counties)
    rej.add(county.notna() & county_id.isna(), "unknown_county", county)
    good = pd.DataFrame(
        {
            "code": code,
            "name": clean_text(values_of(frame, "name")),
            "voltage_kv": nums["voltage_kv"],
            "capacity_mva": nums["capacity_mva"],
            "lon": lon,
            "lat": lat,
            "town": clean_text(values_of(frame, "town")),
        }
    )
    if "county" in frame:  # without the column a re-import keeps the counties stored
        good["county_id"] = county_id.astype(object).where(county_id.notna(), None)
    return Checked(good[rej.ok], rej.frame())


def validate_feeders(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Feeder rows -> rows for ``upsert_network``; a substation named must exist (or come
    first). A feeder naming none (a GIS export labelled by feeder only) is kept without one
    and counted in the note ``feeder_without_substation``: it is mapped, ranked and gets its
    outages; substation figures leave it out."""
    rej = Rejects(frame.index)
    code = check_id(rej, values_of(frame, "feeder"), "feeder")
    substation = check_id(rej, values_of(frame, "substation"), "substation", required=False)
    check_texts(rej, frame, ("name", "conductor"))
    nums = _numbers(
        rej, frame, ("length_km", "conductor_mm2", "year_built", "rated_mva", "voltage_kv")
    )
    substation_id = substation.map(ctx.substations)
    rej.add(substation.notna() & substation_id.isna(), "unknown_substation", substation)
    geometry = pd.Series(None, index=frame.index, dtype=object)
    for idx, value in values_of(frame, "geometry").items():
        try:
            geometry[idx] = parse_geometry(value)
        except (ValueError, KeyError, TypeError, IndexError):
            rej.add(
                pd.Series(frame.index == idx, index=frame.index), "bad_geometry", str(value)[:40]
            )
    good = pd.DataFrame(
        {
            "code": code,
            "substation_id": substation_id,
            "name": clean_text(values_of(frame, "name")),
            "voltage_kv": nums["voltage_kv"].fillna(10.0),
            "geometry": geometry,
            "length_km": nums["length_km"],
            "conductor": clean_text(values_of(frame, "conductor")),
            "conductor_mm2": nums["conductor_mm2"],
            "year_built": nums["year_built"],
            "rated_mva": nums["rated_mva"],
        }
    )[rej.ok]
    notes = Counter()
    if without := int(good["substation_id"].isna().sum()):
        notes["feeder_without_substation"] = without
    return Checked(good, rej.frame(), notes)


KIND_NAMES = {
    "public": "public",
    "公变": "public",
    "公用": "public",
    "dedicated": "dedicated",
    "专变": "dedicated",
    "专用": "dedicated",
}


def validate_transformers(frame: pd.DataFrame, ctx: Context) -> Checked:
    """Transformer-area rows -> rows for ``upsert_network``; the feeder must exist."""
    rej = Rejects(frame.index)
    code = check_id(rej, values_of(frame, "transformer"), "transformer")
    feeder = check_id(rej, values_of(frame, "feeder"), "feeder")
    check_texts(rej, frame, ("name", "town", "address"))
    nums = _numbers(rej, frame, ("kva", "distance_km"))
    customers, bad = parse_numbers(values_of(frame, "customers"))
    # a blank count is no count (0 customers), not a bad one
    rej.add(bad | (customers.notna() & (customers % 1 != 0)), "bad_customers")
    rej.add(customers < 0, "negative_customers")
    raw_kind = clean_text(values_of(frame, "kind"))
    kind = raw_kind.map(
        lambda k: KIND_NAMES.get(str(k).lower(), KIND_NAMES.get(k)) if k else "public"
    )
    rej.add(kind.isna(), "bad_kind", raw_kind)
    feeder_id = feeder.map(ctx.feeders)
    rej.add(feeder.notna() & feeder_id.isna(), "unknown_feeder", feeder)
    lon, bad_lon = parse_numbers(values_of(frame, "lon"))
    lat, bad_lat = parse_numbers(values_of(frame, "lat"))
    rej.add(bad_lon | bad_lat | (lon.abs() > 180) | (lat.abs() > 90), "bad_coordinate")
    county = check_id(rej, values_of(frame, "county"), "county", required=False)
    county_id = county.map(ctx.counties)
    rej.add(county.notna() & county_id.isna(), "unknown_county", county)
    good = pd.DataFrame(
        {
            "code": code,
            "feeder_id": feeder_id,
            "name": clean_text(values_of(frame, "name")),
            "kind": kind,
            "kva": nums["kva"],
            "customers": customers.fillna(0),
            "town": clean_text(values_of(frame, "town")),
            "address": clean_text(values_of(frame, "address")),
            "lon": lon,
            "lat": lat,
            "distance_km": nums["distance_km"],
        }
    )[rej.ok]
    return Checked(good, rej.frame())
