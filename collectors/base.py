"""The source contract.

A source knows one outside system. It declares its options model (collectors.options, checked
with the whole config at start-up) and, when asked, yields ``Batch`` objects: raw records as a
DataFrame with the kind they are. It never writes to the database: the pipeline does. A source
that cannot deliver raises ``CollectorError``, saying whether trying again may help.

Adding a source type (checklist, also in README):
1. an options model in ``collectors/options.py`` and its entry in ``OPTIONS_BY_TYPE``;
2. a ``Source`` subclass in ``collectors/sources/<name>.py`` implementing ``batches``;
3. its dotted path in ``collectors/registry.py``'s ``SOURCES``;
4. tests against a real peer (a real file, a real HTTP server on 127.0.0.1, a real database);
5. a sample ``[sources.NAME]`` table in README's configuration section.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from collectors.options import SourceOptions


class CollectorError(Exception):
    """A source could not deliver. ``permanent`` is True when retrying cannot help
    (bad credentials, a missing table), False for transient trouble (timeouts, 5xx, 429)."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass
class Batch:
    """Raw records of one kind, plus what the pipeline must store with them atomically."""

    kind: str
    frame: pd.DataFrame
    watermark: str | None = None  # stored in the same transaction as the records
    chunk: tuple[str, int] | None = None  # (file key, chunk number) for resumable files
    label: str = ""  # where the records came from (file name, URL page), for logs


class Source:
    """Base class of every source type; subclasses set ``options_model`` and ``batches``."""

    options_model: ClassVar[type[SourceOptions]] = SourceOptions

    def __init__(self, name: str, options: SourceOptions, *, settings=None, state=None):
        self.name = name
        self.options = options
        self.settings = settings
        # Per-source persistent state read back from the database (watermark etc.).
        self.state = state

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        """Yield raw batches newer than ``watermark``; raise CollectorError on failure."""
        raise NotImplementedError

    def finished(self) -> None:
        """Called after every batch of a run committed (e.g. to move processed files)."""

    def refused(self, batch: Batch, code: str, text: str) -> Batch | None:
        """The pipeline refused ``batch`` whole (an ``InputRefused`` with ``code`` and
        ``text``). A source that can set that input aside (a file drop moves the file to
        ``failed/``) returns the batch recording the refusal in the quarantine, and the run
        goes on with its other inputs; None (the default) fails the run."""
        return None

    def take_notices(self) -> list[tuple[str, str]]:
        """(note code, line) pairs for the run summary, each line naming what it is about (a
        file refused whole: ``file_refused``; a file loaded before under another name:
        ``duplicate_file``); the runner counts the codes as notes. Emptied by the call."""
        notices = list(getattr(self, "notices", None) or [])
        self.notices = []
        return notices
