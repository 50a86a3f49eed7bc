"""Reading export files (CSV, XLSX, JSON) in chunks (ingesting them: ``collectors.ingest``).

Encodings are detected (UTF-8, UTF-8 with BOM, GBK/GB18030); a file that cannot be read at all is
refused whole with a reason code (``FileRefused``). A CSV's header is judged before its body is
parsed: more than ``max_columns`` columns, or (when the source's mapping is known) a required
column missing after the mapping and the presets, refuses the file at once — a 9 MB CSV of a
million columns used to cost minutes and gigabytes in pandas before being refused anyway.
Rows with a problem of their own (a cut-off last row, a wrong number of fields, a JSON item that
is not an object) travel in a ``_reject`` column that the pipeline sends straight to quarantine,
so nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from collectors.json_records import follow_records_path, json_records
from collectors.mapping import apply_mapping
from collectors.options import ShapingOptions
from collectors.parse import object_records
from collectors.pipeline import PRE_REJECT
from collectors.shaping import shaped_columns
from collectors.validate import REQUIRED_COLUMNS, InputRefused

DEFAULT_CHUNK_ROWS = {"voltage": 200_000}
OTHER_CHUNK_ROWS = 20_000
SNIFF_BYTES = 1 << 20
MAX_XLSX_EXPANSION = 200  # uncompressed / compressed, beyond which an XLSX is a zip bomb
# A wide 96-point voltage curve has about 100 columns; real exports stay well below this.
DEFAULT_MAX_COLUMNS = 500
# Rows per chunk of a wide table a source unpivots: each row becomes one reading per column.
UNPIVOT_CHUNK_ROWS = 5_000
REJECT = PRE_REJECT

NAME_HINTS = (
    ("outages", ("outage", "停电")),
    ("voltage", ("voltage", "电压", "curve", "曲线")),
    ("complaints", ("complaint", "ticket", "95598", "工单", "投诉")),
    ("substations", ("substation", "变电站")),
    ("feeders", ("feeder", "线路")),
    ("transformers", ("transformer", "台区", "area")),
)


# A file refused whole is an input refused whole.
FileRefused = InputRefused


def file_key(path: Path) -> str:
    """Identity of a file's content (size + head + tail), stable when the file is moved."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as fh:
        digest.update(fh.read(65536))
        if size > 65536:
            fh.seek(max(size - 65536, 65536))
            digest.update(fh.read(65536))
    return digest.hexdigest()[:40]


def guess_kind(path: Path) -> str | None:
    """The record kind from the file name (English or Chinese words), or None."""
    name = path.name.lower()
    for kind, words in NAME_HINTS:
        if any(word in name for word in words):
            return kind
    return None


def sniff_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030 (a superset of GBK), judged on the first megabyte."""
    opener = _opener(path)
    with opener(path) as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise FileRefused("undecodable", path.name)


def _opener(path: Path) -> Callable:
    if path.suffix == ".gz":
        import gzip

        return lambda p: gzip.open(p, "rb")
    return lambda p: open(p, "rb")


def read_chunks(
    path: Path,
    kind: str,
    *,
    chunk_rows: int | None = None,
    max_bytes: int = 512 << 20,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    mapping: dict[str, str] | None = None,
    encoding: str = "auto",
    sep: str = ",",
    decimal: str = ".",
    header: int = 0,
    skiprows: int = 0,
    sheet: str | int = 0,
    na_values: tuple[str, ...] = (),
    records_path: str | None = None,
    shaping: ShapingOptions | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the file's records as DataFrames of text, ``chunk_rows`` at a time.

    Reading options (a file source's options of the same names, docs/formats.md): ``encoding``
    ("auto" sniffs), ``sep`` and ``decimal`` (a number ``1,5`` becomes ``1.5`` when decimal is
    ","), ``header`` (the header's row number, 0 = first) after ``skiprows`` rows skipped (CSV
    and XLSX), ``sheet`` (XLSX name or position), ``na_values`` (extra blank markers) and
    ``records_path`` (JSON: the dotted path to the list of records).

    The header is checked first (``check_header_columns``): more than ``max_columns`` columns
    refuses the file (``too_many_columns``), for every kind and form (a wide voltage curve is
    only held to the same limit). ``mapping`` is the source's column mapping: given (even
    ``{}``), a required column missing after it and the presets refuses the file
    (``missing_column``) before the body is read; None (mapping unknown to the caller) leaves
    that check to the pipeline. Both raise ``FileRefused`` on the first ``next()``. The
    source's ``shaping`` counts in that check (a column ``id_from`` makes is not missing; one
    it names is)."""
    chunk_rows = chunk_rows or DEFAULT_CHUNK_ROWS.get(kind, OTHER_CHUNK_ROWS)
    if shaping is not None and shaping.unpivot is not None:
        chunk_rows = min(chunk_rows, UNPIVOT_CHUNK_ROWS)
    size = path.stat().st_size
    if size > max_bytes:
        raise FileRefused("file_too_large", f"{size} bytes > {max_bytes}")
    if size == 0:
        raise FileRefused("empty_file", path.name)
    suffixes = [s.lower() for s in path.suffixes]

    def checked(frame: pd.DataFrame) -> pd.DataFrame:
        columns = [str(c) for c in frame.columns if c != REJECT]
        check_header_columns(
            columns, kind, max_columns=max_columns, mapping=mapping, shaping=shaping
        )
        return frame

    blanks = tuple(na_values)

    def cleaned(frame: pd.DataFrame) -> pd.DataFrame:
        return _as_decimal_point(_blank_markers(frame, blanks), decimal)

    if ".xlsx" in suffixes:
        frame = _read_xlsx(path, max_bytes, sheet=sheet, header=skiprows + header)
        yield from _chunks_of(cleaned(checked(frame)), chunk_rows)
    elif suffixes and suffixes[-1] in (".json", ".geojson"):
        frame = _read_json(path, encoding=encoding, records_path=records_path)
        yield from _chunks_of(cleaned(checked(frame)), chunk_rows)
    else:
        csv_chunks = _read_csv(
            path,
            chunk_rows,
            kind,
            max_columns,
            mapping,
            encoding=encoding,
            sep=sep,
            skip=skiprows + header,
            na_values=blanks,
            shaping=shaping,
        )
        for frame in csv_chunks:
            yield _as_decimal_point(frame, decimal)


def _as_decimal_point(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Cells that are numbers written with ``decimal`` (e.g. ",") rewritten with a point;
    other cells (text such as "North of 1st, East of 2nd") untouched."""
    if decimal == "." or frame.empty:
        return frame
    # "1,5", "-0,25", ",5"; never "1,234,567" or text
    pattern = rf"\s*[+-]?\d*{re.escape(decimal)}\d+\s*"
    frame = frame.copy()
    for column in frame.columns:
        if column == REJECT or not pd.api.types.is_string_dtype(frame[column]):
            continue
        values = frame[column]
        text = values.astype("string")
        hit = text.str.fullmatch(pattern).fillna(False).to_numpy(bool)
        if hit.any():
            frame[column] = values.where(~hit, text.str.replace(decimal, ".", regex=False))
    return frame


def _blank_markers(frame: pd.DataFrame, na_values: tuple[str, ...]) -> pd.DataFrame:
    """Cells equal to one of ``na_values`` (exactly, as text) made blank."""
    if not na_values or frame.empty:
        return frame
    columns = [c for c in frame.columns if c != REJECT]
    mask = frame[columns].isin(list(na_values))
    if not mask.to_numpy().any():
        return frame
    frame = frame.copy()
    frame[columns] = frame[columns].astype(object).where(~mask, None)
    return frame


def check_header_columns(
    header: list[str],
    kind: str,
    *,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    mapping: dict[str, str] | None = None,
    shaping: ShapingOptions | None = None,
) -> None:
    """Refuse a header with more than ``max_columns`` columns, or (``mapping`` given) one
    lacking a column every record of ``kind`` needs once the mapping and the presets are
    applied — the same rule the pipeline applies (``check_columns``; a wide voltage curve needs
    transformer, date and phase). ``shaping`` is applied to the mapped header first."""
    if len(header) > max_columns:
        raise FileRefused(
            "too_many_columns", f"{len(header):,} columns > max_columns={max_columns:,}"
        )
    if mapping is None or kind not in REQUIRED_COLUMNS:
        return
    mapped = list(apply_mapping(pd.DataFrame(columns=header), kind, mapping).columns)
    columns = set(shaped_columns(mapped, kind, shaping))
    if kind == "voltage" and "date" in columns and "p1" in columns:
        needed: tuple[str, ...] = ("transformer", "date", "phase")
    else:
        needed = REQUIRED_COLUMNS[kind]
    for name in needed:
        if name not in columns:
            raise FileRefused("missing_column", name)


def _chunks_of(frame: pd.DataFrame, chunk_rows: int) -> Iterator[pd.DataFrame]:
    if frame.empty:
        raise FileRefused("empty_file")
    for start in range(0, len(frame), chunk_rows):
        yield frame.iloc[start : start + chunk_rows].reset_index(drop=True)


def _check_header(header: list[str]) -> None:
    if not header or all(not h.strip() for h in header):
        raise FileRefused("empty_file", "no header")
    seen = set()
    for name in header:
        if name.strip() in seen:
            raise FileRefused("duplicate_header", name.strip())
        seen.add(name.strip())


def _read_csv(
    path: Path,
    chunk_rows: int,
    kind: str,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    mapping: dict[str, str] | None = None,
    *,
    encoding: str = "auto",
    sep: str = ",",
    skip: int = 0,
    na_values: tuple[str, ...] = (),
    shaping: ShapingOptions | None = None,
) -> Iterator[pd.DataFrame]:
    encoding = sniff_encoding(path) if encoding == "auto" else encoding
    try:
        with _opener(path)(path) as fh:
            text_head = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
            rows = csv.reader(text_head, delimiter=sep)
            for _ in range(skip):  # title and units rows above the header
                next(rows, None)
            header = next(rows, [])
    except csv.Error as exc:  # e.g. a header cell beyond the csv module's 128 KiB field limit
        raise FileRefused("malformed_file", f"{path.name}: header: {exc}") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise FileRefused("malformed_file", f"{path.name}: {type(exc).__name__}") from None
    _check_header(header)
    # Before a byte of the body is parsed: a wrong header costs nothing.
    check_header_columns(header, kind, max_columns=max_columns, mapping=mapping, shaping=shaping)
    try:
        truncated = _ends_without_newline(path)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise FileRefused("malformed_file", f"{path.name}: {type(exc).__name__}") from None
    try:
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=["", *na_values],
            chunksize=chunk_rows,
            encoding=encoding,
            sep=sep,
            skiprows=skip,
            skipinitialspace=False,
        )
        first = True
        previous: pd.DataFrame | None = None
        for chunk in reader:
            first = False
            if previous is not None:
                yield previous
            previous = chunk
        if first or previous is None or previous.empty:
            raise FileRefused("empty_file", "header only")
        if truncated:
            previous = previous.copy()
            previous.loc[previous.index[-1], REJECT] = "truncated_row"
        yield previous
    except UnicodeDecodeError as exc:
        raise FileRefused("undecodable", f"{path.name} at byte {exc.start}") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise FileRefused("malformed_file", f"{path.name}: {type(exc).__name__}") from None
    except pd.errors.ParserError:
        # Rows with a wrong number of fields: read again with the csv module and send those
        # rows to quarantine (only files small enough to be hand-made exports get here).
        lenient = _read_csv_lenient(path, encoding, header, truncated, sep=sep, skip=skip)
        yield from _chunks_of(_blank_markers(lenient, na_values), chunk_rows)


def _ends_without_newline(path: Path) -> bool:
    with _opener(path)(path) as fh:
        if path.suffix == ".gz":
            data = fh.read()
            return not data.endswith(b"\n")
        fh.seek(0, io.SEEK_END)
        fh.seek(fh.tell() - 1)
        return fh.read(1) not in (b"\n", b"\r")


def _read_csv_lenient(
    path: Path, encoding: str, header: list[str], truncated: bool, *, sep: str = ",", skip: int = 0
) -> pd.DataFrame:
    with _opener(path)(path) as fh:
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")
        rows = list(csv.reader(text, delimiter=sep))[skip + 1 :]
    width = len(header)
    records = []
    for row in rows:
        rec = dict(zip(header, row + [None] * (width - len(row)), strict=False))
        if len(row) != width:
            rec[REJECT] = "bad_row_shape"
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=[*header, REJECT])
    frame = frame.replace("", None)
    if truncated and len(frame):
        frame.loc[frame.index[-1], REJECT] = "truncated_row"
    return frame


def _read_xlsx(
    path: Path, max_bytes: int, *, sheet: str | int = 0, header: int = 0
) -> pd.DataFrame:
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileRefused("malformed_file", f"{path.name} is not an XLSX archive") from None
    compressed = max(path.stat().st_size, 1)
    if expanded > max_bytes or expanded / compressed > MAX_XLSX_EXPANSION:
        raise FileRefused("zip_bomb", f"{expanded} bytes uncompressed from {compressed}")
    try:
        frame = pd.read_excel(path, dtype=str, engine="openpyxl", sheet_name=sheet, header=header)
    except (ValueError, KeyError, IndexError) as exc:
        if str(exc).startswith("Worksheet "):  # "... named 'x' not found", "... index 5 is invalid"
            raise FileRefused("sheet_not_found", f"{path.name}: sheet {sheet!r}") from None
        raise FileRefused("malformed_file", f"{path.name}: {exc.__class__.__name__}") from None
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise FileRefused("malformed_file", f"{path.name}: {exc.__class__.__name__}") from None
    _check_header([str(c) for c in frame.columns if not str(c).startswith("Unnamed")] or [""])
    if any(str(c).endswith(".1") for c in frame.columns):
        raise FileRefused(
            "duplicate_header", next(str(c) for c in frame.columns if str(c).endswith(".1"))
        )
    return frame


def _read_json(
    path: Path, *, encoding: str = "auto", records_path: str | None = None
) -> pd.DataFrame:
    encoding = sniff_encoding(path) if encoding == "auto" else encoding
    try:
        data = json.loads(path.read_bytes().decode(encoding))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileRefused("malformed_file", f"{path.name}: {exc}") from None
    if records_path is not None:
        data = follow_records_path(data, records_path)
        if data is None:
            raise FileRefused(
                "records_path_not_found", f"{path.name}: no list of records at {records_path!r}"
            )
    records = json_records(data)
    if records is None:
        raise FileRefused("malformed_file", "expected a list of records, {items: [...]} or GeoJSON")
    # An item that is not an object (a number, text, null) is quarantined on its own
    # (not_an_object, its JSON text kept), never a reason to refuse the other records.
    frame = pd.DataFrame.from_records(object_records(records, REJECT))
    return (
        frame.astype(object)
        .where(frame.notna(), None)
        .map(
            lambda v: (
                v
                if v is None or isinstance(v, str)
                else json.dumps(v, ensure_ascii=False)
                if isinstance(v, (dict, list))
                else str(v)
            )
        )
    )
