"""A table as the Files page shows it (`TablePreview`), and delimited files read two ways: a first look from the
file's head and size alone, and one exact pass over the whole file (DuckDB for large files, else pyarrow)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from lib.files import delimited, encodings, kinds, quality, scan
from lib.files.checks import Refused, check_text, refuse_binary
from lib.files.delimited import RESTART, CsvDialect, CsvError, csv_dialect, read_head_bytes
from lib.files.scan import Column, ScanPlan
from lib.files.stats import Profiler, type_name
from lib.limits import LIMITS, MB
from lib.storage.records import ColumnProfile, TableProfile

HEAD_ROWS = 50  # rows a first look shows
LOOK_BYTES = delimited.ENCODING_SAMPLE_BYTES  # the head a first look reads
# Delimited files from this size on are profiled in one parallel DuckDB pass (it pays off above a few MB).
SCAN_MIN_BYTES = 8 * MB
UTF8 = ("utf-8", "utf-8-sig")
_DUCK_TYPES = {"int64": "BIGINT", "float64": "DOUBLE", "bool": "BOOLEAN", "date": "DATE", "time": "TIME"}
Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class TablePreview:
    """Shape, column profile and first rows of a table; from a first look, the shape and statistics may be
    estimates until the exact profile replaces them."""

    rows: int
    columns: int
    head: pd.DataFrame
    profile: list[ColumnProfile]
    delimiter: str | None = None
    encoding: str | None = None
    sheets: list[str] = field(default_factory=list)
    note: str = ""
    quality: tuple[str, ...] = ()  # data-quality notes (encoding, damage, identifiers, extreme values)
    rows_exact: bool = True  # False: `rows` is estimated from the head and the file's size
    sampled: int = 0  # > 0: the statistics come from this many first rows only
    plan: ScanPlan | None = None  # how the exact pass can read a large delimited file, from its first look

    @property
    def dtypes(self) -> list[tuple[str, str]]:
        """(column, type) pairs."""
        return [(c.name, c.type) for c in self.profile]

    @property
    def missing(self) -> list[tuple[str, float]]:
        """(column, share of missing values) pairs."""
        return [(c.name, c.missing) for c in self.profile]

    @property
    def estimated(self) -> bool:
        """Whether some figures are estimates a pass over the whole file will replace."""
        return not self.rows_exact or self.sampled > 0

    def table_profile(self) -> TableProfile:
        """What is kept with the file: the profile, its notes and the first rows shown."""
        head = tuple(bounded_cells(self.head).head(HEAD_ROWS).to_dict("records"))
        return TableProfile(
            rows=self.rows,
            columns=tuple(self.profile),
            exact=not self.estimated,
            notes=self.quality,
            delimiter=self.delimiter,
            encoding=self.encoding,
            sheets=tuple(self.sheets),
            head=tuple({str(k): v for k, v in row.items()} for row in head),
        )

    @classmethod
    def kept(cls, profile: TableProfile) -> TablePreview:
        """The preview a file's kept profile shows again, with no second reading of the file."""
        head = pd.DataFrame.from_records(list(profile.head)) if profile.head else pd.DataFrame(columns=profile.names)
        return cls(
            rows=profile.rows,
            columns=len(profile.columns),
            head=head,
            profile=list(profile.columns),
            delimiter=profile.delimiter,
            encoding=profile.encoding,
            sheets=list(profile.sheets),
            note=f"{shape_note(profile.rows, len(profile.columns), profile.exact)}; kept since the upload.",
            quality=profile.notes,
            rows_exact=profile.exact,
        )

    def with_exact(self, exact: TablePreview) -> TablePreview:
        """This first look with the figures of the exact pass in place of its estimates (its first rows stay)."""
        return replace(
            self,
            rows=exact.rows,
            columns=exact.columns,
            profile=exact.profile,
            encoding=exact.encoding,
            note=exact.note,
            quality=exact.quality,
            rows_exact=True,
            sampled=0,
        )

    def with_scanned(self, found: TableProfile) -> TablePreview:
        """This first look with the exact profile of its plan's pass (lib.files.scan) in place of its estimates."""
        assert self.plan is not None, "a first look with a plan"
        return replace(
            self,
            rows=found.rows,
            columns=len(found.columns),
            profile=list(found.columns),
            encoding=found.encoding,
            note=scanned_note(found, self.plan.dialect),
            quality=found.notes,
            rows_exact=True,
            sampled=0,
        )


def bounded_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame whose text cells are cut to the limit's length (numbers, dates and the like are left as they are)."""
    limit = LIMITS.table_cell_chars
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(i, column.map(lambda v: v[: limit - 1] + "…" if isinstance(v, str) and len(v) > limit else v))
    return out


def bounded(preview: TablePreview) -> TablePreview:
    """The preview with a head of at most the limits' columns and cell length, saying what was left out."""
    head, note = preview.head, preview.note
    if head.shape[1] > LIMITS.table_head_columns:
        head = head.iloc[:, : LIMITS.table_head_columns]
        note = f"{note} First {LIMITS.table_head_columns:,} of {preview.columns:,} columns shown.".strip()
    return replace(preview, head=bounded_cells(head), note=note)


def shape_note(rows: int, columns: int, rows_exact: bool = True) -> str:
    """'1,234 rows × 5 columns' ('about 1,234 rows' when estimated)."""
    about = "" if rows_exact else "about "
    return f"{about}{rows:,} row{'s' if rows != 1 else ''} × {columns:,} column{'s' if columns != 1 else ''}"


# --- delimited files ----------------------------------------------------------------------------------

CSV_HINT = "Export the data again and upload a file that has a header row and at least one data row."


def look_csv(path: Path, name: str, kind: str, size: int, max_rows: int) -> TablePreview:
    """The first look at a delimited file: dialect, header, types, first rows and statistics from its head, and
    the row count estimated from its size. The whole file (once it is all on disk) when the head is all of it, or
    when the head holds no whole data row or cannot be read (the whole file's reading then says what is wrong)."""
    head = read_head_bytes(path, LOOK_BYTES)
    check_text(name, kind, head, None)
    if not head.strip():
        raise Refused(f"{name} has no columns: it contains only blank space.", CSV_HINT)
    dialect = csv_dialect(head, kind)
    cut = head[: head.rfind(b"\n") + 1]
    first = _first_block(cut, dialect) if size > len(head) else None
    if first is None:
        _await(path, size)
        return whole_csv(path, name, kind, max_rows)
    batch, found = first
    profiler = Profiler()
    profiler.feed(batch)
    header = len(cut) - len(cut.split(b"\n", dialect.skiprows + 1)[-1])
    per_row = max(len(cut) - header, 1) / batch.num_rows
    estimate = max(batch.num_rows, round((size - header) / per_row))
    profile = profiler.result()
    return TablePreview(
        rows=estimate,
        columns=len(profile),
        head=batch.slice(0, max_rows).to_pandas(),
        profile=profile,
        delimiter=found.delimiter,
        encoding=found.encoding,
        note=f"{shape_note(estimate, len(profile), False)}; {found.describe()}; "
        f"statistics so far from the first {batch.num_rows:,} rows.",
        quality=quality.notes(profile, batch.num_rows, encodings.survey(cut)),
        rows_exact=False,
        sampled=batch.num_rows,
        plan=scan_plan(found, batch, size),
    )


def duck_type(t: pa.DataType) -> str:
    """The DuckDB type that reads the same text as an Arrow type inferred by pyarrow's CSV reader."""
    name = type_name(t)
    if name == "datetime":
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    return _DUCK_TYPES.get(name, "VARCHAR")


def scan_plan(dialect: CsvDialect, first: pa.RecordBatch, size: int) -> ScanPlan | None:
    """How DuckDB's one pass reads a file of `size` bytes whose first block is `first`, to be planned from a first
    look; None where the streaming reader reads it (a small file, an 8-bit encoding, which needs the line-by-line
    survey first)."""
    if size < SCAN_MIN_BYTES or dialect.encoding not in UTF8:
        return None
    return _plan(dialect, first)


def _plan(dialect: CsvDialect, first: pa.RecordBatch) -> ScanPlan | None:
    """DuckDB's pass over a file whose first block is `first`; None for no rows or thousands of columns (one
    aggregate query over them plans slowly)."""
    if not first.num_rows or first.num_columns > LIMITS.scan_columns:
        return None
    return ScanPlan(dialect, scan_columns(first.schema), first.num_rows)


def scanned_note(found: TableProfile, dialect: CsvDialect) -> str:
    """The note of a table whose exact figures came from DuckDB's pass."""
    return f"{shape_note(found.rows, len(found.columns))}; {dialect.describe()}; distinct counts estimated."


def scan_columns(schema: pa.Schema) -> tuple[Column, ...]:
    """The columns of a first block as DuckDB's pass reads them."""
    return tuple(Column(f.name, duck_type(f.type), type_name(f.type)) for f in schema)


def _first_block(cut: bytes, dialect: CsvDialect) -> tuple[pa.RecordBatch, CsvDialect] | None:
    """The head's whole rows as one batch and the dialect that read them; a cut inside a quoted field is moved
    back a line or two. None when the head holds no data row that can be read."""
    for _ in range(4):
        if cut.count(b"\n") < dialect.skiprows + 2:
            return None
        stream = delimited.stream(cut, dialect, block=max(len(cut), 1))
        try:
            first = next((b for b in stream if b is not RESTART), None)
        except CsvError:
            cut = cut[: cut.rfind(b"\n", 0, len(cut) - 1) + 1]
            continue
        return (first, stream.dialect) if first is not None and first.num_rows else None
    return None


def _await(path: Path, size: int, seconds: float = 60.0) -> None:
    """Wait until the file being written has all its `size` bytes on disk."""
    deadline = time.monotonic() + seconds
    while path.stat().st_size < size and time.monotonic() < deadline:
        time.sleep(0.005)


def whole_csv(path: Path, name: str, kind: str, max_rows: int, on_progress: Progress | None = None) -> TablePreview:
    """One pass over the whole delimited file: exact rows, types, missing shares, statistics and notes.

    A large UTF-8 file is read in one DuckDB pass, which also checks its UTF-8 and counts texts beyond ASCII or
    with NUL bytes; only where there are some is the file surveyed line by line (lib.files.encodings)."""
    size = path.stat().st_size
    head_bytes = read_head_bytes(path)
    check_text(name, kind, head_bytes, None)
    if not head_bytes.strip():
        raise Refused(f"{name} has no columns: it contains only blank space.", CSV_HINT)
    dialect = csv_dialect(head_bytes, kind)
    tell: Callable[[int], None] = (lambda done: on_progress(min(done, size), size)) if on_progress else _nothing
    if size >= SCAN_MIN_BYTES and dialect.encoding in UTF8:
        fast = _scan_large_csv(path, name, kind, dialect, head_bytes, max_rows, on_progress)
        if fast is not None:
            return fast
    survey = encodings.survey(path)
    if survey.nul:
        refuse_binary(name, kind)
    if survey.encoding != dialect.encoding and not (dialect.encoding == "utf-8-sig" and survey.encoding == "utf-8"):
        dialect = replace(dialect, encoding=survey.encoding)
    if size >= SCAN_MIN_BYTES and dialect.encoding in ("cp1252", "latin-1"):
        fast = _scan_large_csv(path, name, kind, dialect, head_bytes, max_rows, on_progress, survey)
        if fast is not None:
            return fast
    profiler = Profiler()
    head = pd.DataFrame()
    stream = delimited.stream(path, dialect)
    stream.on_read = tell
    label = kinds.get(kind).label  # type: ignore[union-attr]
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
            raise Refused(f"{name} has a header row but no data rows.", CSV_HINT) from None
        raise Refused(f"{name} could not be read as {label}: {exc}.", CSV_HINT) from None
    tell(size)
    profile = profiler.result()
    if not profile and stream.schema is not None and len(stream.schema):
        raise Refused(f"{name} has a header row but no data rows.", CSV_HINT)
    if not profile:
        raise Refused(f"{name} has no columns: it contains no data.", CSV_HINT)
    if profiler.rows == 0:
        raise Refused(f"{name} has a header row but no data rows.", CSV_HINT)
    dialect = stream.dialect
    return TablePreview(
        rows=profiler.rows,
        columns=len(profile),
        head=head,
        profile=profile,
        delimiter=dialect.delimiter,
        encoding=dialect.encoding,
        note=f"{shape_note(profiler.rows, len(profile))}; {dialect.describe()}.",
        quality=quality.notes(profile, profiler.rows, survey),
    )


def _nothing(done: int) -> None:
    return None


def _scan_large_csv(
    path: Path,
    name: str,
    kind: str,
    dialect: CsvDialect,
    head_bytes: bytes,
    max_rows: int,
    on_progress: Progress | None,
    survey: encodings.Survey | None = None,
) -> TablePreview | None:
    """Head and types from the first block (`head_bytes`, the file's first MiB), then DuckDB's one pass
    (lib.files.scan.exact); None when the streaming reader must decide."""
    # The first block is parsed from the head bytes: a pyarrow file reader would read ahead and keep
    # tens of MB in its pool for the rest of the worker's life.
    head = head_bytes[: head_bytes.rfind(b"\n") + 1]
    stream = delimited.stream(head, dialect, block=max(len(head), 1))
    try:
        first = next((b for b in stream if b is not RESTART), None)
    except CsvError:
        return None  # e.g. the cut fell inside a quoted field
    if first is None:
        return None
    plan = _plan(stream.dialect, first)
    found = scan.exact(path, name, kind, plan, on_progress, survey) if plan else None
    if plan is None or found is None:
        return None  # the streaming reader reads it again and says what is wrong
    head_rows = first.slice(0, max_rows)
    widened = {"float64": pa.float64(), "str": pa.string()}
    arrays = [
        a.cast(widened[c.type]) if c.type in widened and type_name(a.type) != c.type else a
        for a, c in zip(head_rows.columns, found.columns, strict=True)
    ]
    return TablePreview(
        rows=found.rows,
        columns=len(found.columns),
        head=pa.RecordBatch.from_arrays(arrays, names=head_rows.schema.names).to_pandas(),
        profile=list(found.columns),
        delimiter=found.delimiter,
        encoding=found.encoding,
        note=scanned_note(found, plan.dialect),
        quality=found.notes,
    )


# --- tables read whole into memory (XLSX sheets, JSON records) -----------------------------------------


def frame_preview(
    frame: pd.DataFrame, max_rows: int, sheets: list[str] | None = None, note: str = "", extra: tuple[str, ...] = ()
) -> TablePreview:
    """Profile an in-memory DataFrame (XLSX sheet, JSON records) the same way as a streamed table."""
    frame = frame.copy()
    frame.columns = delimited.unique_names([str(c) for c in frame.columns])
    profiler = Profiler()
    for start in range(0, max(len(frame), 1), 100_000):
        part = frame.iloc[start : start + 100_000]
        profiler.feed(to_arrow(part))
    rows, cols = frame.shape
    profile = profiler.result()
    return TablePreview(
        rows=rows,
        columns=cols,
        head=frame.head(max_rows),
        profile=profile,
        sheets=sheets or [],
        note=shape_note(rows, cols) + ("; " + note if note else "."),
        quality=extra + quality.notes(profile, rows, None),
    )


def to_arrow(frame: pd.DataFrame) -> pa.RecordBatch:
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
