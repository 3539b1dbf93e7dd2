"""Local look at a file, which is also its content check: table profile and head, image size, or a document's head.

`inspect_path` either returns a preview or raises `Refused` with what is wrong and what to do. It parses
untrusted bytes, so it is a sandbox task: `lib.files.uploads` runs it in a limited worker process
(`lib.files.sandbox`), and what it returns is bounded (head rows, columns and cells, a display-size image).
Heavy libraries are imported here at the top on purpose: the worker needs them anyway. Limits: lib.limits.
"""

from __future__ import annotations

import codecs
import json
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lib.files import delimited, kinds, sandbox, thumbs
from lib.files.delimited import RESTART, CsvDialect, CsvError, csv_dialect, read_head_bytes, text_sample
from lib.files.profile import ColumnProfile, Profiler, scan_csv
from lib.files.profile import type_name as profile_type_name
from lib.limits import LIMITS

MB = 1_000_000
# Delimited files from this size on are profiled in one parallel DuckDB pass (it pays off above a few MB).
SCAN_MIN_BYTES = 8 * MB
HEADER_ROWS = 5  # rows read to learn a table's column names

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class Refused(Exception):
    """The file must not be uploaded: what is wrong (reason) and what to do (hint)."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason, hint)
        self.reason, self.hint = reason, hint


@dataclass(frozen=True, eq=False)
class TablePreview:
    """Shape, column profile and first rows of a table."""

    rows: int
    columns: int
    head: pd.DataFrame
    profile: list[ColumnProfile]
    delimiter: str | None = None
    encoding: str | None = None
    sheets: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def dtypes(self) -> list[tuple[str, str]]:
        """(column, type) pairs."""
        return [(c.name, c.type) for c in self.profile]

    @property
    def missing(self) -> list[tuple[str, float]]:
        """(column, share of missing values) pairs."""
        return [(c.name, c.missing) for c in self.profile]


@dataclass(frozen=True)
class ImagePreview:
    """Pixel size, colour mode and format of an image, and a PNG of it no larger than the display size."""

    width: int
    height: int
    mode: str
    format: str
    note: str = ""
    display: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class DocumentPreview:
    """What is known about a non-table, non-image file (or one that could not be shown as a table)."""

    kind: str
    size: int
    text_head: str
    pages: int | None
    note: str = ""


Preview = TablePreview | ImagePreview | DocumentPreview


@sandbox.task
def inspect_path(path: Path, name: str, kind: str, max_rows: int = 20) -> Preview:
    """Check a file's content against its kind and preview it; raises Refused for a file that must not go up."""
    found = _inspect(path, name, kind, max_rows)
    return _bounded(found) if isinstance(found, TablePreview) else found


def _bounded(preview: TablePreview) -> TablePreview:
    """The preview with a head of at most the limits' columns and cell length, saying what was left out."""
    head, note = preview.head, preview.note
    if head.shape[1] > LIMITS.table_head_columns:
        head = head.iloc[:, : LIMITS.table_head_columns]
        note = f"{note} First {LIMITS.table_head_columns:,} of {preview.columns:,} columns shown.".strip()
    return replace(preview, head=bounded_cells(head), note=note)


def bounded_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame whose text cells are cut to the limit's length (numbers, dates and the like are left as they are)."""
    limit = LIMITS.table_cell_chars
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(i, column.map(lambda v: v[: limit - 1] + "…" if isinstance(v, str) and len(v) > limit else v))
    return out


def _inspect(path: Path, name: str, kind: str, max_rows: int) -> Preview:
    """`inspect_path` before its result is bounded."""
    size = path.stat().st_size
    head = read_head_bytes(path)
    zipped = head.startswith(b"PK")
    entries = _zip_entries(path, name) if zipped else []
    found = kinds.office_kind(i.filename for i in entries) if zipped else kinds.detect_content(head)
    if found is None and head.startswith(b"PAR1") and size > len(head) and _tail(path, 4) == b"PAR1":
        found = "parquet"  # the magic is at both ends and the head is only the start of a large file
    _check_magic(name, kind, found)
    info = kinds.get(kind)
    if info is not None and info.text:
        _check_text(name, kind, path, head)
    if found is None and info is not None and info.uploadable and not info.text:  # a binary kind without its magic
        label = info.label
        raise Refused(
            f"{name} is not a valid {label} file: its content is not in {label} format.",
            f"Export or save the file again as {label}, or rename it to match what it really is.",
        )
    if kind in ("csv", "tsv"):
        return _preview_csv(path, name, kind, head, max_rows)
    if kind == "json":
        return _preview_json(path, name, size, max_rows)
    if kind == "xlsx":
        return _preview_xlsx(path, name, size, max_rows, entries)
    if kind == "parquet":
        return _preview_parquet(path, name, max_rows)
    if kind in kinds.IMAGE_KINDS:
        return _preview_image(path, name, kind, size)
    if kind == "pdf":
        return _preview_pdf(path, size)
    if kind == "txt":
        return DocumentPreview(kind, size, _text_head(head), None, _line_note(path, size))
    return DocumentPreview(kind, size, "", None, f"No preview for {kind or 'this kind of'} files; {format_size(size)}.")


@sandbox.task
def column_names(path: Path, name: str, kind: str) -> list[str]:
    """A table's column names, the same as `inspect_path` gives, reading as little as each format allows."""
    if kind in ("csv", "tsv"):
        return [str(c) for c in delimited.read_head(path, rows=HEADER_ROWS, kind=kind).columns]
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    if kind == "xlsx":
        _check_archive(_zip_entries(path, name), path.stat().st_size, name, "workbook")
        frame = pd.read_excel(path, sheet_name=0, engine="openpyxl", nrows=HEADER_ROWS)
        return delimited.unique_names([str(c) for c in frame.columns])
    preview = _inspect(path, name, kind, 0)
    return [c for c, _ in preview.dtypes] if isinstance(preview, TablePreview) else []


# --- content against kind -------------------------------------------------------------------------


def _tail(path: Path, count: int) -> bytes:
    """The last bytes of a file."""
    with open(path, "rb") as handle:
        handle.seek(-count, 2)
        return handle.read(count)


def _zip_entries(path: Path, name: str) -> list[zipfile.ZipInfo]:
    """The entries of a zip-based file from its central directory alone, which must not be huge ([] when it
    is no readable zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return []
    if len(infos) > LIMITS.archive_entries:
        raise Refused(
            f"{name} is a ZIP-based file with {len(infos):,} entries; the limit is {LIMITS.archive_entries:,}.",
            "Save the workbook again from Excel, or export the sheet as CSV.",
        )
    return infos


def _check_magic(name: str, kind: str, found: str | None) -> None:
    """Refuse a file whose content is of another kind than its extension says."""
    if found is None or found == kind:
        return
    info, other = kinds.get(kind), kinds.get(found)
    label = info.label if info else kind
    assert other is not None
    if found == "xls":
        raise Refused(
            f"{name} is {other.described}, not {label}.",
            "Open it in Excel, remove any password, and use Save As > Excel Workbook (.xlsx), or export the sheet as CSV.",
        )
    if other.uploadable:
        raise Refused(
            f"{name} is {other.described}, not {label}.",
            f"Rename it to {other.extension} or upload the real {label} file.",
        )
    unzip = " (unzip the archive first)." if found in ("zip", "gzip") else "."
    raise Refused(f"{name} is {other.described}, not {label}.", f"Upload the {label} file itself{unzip}")


def _check_text(name: str, kind: str, path: Path, head: bytes) -> None:
    """Refuse UTF-16 and binary data in a text kind."""
    label = kinds.get(kind).label  # type: ignore[union-attr]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Refused(
            f"{name} is saved as UTF-16 text, which the analysis tools read poorly.",
            "Save it again as UTF-8 (in Excel: Save As > CSV UTF-8).",
        )
    if b"\x00" in head or _looks_binary(head[:65536]) or _has_nul(path):
        raise Refused(
            f"{name} contains binary data, not {label} text.",
            f"Make sure you upload the {label} export itself; "
            "if it came from Excel, use Save As > CSV UTF-8 (or upload the .xlsx).",
        )


def _has_nul(path: Path, chunk: int = 8 << 20) -> bool:
    """Whether a NUL byte occurs anywhere in the file (read in chunks)."""
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            if b"\x00" in block:
                return True
    return False


def _looks_binary(sample: bytes) -> bool:
    """Whether many bytes are control characters that text files don't contain."""
    if not sample:
        return False
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    return controls / len(sample) > 0.05


# --- tables -------------------------------------------------------------------------------------------

_CSV_HINT = "Export the data again and upload a file that has a header row and at least one data row."


def _preview_csv(path: Path, name: str, kind: str, head_bytes: bytes, max_rows: int) -> TablePreview:
    """Stream the whole file through the profile: exact rows, types, missing shares, bounded memory."""
    label = kinds.get(kind).label  # type: ignore[union-attr]
    if not head_bytes.strip():
        raise Refused(f"{name} has no columns: it contains only blank space.", _CSV_HINT)
    dialect = csv_dialect(head_bytes, kind)
    if path.stat().st_size >= SCAN_MIN_BYTES:
        fast = _scan_large_csv(path, dialect, head_bytes, max_rows)
        if fast is not None:
            return fast
    profiler = Profiler()
    head = pd.DataFrame()
    stream = delimited.stream(path, dialect)
    try:
        for batch in stream:
            if batch is RESTART:
                profiler.reset()
                head = pd.DataFrame()
                continue
            if head.empty and batch.num_rows:
                head = batch.slice(0, max_rows).to_pandas()
            elif not profiler.columns:
                head = batch.slice(0, 0).to_pandas()
            profiler.feed(batch)
    except CsvError as exc:
        if "Empty CSV file or block" in str(exc):
            raise Refused(f"{name} has a header row but no data rows.", _CSV_HINT) from None
        raise Refused(f"{name} could not be read as {label}: {exc}.", _CSV_HINT) from None
    profile = profiler.result()
    if not profile and stream.schema is not None and len(stream.schema):
        raise Refused(f"{name} has a header row but no data rows.", _CSV_HINT)
    if not profile:
        raise Refused(f"{name} has no columns: it contains no data.", _CSV_HINT)
    if profiler.rows == 0:
        raise Refused(f"{name} has a header row but no data rows.", _CSV_HINT)
    dialect = stream.dialect
    return TablePreview(
        rows=profiler.rows,
        columns=len(profile),
        head=head,
        profile=profile,
        delimiter=dialect.delimiter,
        encoding=dialect.encoding,
        note=f"{_shape_note(profiler.rows, len(profile))}; {dialect.describe()}.",
    )


def _scan_large_csv(path: Path, dialect: CsvDialect, head_bytes: bytes, max_rows: int) -> TablePreview | None:
    """Head and types from the first block (`head_bytes`, the file's first MiB), then one parallel DuckDB pass;
    None when the slow path must decide."""
    import duckdb

    # The first block is parsed from the head bytes: a pyarrow file reader would read ahead and keep
    # tens of MB in its pool for the rest of the worker's life.
    head = head_bytes[: head_bytes.rfind(b"\n") + 1]
    stream = delimited.stream(head, dialect, block=max(len(head), 1))
    try:
        first = next((b for b in stream if b is not RESTART), None)
    except CsvError:
        return None  # e.g. the cut fell inside a quoted field
    if (
        first is None
        or not first.num_rows
        or first.num_columns > LIMITS.scan_columns  # one aggregate query over thousands of columns plans slowly
    ):
        return None
    try:
        rows, profile = scan_csv(path, stream.dialect, first.schema)
    except (duckdb.Error, ValueError, OverflowError):
        return None  # the streaming reader reads it again and says what is wrong
    if rows < first.num_rows:
        return None
    head_rows = first.slice(0, max_rows)
    widened = {"float64": pa.float64(), "str": pa.string()}
    arrays = [
        a.cast(widened[c.type]) if c.type in widened and profile_type_name(a.type) != c.type else a
        for a, c in zip(head_rows.columns, profile, strict=True)
    ]
    return TablePreview(
        rows=rows,
        columns=len(profile),
        head=pa.RecordBatch.from_arrays(arrays, names=head_rows.schema.names).to_pandas(),
        profile=profile,
        delimiter=stream.dialect.delimiter,
        encoding=stream.dialect.encoding,
        note=f"{_shape_note(rows, len(profile))}; {stream.dialect.describe()}; distinct counts estimated.",
    )


def _frame_preview(frame: pd.DataFrame, max_rows: int, sheets: list[str] | None = None, note: str = "") -> TablePreview:
    """Profile an in-memory DataFrame (XLSX sheet, JSON records) the same way as a streamed table."""
    frame = frame.copy()
    frame.columns = delimited.unique_names([str(c) for c in frame.columns])
    profiler = Profiler()
    for start in range(0, max(len(frame), 1), 100_000):
        part = frame.iloc[start : start + 100_000]
        profiler.feed(_to_arrow(part))
    rows, cols = frame.shape
    return TablePreview(
        rows=rows,
        columns=cols,
        head=frame.head(max_rows),
        profile=profiler.result(),
        sheets=sheets or [],
        note=_shape_note(rows, cols) + ("; " + note if note else "."),
    )


def _to_arrow(frame: pd.DataFrame) -> pa.RecordBatch:
    """A DataFrame as one record batch; columns of mixed Python types become text."""
    arrays, names = [], []
    for name in frame.columns:
        series = frame[name]
        try:
            arr = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError, OverflowError):
            arr = pa.array([None if _isna(v) else str(v) for v in series], type=pa.string())
        if pa.types.is_nested(arr.type) or pa.types.is_binary(arr.type):
            arr = pa.array([None if _isna(v) else str(v) for v in series], type=pa.string())
        arrays.append(arr)
        names.append(str(name))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _check_archive(infos: list[zipfile.ZipInfo], size: int, name: str, what: str) -> None:
    """Refuse a zip of `size` bytes whose entries (`_zip_entries`) would expand too much, before any is opened."""
    expanded = sum(max(i.file_size, 0) for i in infos)
    hint = f"Save the data as CSV or Parquet, or split the {what} into smaller files."
    if expanded > LIMITS.archive_bytes:
        raise Refused(
            f"{name}: this {what} expands to {format_size(expanded)}; the limit is {format_size(LIMITS.archive_bytes)}.",
            hint,
        )
    if expanded > LIMITS.archive_ratio_floor and expanded > LIMITS.archive_ratio * max(size, 1):
        raise Refused(
            f"{name}: this {what} expands {expanded // max(size, 1):,} times, to {format_size(expanded)}; "
            f"the limit is {LIMITS.archive_ratio} times. Files like this are usually built to exhaust memory.",
            hint,
        )


def _preview_xlsx(path: Path, name: str, size: int, max_rows: int, entries: list[zipfile.ZipInfo]) -> TablePreview:
    """First sheet in full (exact rows), plus the names of all sheets; the zip (its `entries`) is measured first."""
    from openpyxl.utils.exceptions import InvalidFileException

    _check_archive(entries, size, name, "workbook")
    broken = (
        f"{name} is a damaged workbook and can't be read",
        "Open it in Excel and save it again as .xlsx, or export the sheet as CSV.",
    )
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            sheets = [str(s) for s in book.sheet_names]
            if not sheets:
                raise Refused(f"{name} has no sheets.", broken[1])
            frame = pd.read_excel(book, sheet_name=book.sheet_names[0])
    except Refused:
        raise
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, OSError, EOFError, zipfile.BadZipFile,
            InvalidFileException, SyntaxError) as exc:  # fmt: skip
        # xml.etree.ElementTree.ParseError is a SyntaxError
        raise Refused(f"{broken[0]} ({_short(exc)}).", broken[1]) from None
    if frame.shape[1] == 0:
        raise Refused(
            f'{name}: the sheet "{sheets[0]}" is empty.', "Put the data on the first sheet and upload it again."
        )
    note = f'Sheet "{sheets[0]}" shown' + (f"; {len(sheets)} sheets in the workbook." if len(sheets) > 1 else ".")
    return _frame_preview(frame, max_rows, sheets=sheets, note=note)


def _preview_parquet(path: Path, name: str, max_rows: int) -> TablePreview:
    """Footer first (rows, sizes); then the row groups are streamed through the profile."""
    import pyarrow.parquet as pq

    damaged = "Write the Parquet file again (for example with pandas.DataFrame.to_parquet) and upload the new copy."
    try:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise Refused(f"{name} is a damaged Parquet file ({_short(exc)}).", damaged) from None
    expanded = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    if expanded > LIMITS.parquet_bytes:
        raise Refused(
            f"{name}: this Parquet file expands to {format_size(expanded)}; "
            f"the limit is {format_size(LIMITS.parquet_bytes)}.",
            "Upload a smaller extract (fewer rows or columns).",
        )
    profiler = Profiler()
    head = None
    try:
        for batch in parquet.iter_batches(batch_size=65_536):
            if head is None:
                head = batch.slice(0, max_rows).to_pandas()
            profiler.feed(_flatten_nested(batch))
        if head is None:
            head = parquet.schema_arrow.empty_table().to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise Refused(f"{name} is a damaged Parquet file ({_short(exc)}).", damaged) from None
    names = list(parquet.schema_arrow.names)
    profile = profiler.result() or [ColumnProfile(n, "empty", 0.0) for n in names]
    rows = meta.num_rows
    return TablePreview(
        rows, len(names), head, profile, note=f"{_shape_note(rows, len(names))}; {meta.num_row_groups} row group(s)."
    )


def _flatten_nested(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Nested columns (lists, structs) as text so every column can be profiled."""
    arrays = [
        pa.array([None if v is None else str(v) for v in a.to_pylist()], pa.string())
        if pa.types.is_nested(a.type)
        else a
        for a in batch.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


# --- JSON ---------------------------------------------------------------------------------------------

_JSON_HINT = (
    "Fix the file (a JSON validator shows the exact spot) or export it again. "
    "JSON Lines files need one complete JSON value on each line."
)


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest, counted without recursion (strings are skipped)."""
    stripped = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    if not stripped.size:
        return 0
    step = np.isin(stripped, (ord("["), ord("{"))).astype(np.int32) - np.isin(stripped, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def parse_json(text: str) -> Any:
    """Parse a JSON document, or JSON Lines into a list; raises ValueError if it is neither."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as first_error:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            raise first_error from None
        try:
            return [json.loads(line) for line in lines]
        except json.JSONDecodeError:
            raise first_error from None


def json_to_frame(obj: Any) -> tuple[pd.DataFrame, str]:
    """Turn parsed JSON into a DataFrame, flattening nested records; also says what was done."""
    if isinstance(obj, dict):
        lists = {k: v for k, v in obj.items() if isinstance(v, list)}
        if len(obj) == 1 and lists:
            key, records = next(iter(lists.items()))
            frame, note = json_to_frame(records)
            return frame, f'Records taken from the "{key}" key. {note}'.strip()
        if lists and len(lists) == len(obj) and len({len(v) for v in lists.values()}) == 1:
            return pd.DataFrame(obj), "Read as one column per key."
        return pd.json_normalize(obj, max_level=20), "A single JSON object, shown as one row."
    if isinstance(obj, list):
        if obj and all(isinstance(r, dict) for r in obj):
            nested = any(isinstance(v, (dict, list)) for r in obj[:1000] for v in r.values())
            note = "Nested fields were flattened into dotted column names." if nested else ""
            return pd.json_normalize(obj, max_level=20), note
        if obj and all(isinstance(r, list) for r in obj):
            return pd.DataFrame(obj), ""
        return pd.DataFrame({"value": obj}), ""
    return pd.DataFrame({"value": [obj]}), "A single JSON value."


def _preview_json(path: Path, name: str, size: int, max_rows: int) -> Preview:
    """Parse JSON or JSON Lines (after measuring its depth) and show it as a table."""
    if size > LIMITS.json_bytes:
        raise Refused(
            f"{name} is {format_size(size)} of JSON; the limit for JSON is {format_size(LIMITS.json_bytes)}.",
            "Save it as JSON Lines split into parts, or as CSV or Parquet.",
        )
    data = path.read_bytes()
    encoding = delimited.detect_encoding(data)
    if not data.strip():
        raise Refused(f"{name} is not valid JSON: it contains only blank space.", _JSON_HINT)
    depth = json_depth(data)
    if depth > LIMITS.json_depth:
        return DocumentPreview(
            "json",
            size,
            _text_head(data),
            None,
            f"JSON nested {depth:,} levels deep: too deep to show as a table (the limit is {LIMITS.json_depth}); "
            "shown as text.",
        )
    try:
        parsed = parse_json(data.decode(encoding))
    except (ValueError, RecursionError) as exc:
        raise Refused(f"{name} is not valid JSON: {_short(exc)}.", _JSON_HINT) from None
    try:
        frame, note = json_to_frame(parsed)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        return DocumentPreview(
            "json", size, _text_head(data), None, f"Valid JSON, not shown as a table: {_short(exc)}."
        )
    return _frame_preview(frame, max_rows, note=note)


# --- images and documents -------------------------------------------------------------------------


def _preview_image(path: Path, name: str, kind: str, size: int) -> ImagePreview:
    """Read the header, refuse decompression bombs by pixel count, then verify, and decode once into the PNG the
    page shows (so the server never decodes the upload)."""
    from PIL import Image

    label = kinds.get(kind).label  # type: ignore[union-attr]
    redo = f"Open it in an image viewer and export it again as {label}, or take the screenshot again."
    Image.MAX_IMAGE_PIXELS = LIMITS.image_pixels
    try:
        with Image.open(path) as image:
            width, height, mode, fmt = image.width, image.height, image.mode, image.format or label
            if width * height > LIMITS.image_pixels:
                raise _too_many_pixels(name, width, height)
            image.verify()
        # verify() does not decode pixel data (and checks little for JPEG), so decode once too.
        with Image.open(path) as image:
            display = thumbs.downscaled(image, LIMITS.display_px, "PNG", LIMITS.preview_width_px)
    except Image.DecompressionBombError:
        raise _too_many_pixels(name, None, None) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise Refused(f"{name} is a broken image (damaged or cut short) and can't be opened.", redo) from None
    return ImagePreview(width, height, mode, fmt, f"{width} × {height} px, {mode}, {format_size(size)}.", display)


def _too_many_pixels(name: str, width: int | None, height: int | None) -> Refused:
    """Refusal for an image whose pixel count is over the decompression-bomb limit."""
    dims = f" ({width:,} × {height:,} pixels)" if width and height else ""
    return Refused(
        f"{name} is too large an image{dims}; the limit is {LIMITS.image_pixels:,} pixels.",
        "Resize the image (for example to under 8,000 pixels on the longest side) and upload it again.",
    )


def _preview_pdf(path: Path, size: int) -> DocumentPreview:
    """Page count by counting page objects, which works for PDFs without compressed object streams."""
    pages = 0
    with open(path, "rb") as handle:
        tail = b""
        while block := handle.read(8 << 20):
            chunk = tail + block
            pages += len(_PDF_PAGE.findall(chunk[: len(chunk) - 64] if len(block) == 8 << 20 else chunk))
            tail = chunk[-64:] if len(block) == 8 << 20 else b""
    if pages:
        return DocumentPreview(
            "pdf", size, "", pages, f"PDF, {pages} page{'s' if pages != 1 else ''}, {format_size(size)}."
        )
    return DocumentPreview(
        "pdf", size, "", None, f"PDF, {format_size(size)}; page count not available without a PDF reader."
    )


def _text_head(head: bytes) -> str:
    """The first lines of a text file, bounded in lines and characters."""
    lines = text_sample(head, delimited.detect_encoding(head)).splitlines()[: LIMITS.text_head_lines]
    return "\n".join(lines)[: LIMITS.text_head_chars]


def _line_note(path: Path, size: int) -> str:
    """'123 lines, 4.5 KB.'"""
    lines, last = 0, b""
    with open(path, "rb") as handle:
        while block := handle.read(8 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    lines += 0 if size == 0 or last == b"\n" else 1
    return f"{lines:,} line{'s' if lines != 1 else ''}, {format_size(size)}."


def _shape_note(rows: int, columns: int) -> str:
    """'1,234 rows × 5 columns'."""
    return f"{rows:,} row{'s' if rows != 1 else ''} × {columns:,} column{'s' if columns != 1 else ''}"


def _short(exc: BaseException) -> str:
    """An exception's message on one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300].rstrip(".")


def format_size(size: int) -> str:
    """Human-readable size in decimal units: '830 bytes', '12.3 KB', '4.5 MB', '1.2 GB'."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


__all__ = [
    "DocumentPreview",
    "ImagePreview",
    "Preview",
    "Refused",
    "TablePreview",
    "column_names",
    "format_size",
    "inspect_path",
]
