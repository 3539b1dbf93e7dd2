"""The first look at a file, which is also its content check: a table's dialect, columns, types and first rows,
an image's size, or a document's head, from the file's head and size alone wherever the format allows.

`first_look(path)` reads only the head of a delimited file (the row count is then an estimate), a Parquet
file's footer and first rows, an XLSX workbook's first sheet's head; it raises `Refused` with what is wrong and
what to do. `inspect_path` is the whole check: the same reading over the whole file, exact (lib.files.profile
runs it in the background, telling its progress). Both parse untrusted bytes, so they are sandbox tasks
(`lib.files.sandbox`), and what they return is bounded (head rows, columns and cells, a display-size image).
Heavy libraries are imported by the modules they use on purpose: the worker needs them anyway. Limits: lib.limits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lib.files import kinds, sandbox
from lib.files.checks import Refused, check_binary_kind, check_magic, check_text, format_size, found_kind
from lib.files.columnar import look_parquet, whole_parquet
from lib.files.delimited import read_head_bytes
from lib.files.documents import DocumentPreview, ImagePreview, image_preview, line_note, pdf_preview, text_head
from lib.files.jsondata import json_depth, look_json, whole_json
from lib.files.sheets import look_xlsx, whole_xlsx
from lib.files.tables import HEAD_ROWS, TablePreview, bounded, bounded_cells, look_csv, whole_csv

Preview = TablePreview | ImagePreview | DocumentPreview
# Kinds whose first look needs only the file's head, so it can start before the rest of the file is written.
HEAD_KINDS = frozenset({"csv", "tsv"})


@sandbox.task
def first_look(
    path: Path, name: str | None = None, kind: str | None = None, size: int | None = None, max_rows: int = HEAD_ROWS
) -> Preview:
    """What is in a file, from its head and its `size` (by default its size on disk) wherever the format allows:
    a table's figures may be estimates (`TablePreview.estimated`) until `inspect_path` or the exact profile reads
    it whole. Raises Refused for a file that must not go up."""
    name = name or path.name
    kind = kind or _kind_of(name)
    found = read(path, name, kind, path.stat().st_size if size is None else size, max_rows, exact=False)
    return bounded(found) if isinstance(found, TablePreview) else found


@sandbox.task
def inspect_path(path: Path, name: str, kind: str, max_rows: int = 20) -> Preview:
    """Check a whole file's content against its kind and preview it, with exact figures (a table's exact profile,
    lib.files.profile), telling the caller how many bytes it has read; raises Refused for a file that must not go
    up."""
    found = read(path, name, kind, path.stat().st_size, max_rows, exact=True, on_progress=sandbox.progress)
    return bounded(found) if isinstance(found, TablePreview) else found


def complete(preview: Preview) -> bool:
    """Whether a first look already read the whole file (nothing is left for the exact pass)."""
    return not (isinstance(preview, TablePreview) and preview.estimated)


def _kind_of(name: str) -> str:
    found = kinds.upload_kind(name)
    if found is None:
        raise Refused(f"{name} is not a kind of file that can be analysed here.", "Upload a table, text or image.")
    return found.key


def read(
    path: Path,
    name: str,
    kind: str,
    size: int,
    max_rows: int,
    exact: bool,
    on_progress: Callable[[int, int], None] | None = None,
) -> Preview:
    """The content checks, then a first look (`exact` False) or the whole file read exactly, telling
    `on_progress(bytes done, bytes in all)` where the reader can."""
    head = read_head_bytes(path)
    found, entries = found_kind(path, name, head, size)
    check_magic(name, kind, found)
    info = kinds.get(kind)
    if info is not None and info.text and kind not in HEAD_KINDS:
        check_text(name, kind, head, path if exact or kind == "txt" else None)
    check_binary_kind(name, kind, found)
    if kind in HEAD_KINDS:
        if exact:
            return whole_csv(path, name, kind, max_rows, on_progress)
        return look_csv(path, name, kind, size, max_rows)
    if kind == "json":
        look = None if exact else look_json(path, name, size, max_rows)
        if look is not None:
            return look
        whole = whole_json(path, name, size, max_rows)
        return whole if isinstance(whole, TablePreview) else DocumentPreview("json", size, whole[0], None, whole[1])
    if kind == "xlsx":
        return (
            whole_xlsx(path, name, size, max_rows, entries) if exact else look_xlsx(path, name, size, max_rows, entries)
        )
    if kind == "parquet":
        if not exact:
            return look_parquet(path, name, size, max_rows)
        rows = (lambda done, total: on_progress(size * done // total, size)) if on_progress else None
        return whole_parquet(path, name, max_rows, rows)
    if kind in kinds.IMAGE_KINDS:
        return image_preview(path, name, kind, size)
    if kind == "pdf":
        return pdf_preview(path, size)
    if kind == "txt":
        return DocumentPreview(kind, size, text_head(head), None, line_note(path, size))
    return DocumentPreview(kind, size, "", None, f"No preview for {kind or 'this kind of'} files; {format_size(size)}.")


__all__ = [
    "DocumentPreview",
    "ImagePreview",
    "Preview",
    "Refused",
    "TablePreview",
    "bounded_cells",
    "complete",
    "first_look",
    "format_size",
    "inspect_path",
    "json_depth",
]
