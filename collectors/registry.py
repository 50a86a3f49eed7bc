"""Source type -> class, imported on first use (a site without httpx-using sources never
imports them)."""

from __future__ import annotations

from importlib import import_module

from collectors.base import Source

SOURCES: dict[str, str | type[Source]] = {
    "file": "collectors.sources.file_drop.FileSource",
    "http": "collectors.sources.http_json.HttpSource",
    "sql": "collectors.sources.sql.SqlSource",
    "simulator": "collectors.simulator.source.SimulatorSource",
}


def source_class(kind: str) -> type[Source]:
    """The Source class for a config ``type``."""
    cls = SOURCES[kind]
    if isinstance(cls, str):
        module_name, class_name = cls.rsplit(".", maxsplit=1)
        cls = getattr(import_module(module_name), class_name)
        SOURCES[kind] = cls
    return cls
