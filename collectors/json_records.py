"""The records of a JSON document: the list at a configured path, the usual envelopes of a
feed, and GeoJSON features as flat records (shared by file reading and HTTP feeds)."""

from __future__ import annotations

import json


def follow_records_path(data: object, records_path: str) -> object | None:
    """The value at a dotted path (``"data.rows"``; a number steps into a list), or None when
    the path leads nowhere or not to a list or a GeoJSON FeatureCollection."""
    for step in records_path.split("."):
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    if isinstance(data, list) or (
        isinstance(data, dict) and isinstance(data.get("features"), list)
    ):
        return data
    return None


def _is_feature(item: object) -> bool:
    return isinstance(item, dict) and item.get("type") == "Feature"


def json_records(data: object) -> list | None:
    """The records of a JSON document: a list of objects, ``{"items": [...]}``, or GeoJSON (a
    FeatureCollection with or without its ``"type"``, or a bare list of Features). A Feature's
    properties become the record; a Point geometry becomes ``lon``/``lat`` (unless the
    properties have their own), any other geometry is kept as GeoJSON text in ``geometry``.
    None when the document is none of these."""
    if isinstance(data, dict) and isinstance(data.get("features"), list):
        return [feature_record(f) for f in data["features"]]
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data["items"]
    if isinstance(data, list):
        if data and all(_is_feature(item) for item in data):
            return [feature_record(f) for f in data]
        return data
    return None


def feature_record(feature: object) -> object:
    """One GeoJSON Feature as a record (anything else is left as is, to be judged alone)."""
    if not isinstance(feature, dict):
        return feature
    record = dict(feature.get("properties") or {})
    geometry = feature.get("geometry")
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if (
        isinstance(geometry, dict)
        and geometry.get("type") == "Point"
        and isinstance(coords, list)
        and len(coords) >= 2
    ):
        if "lon" not in record and "lat" not in record:
            record["lon"], record["lat"] = coords[0], coords[1]
    else:
        record["geometry"] = json.dumps(geometry)
    return record
