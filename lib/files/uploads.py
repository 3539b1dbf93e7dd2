"""Checks a file must pass before it is uploaded (name, size, type by content), done together with its preview."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from lib.errors import without_paths
from lib.files import kinds, preview, sandbox
from lib.files.kinds import ACCEPTED_TYPES_TEXT, sanitize_filename
from lib.files.preview import Preview, Refused
from lib.limits import LIMITS

MB = 1_000_000
FILES_API_MAX_BYTES = 500 * MB

__all__ = ["ACCEPTED_TYPES_TEXT", "Accepted", "Checked", "Rejected", "check_upload", "inspect_upload", "preview_path"]


@dataclass(frozen=True)
class Accepted:
    """A file that passed every check, with what the upload needs."""

    name: str
    kind: str
    mime: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Rejected:
    """A file that failed a check: what was wrong and what the user can do."""

    name: str
    reason: str
    hint: str


@dataclass(frozen=True)
class Checked:
    """The verdict on one file and, when it was accepted, its preview."""

    verdict: Accepted | Rejected
    preview: Preview | None = None


def check_upload(name: str, data: bytes, max_bytes: int) -> Accepted | Rejected:
    """Decide whether a file may be uploaded, and if not say why and what to do."""
    return inspect_upload(name, data, max_bytes).verdict


def inspect_upload(name: str, data: bytes, max_bytes: int, max_rows: int = 20) -> Checked:
    """Check a file and preview it in one pass; its content is parsed only in a limited worker process."""
    clean = sanitize_filename(name)
    kind = kinds.upload_kind(clean)
    if kind is None:
        return Checked(_unknown_extension(name, clean, data))
    if not data:
        return Checked(
            Rejected(
                name,
                f"{clean} is empty (0 bytes).",
                "Export the data again and upload a file that has a header row and at least one data row."
                if kind.table
                else "Export or save the file again and upload the copy that has content.",
            )
        )
    limit = min(max_bytes, FILES_API_MAX_BYTES)
    if len(data) > limit:
        return Checked(
            Rejected(
                name,
                f"{clean} is {_mb(len(data))}, over the {_mb(limit)} limit.",
                "Upload a smaller file: filter the rows or drop columns you don't need, "
                "split it into parts, or save it as Parquet, which is usually much smaller.",
            )
        )
    digest: dict[str, str] = {}
    # Hashing releases the GIL on large buffers, so it overlaps with the child's parse.
    hasher = threading.Thread(target=lambda: digest.setdefault("sha", hashlib.sha256(data).hexdigest()))
    hasher.start()
    try:
        preview = _inspect(clean, kind.key, data, max_rows)
    except Refused as refused:
        hasher.join()
        return Checked(Rejected(name, without_paths(refused.reason), refused.hint))
    except Exception as exc:  # noqa: BLE001 - includes sandbox.LimitExceeded; no upload may raise into the page
        hasher.join()
        return Checked(Rejected(name, f"{clean} could not be checked: {without_paths(str(exc))}.", _hint_for(kind.key)))
    hasher.join()
    return Checked(Accepted(clean, kind.key, kind.mime, len(data), digest["sha"]), preview)


def _inspect(clean: str, kind: str, data: bytes, max_rows: int) -> Preview:
    """Write the bytes to a temporary file once and run lib.files.preview.inspect_path on it in a limited worker."""
    fd, tmp = tempfile.mkstemp(prefix="upload-", suffix=kinds.get(kind).extension)  # type: ignore[union-attr]
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return preview_path(Path(tmp), clean, kind, max_rows)
    finally:
        Path(tmp).unlink(missing_ok=True)


def preview_path(path: Path, name: str, kind: str, max_rows: int = 20) -> Preview:
    """lib.files.preview.inspect_path on a file, run in a limited worker process, never in this one; raises
    Refused (or the worker's limit error) like the check before an upload."""
    return sandbox.call(preview.inspect_path, path, name, kind, max_rows, seconds=parse_seconds(path.stat().st_size))


def parse_seconds(size: int) -> float:
    """Wall-clock time a file of this size may take to check: 10 s, plus 1 s per 20 MB so a big legitimate
    table is not refused on a busy machine (bombs are refused by their measurements before any parsing)."""
    return float(round(LIMITS.parse_seconds + size / LIMITS.parse_bytes_per_extra_second))


def warm() -> None:
    """Start a parsing worker in the background so the first file checked does not wait for one."""
    sandbox.warm()


def _hint_for(kind: str) -> str:
    """What to try when a file of this kind could not be read in time or memory."""
    if kind == "xlsx":
        return "Export the sheet as CSV (or save it as Parquet) and upload that instead."
    if (info := kinds.get(kind)) is not None and info.image:
        return "Resize the image or export it again, then upload the new copy."
    return "Upload a smaller or simpler copy (fewer rows or columns, or CSV/Parquet instead)."


def _mb(size: int) -> str:
    """Size in MB with enough precision to tell two sizes apart near a limit."""
    value = size / MB
    return f"{value:.0f} MB" if value >= 10 and value == int(value) else f"{value:.1f} MB"


def _unknown_extension(name: str, clean: str, data: bytes) -> Rejected:
    """Reject a file type we cannot analyse, pointing at the right extension if the content is known."""
    ext = kinds.extension_of(clean).lstrip(".")
    if ext == "xls":
        return Rejected(
            name,
            f"{clean} is an old-format Excel file (.xls), which can't be analysed here.",
            "Open it in Excel and use Save As > Excel Workbook (.xlsx), or export the sheet as CSV.",
        )
    reason = f"{clean} is a .{ext} file, which can't be analysed here." if ext else f"{clean} has no file extension."
    hint = f"Upload one of these types: {ACCEPTED_TYPES_TEXT}."
    # Zip directories are not read here (that is the child's job); magic bytes alone name the rest.
    found = kinds.get(kinds.detect_content(data[:65536])) if not data.startswith(b"PK") else None
    if found is not None and found.uploadable:
        hint = f"It looks like {found.described}: rename it to end in {found.extension}. " + hint
    return Rejected(name, reason, hint)
