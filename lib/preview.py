"""Local look at an uploaded file: table shape and types, image size, or the head of a document."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from openpyxl.utils.exceptions import InvalidFileException
from PIL import Image

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
ENCODING_NAMES = {
    "utf-8-sig": "UTF-8 with BOM",
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1",
}
TABLE_KINDS = {"csv", "tsv", "xlsx", "json", "parquet"}
IMAGE_KINDS = {"png", "jpeg"}
SAMPLE_BYTES = 64 * 1024
CSV_CHUNK_ROWS = 100_000
TEXT_HEAD_LINES = 40
TEXT_HEAD_MAX_CHARS = 8_000

_COMMA_DECIMAL = re.compile(r"^-?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True, eq=False)
class TablePreview:
    """Shape, column types, missing shares and first rows of a table."""

    rows: int
    columns: int
    dtypes: list[tuple[str, str]]
    missing: list[tuple[str, float]]
    head: pd.DataFrame
    delimiter: str | None = None
    encoding: str | None = None
    sheets: list[str] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class ImagePreview:
    """Pixel size, colour mode and format of an image."""

    width: int
    height: int
    mode: str
    format: str
    note: str = ""


@dataclass(frozen=True)
class DocumentPreview:
    """What is known about a non-table, non-image file (or one that could not be read)."""

    kind: str
    size: int
    text_head: str
    pages: int | None
    note: str = ""


@dataclass(frozen=True)
class CsvDialect:
    """How a delimited text file is laid out."""

    encoding: str
    delimiter: str
    decimal: str
    skiprows: int


Preview = TablePreview | ImagePreview | DocumentPreview


def detect_encoding(data: bytes) -> str:
    """Name the text encoding of `data`: utf-8-sig, utf-8, cp1252 or latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        if _decodes(data, encoding):
            return encoding
    return "latin-1"


def _decodes(data: bytes, encoding: str, chunk: int = 1 << 20) -> bool:
    """Whether all of `data` decodes, checked in chunks so a big file is never held twice as text."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), chunk):
            decoder.decode(data[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def text_sample(data: bytes, encoding: str, limit: int = SAMPLE_BYTES) -> str:
    """The first `limit` bytes as text, cut at the last complete line when the file is longer."""
    chunk = data[:limit]
    if len(data) > limit and b"\n" in chunk:
        # Cut at a newline: 0x0A never occurs inside a multi-byte UTF-8 character.
        chunk = chunk[: chunk.rindex(b"\n") + 1]
    return chunk.decode(encoding, errors="replace")


def sniff_delimiter(sample: str) -> str:
    """Guess the delimiter (comma, semicolon, tab or pipe) of a CSV sample; comma when unsure."""
    lines = [line for line in sample.splitlines() if line.strip() and not line.startswith("#")][:200]
    if not lines:
        return ","
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    # csv.Sniffer is easily fooled (e.g. decimal commas in a semicolon file), so its answer
    # must also split every line into the same number of columns.
    if sniffed is not None and sniffed in tuple(DELIMITERS) and _consistent_width(lines, sniffed) > 1:
        return sniffed
    scores = {d: _delimiter_score(lines, d) for d in DELIMITERS}
    best = max(scores, key=lambda d: scores[d])
    return best if scores[best] > (0.0, 1) else ","


def _widths(lines: list[str], delimiter: str) -> list[int]:
    """Fields per line when split with `delimiter`, honouring quotes."""
    return [len(row) for row in csv.reader(lines, delimiter=delimiter)]


def _consistent_width(lines: list[str], delimiter: str) -> int:
    """The column count if every line has the same one, else 0."""
    widths = set(_widths(lines, delimiter))
    return widths.pop() if len(widths) == 1 else 0


def _delimiter_score(lines: list[str], delimiter: str) -> tuple[float, int]:
    """Share of lines with the most common width, and that width (higher is better)."""
    width, count = Counter(_widths(lines, delimiter)).most_common(1)[0]
    return (count / len(lines), width) if width > 1 else (0.0, 1)


def _uses_decimal_comma(sample: str, delimiter: str) -> bool:
    """Whether numbers in the sample are written with a decimal comma (e.g. 12,5)."""
    if delimiter == ",":
        return False
    cells = [c.strip().strip('"') for line in sample.splitlines()[1:] for c in line.split(delimiter)]
    commas = sum(1 for c in cells if _COMMA_DECIMAL.match(c))
    dots = sum(1 for c in cells if _DOT_DECIMAL.match(c))
    return commas > dots


def _leading_comment_lines(sample: str) -> int:
    """How many lines starting with '#' come before the header (e.g. a 'Data source' note)."""
    count = 0
    for line in sample.splitlines():
        if not line.startswith("#"):
            break
        count += 1
    return count


def csv_dialect(data: bytes, kind: str = "csv") -> CsvDialect:
    """Encoding, delimiter, decimal mark and comment lines of a delimited text file."""
    encoding = detect_encoding(data)
    sample = text_sample(data, encoding)
    delimiter = sniff_delimiter(sample)
    if kind == "tsv" and delimiter == "," and "\t" in sample:
        delimiter = "\t"
    return CsvDialect(
        encoding=encoding,
        delimiter=delimiter,
        decimal="," if _uses_decimal_comma(sample, delimiter) else ".",
        skiprows=_leading_comment_lines(sample),
    )


def _read_csv(data: bytes, dialect: CsvDialect, **kwargs: Any) -> Any:
    """pandas.read_csv with the sniffed dialect."""
    return pd.read_csv(
        io.BytesIO(data),
        sep=dialect.delimiter,
        encoding=dialect.encoding,
        decimal=dialect.decimal,
        skiprows=dialect.skiprows,
        **kwargs,
    )


def parse_json(text: str) -> Any:
    """Parse a JSON document, or JSON Lines into a list; raises ValueError if it is neither."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as first_error:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            raise first_error
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
        return pd.json_normalize(obj), "A single JSON object, shown as one row."
    if isinstance(obj, list):
        if all(isinstance(r, dict) for r in obj):
            nested = any(isinstance(v, (dict, list)) for r in obj[:1000] for v in r.values())
            note = "Nested fields were flattened into dotted column names." if nested else ""
            return pd.json_normalize(obj), note
        if all(isinstance(r, list) for r in obj):
            return pd.DataFrame(obj), ""
        return pd.DataFrame({"value": obj}), ""
    return pd.DataFrame({"value": [obj]}), "A single JSON value."


def read_table(data: bytes, name: str, kind: str) -> pd.DataFrame:
    """Read the whole table in a csv, tsv, xlsx (first sheet), json or parquet file."""
    if kind in ("csv", "tsv"):
        return _read_csv(data, csv_dialect(data, kind))
    if kind == "xlsx":
        return pd.read_excel(io.BytesIO(data), sheet_name=0, engine="openpyxl")
    if kind == "json":
        return json_to_frame(parse_json(data.decode(detect_encoding(data))))[0]
    if kind == "parquet":
        return pd.read_parquet(io.BytesIO(data))
    raise ValueError(f"{name} is not a table (kind {kind!r}).")


def preview_file(data: bytes, name: str, kind: str, max_rows: int = 20) -> Preview:
    """Preview a file locally without sending it anywhere."""
    try:
        if kind in ("csv", "tsv"):
            return _preview_csv(data, kind, max_rows)
        if kind == "xlsx":
            return _preview_xlsx(data, max_rows)
        if kind == "json":
            frame, note = json_to_frame(parse_json(data.decode(detect_encoding(data))))
            return _table_preview(frame, max_rows, note=note)
        if kind == "parquet":
            return _preview_parquet(data, max_rows)
    except (
        ValueError, OSError, KeyError, IndexError, UnicodeError,
        pd.errors.ParserError, zipfile.BadZipFile, InvalidFileException,
    ) as exc:  # fmt: skip
        return _document_preview(data, kind, f"{name} could not be read as a table: {exc}")
    if kind in IMAGE_KINDS:
        return _preview_image(data, kind)
    if kind == "pdf":
        return _preview_pdf(data)
    if kind == "txt":
        return _document_preview(data, kind, _line_note(data))
    return _document_preview(data, kind, f"No preview for {kind or 'this kind of'} files; {format_size(len(data))}.")


def _preview_csv(data: bytes, kind: str, max_rows: int) -> TablePreview:
    """Stream a delimited file in chunks so rows and missing values are exact without holding it all."""
    dialect = csv_dialect(data, kind)
    rows = 0
    missing: pd.Series | None = None
    dtypes: dict[str, str] = {}
    head = pd.DataFrame()
    with _read_csv(data, dialect, chunksize=CSV_CHUNK_ROWS) as reader:
        for chunk in reader:
            if rows == 0:
                head = chunk.head(max_rows)
            rows += len(chunk)
            counts = chunk.isna().sum()
            missing = counts if missing is None else missing + counts
            for column, dtype in chunk.dtypes.items():
                dtypes[str(column)] = _merge_dtype(dtypes.get(str(column)), str(dtype))
    columns = [str(c) for c in head.columns]
    shares = [(c, float(missing[c]) / rows if rows and missing is not None else 0.0) for c in columns]
    parts = [f"{DELIMITER_NAMES[dialect.delimiter]}-delimited", ENCODING_NAMES[dialect.encoding]]
    if dialect.decimal == ",":
        parts.append("decimal commas")
    if dialect.skiprows:
        parts.append(f"{dialect.skiprows} comment line(s) skipped")
    return TablePreview(
        rows=rows,
        columns=len(columns),
        dtypes=[(c, dtypes.get(c, "object")) for c in columns],
        missing=shares,
        head=head,
        delimiter=dialect.delimiter,
        encoding=dialect.encoding,
        note=_shape_note(rows, len(columns)) + "; " + ", ".join(parts) + ".",
    )


def _merge_dtype(seen: str | None, new: str) -> str:
    """Column type across chunks: unchanged, widened to float64 for mixed numbers, else object."""
    if seen is None or seen == new:
        return new
    numeric = {"int64", "float64", "Int64", "Float64"}
    return "float64" if seen in numeric and new in numeric else "object"


def _preview_xlsx(data: bytes, max_rows: int) -> TablePreview:
    """First sheet in full (exact rows), plus the names of all sheets."""
    with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
        sheets = [str(s) for s in book.sheet_names]
        frame = pd.read_excel(book, sheet_name=sheets[0])
    note = f'Sheet "{sheets[0]}" shown' + (f"; {len(sheets)} sheets in the workbook." if len(sheets) > 1 else ".")
    return _table_preview(frame, max_rows, sheets=sheets, note=note)


def _preview_parquet(data: bytes, max_rows: int) -> TablePreview:
    """Row count from the footer metadata; reads only the first rows and, when needed, one column at a time."""
    parquet = pq.ParquetFile(io.BytesIO(data))
    meta = parquet.metadata
    schema = parquet.schema_arrow
    names = list(schema.names)
    rows = meta.num_rows
    batches = parquet.iter_batches(batch_size=max(max_rows, 1))
    first = next(batches, None)
    head = first.to_pandas().head(max_rows) if first is not None else schema.empty_table().to_pandas()
    dtypes = [(str(c), str(t)) for c, t in schema.empty_table().to_pandas().dtypes.items()]
    nulls = _parquet_null_counts(parquet, names)
    missing = [(n, nulls[n] / rows if rows else 0.0) for n in names]
    note = f"{_shape_note(rows, len(names))}; {meta.num_row_groups} row group(s)."
    return TablePreview(rows, len(names), dtypes, missing, head, None, None, [], note)


def _parquet_null_counts(parquet: pq.ParquetFile, names: list[str]) -> dict[str, int]:
    """Nulls per top-level column: from row-group statistics where present, else by reading that column."""
    meta = parquet.metadata
    counts: dict[str, int] = {}
    for name in names:
        total = 0
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            stats = next(
                (
                    group.column(i).statistics
                    for i in range(group.num_columns)
                    if group.column(i).path_in_schema == name
                ),
                None,
            )
            if stats is None or not stats.has_null_count:
                total = -1
                break
            total += stats.null_count
        counts[name] = total if total >= 0 else parquet.read(columns=[name]).column(0).null_count
    return counts


def _table_preview(frame: pd.DataFrame, max_rows: int, sheets: list[str] | None = None, note: str = "") -> TablePreview:
    """Summarise an in-memory DataFrame."""
    rows, cols = frame.shape
    share = frame.isna().mean() if rows else pd.Series(0.0, index=frame.columns)
    full_note = _shape_note(rows, cols) + ("; " + note if note else ".")
    return TablePreview(
        rows=rows,
        columns=cols,
        dtypes=[(str(c), str(t)) for c, t in frame.dtypes.items()],
        missing=[(str(c), float(share[c])) for c in frame.columns],
        head=frame.head(max_rows),
        sheets=sheets or [],
        note=full_note,
    )


def _preview_image(data: bytes, kind: str) -> ImagePreview | DocumentPreview:
    """Image dimensions via Pillow; a broken image becomes a DocumentPreview that says so."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height, mode, fmt = image.width, image.height, image.mode, image.format or kind.upper()
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return DocumentPreview(kind, len(data), "", None, f"Broken image, it could not be opened: {exc}")
    note = f"{width} × {height} px, {mode}, {format_size(len(data))}."
    return ImagePreview(width, height, mode, fmt, note)


def _preview_pdf(data: bytes) -> DocumentPreview:
    """Page count by counting page objects, which works for PDFs without compressed object streams."""
    pages = len(_PDF_PAGE.findall(data)) or None
    if pages:
        note = f"PDF, {pages} page{'s' if pages != 1 else ''}, {format_size(len(data))}."
    else:
        note = f"PDF, {format_size(len(data))}; page count not available without a PDF reader."
    return DocumentPreview("pdf", len(data), "", pages, note)


def _document_preview(data: bytes, kind: str, note: str) -> DocumentPreview:
    """The first lines of a text-like file."""
    head = ""
    if kind in ("txt", "csv", "tsv", "json") or not kind:
        lines = text_sample(data, detect_encoding(data)).splitlines()[:TEXT_HEAD_LINES]
        head = "\n".join(lines)[:TEXT_HEAD_MAX_CHARS]
    return DocumentPreview(kind, len(data), head, None, note)


def _line_note(data: bytes) -> str:
    """'123 lines, 4.5 KB.'"""
    lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    return f"{lines:,} line{'s' if lines != 1 else ''}, {format_size(len(data))}."


def _shape_note(rows: int, columns: int) -> str:
    """'1,234 rows × 5 columns'."""
    return f"{rows:,} row{'s' if rows != 1 else ''} × {columns} column{'s' if columns != 1 else ''}"


def format_size(size: int) -> str:
    """Human-readable size in decimal units: '830 bytes', '12.3 KB', '4.5 MB'."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
