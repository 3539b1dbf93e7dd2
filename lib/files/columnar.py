"""Parquet files: a first look from the footer (exact rows and types, missing counts where the writer kept them)
and the first rows, then the row groups streamed through the profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from lib.files import quality
from lib.files.checks import Refused, format_size, short
from lib.files.stats import Profiler
from lib.files.tables import LOOK_BYTES, TablePreview, shape_note
from lib.limits import LIMITS
from lib.storage.records import ColumnProfile

BATCH_ROWS = 65_536
_DAMAGED = "Write the Parquet file again (for example with pandas.DataFrame.to_parquet) and upload the new copy."


def _open(path: Path, name: str) -> Any:
    """The file and its footer, measured: row groups must not expand past the limit."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise Refused(f"{name} is a damaged Parquet file ({short(exc)}).", _DAMAGED) from None
    expanded = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    if expanded > LIMITS.parquet_bytes:
        raise Refused(
            f"{name}: this Parquet file expands to {format_size(expanded)}; "
            f"the limit is {format_size(LIMITS.parquet_bytes)}.",
            "Upload a smaller extract (fewer rows or columns).",
        )
    return parquet


def look_parquet(path: Path, name: str, size: int, max_rows: int) -> TablePreview:
    """Rows and types from the footer, missing counts from its statistics, the rest from the first batch."""
    parquet = _open(path, name)
    meta = parquet.metadata
    if size <= LOOK_BYTES or meta.num_rows <= BATCH_ROWS:
        return whole_parquet(path, name, max_rows)
    try:
        first = next(parquet.iter_batches(batch_size=BATCH_ROWS))
    except (OSError, ValueError, pa.ArrowException, StopIteration) as exc:
        raise Refused(f"{name} is a damaged Parquet file ({short(exc)}).", _DAMAGED) from None
    profiler = Profiler()
    profiler.feed(_flatten_nested(first))
    nulls = _null_counts(meta)
    profile = [
        replace(c, missing=nulls[i] / meta.num_rows) if i in nulls and meta.num_rows else c
        for i, c in enumerate(profiler.result())
    ]
    names = list(parquet.schema_arrow.names)
    return TablePreview(
        meta.num_rows,
        len(names),
        first.slice(0, max_rows).to_pandas(),
        profile,
        note=f"{shape_note(meta.num_rows, len(names))}; {meta.num_row_groups} row group(s); "
        f"statistics so far from the first {first.num_rows:,} rows.",
        quality=quality.notes(profile, first.num_rows, None),
        sampled=first.num_rows,
    )


def _null_counts(meta: Any) -> dict[int, int]:
    """Missing values per top-level column from the row groups' statistics, where every group has them."""
    out: dict[int, int] = {}
    try:
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            if group.num_columns != meta.num_columns:
                return {}
            for i in range(group.num_columns):
                stats = group.column(i).statistics
                if stats is None or not stats.has_null_count or "." in group.column(i).path_in_schema:
                    out[i] = -(10**18)  # unknown: dropped below
                else:
                    out[i] = out.get(i, 0) + stats.null_count
    except (OSError, ValueError, pa.ArrowException):
        return {}
    return {i: n for i, n in out.items() if n >= 0}


def whole_parquet(
    path: Path, name: str, max_rows: int, on_progress: Callable[[int, int], None] | None = None
) -> TablePreview:
    """Footer first (rows, sizes); then the row groups are streamed through the profile."""
    parquet = _open(path, name)
    meta = parquet.metadata
    profiler = Profiler()
    head = None
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            if head is None:
                head = batch.slice(0, max_rows).to_pandas()
            profiler.feed(_flatten_nested(batch))
            if on_progress is not None:
                on_progress(profiler.rows, max(meta.num_rows, 1))
        if head is None:
            head = parquet.schema_arrow.empty_table().to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise Refused(f"{name} is a damaged Parquet file ({short(exc)}).", _DAMAGED) from None
    names = list(parquet.schema_arrow.names)
    profile = profiler.result() or [ColumnProfile(n, "empty", 0.0) for n in names]
    rows = meta.num_rows
    return TablePreview(
        rows,
        len(names),
        head,
        profile,
        note=f"{shape_note(rows, len(names))}; {meta.num_row_groups} row group(s).",
        quality=quality.notes(profile, rows, None),
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
