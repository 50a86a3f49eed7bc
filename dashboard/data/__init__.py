"""The dashboard's one door to the data: read queries and analytics, memoised by data version.

Pages never touch SQLAlchemy or ``db.queries`` directly; they call a :class:`DataStore`. Every
expensive result is cached under the database's ``data_version`` (bumped by every ingest), so a
new batch invalidates everything at once and nothing ever expires by wall-clock guesswork.
Figures that depend on "now" (durations of active outages, the last 24 hours) are computed per
request from cached inputs.

The store is built in layers, one module each (the only modules of dashboard/ that reach db/
and collectors/):

- ``cache.py``: the version cache (and ``AnalysisNotReady``);
- ``core.py``: which data version pages are shown; the cached, shared and fallback reads;
- ``reads.py``: the database's tables, the live board's figures, the data and detail pages';
- ``analysis.py``: priorities, rankings, reliability indices, once per data version;
- ``warmer.py``: the warm-up and publication of each new data version;
- ``writes.py``: uploads and the end of a user's sessions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dashboard.data.cache import ANALYSIS_KEYS, AnalysisNotReady, VersionCache
from dashboard.data.core import DRIVERS, MEASURES, WINDOWS
from dashboard.data.reads import (
    FAILED_STATUSES,
    database_folder,
    user_credentials,
    user_session_state,
)
from dashboard.data.warmer import WARMERS, StoreWarmer, release_memory
from dashboard.data.writes import StoreWrites, UploadRefused, end_user_sessions
from db.engine import make_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = [
    "ANALYSIS_KEYS",
    "DRIVERS",
    "FAILED_STATUSES",
    "MEASURES",
    "WARMERS",
    "WINDOWS",
    "AnalysisNotReady",
    "DataStore",
    "UploadRefused",
    "VersionCache",
    "configure",
    "database_folder",
    "end_user_sessions",
    "release_memory",
    "store",
    "store_on",
    "user_credentials",
    "user_session_state",
]


class DataStore(StoreWarmer, StoreWrites):
    """Reads, analytics, warm-up and writes for one database and one configuration."""


_STORE: DataStore | None = None


def configure(settings, engine: Engine | None = None) -> DataStore:
    """The store pages read from: ``settings`` on ``engine`` (made from the settings' database
    URL when omitted)."""
    global _STORE
    _STORE = DataStore(
        settings, engine if engine is not None else make_engine(settings.database_url)
    )
    return _STORE


def store_on(settings, url: str) -> DataStore:
    """The store for ``settings`` on a new engine for ``url`` (the analysis process's own)."""
    return configure(settings, make_engine(url))


def store() -> DataStore:
    if _STORE is None:
        raise RuntimeError("dashboard.data.configure(settings, engine) has not been called")
    return _STORE
