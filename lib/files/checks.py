"""Whether a file's content is what its name says: magic bytes, text that is text, ZIP archives measured before any
part is opened. Each check raises `Refused` with what is wrong and what to do. Limits: lib.limits."""

from __future__ import annotations

import codecs
import struct
import zipfile
from pathlib import Path

from lib.files import kinds
from lib.limits import LIMITS


class Refused(Exception):
    """The file must not be uploaded: what is wrong (reason) and what to do (hint)."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason, hint)
        self.reason, self.hint = reason, hint


REEXPORT_WORKBOOK = (
    "Open the original in Excel and save it again as .xlsx (or export the sheet as CSV), then upload it."
)


def found_kind(path: Path, name: str, head: bytes, size: int) -> tuple[str | None, list[zipfile.ZipInfo]]:
    """The kind the content shows (None for text) and, for a ZIP-based file, its directory's entries."""
    zipped = head.startswith(b"PK")
    entries = zip_entries(path, name) if zipped else []
    if zipped:
        return kinds.office_kind(i.filename for i in entries) if entries else _cut_zip_kind(head), entries
    found = kinds.detect_content(head)
    if found is None and head.startswith(b"PAR1") and size > len(head) and tail(path, 4) == b"PAR1":
        found = "parquet"  # the magic is at both ends and the head is only the start of a large file
    return found, entries


def _cut_zip_kind(head: bytes) -> str:
    """What a ZIP file without a readable directory (cut short or damaged) holds, judged by the names in the local
    headers at its start: 'damaged-xlsx' for a workbook, else 'zip'."""
    names, at = [], 0
    while head.startswith(b"PK\x03\x04", at) and at + 30 <= len(head) and len(names) < 50:
        packed, name_len, extra_len = (
            struct.unpack_from("<I", head, at + 18)[0],
            *struct.unpack_from("<HH", head, at + 26),
        )
        names.append(head[at + 30 : at + 30 + name_len].decode("utf-8", "replace"))
        at += 30 + name_len + extra_len + packed
    workbook = all(n.startswith(_WORKBOOK_PARTS) or n == "[Content_Types].xml" for n in names)
    return "damaged-xlsx" if workbook else "zip"


_WORKBOOK_PARTS = ("xl/", "_rels/", "docProps/", "customXml/")


def check_magic(name: str, kind: str, found: str | None) -> None:
    """Refuse a file whose content is of another kind than its extension says."""
    if found == "damaged-xlsx":
        if kind == "xlsx":
            raise Refused(
                f"{name} is a damaged workbook: it is cut short or corrupted (the end of the file, which lists its "
                "sheets, is missing or unreadable), as after an interrupted download or copy.",
                REEXPORT_WORKBOOK,
            )
        found = "zip"
    if found is None or found == kind:
        return
    info, other = kinds.get(kind), kinds.get(found)
    label = info.label if info else kind
    assert other is not None
    if found == "xls":
        raise Refused(
            f"{name} is {other.described}, not {label}.",
            "Open it in Excel, remove any password, and use Save As > Excel Workbook (.xlsx), or export the sheet as CSV.",
        )
    if other.uploadable:
        raise Refused(
            f"{name} is {other.described}, not {label}.",
            f"Rename it to {other.extension} or upload the real {label} file.",
        )
    unzip = " (unzip the archive first)." if found in ("zip", "gzip") else "."
    raise Refused(f"{name} is {other.described}, not {label}.", f"Upload the {label} file itself{unzip}")


def check_binary_kind(name: str, kind: str, found: str | None) -> None:
    """Refuse a file of a binary kind whose content has no magic of any kind."""
    info = kinds.get(kind)
    if found is None and info is not None and info.uploadable and not info.text:
        raise Refused(
            f"{name} is not a valid {info.label} file: its content is not in {info.label} format.",
            f"Export or save the file again as {info.label}, or rename it to match what it really is.",
        )


def check_text(name: str, kind: str, head: bytes, path: Path | None) -> None:
    """Refuse UTF-16 and binary data in a text kind: in its head, and with `path` anywhere in the file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Refused(
            f"{name} is saved as UTF-16 text, which the analysis tools read poorly.",
            "Save it again as UTF-8 (in Excel: Save As > CSV UTF-8).",
        )
    if b"\x00" in head or looks_binary(head[:65536]) or (path is not None and has_nul(path)):
        refuse_binary(name, kind)


def refuse_binary(name: str, kind: str) -> None:
    """Refuse a file of a text kind that holds binary data."""
    label = kinds.get(kind).label  # type: ignore[union-attr]
    raise Refused(
        f"{name} contains binary data, not {label} text.",
        f"Make sure you upload the {label} export itself; "
        "if it came from Excel, use Save As > CSV UTF-8 (or upload the .xlsx).",
    )


def has_nul(path: Path, chunk: int = 8 << 20) -> bool:
    """Whether a NUL byte occurs anywhere in the file (read in chunks)."""
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            if b"\x00" in block:
                return True
    return False


def looks_binary(sample: bytes) -> bool:
    """Whether many bytes are control characters that text files don't contain."""
    if not sample:
        return False
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    return controls / len(sample) > 0.05


def tail(path: Path, count: int) -> bytes:
    """The last bytes of a file."""
    with open(path, "rb") as handle:
        handle.seek(-count, 2)
        return handle.read(count)


def zip_entries(path: Path, name: str) -> list[zipfile.ZipInfo]:
    """The entries of a zip-based file from its central directory alone, which must not be huge ([] when it
    is no readable zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return []
    if len(infos) > LIMITS.archive_entries:
        raise Refused(
            f"{name} is a ZIP-based file with {len(infos):,} entries; the limit is {LIMITS.archive_entries:,}.",
            "Save the workbook again from Excel, or export the sheet as CSV.",
        )
    return infos


def check_archive(infos: list[zipfile.ZipInfo], size: int, name: str, what: str) -> None:
    """Refuse a zip of `size` bytes whose entries (`zip_entries`) would expand too much, before any is opened."""
    expanded = sum(max(i.file_size, 0) for i in infos)
    hint = f"Save the data as CSV or Parquet, or split the {what} into smaller files."
    if expanded > LIMITS.archive_bytes:
        raise Refused(
            f"{name}: this {what} expands to {format_size(expanded)}; the limit is {format_size(LIMITS.archive_bytes)}.",
            hint,
        )
    if expanded > LIMITS.archive_ratio_floor and expanded > LIMITS.archive_ratio * max(size, 1):
        raise Refused(
            f"{name}: this {what} expands {expanded // max(size, 1):,} times, to {format_size(expanded)}; "
            f"the limit is {LIMITS.archive_ratio} times. Files like this are usually built to exhaust memory.",
            hint,
        )


def short(exc: BaseException) -> str:
    """An exception's message on one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300].rstrip(".")


def format_size(size: int) -> str:
    """Human-readable size in decimal units: '830 bytes', '12.3 KB', '4.5 MB', '1.2 GB'."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
