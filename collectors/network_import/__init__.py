"""Network models in the field's own formats -> the canonical network tables (issue 14).

``detect_format`` tells which reader a path needs; ``load_network`` reads it into either
bus-branch tables (traced into feeders by ``collectors.network_trace.trace_feeders``) or
feeder-labelled tables (GIS exports whose segments name their feeder); ``import_network``
sends the result through the one pipeline (substations, then feeders, then transformer
areas), and keeps the findings: topology findings are run-summary notes, broken references
are quarantined (reason codes ``network_<kind>``, docs/formats.md), and all of them are stored
as the source's current network diagnostics (``db.queries.network``).

Readers (each imported on first use, so the base install needs none of their extras):

==============  =====================================================  ==================
format          what                                                    extra
==============  =====================================================  ==================
``tables``      bus-branch CSV/XLSX tables (``network_import.tables``)  none
``pandapower``  pandapower JSON (Excel/pickle through pandapower)      none / pandapower
``opendss``     OpenDSS scripts (``network_import.opendss_model``)      opendss
``gis``         GeoJSON/Shapefile/GeoPackage layers (``.gis``)          gis
==============  =====================================================  ==================
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from collectors.network_import.geo import NeedsExtra

__all__ = ["NeedsExtra", "detect_format", "import_network", "load_network"]

#: findings that are broken input (quarantined); every other kind is a note
QUARANTINE_KINDS = ("unknown_bus", "unknown_line", "bad_value")
CANONICAL = {
    "substations": [
        "substation",
        "name",
        "voltage_kv",
        "capacity_mva",
        "lon",
        "lat",
        "town",
        "county",
    ],
    "feeders": ["feeder", "substation", "name", "voltage_kv", "length_km", "conductor", "geometry"],
    "transformers": ["transformer", "feeder", "name", "kva", "lon", "lat"],
}
_GIS = (".geojson", ".shp", ".gpkg", ".fgb", ".gml", ".kml")


def _default_options():
    from collectors.options import NetworkOptions

    return NetworkOptions()


def detect_format(path: Path, net=None) -> str | None:
    """``tables``, ``pandapower``, ``opendss`` or ``gis`` for a model ``path``; None when it is
    none of them (a folder of canonical ``substations``/``feeders``/``transformers`` tables)."""
    net = net or _default_options()
    if str(path).startswith("simbench:"):
        return "simbench"  # a SimBench grid by its code (simbench:1-MV-rural--0-sw)
    if net.format != "auto":
        return net.format
    path = Path(path)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".dss":
            return "opendss"
        if suffix in _GIS:
            from collectors.file_reading import guess_kind

            # substations.geojson, feeders.geojson ...: the canonical tables (collectors.file_reading)
            return None if suffix == ".geojson" and guess_kind(path) else "gis"
        if suffix == ".json":
            head = path.open("rb").read(4096).decode("utf-8", errors="replace")
            if '"_module"' in head and ("pandapowerNet" in head or '"bus"' in head):
                return "pandapower"
            if '"features"' in head or '"FeatureCollection"' in head:
                return None  # a GeoJSON table of the canonical kind (collectors.file_reading)
        return None
    if not path.is_dir():
        return None
    names = [p for p in path.iterdir() if p.is_file()]
    if any(p.suffix.lower() == ".dss" for p in names):
        return "opendss"
    if any(p.suffix.lower() in (".shp", ".gpkg", ".fgb") for p in names):
        return "gis"
    if any(p.suffix.lower() == ".geojson" and "line" in p.stem.lower() for p in names):
        return "gis"  # a line layer (and maybe a point layer) as GeoJSON files
    from collectors.network_import.tables import find_files

    try:
        found = find_files(path, net.files)
    except ValueError:
        return "tables"  # several candidates: let the reader say so
    return "tables" if {"buses", "lines"} <= set(found) else None


def load_network(path: Path, net=None, *, mapping=None, read_options=None) -> dict[str, Any]:
    """Read ``path`` in its format: bus-branch tables plus ``roots``, or ``{"tables": ...,
    "diagnostics": ...}`` for feeder-labelled GIS layers."""
    net = net or _default_options()
    read_options = read_options or {}
    kind = detect_format(path, net)
    if kind == "simbench":
        from collectors.network_import import pandapower_model as ppm

        return ppm.read_simbench(str(path).removeprefix(ppm.SIMBENCH_PREFIX), net)
    path = Path(path)
    if kind == "tables":
        from collectors.network_import.tables import read_bus_branch

        sep = read_options.get("sep")
        return read_bus_branch(
            path,
            net,
            mapping=mapping,
            sep=None if sep in (None, ",") else sep,
            encoding=read_options.get("encoding", "auto"),
        )
    if kind == "pandapower":
        from collectors.network_import import pandapower_model as ppm

        if path.suffix.lower() == ".json":
            return ppm.read_pandapower_json(path, net)
        return ppm.read_pandapower_net(path, net)
    if kind == "opendss":
        from collectors.network_import.opendss_model import read_opendss

        return read_opendss(path, net)
    if kind == "gis":
        from collectors.network_import.gis import read_gis

        return read_gis(path, net, mapping=mapping)
    raise ValueError(f"{path}: not a network model this version reads")


def reduce_network(model: dict[str, Any], net=None) -> dict[str, pd.DataFrame]:
    """Canonical ``substations``, ``feeders``, ``transformers`` and ``diagnostics``."""
    net = net or _default_options()
    if "tables" in model:
        out = dict(model["tables"])
        out.setdefault("transformers", pd.DataFrame(columns=CANONICAL["transformers"]))
        out["diagnostics"] = model["diagnostics"]
        return out
    from collectors.network_trace import trace_feeders

    return trace_feeders(
        model["buses"],
        model["lines"],
        model["switches"],
        model["trafos"],
        feeder_prefix=net.feeder_prefix,
        substation_prefix=net.substation_prefix,
        roots=tuple(model.get("roots", ())) + tuple(net.roots),
        area_below_kv=net.area_below_kv,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def canonical_frames(reduced: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The canonical tables of a reduced model as text cells, in the order they must land."""
    out = {}
    for table in ("substations", "feeders", "transformers"):
        frame = reduced.get(table)
        if frame is None or frame.empty:
            continue
        cols = [c for c in CANONICAL[table] if c in frame.columns]
        out[table] = frame[cols].astype(object).map(_text)
    return out


def finding_counts(reduced: dict[str, pd.DataFrame]) -> tuple[Counter, pd.DataFrame]:
    """(notes ``network_<kind>`` for the topology findings, the broken-reference findings
    that are quarantined)."""
    diags = reduced["diagnostics"]
    notes: Counter = Counter()
    for kind, n in Counter(diags["kind"]).items():
        if kind not in QUARANTINE_KINDS:
            notes[f"network_{kind}"] += n
    feeders = reduced.get("feeders")
    if feeders is not None and "geometry" in feeders and len(feeders):
        notes["network_feeders_without_geometry"] += int(feeders["geometry"].isna().sum())
    return notes, diags[diags["kind"].isin(QUARANTINE_KINDS)]


def _finding_text(rec: dict) -> str:
    return re.sub(r"\s+", " ", str({k: _text(v) for k, v in rec.items()}))


def import_network(pipeline, path: Path, options, net=None, *, run_id=None, read_options=None):
    """Load, reduce and ingest a network model; returns the ``BatchSummary`` (notes and
    quarantine counted by ``network_<kind>``)."""
    from collectors.pipeline import BatchSummary
    from db.queries.network import replace_network_diagnostics

    net = net or _default_options()
    model = load_network(path, net, mapping=dict(options.mapping), read_options=read_options)
    reduced = reduce_network(model, net)
    canonical = dataclasses.replace(options, mapping={}, shaping=None)
    summary = BatchSummary()
    for table, text in canonical_frames(reduced).items():
        summary.add(pipeline.ingest(table, text, canonical, run_id=run_id))
    notes, broken = finding_counts(reduced)
    quarantine = []
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    for rec in broken.to_dict("records"):
        code = f"network_{rec['kind']}"
        quarantine.append(
            {
                "source": options.source,
                "kind": "network",
                "run_id": run_id,
                "raw": _finding_text(rec),
                "reason_code": code,
                "reason_text": _text(rec.get("detail")) or code,
                "created_at": now,
            }
        )
        summary.quarantined[code] += 1
    summary.notes.update(notes)
    replace_network_diagnostics(
        pipeline.engine, options.source, run_id, reduced["diagnostics"], quarantine
    )
    return summary
