"""The exact profile of a table: one pass over the whole file (DuckDB for large delimited files, pyarrow
streaming for the rest) giving exact rows, types, missing shares, min/max/mean, distinct estimates and
data-quality notes, telling how many of the file's bytes it has read as it goes.

`exact_profile(path, on_progress)` is the pass itself. The server never runs it: lib.files.uploads has it run in a
sandbox worker (the file is untrusted) as `lib.files.preview.inspect_path`, whose progress comes back across the
worker's pipe (lib.files.sandbox.progress).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lib.files import kinds
from lib.files.preview import Refused, TablePreview, read
from lib.files.tables import HEAD_ROWS
from lib.storage.records import TableProfile

Progress = Callable[[int, int], None]


def exact_profile(
    path: Path, on_progress: Progress | None = None, *, name: str | None = None, kind: str | None = None
) -> TableProfile:
    """The exact profile of the table at `path` (its kind from its name unless given), telling
    `on_progress(bytes read, bytes in all)` as it reads; raises Refused for a file that is no readable table."""
    name = name or path.name
    found = kind or (kinds.upload_kind(name).key if kinds.upload_kind(name) else "")
    result = read(path, name, found, path.stat().st_size, HEAD_ROWS, exact=True, on_progress=on_progress)
    if not isinstance(result, TablePreview):
        raise Refused(f"{name} is not a table.", "Profiles are made of CSV, TSV, XLSX, JSON and Parquet tables.")
    return result.table_profile()
