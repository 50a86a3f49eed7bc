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

Whatever refuses a file whole (unreadable, undecodable, too large, a missing column judged
from the header or by the pipeline) sets that file aside in ``failed/`` (its sub-folder kept,
``failed/2026/08/x.csv`` + ``x.csv.reason``) so it never blocks the folder again; the other
files of the run still load. Every such refusal is a line of the run summary naming the file.
A file whose bytes were all loaded before (the same export dropped again under a new name) is
not loaded twice, and the run summary names it and the earlier copy in ``done/``.

A file is taken once it has not been written to for ``settle_seconds``, judged by its own
modification time (``now - st_mtime >= settle_seconds``), so a fresh process (``feederwatch
collect --once`` from cron) takes a settled file on its first look. Files still being written
are listed in ``not_settled`` after a run (the run summary says so) and taken on a later run.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from collectors.base import Batch, CollectorError, Source
from collectors.file_reading import FileRefused, file_key, guess_kind, read_chunks
from collectors.options import FileOptions, reading_options
from collectors.pipeline import NETWORK_TABLES, REFUSED
from db.engine import make_engine
from db.queries import committed_chunks

log = logging.getLogger(__name__)

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
        self._by_label: dict[str, Path] = {}
        # Files seen by the last run but left for later (still being written): names only.
        self.not_settled: list[str] = []
        # (note code, line naming the file) for the run summary, see Source.take_notices.
        self.notices: list[tuple[str, str]] = []

    def _rel(self, path: Path) -> str:
        """The file's path inside the folder (sub-folders kept), as messages name it."""
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return path.name

    def candidates(self) -> list[Path]:
        """The folder's input files matching the pattern, settled or not (hidden files, reason
        notes and what earlier runs set aside in done/ and failed/ left out)."""
        if not self.folder.is_dir():
            raise CollectorError(f"folder {self.folder} does not exist", permanent=True)
        found = []
        for path in sorted(self.folder.glob(self.options.pattern)):
            if not path.is_file() or path.name.startswith(".") or path.suffix == ".reason":
                continue
            # done/ and failed/ hold what earlier runs set aside (a "**/*" pattern sees them)
            parts = path.relative_to(self.folder).parts
            if parts and parts[0] in ("done", "failed") and len(parts) > 1:
                continue
            found.append(path)

        def order(p: Path):
            kind = self.options.kind if self.options.kind != "auto" else guess_kind(p)
            # Network before records; then oldest first.
            return (NETWORK_ORDER.get(kind, len(NETWORK_ORDER)), p.lstat().st_mtime, p.name)

        return sorted(found, key=order)

    def _settled(self, path: Path) -> bool:
        """Not written to for ``settle_seconds``, by the file's own mtime (an exporter may
        still be writing it). Needs no earlier look, so a one-shot process takes it at once;
        a size change also moves the mtime, so a growing file is never taken."""
        quiet_for = time.time() - path.stat().st_mtime
        return quiet_for >= self.options.settle_seconds

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        self._taken, self._failed, self.not_settled = [], [], []
        self._by_label, self.notices = {}, []
        if self.options.kind == "network" and self.options.network is not None:
            yield from self._model_batches()
            return
        for path in self.candidates():
            inside = path.resolve()
            if not inside.is_relative_to(self.folder):
                yield self._refuse(path, "path_outside_folder", self._rel(path))
                continue
            try:
                links = path.lstat().st_nlink
                settled = self._settled(path)
            except OSError as exc:
                yield self._refuse(path, "unreadable_file", _os_detail(exc))
                continue
            if links > 1:  # a hard link: the same file may have a name outside the folder
                yield self._refuse(
                    path, "path_outside_folder", f"{self._rel(path)}: a hard link ({links} names)"
                )
                continue
            if not settled:
                self.not_settled.append(self._rel(path))
                continue
            kind = self.options.kind if self.options.kind != "auto" else guess_kind(path)
            if kind == "network":
                kind = guess_kind(path)
            if kind is None:
                yield self._refuse(path, "unknown_kind", self._rel(path))
                continue
            label = self._rel(path)
            yielded = 0
            try:
                content = file_key(path)
                key = self._chunk_key(content)
                done = committed_chunks(self._engine, key) if self._engine is not None else set()
                # header first: too many columns or a required one missing (after this
                # source's mapping) refuses the file before its body is read
                chunks = read_chunks(
                    path,
                    kind,
                    max_bytes=int(self.options.max_file_mb * 2**20),
                    max_columns=self.options.max_columns,
                    mapping=dict(self.options.mapping),
                    shaping=self.options,
                    **reading_options(self.options),
                )
                for number, frame in enumerate(chunks):
                    if number in done:
                        continue
                    self._by_label[f"{label}#{number}"] = path
                    yield Batch(kind, frame, chunk=(key, number), label=f"{label}#{number}")
                    yielded += 1
                    if self._is_failed(path):  # the pipeline refused it whole (refused())
                        break
            except FileRefused as exc:
                yield self._refuse(path, exc.code, exc.text, kind)
                continue
            except OSError as exc:  # permissions, a file removed or cut short while read
                yield self._refuse(path, "unreadable_file", _os_detail(exc), kind)
                continue
            except Exception as exc:  # a reader's surprise must not stop the other files
                log.debug("file %s: unexpected read error", label, exc_info=True)
                detail = f"{label}: {type(exc).__name__}: {str(exc)[:200]}"
                yield self._refuse(path, "malformed_file", detail, kind)
                continue
            if self._is_failed(path):
                continue
            if yielded == 0 and done:
                self._note_duplicate(path, content)
            self._taken.append(path)

    def _model_batches(self) -> Iterator[Batch]:
        """A network model (issue 14, ``[sources.NAME.network]``): the folder's settled files
        are one model (bus-branch tables, or the one model file: pandapower JSON, OpenDSS,
        GIS layer), read and traced whole; its substations, feeders and transformer areas are
        the batches, its findings notes (on the last batch) and, for broken references,
        quarantine records; the findings replace the source's earlier ones. Taken files move
        to done/, a model that cannot be read moves to failed/ whole."""
        from collectors.network_import import (
            canonical_frames,
            detect_format,
            finding_counts,
            load_network,
            reduce_network,
        )
        from collectors.pipeline import SOURCE_NOTES
        from db.queries.network import replace_network_diagnostics

        files = self.candidates()
        if not files:
            return
        waiting = [p for p in files if not self._settled(p)]
        if waiting:  # part of the model is still being written: all of it waits
            self.not_settled = [self._rel(p) for p in waiting]
            return
        net = self.options.network
        target = files[0] if len(files) == 1 and detect_format(files[0], net) else self.folder
        label = self._rel(target) if target != self.folder else "."
        try:
            reduced = reduce_network(
                load_network(
                    target,
                    net,
                    mapping=dict(self.options.mapping),
                    read_options=reading_options(self.options),
                ),
                net,
            )
        except (ValueError, OSError, KeyError) as exc:
            text = f"{label}: network model not read: {str(exc)[:300]}"
            self._failed.extend((p, f"malformed_file: {text}") for p in files)
            yield Batch(
                REFUSED,
                pd.DataFrame(
                    [{"input": label, "kind": "network", "reason_code": "malformed_file",
                      "reason_text": text}]
                ),
                label=label,
            )  # fmt: skip
            return
        frames = list(canonical_frames(reduced).items())
        notes, broken = finding_counts(reduced)
        if self._engine is not None:
            replace_network_diagnostics(self._engine, self.name, None, reduced["diagnostics"])
        for number, (table, frame) in enumerate(frames):
            if number == len(frames) - 1:
                frame.attrs[SOURCE_NOTES] = dict(notes)
            yield Batch(table, frame, label=f"{label}#{table}")
        if len(broken):
            yield Batch(
                REFUSED,
                pd.DataFrame(
                    {
                        "input": label,
                        "kind": "network",
                        "reason_code": "network_" + broken["kind"],
                        "reason_text": broken["detail"].fillna("").astype(str),
                    }
                ),
                label=label,
            )
        self._taken.extend(files)

    def _chunk_key(self, content: str) -> str:
        """The chunk markers' key: this source and the file's content. Another source with
        other reading or time options reads the same bytes differently, so it loads them too."""
        return hashlib.sha256(f"{self.name}\0{content}".encode()).hexdigest()[:40]

    def _is_failed(self, path: Path) -> bool:
        return any(p == path for p, _ in self._failed)

    def _note_duplicate(self, path: Path, key: str) -> None:
        """Every chunk of this content was committed before: the same bytes were loaded under
        another name (or this file's earlier run stopped before moving it). Never silent."""
        label = self._rel(path)
        earlier = self._earlier_copy(path, key)
        if earlier is not None:
            line = f"{label}: same bytes as {earlier}, loaded before; not loaded again"
        else:
            line = f"{label}: its content was loaded before (same bytes); not loaded again"
        self.notices.append(("duplicate_file", line))
        log.warning("collect %s: %s", self.name, line)

    def _earlier_copy(self, path: Path, key: str) -> str | None:
        done = self.folder / "done"
        if not done.is_dir():
            return None
        size = path.stat().st_size
        for other in sorted(done.rglob("*")):
            try:
                if other.is_file() and other.stat().st_size == size and file_key(other) == key:
                    return other.relative_to(self.folder).as_posix()
            except OSError:
                continue
        return None

    def _refuse(self, path: Path, code: str, text: str, kind: str | None = None) -> Batch:
        label = self._rel(path)
        if label not in text and path.name not in text:
            text = f"{label}: {text}"
        self._failed.append((path, f"{code}: {text}"))
        frame = pd.DataFrame(
            [{"input": label, "kind": kind, "reason_code": code, "reason_text": text}]
        )
        return Batch(REFUSED, frame, label=label)

    def refused(self, batch: Batch, code: str, text: str) -> Batch | None:
        """A chunk the pipeline refused whole (a wide curve without its phase column, ...):
        its file goes to failed/ like an unreadable one; the other files still load."""
        path = self._by_label.get(batch.label)
        if path is None:
            return None
        return self._refuse(path, code, text, batch.kind)

    def finished(self) -> None:
        """Every batch of the run committed: move processed files to done/, files refused
        whole to failed/ with the reason beside them (sub-folders kept)."""
        for path in self._taken:
            if path.exists():
                _move(path, self.folder / "done", self._rel(path))
        for path, reason in self._failed:
            label = self._rel(path)
            if path.resolve().is_relative_to(self.folder) and path.exists():
                target = _move(path, self.folder / "failed", label)
                target.with_name(target.name + ".reason").write_text(reason + "\n", "utf-8")
                where = target.relative_to(self.folder).as_posix()
                self.notices.append(
                    ("file_refused", f"{label}: refused whole ({reason}); moved to {where}")
                )
            elif path.is_symlink():
                path.unlink()  # a link leading out of the folder is removed, never followed
                self.notices.append(
                    ("file_refused", f"{label}: refused whole ({reason}); link removed")
                )
        self._taken, self._failed = [], []


def _os_detail(exc: OSError) -> str:
    return f"{exc.filename or ''}: {exc.strerror or type(exc).__name__}".lstrip(": ")


def _move(path: Path, folder: Path, relative: str) -> Path:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.with_name(target.name + ".reason").exists():
        target = target.with_name(f"{path.stem}.{int(time.time())}{path.suffix}")
    shutil.move(str(path), target)
    return target
