"""One parallel pass over a large delimited file with DuckDB: the same statistics as lib.files.stats, with bounded
memory, telling how far it has got while it reads.

The pass needs only DuckDB: the dialect and the column types come with a `ScanPlan` from the first look of the
file's head (lib.files.tables). `profile_scan` is the pass as a sandbox task for a pool of workers that load DuckDB
alone (`scan_pool`), about half a default worker's memory; one database per process serves every scan.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.files import encodings, quality, sandbox
from lib.files.checks import refuse_binary
from lib.files.delimited import NULL_MARKERS, CsvDialect
from lib.limits import LIMITS
from lib.storage.records import ColumnProfile, TableProfile

SCAN_THREADS = 2
# DuckDB reads in buffers of at least the longest line's size (LIMITS.scan_line_bytes), one per thread: keep it small
_SCAN_RETRIES = 12
_CONVERSION = re.compile(r'converting column "c(\d+)"')
_TEMPORAL = {"DATE": "date", "TIMESTAMP": "datetime", "TIMESTAMPTZ": "datetime", "TIME": "time"}
DUCK_TYPES = {"BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR", *_TEMPORAL}
_EXACT_DOUBLE = 2.0**53
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
POLL_SECONDS = 0.05  # how often the progress of a running scan is read
SCAN_PRELOAD = ("duckdb",)  # all a scan worker loads


@dataclass(frozen=True)
class Column:
    """One column as the scan reads it: its name, the DuckDB type its text is read as, and the type name the
    first block showed (lib.files.stats.type_name), kept where DuckDB's type says less."""

    name: str
    duck: str
    shown: str


@dataclass(frozen=True)
class ScanPlan:
    """How the exact pass reads a delimited file, from the first block of its head: the dialect, the columns and
    the rows that block held (the whole file has at least as many)."""

    dialect: CsvDialect
    columns: tuple[Column, ...]
    head_rows: int


_database: Any = None
_database_lock = threading.Lock()


def connect(threads: int = SCAN_THREADS) -> Any:
    """A new DuckDB database with the scan's threads and memory, whose queries can tell their progress."""
    import duckdb

    return _with_progress(
        duckdb.connect(
            config={
                "threads": threads,
                "memory_limit": LIMITS.scan_memory,
                "preserve_insertion_order": False,
                "temp_directory": tempfile.gettempdir(),
            }
        )
    )


def _with_progress(con: Any) -> Any:
    """The connection, set to keep its queries' progress for `query_progress` (and print none)."""
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


def cursor() -> Any:
    """A connection to this process's scan database, made on first use: starting a database costs tens of
    milliseconds, a connection to it none."""
    global _database
    with _database_lock:
        if _database is None:
            _database = connect()
        return _with_progress(_database.cursor())


def scan_csv(
    path: Path, dialect: CsvDialect, columns: Sequence[Column], on_progress: Callable[[float], None] | None = None
) -> tuple[int, list[ColumnProfile], int]:
    """(rows, column profiles, odd values) of a delimited file in one parallel pass with bounded memory;
    `on_progress` hears the share of the file read (0 to 1) while it runs. Odd values are texts with characters
    beyond ASCII or a NUL byte: where there are none, the file holds no doubtful encoding and no binary data.

    The dialect and the column types come from the first block (`ScanPlan`); a later value that does not
    fit widens its column and the scan starts again. Any other problem raises duckdb.Error (or ValueError),
    and the caller falls back to the streaming pyarrow reader, whose messages say what is wrong.
    """
    import duckdb

    types = [c.duck for c in columns]
    con = cursor()
    try:
        for _ in range(_SCAN_RETRIES):
            try:
                return _watched(con, statement(path, dialect, types), columns, types, on_progress)
            except duckdb.ConversionException as exc:
                found = _CONVERSION.search(str(exc))
                if not found or int(found.group(1)) >= len(types) or types[int(found.group(1))] == "VARCHAR":
                    raise
                types[int(found.group(1))] = "VARCHAR"
        raise ValueError("the column types keep changing further into the file")
    finally:
        con.close()


def _watched(
    con: Any, sql: str, columns: Sequence[Column], types: list[str], on_progress: Callable[[float], None] | None
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
    return profiles(row, columns, types)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def statement(path: Path, dialect: CsvDialect, types: list[str]) -> str:
    """The one aggregate query of the scan over columns `c0`, `c1`… of the declared types."""
    unknown = set(types) - DUCK_TYPES
    if unknown:  # the types become SQL text: only these few
        raise ValueError(f"not a type the scan reads: {sorted(unknown)!r}")
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
        elif t == "TIMESTAMPTZ":  # as microseconds: DuckDB makes zoned Python datetimes only with pytz
            select += [f"epoch_us(min({c}))", f"epoch_us(max({c}))", f"approx_count_distinct({c})"]
        elif t in _TEMPORAL:
            select += [f"min({c})", f"max({c})", f"approx_count_distinct({c})"]
        elif t != "DOUBLE":
            select.append(f"approx_count_distinct({c})")
    odd = [f"count(*) FILTER (strlen(c{i}) <> length(c{i}) OR contains(c{i}, chr(0)))" for i, t in enumerate(types)]
    odd = [o for o, t in zip(odd, types, strict=True) if t == "VARCHAR"]
    return f"SELECT {', '.join(select + (['+'.join(odd)] if odd else ['0']))} FROM {source}"


def profiles(row: list[Any], columns: Sequence[Column], types: list[str]) -> tuple[int, list[ColumnProfile], int]:
    """(rows, column profiles, odd values) from the scan's one result row; `types` are the DuckDB types the
    columns were read as in the end (a column whose later values did not fit its first type reads as text)."""
    rows, at, out = int(row[0]), 1, []
    for column, t in zip(columns, types, strict=True):
        name = column.name
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
            if t == "TIMESTAMPTZ" and lo is not None:
                lo, hi = (_EPOCH + dt.timedelta(microseconds=v) for v in (lo, hi))
            out.append(ColumnProfile(name, _TEMPORAL[t], missing, lo, hi, None, int(distinct), False))
        else:
            shown = column.shown if t == column.duck else "str"
            out.append(ColumnProfile(name, shown, missing, None, None, None, int(row[at + 1]), False))
            at += 2
    return rows, out, int(row[at] or 0)


def exact(
    path: Path,
    name: str,
    kind: str,
    plan: ScanPlan,
    on_progress: Callable[[int, int], None] | None = None,
    survey: encodings.Survey | None = None,
) -> TableProfile | None:
    """The exact profile of a large delimited file read by `plan`, telling `on_progress(bytes read, bytes in all)`;
    the file's encoding `survey` is made line by line only where the pass found texts beyond ASCII or NUL bytes,
    unless given. None where the full reader (lib.files.tables.whole_csv's streaming) must decide; raises Refused
    for a file that holds binary data."""
    import duckdb

    size = path.stat().st_size
    tell = (lambda share: on_progress(int(share * size), size)) if on_progress else None
    try:
        rows, columns, odd = scan_csv(path, plan.dialect, plan.columns, tell)
    except (duckdb.Error, ValueError, OverflowError):
        return None
    if rows < plan.head_rows:
        return None
    if survey is None:
        survey = encodings.survey(path) if odd else encodings.Survey(plan.dialect.encoding)
    if survey.nul:
        refuse_binary(name, kind)
    if on_progress is not None:
        on_progress(size, size)
    notes = quality.notes(columns, rows, survey)
    return TableProfile(rows, tuple(columns), True, notes, plan.dialect.delimiter, plan.dialect.encoding)


@sandbox.task
def profile_scan(path: Path, name: str, kind: str, plan: ScanPlan) -> TableProfile | None:
    """`exact` in a worker that loads DuckDB alone, its progress told across the worker's pipe."""
    return exact(path, name, kind, plan, sandbox.progress)


def scan_pool() -> sandbox.Pool:
    """The shared pool whose workers run `profile_scan` with DuckDB alone loaded."""
    return sandbox.pool("scan", [profile_scan], SCAN_PRELOAD)
