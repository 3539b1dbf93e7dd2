"""A query result as a Parquet file, in the (name, bytes) form the upload path takes (lib.files.uploads)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lib.errors import AppError
from lib.sources.query import QueryColumn, QueryResult

MAX_STEM = 100


@dataclass(frozen=True)
class Snapshot:
    """A Parquet file made from a query result: upload it as `inspect_upload(name, data, …)` takes it."""

    name: str
    data: bytes
    rows: int
    columns: int
    truncated: bool  # the result was cut at a cap, so the file holds the rows that fit


def file_name(result: QueryResult, stem: str = "") -> str:
    """A safe `.parquet` name: letters, digits, `_`, `-` and `.`, from the stem given or the source's name."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", stem or f"{result.source}_query").strip("._-")[:MAX_STEM]
    return f"{clean or 'query'}.parquet"


def to_parquet(result: QueryResult, stem: str = "") -> Snapshot:
    """The result's rows as Parquet with typed columns (dates as dates, decimals exact); the SQL in its metadata."""
    if result.error is not None:
        raise AppError(
            "Nothing to snapshot",
            f"The query failed, so there are no rows to save: {result.error.message}",
            "Fix the query and run it again, then take the snapshot.",
            code="snapshot_failed_query",
        )
    names = _unique([c.name for c in result.columns])
    arrays = [_array(col, [row[i] for row in result.rows]) for i, col in enumerate(result.columns)]
    metadata = {
        "analyst.source": result.source,
        "analyst.query": result.query,
        "analyst.truncated": result.truncated_reason if result.truncated else "",
    }
    table = pa.Table.from_arrays(arrays, names=names, metadata=metadata)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return Snapshot(file_name(result, stem), buffer.getvalue(), result.row_count, len(names), result.truncated)


def _unique(names: list[str]) -> list[str]:
    """Column names made unique (`a`, `a_2`…): Parquet readers refuse duplicates."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name or "column", 1
        while candidate in seen:
            n += 1
            candidate = f"{name or 'column'}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def _number(values: list[Any]) -> pa.Array:
    if any(isinstance(v, str) for v in values):  # decimals a float cannot hold came as strings: keep them exact
        return pa.array([None if v is None else Decimal(str(v)) for v in values])
    return pa.array([None if v is None else float(v) for v in values], pa.float64())


# how each kind's JSON-ready values become an Arrow column
CONVERTERS: dict[str, Callable[[list[Any]], pa.Array]] = {
    "integer": lambda vs: pa.array(vs, pa.int64()),
    "number": _number,
    "boolean": lambda vs: pa.array(vs, pa.bool_()),
    "text": lambda vs: pa.array(vs, pa.string()),
    "date": lambda vs: pa.array([None if v is None else dt.date.fromisoformat(v) for v in vs], pa.date32()),
    "timestamp": lambda vs: pa.array([None if v is None else dt.datetime.fromisoformat(v) for v in vs]),
    "time": lambda vs: pa.array([None if v is None else dt.time.fromisoformat(v) for v in vs], pa.time64("us")),
    "interval": lambda vs: pa.array([None if v is None else dt.timedelta(seconds=v) for v in vs], pa.duration("us")),
    "bytes": lambda vs: pa.array([None if v is None else base64.b64decode(v) for v in vs], pa.binary()),
}


def _array(column: QueryColumn, values: list[Any]) -> pa.Array:
    """A typed column, or text where the values do not fit the kind (mixed time zones, huge integers…)."""
    convert = CONVERTERS.get(column.kind)
    if convert is not None:
        try:
            return convert(values)
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            pass
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
