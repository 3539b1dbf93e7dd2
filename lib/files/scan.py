"""One parallel pass over a large delimited file with DuckDB: the same statistics as lib.files.stats, with bounded
memory, telling how far it has got while it reads."""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from lib.files.delimited import NULL_MARKERS, CsvDialect
from lib.files.stats import type_name
from lib.limits import LIMITS
from lib.storage.records import ColumnProfile

SCAN_THREADS = 2
# DuckDB reads in buffers of at least the longest line's size (LIMITS.scan_line_bytes), one per thread: keep it small
_SCAN_RETRIES = 12
_CONVERSION = re.compile(r'converting column "c(\d+)"')
_TEMPORAL = ("DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIME")
_EXACT_DOUBLE = 2.0**53
POLL_SECONDS = 0.05  # how often the progress of a running scan is read


def duck_type(t: pa.DataType) -> str:
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


def connect(threads: int = SCAN_THREADS) -> Any:
    """A DuckDB connection with the scan's threads and memory, which can tell a running query's progress."""
    import duckdb

    con = duckdb.connect(
        config={
            "threads": threads,
            "memory_limit": LIMITS.scan_memory,
            "preserve_insertion_order": False,
            "temp_directory": tempfile.gettempdir(),
        }  # fmt: skip
    )
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


def scan_csv(
    path: Path, dialect: CsvDialect, schema: pa.Schema, on_progress: Callable[[float], None] | None = None
) -> tuple[int, list[ColumnProfile], int]:
    """(rows, column profiles, odd values) of a delimited file in one parallel pass with bounded memory;
    `on_progress` hears the share of the file read (0 to 1) while it runs. Odd values are texts with characters
    beyond ASCII or a NUL byte: where there are none, the file holds no doubtful encoding and no binary data.

    The dialect and the column types come from lib.files.delimited (first block); a later value that does not
    fit widens its column and the scan starts again. Any other problem raises duckdb.Error (or ValueError),
    and the caller falls back to the streaming pyarrow reader, whose messages say what is wrong.
    """
    import duckdb

    types = [duck_type(f.type) for f in schema]
    con = connect()
    try:
        for _ in range(_SCAN_RETRIES):
            try:
                return _watched(con, statement(path, dialect, types), schema, types, on_progress)
            except duckdb.ConversionException as exc:
                found = _CONVERSION.search(str(exc))
                if not found or int(found.group(1)) >= len(types) or types[int(found.group(1))] == "VARCHAR":
                    raise
                types[int(found.group(1))] = "VARCHAR"
        raise ValueError("the column types keep changing further into the file")
    finally:
        con.close()


def _watched(
    con: Any, sql: str, schema: pa.Schema, types: list[str], on_progress: Callable[[float], None] | None
) -> tuple[int, list[ColumnProfile], int]:
    """Run the scan, reading its progress from another thread meanwhile."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(POLL_SECONDS):
            share = con.query_progress()
            if share >= 0 and on_progress is not None:
                on_progress(min(share, 100.0) / 100.0)

    watcher = threading.Thread(target=watch, daemon=True)
    if on_progress is not None:
        watcher.start()
    try:
        row = list(con.execute(sql).fetchone())
    finally:
        done.set()
        if on_progress is not None:
            watcher.join()
    return profiles(row, schema, types)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def statement(path: Path, dialect: CsvDialect, types: list[str]) -> str:
    """The one aggregate query of the scan over columns `c0`, `c1`… of the declared types."""
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
        if t in ("BIGINT", "DOUBLE"):
            select += [f"min({c})", f"max({c})", f"avg({c})", f"stddev_pop({c})", f"approx_quantile({c}, [0.25, 0.75])"]
        if t == "BIGINT":
            select += [f"count({c}) FILTER ({c} <> trunc({c}))", f"approx_count_distinct({c})"]
        elif t in _TEMPORAL:
            select += [f"min({c})", f"max({c})", f"approx_count_distinct({c})"]
        elif t != "DOUBLE":
            select.append(f"approx_count_distinct({c})")
    odd = [f"count(*) FILTER (strlen(c{i}) <> length(c{i}) OR contains(c{i}, chr(0)))" for i, t in enumerate(types)]
    odd = [o for o, t in zip(odd, types, strict=True) if t == "VARCHAR"]
    return f"SELECT {', '.join(select + (['+'.join(odd)] if odd else ['0']))} FROM {source}"


def profiles(row: list[Any], schema: pa.Schema, types: list[str]) -> tuple[int, list[ColumnProfile], int]:
    """(rows, column profiles, odd values) from the scan's one result row."""
    rows, at, out = int(row[0]), 1, []
    for name, field, t in zip(schema.names, schema, types, strict=True):
        valid = int(row[at])
        missing = (rows - valid) / rows if rows else 0.0
        if t in ("BIGINT", "DOUBLE"):
            lo, hi, mean, std, quartiles = row[at + 1 : at + 6]
            q1, q3 = quartiles if quartiles else (None, None)
            at += 6
            if t == "DOUBLE":
                out.append(ColumnProfile(name, "float64", missing, lo, hi, mean, std=std, q1=q1, q3=q3))
                continue
            fractions, distinct = row[at : at + 2]
            at += 2
            whole = not fractions
            if whole and lo is not None and max(abs(lo), abs(hi)) >= _EXACT_DOUBLE:
                raise ValueError("integers too large to profile exactly in one pass")
            if whole and lo is not None:
                lo, hi = int(lo), int(hi)
            if whole:
                out.append(ColumnProfile(name, "int64", missing, lo, hi, mean, int(distinct), False, std, q1, q3))
            else:
                out.append(ColumnProfile(name, "float64", missing, lo, hi, mean, std=std, q1=q1, q3=q3))
        elif t in _TEMPORAL:
            lo, hi, distinct = row[at + 1 : at + 4]
            at += 4
            out.append(ColumnProfile(name, type_name(field.type), missing, lo, hi, None, int(distinct), False))
        else:
            arrow = field.type if t == duck_type(field.type) else pa.string()
            out.append(ColumnProfile(name, type_name(arrow), missing, None, None, None, int(row[at + 1]), False))
            at += 2
    return rows, out, int(row[at] or 0)
