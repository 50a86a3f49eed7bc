"""File drop (``type = "file"``): a watched folder of CSV / XLSX / JSON exports.

Sample config::

    [sources.oms_drop]
    type = "file"
    path = "drop/oms"          # relative to the config file's folder
    kind = "auto"              # or outages | voltage | complaints | network; auto = by file name
    interval_seconds = 60
    settle_seconds = 5         # taken once not written to for this long (judged by its mtime)
    version_column = "lastUpdated"
    # how to read the files (docs/formats.md "Reading options"), names as pandas uses them:
    sep = ";"                  # also encoding, decimal, header, skiprows, sheet, na_values,
    decimal = ","              # records_path (JSON: the dotted path to the list of records)

Each file found is read in chunks (each chunk is one batch, committed with a marker, so a
collector killed mid-file resumes after the last committed chunk). When a run has committed
every batch, processed files move to ``done/``; files that cannot be read at all move to
``failed/`` with a ``.reason`` file beside them and are recorded in the quarantine. Paths that
lead outside the folder (symlinks, ``..``) are refused.

A file is taken once it has not been written to for ``settle_seconds``, judged by its own
modification time (``now - st_mtime >= settle_seconds``), so a fresh process (``feederwatch
collect --once`` from cron) takes a settled file on its first look. Files still being written
are listed in ``not_settled`` after a run (the run summary says so) and taken on a later run.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from collectors.base import Batch, CollectorError, Source
from collectors.files import FileRefused, file_key, guess_kind, read_chunks
from collectors.options import FileOptions, reading_options
from collectors.pipeline import NETWORK_TABLES, REFUSED
from db.engine import make_engine
from db.queries import committed_chunks

NETWORK_ORDER = {name: i for i, name in enumerate(NETWORK_TABLES)}


class FileSource(Source):
    """Yields the records of every settled file in the folder, oldest first."""

    options_model = FileOptions
    options: FileOptions

    def __init__(self, name, options, *, settings=None, state=None):
        super().__init__(name, options, settings=settings, state=state)
        base = settings.config_dir if settings is not None else Path.cwd()
        self.folder = (base / options.path).resolve()
        self._engine = make_engine(settings.database_url) if settings is not None else None
        self._taken: list[Path] = []
        self._failed: list[tuple[Path, str]] = []
        # Files seen by the last run but left for later (still being written): names only.
        self.not_settled: list[str] = []

    def _candidates(self) -> list[Path]:
        if not self.folder.is_dir():
            raise CollectorError(f"folder {self.folder} does not exist", permanent=True)
        found = []
        for path in sorted(self.folder.glob(self.options.pattern)):
            if not path.is_file() or path.name.startswith(".") or path.suffix == ".reason":
                continue
            found.append(path)

        def order(p: Path):
            kind = self.options.kind if self.options.kind != "auto" else guess_kind(p)
            # Network before records; then oldest first.
            return (NETWORK_ORDER.get(kind, len(NETWORK_ORDER)), p.stat().st_mtime, p.name)

        return sorted(found, key=order)

    def _settled(self, path: Path) -> bool:
        """Not written to for ``settle_seconds``, by the file's own mtime (an exporter may
        still be writing it). Needs no earlier look, so a one-shot process takes it at once;
        a size change also moves the mtime, so a growing file is never taken."""
        quiet_for = time.time() - path.stat().st_mtime
        return quiet_for >= self.options.settle_seconds

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        self._taken, self._failed, self.not_settled = [], [], []
        for path in self._candidates():
            inside = path.resolve()
            if not inside.is_relative_to(self.folder):
                yield self._refuse(path, "path_outside_folder", str(path.name))
                continue
            links = path.lstat().st_nlink
            if links > 1:  # a hard link: the same file may have a name outside the folder
                yield self._refuse(
                    path, "path_outside_folder", f"{path.name}: a hard link ({links} names)"
                )
                continue
            if not self._settled(path):
                self.not_settled.append(path.name)
                continue
            kind = self.options.kind if self.options.kind != "auto" else guess_kind(path)
            if kind == "network":
                kind = guess_kind(path)
            if kind is None:
                yield self._refuse(path, "unknown_kind", path.name)
                continue
            key = file_key(path)
            done = committed_chunks(self._engine, key) if self._engine is not None else set()
            try:
                # header first: too many columns or a required one missing (after this
                # source's mapping) refuses the file before its body is read
                chunks = read_chunks(
                    path,
                    kind,
                    max_bytes=int(self.options.max_file_mb * 2**20),
                    max_columns=self.options.max_columns,
                    mapping=dict(self.options.mapping),
                    **reading_options(self.options),
                )
                for number, frame in enumerate(chunks):
                    if number not in done:
                        yield Batch(kind, frame, chunk=(key, number), label=f"{path.name}#{number}")
            except FileRefused as exc:
                yield self._refuse(path, exc.code, exc.text, kind)
                continue
            self._taken.append(path)

    def _refuse(self, path: Path, code: str, text: str, kind: str | None = None) -> Batch:
        self._failed.append((path, f"{code}: {text}"))
        frame = pd.DataFrame(
            [{"input": path.name, "kind": kind, "reason_code": code, "reason_text": text}]
        )
        return Batch(REFUSED, frame, label=path.name)

    def finished(self) -> None:
        """Every batch of the run committed: move processed files to done/, unreadable
        ones to failed/ with the reason beside them."""
        for path in self._taken:
            _move(path, self.folder / "done")
        for path, reason in self._failed:
            if path.resolve().is_relative_to(self.folder) and path.exists():
                target = _move(path, self.folder / "failed")
                target.with_name(target.name + ".reason").write_text(reason + "\n", "utf-8")
            elif path.is_symlink():
                path.unlink()  # a link leading out of the folder is removed, never followed
        self._taken, self._failed = [], []


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{int(time.time())}{path.suffix}"
    shutil.move(str(path), target)
    return target
