"""The dashboard's writes: uploaded exports ingested through the collectors' pipeline, and the
end of a user's sessions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from collectors.validate import InputRefused
from dashboard.data.core import StoreCore

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: an upload refused whole (unreadable, wrong columns, too large): pages say why
UploadRefused = InputRefused


class StoreWrites(StoreCore):
    """What pages write."""

    def upload(self, kind: str, path: Path, source: str = "upload"):
        """Ingest an uploaded export through the same pipeline as the file source; a
        configured source of the name ``source`` lends its mapping, reading options and
        shaping (docs/formats.md "Shaping")."""
        from collectors.ingest import ingest_path
        from collectors.options import reading_options
        from collectors.pipeline import IngestOptions, Pipeline

        pipeline = Pipeline.from_settings(self.engine, self.settings)
        configured = self.settings.source_options().get(source) if self.settings else None
        options = IngestOptions(
            source=source,
            mapping=dict(configured.mapping) if configured else {},
            shaping=configured,
        )
        return ingest_path(pipeline, kind, path, options, read_options=reading_options(configured))


def end_user_sessions(engine: Engine, name: str) -> bool:
    """End every session of ``name`` (its session generation goes up)."""
    from db.upsert import end_user_sessions as end

    return end(engine, name)
