"""The exact profile of a table: one pass over the whole file (DuckDB for large delimited files, pyarrow
streaming for the rest) giving exact rows, types, missing shares, min/max/mean, distinct estimates and
data-quality notes, telling how many of the file's bytes it has read as it goes.

`exact_profile(path, on_progress)` is the pass itself, in the calling process. The server never runs it there (the
file is untrusted): `in_sandbox` has a worker run it, telling its progress across the worker's pipe. A large
delimited file whose first look planned DuckDB's pass goes to a worker that loads DuckDB alone
(lib.files.scan.profile_scan); anything else, or a pass that cannot decide, to the full reader
(`lib.files.preview.inspect_path`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeGuard

from lib.files import kinds, sandbox, scan
from lib.files.preview import Preview, Refused, TablePreview, inspect_path, read
from lib.files.tables import HEAD_ROWS
from lib.storage.records import TableProfile

Progress = Callable[[int, int], None]


def exact_profile(
    path: Path, on_progress: Progress | None = None, *, name: str | None = None, kind: str | None = None
) -> TableProfile:
    """The exact profile of the table at `path` (its kind from its name unless given), telling
    `on_progress(bytes read, bytes in all)` as it reads; raises Refused for a file that is no readable table."""
    name = name or path.name
    known = kinds.upload_kind(name)
    found = kind or (known.key if known else "")
    result = read(path, name, found, path.stat().st_size, HEAD_ROWS, exact=True, on_progress=on_progress)
    if not isinstance(result, TablePreview):
        raise Refused(f"{name} is not a table.", "Profiles are made of CSV, TSV, XLSX, JSON and Parquet tables.")
    return result.table_profile()


def in_sandbox(
    look: Preview | None,
    path: Path,
    name: str,
    kind: str,
    max_rows: int,
    seconds: float,
    on_progress: Progress | None = None,
) -> Preview:
    """The whole file's check and exact figures after its first look `look`, read in a sandbox worker within
    `seconds`; raises Refused (or the worker's limit error) for a file that must not go up."""
    if _scanned(look):
        found = scan.scan_pool().call(
            scan.profile_scan, path, name, kind, look.plan, seconds=seconds, on_progress=on_progress
        )
        if found is not None:
            return look.with_scanned(found)
    return sandbox.call(inspect_path, path, name, kind, max_rows, seconds=seconds, on_progress=on_progress)


def warm_for(look: Preview | None) -> None:
    """Have a worker ready for the exact pass after this first look (it starts while the rest of the file is
    written)."""
    if _scanned(look):
        scan.scan_pool().warm()


def _scanned(look: Preview | None) -> TypeGuard[TablePreview]:
    """Whether the first look planned DuckDB's pass, which a worker loading DuckDB alone runs."""
    return isinstance(look, TablePreview) and look.plan is not None
