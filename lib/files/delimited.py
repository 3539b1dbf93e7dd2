"""The one CSV/TSV dialect detector and reader: encoding, delimiter, decimal mark, comment lines; pyarrow batches."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lib.files import encodings
from lib.files.encodings import ENCODING_NAMES, detect_encoding
from lib.files.encodings import SAMPLE_BYTES as SAMPLE_BYTES_FOR_ENCODING
from lib.limits import LIMITS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_BYTES = 64 * 1024
ENCODING_SAMPLE_BYTES = SAMPLE_BYTES_FOR_ENCODING
BLOCK_BYTES = 1 << 20
# What counts as a missing value; both readers (pyarrow here, DuckDB in lib.files.profile) use this list.
# Kept short on purpose: every marker is compared with every field of a large file.
NULL_MARKERS = ("", "NA", "N/A", "#N/A", "NULL", "null", "NaN", "nan")

_COMMA_DECIMAL = re.compile(r"^-?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_COLUMN_ERROR = re.compile(r"In CSV column #(\d+): .*CSV conversion error to (\w+)")


@dataclass(frozen=True)
class CsvDialect:
    """How a delimited text file is laid out."""

    encoding: str
    delimiter: str
    decimal: str = "."
    skiprows: int = 0
    quoted_newlines: bool = False

    def describe(self) -> str:
        """'comma-delimited, UTF-8, decimal commas'."""
        parts = [
            f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-delimited",
            ENCODING_NAMES[self.encoding],
        ]
        if self.decimal == ",":
            parts.append("decimal commas")
        if self.skiprows:
            parts.append(f"{self.skiprows} comment line(s) skipped")
        return ", ".join(parts)


def text_sample(data: bytes, encoding: str, limit: int = SAMPLE_BYTES) -> str:
    """The first `limit` bytes as text, cut at the last complete line when the file is longer."""
    chunk = data[:limit]
    if len(data) > limit and b"\n" in chunk:
        # Cut at a newline: 0x0A never occurs inside a multi-byte UTF-8 character.
        chunk = chunk[: chunk.rindex(b"\n") + 1]
    return encodings.decode(chunk, encoding, errors="replace")


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
    try:
        return [len(row) for row in csv.reader(lines, delimiter=delimiter)]
    except csv.Error:  # e.g. a NUL byte or a field over csv's size limit
        return [line.count(delimiter) + 1 for line in lines]


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


def _has_quoted_newline(sample: str, delimiter: str) -> bool:
    """Whether a quoted field in the sample spans lines (the reader must then not split blocks at newlines)."""
    if '"' not in sample:
        return False
    lines = sample.splitlines()
    try:
        rows = sum(1 for _ in csv.reader(lines, delimiter=delimiter))
        rows_joined = sum(1 for _ in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    except csv.Error:
        return True
    return rows_joined != rows


def csv_dialect(head: bytes, kind: str = "csv") -> CsvDialect:
    """Encoding, delimiter, decimal mark and comment lines of a delimited text file, from its first bytes."""
    encoding = detect_encoding(head)
    sample = text_sample(head, encoding)
    delimiter = sniff_delimiter(sample)
    if kind == "tsv" and delimiter == "," and "\t" in sample:
        delimiter = "\t"
    return CsvDialect(
        encoding=encoding,
        delimiter=delimiter,
        decimal="," if _uses_decimal_comma(sample, delimiter) else ".",
        skiprows=_leading_comment_lines(sample),
        quoted_newlines=_has_quoted_newline(sample, delimiter),
    )


def read_head_bytes(path: Path, size: int = ENCODING_SAMPLE_BYTES) -> bytes:
    """The first bytes of a file."""
    with open(path, "rb") as handle:
        return handle.read(size)


def unique_names(names: list[str]) -> list[str]:
    """Column names as pandas makes them: a blank one is `Unnamed: <position>`, a repeated one gets `.1`, `.2`…
    (skipping any name the table already has), so every column can be shown and profiled."""
    named = [n if n.strip() else f"Unnamed: {i}" for i, n in enumerate(names)]
    taken = set(named)
    seen: set[str] = set()
    out = []
    for name in named:
        if name in seen:
            n = 1
            while f"{name}.{n}" in taken:
                n += 1
            name = f"{name}.{n}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def header_names(head: bytes, dialect: CsvDialect, whole: bool) -> list[str] | None:
    """The header row's cells, read from the first bytes of a file (`whole`: they are the whole file); None when
    the header does not end within them or cannot be read with the csv module."""
    text = encodings.decode(head, dialect.encoding, errors="replace")
    lines = io.StringIO(text, newline="")
    for _ in range(dialect.skiprows):
        lines.readline()
    try:
        for row in csv.reader(lines, delimiter=dialect.delimiter):
            if row:
                return row if whole or lines.tell() < len(text) else None
    except csv.Error:  # a field longer than the csv module reads
        return None
    return None


def _options(
    dialect: CsvDialect,
    column_types: dict[str, Any] | None,
    block: int,
    names: list[str] | None = None,
    columns: int | None = None,
) -> dict[str, Any]:
    """pyarrow.csv options for a dialect; with `names`, they replace the header row; with `columns`, only the
    first that many are converted (the rest are skipped, which keeps a very wide file cheap)."""
    import pyarrow.csv as pcsv

    return {
        "read_options": pcsv.ReadOptions(
            # a file of mixed encodings is handed over transcoded to UTF-8, line by line
            encoding="utf8" if dialect.encoding in ("utf-8", "utf-8-sig", "mixed") else dialect.encoding,
            skip_rows=dialect.skiprows,
            block_size=block,
            column_names=names,
            skip_rows_after_names=1 if names is not None else 0,
        ),
        "parse_options": pcsv.ParseOptions(delimiter=dialect.delimiter, newlines_in_values=dialect.quoted_newlines),
        "convert_options": pcsv.ConvertOptions(
            decimal_point=dialect.decimal,
            column_types=column_types or {},
            include_columns=names[:columns] if names is not None and columns is not None else None,
            null_values=list(NULL_MARKERS),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }


def _wider(current: str) -> Any:
    """The type to retry a column with after a conversion error."""
    import pyarrow as pa

    return pa.float64() if current.startswith(("int", "uint")) else pa.string()


class _Counted(io.FileIO):
    """A file that tells how many of its bytes were read so far."""

    def __init__(self, path: Path, on_read: Callable[[int], None]) -> None:
        super().__init__(path, "rb")
        self._on_read, self._read = on_read, 0

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer) or 0
        self._read += count
        self._on_read(self._read)
        return count

    def read(self, size: int = -1) -> bytes:
        data = super().read(size) or b""
        self._read += len(data)
        self._on_read(self._read)
        return data


class CsvError(ValueError):
    """The file cannot be read as a delimited table; the message says where and why."""


class _Stream:
    """Iterates batches, restarting with widened column types after a late conversion error."""

    def __init__(self, source: Path | bytes, dialect: CsvDialect, block: int, columns: int | None = None) -> None:
        self.source, self.dialect, self.block, self.columns = source, dialect, block, columns
        self.restarts = 0
        self.on_read: Callable[[int], None] | None = None  # told the bytes of the file read so far
        self.schema: pa.Schema | None = None
        self.width: int | None = None  # columns in the file (of which `columns` are read)

    def _open(self) -> Any:
        if self.dialect.encoding == "mixed":
            return encodings.Transcoded(self.source, self.on_read)
        if isinstance(self.source, bytes):
            return io.BytesIO(self.source)
        return _Counted(self.source, self.on_read) if self.on_read is not None else str(self.source)

    def _names(self) -> list[str]:
        """The header's names made unique, from the file's first bytes or else from pyarrow's first block."""
        import pyarrow.csv as pcsv

        head = (
            self.source[:BLOCK_BYTES] if isinstance(self.source, bytes) else read_head_bytes(self.source, BLOCK_BYTES)
        )
        found = header_names(head, self.dialect, len(head) < BLOCK_BYTES)
        if found is None:
            first = pcsv.open_csv(self._open(), **_options(self.dialect, {}, self.block))
            found = first.schema.names
            first.close()
        return unique_names(found)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        types: dict[str, Any] = {}
        names: list[str] = []
        while True:
            dialect = self.dialect
            try:
                names = self._names()
                self.width = len(names)
                if not types:
                    # Infer once from the first block, then declare the types: converting to a known
                    # type is about twice as fast as inferring every block again.
                    first = pcsv.open_csv(self._open(), **_options(dialect, {}, self.block, names, self.columns))
                    types = {f.name: f.type for f in first.schema}
                    first.close()
                reader = pcsv.open_csv(self._open(), **_options(dialect, types, self.block, names, self.columns))
                self.schema = reader.schema
                yield from reader
                return
            except pa.ArrowInvalid as exc:
                text = str(exc)
                found = _COLUMN_ERROR.search(text)
                if "invalid UTF8" in text or "invalid utf8" in text.lower():
                    if dialect.encoding not in ("utf-8", "utf-8-sig"):
                        raise CsvError(_first_line(text)) from None
                    # past the first block: which lines are not UTF-8, and are the others?
                    found = encodings.survey(self.source).encoding
                    self.dialect = replace(dialect, encoding=found if found != dialect.encoding else "cp1252")
                elif found and int(found.group(1)) < len(names) and self.restarts < LIMITS.csv_restarts:
                    column = names[int(found.group(1))]
                    types[column] = _wider(found.group(2))
                elif "Expected" in text and "columns, got" in text and not dialect.quoted_newlines:
                    self.dialect = replace(dialect, quoted_newlines=True)
                elif "straddling" in text and self.block < LIMITS.csv_row_bytes:
                    self.block *= 8
                else:
                    raise CsvError(_first_line(text)) from None
            except (UnicodeDecodeError, LookupError) as exc:
                if dialect.encoding == "cp1252":
                    self.dialect = replace(dialect, encoding="latin-1")
                else:
                    raise CsvError(str(exc)) from None
            self.restarts += 1
            if self.restarts > LIMITS.csv_restarts + 3:
                raise CsvError("the column types keep changing further into the file")
            yield _RESTART  # type: ignore[misc]


_RESTART = object()


def stream(source: Path | bytes, dialect: CsvDialect, block: int = BLOCK_BYTES, columns: int | None = None) -> _Stream:
    """The table as pyarrow record batches with bounded memory; yields `RESTART` whenever the stream starts over.

    Column names are the header's, made unique (`unique_names`). Types are inferred from the first block; a later
    value that does not fit (a word in a number column, a bad UTF-8 byte) restarts the stream with that column
    widened. With `columns`, only the first that many columns are read. After iterating, `.dialect` is the
    dialect that finally worked (the encoding may have changed) and `.width` the number of columns in the file.
    """
    return _Stream(source, dialect, block, columns)


RESTART = _RESTART


def _first_line(text: str) -> str:
    """The useful first line of an Arrow error."""
    return text.strip().splitlines()[0][:300] if text.strip() else "unreadable data"


def read_head(source: Path | bytes, rows: int = 200, kind: str = "csv", columns: int | None = None) -> pd.DataFrame:
    """The first rows (and with `columns`, the first columns) of a delimited file as a DataFrame, dialect
    detected; column names unique."""
    return read_head_stream(source, rows, kind, columns)[0]


def read_head_stream(
    source: Path | bytes, rows: int = 200, kind: str = "csv", columns: int | None = None
) -> tuple[pd.DataFrame, _Stream]:
    """As `read_head`, with the stream it came from (its `.width` is the file's column count)."""
    import pandas as pd

    head = source[:ENCODING_SAMPLE_BYTES] if isinstance(source, bytes) else read_head_bytes(source)
    dialect = csv_dialect(head, kind)
    found = stream(source, dialect, block=min(BLOCK_BYTES, max(len(head), 4096)), columns=columns)
    for batch in found:
        if batch is RESTART:
            continue
        return batch.slice(0, rows).to_pandas(), found
    return pd.DataFrame(), found
