"""OpenDSS models through the OpenDSS binding ``opendssdirect.py`` (optional extra
``opendss``; it ships the DSS C-API engine as a wheel, so nothing is compiled or downloaded
at run time). The model is compiled by OpenDSS itself, so ``Redirect``, ``like=``, in-line
RPN maths and ``BusCoords`` behave exactly as in OpenDSS; no parser of ours second-guesses
the language.

Reduction to bus-branch tables (``collectors.network_trace.trace_feeders``):

* buses: OpenDSS bus names (lower case, phases ``.1.2.3`` dropped); level = ``kVBase`` x √3
  (line-to-line kV) when the script sets voltage bases, else ``network.voltage_kv``;
  coordinates from the model's ``BusCoords`` or a coordinates file given by
  ``network.files.coordinates`` (``bus, x, y`` without a header, as OpenDSS writes them),
  in ``network.crs`` (``local`` with an ``origin`` for the IEEE feeders' feet).
* lines (switches included): length in km from the line's own ``units``; a model without units
  uses ``network.length_unit`` (the IEEE 123 feeder is in kft). A disabled line, or one with a
  terminal opened (``Open Line.X``), is open.
* transformers keep both windings' kV: a substation transformer, a regulator (crossed like a
  line; the three single-phase units of a bank become one branch) or a distribution area.
* roots: the low sides of substation transformers; with none (IEEE 123 starts at the source),
  the buses of the circuit's voltage sources, or ``network.roots``.

Windows-made models name files in any case (``Redirect IEEELineCodes.dss`` for
``IEEELineCodes.DSS``): the model folder is copied to a temporary folder where such names
also exist in the case the script uses, so the model compiles on Linux as on Windows.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collectors.network_import.geo import UNIT_M, NeedsExtra
from collectors.network_import.tables import normalise, read_table

#: OpenDSS line length units -> metres (0 = none)
DSS_UNITS = {1: 1609.344, 2: 304.8, 3: 1000.0, 4: 1.0, 5: 0.3048, 6: 0.0254, 7: 0.01, 8: 0.001}
_REFERENCE = re.compile(r"^\s*(?:redirect|compile|buscoords|include)\s+\"?([^\"!\s]+)", re.I | re.M)
# one OpenDSS engine per process: compiled models replace each other, so one at a time
_ENGINE_LOCK = threading.Lock()


def _bus(name: str) -> str:
    return name.split(".", 1)[0].strip().lower()


def _with_case_aliases(folder: Path, tmp: Path) -> None:
    """Copy ``folder``'s files to ``tmp``, adding each referenced file under the name the
    scripts use when only its case differs."""
    names = {}
    for p in folder.iterdir():
        if p.is_file() and p.stat().st_size < 64 << 20:
            shutil.copy2(p, tmp / p.name)
            names[p.name.lower()] = p.name
    for p in list(tmp.iterdir()):
        if p.suffix.lower() not in (".dss", ".txt"):
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        for ref in _REFERENCE.findall(text):
            wanted = Path(ref.replace("\\", "/")).name
            real = names.get(wanted.lower())
            if real and real != wanted and not (tmp / wanted).exists():
                shutil.copy2(tmp / real, tmp / wanted)


def read_opendss(path: Path, net) -> dict[str, Any]:
    """Compile the OpenDSS script ``path`` (or the single ``.dss`` master of a folder)."""
    try:
        import opendssdirect as dss
    except ImportError:
        raise NeedsExtra(f"{path.name} needs OpenDSS: pip install 'feederwatch[opendss]'") from None
    path = Path(path).resolve()
    folder = path.parent if path.is_file() else path
    master = path if path.is_file() else _master(path)
    # OpenDSS moves the process into the script's folder: come back whatever happens
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="fw-dss-") as tmp, _ENGINE_LOCK:
        try:
            _with_case_aliases(folder, Path(tmp))
            dss.Basic.ClearAll()
            dss.Text.Command(f'compile "{Path(tmp) / master.name}"')
            model = _reduce(dss, net)
        except Exception as exc:  # the engine's own message says what and where
            raise ValueError(f"OpenDSS could not compile {master.name}: {exc}") from None
        finally:
            os.chdir(cwd)
            dss.Basic.ClearAll()
    if net.files.get("coordinates"):
        _join_coordinates(model, folder, net)
    return normalise(model, net)


def _master(folder: Path) -> Path:
    scripts = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".dss")
    masters = [
        p
        for p in scripts
        if re.search(r"new\s+(object\s*=\s*)?circuit\.", p.read_text(errors="replace"), re.I)
    ]
    if len(masters) != 1:
        raise ValueError(
            f"{folder}: give the master .dss file ({len(masters)} scripts define a circuit)"
        )
    return masters[0]


TRAFO_COLUMNS = [
    "trafo_id",
    "name",
    "hv_bus",
    "lv_bus",
    "sn_mva",
    "vn_hv_kv",
    "vn_lv_kv",
    "in_service",
]


def _reduce(dss, net) -> dict[str, pd.DataFrame]:
    buses = _dss_buses(dss)
    lines = pd.DataFrame(_dss_lines(dss, net))
    trafos = pd.DataFrame(_dss_transformers(dss), columns=TRAFO_COLUMNS)
    sources = []
    ok = dss.Vsources.First()
    while ok:
        sources.append(_bus(dss.CktElement.BusNames()[0]))
        ok = dss.Vsources.Next()
    ratio = trafos["vn_hv_kv"] / trafos["vn_lv_kv"].where(trafos["vn_lv_kv"] > 0)
    stepdown = trafos[(ratio >= 1.2) & (trafos["vn_lv_kv"] >= net.area_below_kv)]
    # without a step-down transformer the circuit's sources are the roots
    roots = list(net.roots) or ([] if len(stepdown) else sources)
    return {
        "buses": buses,
        "lines": lines,
        "switches": pd.DataFrame(columns=["switch_id", "bus", "element", "et", "closed"]),
        "trafos": trafos,
        "roots": [r.lower() for r in roots],
    }


def _dss_buses(dss) -> pd.DataFrame:
    """The circuit's buses with their line-to-line base voltage and coordinates."""
    rows = []
    for name in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(name)
        kv = dss.Bus.kVBase()
        rows.append(
            {
                "bus_id": name.lower(),
                "name": name,
                "vn_kv": round(kv * math.sqrt(3), 3) if kv > 0 else np.nan,
                "x": dss.Bus.X() if dss.Bus.Coorddefined() else np.nan,
                "y": dss.Bus.Y() if dss.Bus.Coorddefined() else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["bus_id", "name", "vn_kv", "x", "y"])


def _dss_lines(dss, net) -> list[dict]:
    """The circuit's lines and switches (a disabled or open element is out of service)."""
    lines = []
    ok = dss.Lines.First()
    while ok:
        name = dss.Lines.Name()
        factor = DSS_UNITS.get(dss.Lines.Units(), UNIT_M[net.length_unit])
        open_ = (
            not dss.CktElement.Enabled()
            or dss.CktElement.IsOpen(1, 0)
            or dss.CktElement.IsOpen(2, 0)
        )
        lines.append(
            {
                "line_id": name,
                "from_bus": _bus(dss.Lines.Bus1()),
                "to_bus": _bus(dss.Lines.Bus2()),
                # a switch is a point on the map (OpenDSS gives it a token length)
                "length_km": 0.0 if dss.Lines.IsSwitch() else dss.Lines.Length() * factor / 1000,
                "std_type": dss.Lines.LineCode() or dss.Lines.Geometry() or None,
                "type": "switch" if dss.Lines.IsSwitch() else None,
                "in_service": not open_,
            }
        )
        ok = dss.Lines.Next()
    return lines


def _dss_transformers(dss) -> list[dict]:
    """The circuit's transformers with their line-to-line winding voltages."""
    trafos = []
    ok = dss.Transformers.First()
    while ok:
        buses_of = [_bus(b) for b in dss.CktElement.BusNames()]
        kvs = []
        for w in (1, 2):
            dss.Transformers.Wdg(w)
            kvs.append(dss.Transformers.kV())
        phases = dss.CktElement.NumPhases()
        # a single-phase unit's kV is phase-to-neutral: its level is x √3
        kvs = [k * math.sqrt(3) if phases == 1 else k for k in kvs]
        trafos.append(
            {
                "trafo_id": dss.Transformers.Name(),
                "name": dss.Transformers.Name(),
                "hv_bus": buses_of[0],
                "lv_bus": buses_of[1] if len(buses_of) > 1 else None,
                "sn_mva": dss.Transformers.kVA() / 1000,
                "vn_hv_kv": kvs[0],
                "vn_lv_kv": kvs[1],
                "in_service": dss.CktElement.Enabled(),
            }
        )
        ok = dss.Transformers.Next()
    return trafos


def _join_coordinates(model: dict, folder: Path, net) -> None:
    from collectors.network_import.tables import find_files

    found = find_files(folder, {"coordinates": net.files["coordinates"]}).get("coordinates")
    if found is None:
        raise FileNotFoundError(f"{folder}: no coordinates file {net.files['coordinates']}")
    coords = read_table(found, sep=net.sep, header=False).iloc[:, :3]
    coords.columns = ["bus_id", "x", "y"]
    coords["bus_id"] = coords["bus_id"].astype(str).str.strip().str.lower()
    model["coordinates"] = coords
