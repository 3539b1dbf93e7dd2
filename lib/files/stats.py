"""A streaming profile of a table: exact rows, types, missing share, numeric min/max/mean, distinct estimates."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.files.delimited import NULL_MARKERS
from lib.limits import LIMITS

if TYPE_CHECKING:
    from lib.files.delimited import CsvDialect

# K-minimum-values sketch: keeps the K smallest 64-bit hashes; relative error about 1/sqrt(K).
SKETCH_K = 2048
_HASH_WINDOW = 4096  # bytes of a string that weigh in its hash (with its length)
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_rng = np.random.default_rng(20260521)
_WEIGHTS = _rng.integers(1, 2**63, _HASH_WINDOW, dtype=np.uint64) | np.uint64(1)


@dataclass(frozen=True)
class ColumnProfile:
    """What the profile knows about one column."""

    name: str
    type: str
    missing: float  # share of rows with no value
    min: Any = None
    max: Any = None
    mean: float | None = None
    distinct: int | None = None
    distinct_exact: bool = True


def type_name(t: pa.DataType) -> str:
    """A short, familiar name for an Arrow type."""
    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float64"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_null(t):
        return "empty"
    return str(t)


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _is_ordered(t: pa.DataType) -> bool:
    return pa.types.is_temporal(t)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the bits of a 64-bit value evenly."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(30))
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(27))
        h = h * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def _string_hashes(arr: pa.Array) -> np.ndarray:
    """64-bit hashes of non-null strings, vectorised over Arrow's offsets and data buffers."""
    arr = arr.cast(pa.large_string()) if not pa.types.is_large_string(arr.type) else arr
    n = len(arr)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(buffers[2], dtype=np.uint8, count=end, offset=0)[start:] if end else np.empty(0, np.uint8)
    lengths = np.diff(offsets)
    local = offsets[:-1] - start
    with np.errstate(over="ignore"):
        if data.size:
            pos = np.arange(data.size, dtype=np.int64) - np.repeat(local, lengths)
            contrib = (data.astype(np.uint64) + np.uint64(1)) * _WEIGHTS[pos % _HASH_WINDOW]
            # reduceat needs in-range indices; a trailing 0 handles empty strings at the end
            sums = np.add.reduceat(np.append(contrib, np.uint64(0)), np.minimum(local, data.size))
            sums[lengths == 0] = 0
        else:
            sums = np.zeros(n, dtype=np.uint64)
        return _mix(sums ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))


def _hashes(arr: pa.Array) -> np.ndarray:
    """64-bit hashes of the distinct non-null values of a column chunk."""
    uniq = pc.unique(pc.drop_null(arr))
    t = uniq.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        return _string_hashes(uniq.cast(pa.large_string()) if pa.types.is_binary(t) else uniq)
    if pa.types.is_dictionary(t):
        return _hashes(uniq.dictionary_decode())
    try:
        values = np.asarray(uniq.to_numpy(zero_copy_only=False))
        if values.dtype.kind in "iub":
            ints = values.astype(np.int64).view(np.uint64)
        elif values.dtype.kind == "f":
            ints = values.astype(np.float64).view(np.uint64)
        elif values.dtype.kind in "mM":
            ints = values.view(np.int64).view(np.uint64)
        else:
            return _string_hashes(pc.cast(uniq, pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError):
        return _string_hashes(pa.array([str(v) for v in uniq.to_pylist()], type=pa.large_string()))
    return _mix(ints.copy())


class _Column:
    """Running totals of one column."""

    def __init__(self, name: str, t: pa.DataType) -> None:
        self.name, self.type = name, t
        self.nulls = 0
        self.count = 0
        self.total = 0.0
        self.min: Any = None
        self.max: Any = None
        self.sketch = np.empty(0, dtype=np.uint64)
        self.saturated = False

    def feed(self, arr: pa.Array) -> None:
        self.nulls += arr.null_count
        if _is_numeric(self.type) or _is_ordered(self.type):
            valid = len(arr) - arr.null_count
            if valid:
                mm = pc.min_max(arr)
                lo, hi = mm["min"].as_py(), mm["max"].as_py()
                self.min = lo if self.min is None else min(self.min, lo)
                self.max = hi if self.max is None else max(self.max, hi)
                if _is_numeric(self.type):
                    self.total += pc.sum(arr.cast(pa.float64())).as_py() or 0.0
                    self.count += valid
            if _is_numeric(self.type):
                return
        hashes = _hashes(arr)
        if self.saturated:
            # only hashes below the current K-th smallest can change the sketch
            hashes = hashes[hashes < self.sketch[-1]]
            if not hashes.size:
                return
        merged = np.union1d(self.sketch, hashes)
        if merged.size > SKETCH_K:
            merged = merged[:SKETCH_K]
            self.saturated = True
        self.sketch = merged

    def result(self, rows: int) -> ColumnProfile:
        missing = self.nulls / rows if rows else 0.0
        if _is_numeric(self.type):
            mean = self.total / self.count if self.count else None
            return ColumnProfile(self.name, type_name(self.type), missing, self.min, self.max, mean)
        if self.saturated:
            # KMV estimate: K-1 divided by the K-th smallest hash as a fraction of the hash space
            kth = float(self.sketch[SKETCH_K - 1]) / 2.0**64
            distinct, exact = int(round((SKETCH_K - 1) / kth)), False
        else:
            distinct, exact = int(self.sketch.size), True
        return ColumnProfile(self.name, type_name(self.type), missing, self.min, self.max, None, distinct, exact)


class Profiler:
    """Feeds record batches of one table and builds its column profiles; memory stays bounded."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns: list[_Column] = []

    def reset(self) -> None:
        """Start over (the reader restarted the stream with other column types)."""
        self.rows = 0
        self.columns = []

    def feed(self, batch: pa.RecordBatch) -> None:
        if not self.columns:
            self.columns = [_Column(f.name, f.type) for f in batch.schema]
        self.rows += batch.num_rows
        for col, arr in zip(self.columns, batch.columns, strict=True):
            if arr.type != col.type:  # pandas-made batches may differ chunk to chunk
                col.type = arr.type if pa.types.is_null(col.type) else col.type
                if arr.type != col.type:
                    arr = arr.cast(col.type, safe=False)
            col.feed(arr)

    def result(self) -> list[ColumnProfile]:
        return [c.result(self.rows) for c in self.columns]


# --- one parallel scan of a large delimited file (DuckDB) -------------------------------------------

SCAN_THREADS = 2
# DuckDB reads in buffers of at least the longest line's size (LIMITS.scan_line_bytes), one per thread: keep it small
_SCAN_RETRIES = 12
_CONVERSION = re.compile(r'converting column "c(\d+)"')


def _duck_type(t: pa.DataType) -> str:
    """The DuckDB type that reads the same text as an Arrow type inferred by pyarrow's CSV reader."""
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_time(t):
        return "TIME"
    return "VARCHAR"


def scan_csv(path: Path, dialect: CsvDialect, schema: pa.Schema) -> tuple[int, list[ColumnProfile]]:
    """(rows, column profiles) of a delimited file in one parallel pass with bounded memory.

    The dialect and the column types come from lib.files.delimited (first block); a later value that does not
    fit widens its column and the scan starts again. Any other problem raises duckdb.Error (or ValueError),
    and the caller falls back to the streaming pyarrow reader, whose messages say what is wrong.
    """
    import duckdb

    types = [_duck_type(f.type) for f in schema]
    con = duckdb.connect(
        config={
            "threads": SCAN_THREADS,
            "memory_limit": LIMITS.scan_memory,
            "preserve_insertion_order": False,
            "temp_directory": tempfile.gettempdir(),
        }  # fmt: skip
    )
    try:
        for _ in range(_SCAN_RETRIES):
            try:
                return _scan(con, path, dialect, schema, types)
            except duckdb.ConversionException as exc:
                found = _CONVERSION.search(str(exc))
                if not found or int(found.group(1)) >= len(types) or types[int(found.group(1))] == "VARCHAR":
                    raise
                types[int(found.group(1))] = "VARCHAR"
        raise ValueError("the column types keep changing further into the file")
    finally:
        con.close()


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_TEMPORAL = ("DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIME")
_EXACT_DOUBLE = 2.0**53


def _scan(
    con: Any, path: Path, dialect: CsvDialect, schema: pa.Schema, types: list[str]
) -> tuple[int, list[ColumnProfile]]:
    # Integers are read as DOUBLE: DuckDB would round "1.5" into a BIGINT column, pyarrow widens it to
    # float; a column stays int64 when every value is whole.
    columns = "{" + ", ".join(f"'c{i}': '{'DOUBLE' if t == 'BIGINT' else t}'" for i, t in enumerate(types)) + "}"
    source = (
        f"read_csv({_sql_text(str(path))}, header=true, auto_detect=false, columns={columns}, "
        f"delim={_sql_text(dialect.delimiter)}, quote='\"', escape='\"', skip={int(dialect.skiprows)}, "
        f"decimal_separator={_sql_text(dialect.decimal)}, "
        # Latin-1 maps every byte to one character, so counts come out the same for any 8-bit encoding.
        f"encoding={_sql_text('utf-8' if dialect.encoding.startswith('utf-8') else 'latin-1')}, "
        f"nullstr=[{', '.join(_sql_text(m) for m in NULL_MARKERS)}], strict_mode=true, "
        f"max_line_size={LIMITS.scan_line_bytes})"
    )
    select = ["count(*)"]
    for i, t in enumerate(types):
        c = f"c{i}"
        select.append(f"count({c})")
        if t == "BIGINT":
            select += [f"min({c})", f"max({c})", f"avg({c})", f"count({c}) FILTER ({c} <> trunc({c}))"]
        elif t == "DOUBLE":
            select += [f"min({c})", f"max({c})", f"avg({c})"]
        elif t in _TEMPORAL:
            select += [f"min({c})", f"max({c})", f"approx_count_distinct({c})"]
        else:
            select.append(f"approx_count_distinct({c})")
    row = list(con.execute(f"SELECT {', '.join(select)} FROM {source}").fetchone())
    rows, at, out = int(row[0]), 1, []
    for name, field, t in zip(schema.names, schema, types, strict=True):
        valid = int(row[at])
        missing = (rows - valid) / rows if rows else 0.0
        if t == "BIGINT":
            lo, hi, mean, fractions = row[at + 1 : at + 5]
            at += 5
            whole = not fractions
            if whole and lo is not None and max(abs(lo), abs(hi)) >= _EXACT_DOUBLE:
                raise ValueError("integers too large to profile exactly in one pass")
            if whole and lo is not None:
                lo, hi = int(lo), int(hi)
            out.append(ColumnProfile(name, "int64" if whole else "float64", missing, lo, hi, mean))
        elif t == "DOUBLE":
            lo, hi, mean = row[at + 1 : at + 4]
            at += 4
            out.append(ColumnProfile(name, "float64", missing, lo, hi, mean))
        elif t in _TEMPORAL:
            lo, hi, distinct = row[at + 1 : at + 4]
            at += 4
            out.append(ColumnProfile(name, type_name(field.type), missing, lo, hi, None, int(distinct), False))
        else:
            arrow = field.type if t == _duck_type(field.type) else pa.string()
            out.append(ColumnProfile(name, type_name(arrow), missing, None, None, None, int(row[at + 1]), False))
            at += 2
    return rows, out
