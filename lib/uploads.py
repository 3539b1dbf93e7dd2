"""Checks a file must pass before it is uploaded: name, size, and type by content."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq
from PIL import Image

from lib.preview import csv_dialect, detect_encoding, parse_json, text_sample

MB = 1_000_000
FILES_API_MAX_BYTES = 500 * MB
# A full json.loads of a huge file needs several times its size in memory; above this
# only the start is checked and the rest is left to the analysis.
JSON_FULL_PARSE_MAX_BYTES = 64 * MB
CSV_CHECK_ROWS = 1_000
MAX_NAME_BYTES = 255

EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".parquet": "parquet",
    ".txt": "txt",
    ".md": "txt",
    ".pdf": "pdf",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
}
ALLOWED_EXTENSIONS: tuple[str, ...] = tuple(EXTENSIONS)
MIME_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
    "txt": "text/plain",
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
}
KIND_LABELS: dict[str, str] = {
    "csv": "CSV",
    "tsv": "TSV",
    "xlsx": "XLSX",
    "json": "JSON",
    "parquet": "Parquet",
    "txt": "text",
    "pdf": "PDF",
    "png": "PNG",
    "jpeg": "JPEG",
}
# What detect_content() may find, described for messages ("report.csv is a PNG image").
CONTENT_LABELS: dict[str, str] = {
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "pdf": "a PDF document",
    "xlsx": "an Excel workbook (XLSX)",
    "parquet": "a Parquet file",
    "xls": "an old-format Excel file (.xls) or a password-protected workbook",
    "docx": "a Word document",
    "pptx": "a PowerPoint presentation",
    "zip": "a ZIP archive",
    "gif": "a GIF image",
    "gzip": "a gzip-compressed file",
}
PREFERRED_EXTENSION = {
    "csv": ".csv", "tsv": ".tsv", "xlsx": ".xlsx", "json": ".json", "parquet": ".parquet",
    "txt": ".txt", "pdf": ".pdf", "png": ".png", "jpeg": ".jpg",
}  # fmt: skip
TEXT_KINDS = {"csv", "tsv", "json", "txt"}
ACCEPTED_TYPES_TEXT = (
    "CSV (.csv), TSV (.tsv, .tab), Excel (.xlsx), JSON (.json), Parquet (.parquet), "
    "text (.txt, .md), PDF (.pdf), PNG (.png) and JPEG (.jpg, .jpeg)"
)

_FORBIDDEN_CHARS = re.compile(r'[<>:"|?*\\/\x00-\x1f\x7f]')
_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


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


def sanitize_filename(name: str) -> str:
    """A safe file name: last path part, no reserved or control characters, at most 255 bytes."""
    base = re.split(r"[\\/]", name)[-1]
    # Tabs and newlines become spaces rather than vanishing, so words are not glued together.
    base = re.sub(r"[\t\n\r\v\f]", " ", base)
    base = unicodedata.normalize("NFC", _FORBIDDEN_CHARS.sub("", base))
    base = " ".join(base.split())
    stem, dot, ext = base.rpartition(".")
    extension = "." + ext if dot and _EXTENSION.match("." + ext) else ""
    if not extension:
        stem = base
    stem = stem.strip(" .")
    if not stem:
        return "file" + extension
    # Capped in UTF-8 bytes (not characters) because that is what file systems limit.
    while len((stem + extension).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + extension


def kind_for_name(name: str) -> str | None:
    """The kind implied by a file name's extension, or None if it is not accepted."""
    _, dot, ext = name.rpartition(".")
    return EXTENSIONS.get("." + ext.lower()) if dot else None


def detect_content(data: bytes) -> str | None:
    """Recognise a binary format by its magic numbers; None for anything else (text included)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if len(data) >= 8 and data.startswith(b"PAR1") and data.endswith(b"PAR1"):
        return "parquet"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    return None


def _zip_kind(data: bytes) -> str:
    """Tell an Office Open XML file from a plain ZIP by the entries it holds."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        return "zip"
    if "[Content_Types].xml" in names:
        for prefix, kind in (("xl/", "xlsx"), ("word/", "docx"), ("ppt/", "pptx")):
            if any(n.startswith(prefix) for n in names):
                return kind
    return "zip"


def check_upload(name: str, data: bytes, max_bytes: int) -> Accepted | Rejected:
    """Decide whether a file may be uploaded, and if not say why and what to do."""
    clean = sanitize_filename(name)
    kind = kind_for_name(clean)
    if kind is None:
        return _unknown_extension(name, clean, data)
    if not data:
        return Rejected(
            name,
            f"{clean} is empty (0 bytes).",
            "Export the data again and upload a file that has a header row and at least one data row."
            if kind in ("csv", "tsv", "xlsx", "parquet")
            else "Export or save the file again and upload the copy that has content.",
        )
    limit = min(max_bytes, FILES_API_MAX_BYTES)
    if len(data) > limit:
        return Rejected(
            name,
            f"{clean} is {_mb(len(data))}, over the {_mb(limit)} limit.",
            "Upload a smaller file: filter the rows or drop columns you don't need, "
            "split it into parts, or save it as Parquet, which is usually much smaller.",
        )
    problem = _content_problem(clean, kind, data)
    if problem is not None:
        return Rejected(name, *problem)
    return Accepted(clean, kind, MIME_TYPES[kind], len(data), hashlib.sha256(data).hexdigest())


def _mb(size: int) -> str:
    """Size in MB with enough precision to tell two sizes apart near a limit."""
    value = size / MB
    return f"{value:.0f} MB" if value >= 10 and value == int(value) else f"{value:.1f} MB"


def _unknown_extension(name: str, clean: str, data: bytes) -> Rejected:
    """Reject a file type we cannot analyse, pointing at the right extension if the content is known."""
    _, dot, ext = clean.rpartition(".")
    ext = ext.lower() if dot else ""
    content = detect_content(data)
    if ext == "xls":
        return Rejected(
            name,
            f"{clean} is an old-format Excel file (.xls), which can't be analysed here.",
            "Open it in Excel and use Save As > Excel Workbook (.xlsx), or export the sheet as CSV.",
        )
    reason = f"{clean} is a .{ext} file, which can't be analysed here." if ext else f"{clean} has no file extension."
    hint = f"Upload one of these types: {ACCEPTED_TYPES_TEXT}."
    if content in MIME_TYPES:
        hint = f"It looks like {CONTENT_LABELS[content]}: rename it to end in {PREFERRED_EXTENSION[content]}. " + hint
    return Rejected(name, reason, hint)


def _content_problem(name: str, kind: str, data: bytes) -> tuple[str, str] | None:
    """(reason, hint) if the content is not what the extension says, else None."""
    content = detect_content(data)
    label = KIND_LABELS[kind]
    if content in MIME_TYPES and content != kind:
        return (
            f"{name} is {CONTENT_LABELS[content]}, not {label}.",
            f"Rename it to {PREFERRED_EXTENSION[content]} or upload the real {label} file.",
        )
    if content == "xls":
        return (
            f"{name} is {CONTENT_LABELS['xls']}, not {label}.",
            "Open it in Excel, remove any password, and use Save As > Excel Workbook (.xlsx), "
            "or export the sheet as CSV.",
        )
    if content is not None and content != kind:
        return (
            f"{name} is {CONTENT_LABELS[content]}, not {label}.",
            f"Upload the {label} file itself" + (" (unzip the archive first)." if content in ("zip", "gzip") else "."),
        )
    if kind in TEXT_KINDS:
        return _text_problem(name, kind, data)
    if content is None:
        return (
            f"{name} is not a valid {label} file: its content is not in {label} format.",
            f"Export or save the file again as {label}, or rename it to match what it really is.",
        )
    if kind in ("png", "jpeg"):
        return _image_problem(name, kind, data)
    if kind == "parquet":
        return _parquet_problem(name, data)
    return None


def _text_problem(name: str, kind: str, data: bytes) -> tuple[str, str] | None:
    """Reject binary or unparsable text files."""
    label = KIND_LABELS[kind]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return (
            f"{name} is saved as UTF-16 text, which the analysis tools read poorly.",
            "Save it again as UTF-8 (in Excel: Save As > CSV UTF-8).",
        )
    if b"\x00" in data or _looks_binary(data[:65536]):
        return (
            f"{name} contains binary data, not {label} text.",
            f"Make sure you upload the {label} export itself; "
            "if it came from Excel, use Save As > CSV UTF-8 (or upload the .xlsx).",
        )
    if kind == "json":
        return _json_problem(name, data)
    if kind in ("csv", "tsv"):
        return _csv_problem(name, kind, data)
    return None


def _looks_binary(sample: bytes) -> bool:
    """Whether many bytes are control characters that text files don't contain."""
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(sample) > 0.05


def _json_problem(name: str, data: bytes) -> tuple[str, str] | None:
    """Reject text that is neither JSON nor JSON Lines."""
    text = data.decode(detect_encoding(data)) if len(data) <= JSON_FULL_PARSE_MAX_BYTES else None
    if text is None:
        head = text_sample(data, detect_encoding(data[:1_000_000]), 1_000_000).lstrip()
        if head[:1] in ("{", "["):
            return None
        return (f"{name} is not valid JSON: it does not start with {{ or [.", _JSON_HINT)
    try:
        parse_json(text)
    except ValueError as exc:
        return (f"{name} is not valid JSON: {exc}.", _JSON_HINT)
    return None


_JSON_HINT = (
    "Fix the file (a JSON validator shows the exact spot) or export it again. "
    "JSON Lines files need one complete JSON value on each line."
)


def _csv_problem(name: str, kind: str, data: bytes) -> tuple[str, str] | None:
    """Parse the first rows with pandas: there must be at least one column and one data row."""
    label = KIND_LABELS[kind]
    dialect = csv_dialect(data, kind)
    sample = text_sample(data, dialect.encoding, 1_000_000).encode(dialect.encoding, errors="replace")
    try:
        frame = pd.read_csv(
            io.BytesIO(sample),
            sep=dialect.delimiter,
            encoding=dialect.encoding,
            skiprows=dialect.skiprows,
            nrows=CSV_CHECK_ROWS,
        )
    except pd.errors.EmptyDataError:
        return (f"{name} has no columns: it contains no data.", _CSV_HINT)
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        return (f"{name} could not be read as {label}: {exc}", _CSV_HINT)
    if frame.shape[1] == 0:
        return (f"{name} has no columns.", _CSV_HINT)
    if frame.shape[0] == 0:
        return (f"{name} has a header row but no data rows.", _CSV_HINT)
    return None


_CSV_HINT = "Export the data again and upload a file that has a header row and at least one data row."


def _image_problem(name: str, kind: str, data: bytes) -> tuple[str, str] | None:
    """Open, verify and decode the image with Pillow; reject broken files and decompression bombs."""
    label = KIND_LABELS[kind]
    redo = f"Open it in an image viewer and export it again as {label}, or take the screenshot again."
    try:
        with Image.open(io.BytesIO(data)) as image:
            pixels = image.width * image.height
            if pixels > (Image.MAX_IMAGE_PIXELS or pixels):
                return _too_many_pixels(name, image.width, image.height)
            image.verify()
        # verify() does not decode pixel data (and checks little for JPEG), so decode once too.
        with Image.open(io.BytesIO(data)) as image:
            image.draft(image.mode, (image.width // 8 or 1, image.height // 8 or 1))
            image.load()
    except Image.DecompressionBombError:
        return _too_many_pixels(name, None, None)
    except (OSError, SyntaxError, ValueError):
        return (f"{name} is a broken image (damaged or cut short) and can't be opened.", redo)
    return None


def _too_many_pixels(name: str, width: int | None, height: int | None) -> tuple[str, str]:
    """Message for an image whose pixel count is over Pillow's decompression-bomb limit."""
    size = f" ({width:,} × {height:,} pixels)" if width and height else ""
    limit = Image.MAX_IMAGE_PIXELS or 0
    return (
        f"{name} is too large an image{size}; the limit is {limit:,} pixels.",
        "Resize the image (for example to under 8,000 pixels on the longest side) and upload it again.",
    )


def _parquet_problem(name: str, data: bytes) -> tuple[str, str] | None:
    """Read the Parquet footer so a damaged file is caught before upload."""
    try:
        _ = pq.ParquetFile(io.BytesIO(data)).metadata
    except (OSError, ValueError) as exc:
        return (
            f"{name} is a damaged Parquet file ({exc}).",
            "Write the Parquet file again (for example with pandas.DataFrame.to_parquet) and upload the new copy.",
        )
    return None
