"""The one registry of file kinds: extensions, magic bytes, MIME type, table or not, icon; and the file-name cleaner.

Imports only the standard library so any module (the emulator included) can ask it cheaply.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class FileKind:
    """Everything the app knows about one kind of file."""

    key: str
    label: str  # short name in messages: "CSV"
    described: str  # what a file of this kind is: "a PNG image"
    extensions: tuple[str, ...]  # first one is the preferred extension
    mime: str
    uploadable: bool = False  # accepted on the Files page
    table: bool = False  # previews as rows and columns
    text: bool = False  # plain text (checked for binary data and encoding)
    image: bool = False  # raster image Pillow can thumbnail
    archive: bool = False  # zip-based: checked for expansion before opening
    active: bool = False  # markup a browser would run scripts in (SVG, HTML): never drawn in the page
    icon: str = ":material/draft:"

    @property
    def extension(self) -> str:
        """The preferred extension, with its dot."""
        return self.extensions[0]


KINDS: tuple[FileKind, ...] = (
    FileKind("csv", "CSV", "a CSV file", (".csv",), "text/csv", True, True, True, icon=":material/table:"),
    FileKind(
        "tsv", "TSV", "a TSV file", (".tsv", ".tab"), "text/tab-separated-values", True, True, True,
        icon=":material/table:",
    ),
    FileKind(
        "xlsx", "XLSX", "an Excel workbook (XLSX)", (".xlsx",),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", True, True, archive=True,
        icon=":material/grid_on:",
    ),
    FileKind("json", "JSON", "a JSON file", (".json",), "application/json", True, True, True, icon=":material/data_object:"),
    FileKind(
        "parquet", "Parquet", "a Parquet file", (".parquet",), "application/vnd.apache.parquet", True, True,
        icon=":material/view_column:",
    ),
    FileKind("txt", "text", "a text file", (".txt", ".md"), "text/plain", True, text=True, icon=":material/description:"),
    FileKind("pdf", "PDF", "a PDF document", (".pdf",), "application/pdf", True, icon=":material/picture_as_pdf:"),
    FileKind("png", "PNG", "a PNG image", (".png",), "image/png", True, image=True, icon=":material/image:"),
    FileKind("jpeg", "JPEG", "a JPEG image", (".jpg", ".jpeg"), "image/jpeg", True, image=True, icon=":material/image:"),
    # Known so they can be recognised and named in messages, thumbnailed or given an icon; not uploadable.
    FileKind("gif", "GIF", "a GIF image", (".gif",), "image/gif", image=True, icon=":material/gif_box:"),
    FileKind("webp", "WebP", "a WebP image", (".webp",), "image/webp", image=True, icon=":material/image:"),
    FileKind("bmp", "BMP", "a BMP image", (".bmp",), "image/bmp", image=True, icon=":material/image:"),
    FileKind("svg", "SVG", "an SVG drawing", (".svg",), "image/svg+xml", text=True, active=True, icon=":material/draw:"),
    FileKind(
        "xls", "XLS", "an old-format Excel file (.xls) or a password-protected workbook", (".xls",),
        "application/vnd.ms-excel", icon=":material/grid_on:",
    ),
    FileKind(
        "docx", "DOCX", "a Word document", (".docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", archive=True,
        icon=":material/article:",
    ),
    FileKind(
        "pptx", "PPTX", "a PowerPoint presentation", (".pptx",),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", archive=True,
        icon=":material/slideshow:",
    ),
    FileKind("zip", "ZIP", "a ZIP archive", (".zip",), "application/zip", archive=True, icon=":material/folder_zip:"),
    FileKind("gzip", "gzip", "a gzip-compressed file", (".gz",), "application/gzip", icon=":material/folder_zip:"),
    FileKind("html", "HTML", "an HTML page", (".html", ".htm"), "text/html", text=True, active=True, icon=":material/code:"),
    FileKind("python", "Python", "a Python script", (".py",), "text/x-python", text=True, icon=":material/code:"),
    FileKind("jsonl", "JSON Lines", "a JSON Lines file", (".jsonl", ".ndjson"), "application/jsonl", text=True,
             icon=":material/data_object:"),
)  # fmt: skip

_BY_KEY = {k.key: k for k in KINDS}
_BY_EXTENSION = {ext: k for k in KINDS for ext in k.extensions}
_BY_MIME = {k.mime: k for k in KINDS}
UPLOADABLE: tuple[FileKind, ...] = tuple(k for k in KINDS if k.uploadable)
TABLE_KINDS = frozenset(k.key for k in KINDS if k.table)
IMAGE_KINDS = frozenset(k.key for k in UPLOADABLE if k.image)
ACCEPTED_TYPES_TEXT = (
    ", ".join(f"{'Excel' if k.key == 'xlsx' else k.label} ({', '.join(k.extensions)})" for k in UPLOADABLE[:-1])
    + f" and {UPLOADABLE[-1].label} ({', '.join(UPLOADABLE[-1].extensions)})"
)
UPLOAD_LABELS = ", ".join(k.key.upper() if k.key != "parquet" else k.label for k in UPLOADABLE)
DEFAULT_ICON = ":material/draft:"


def get(key: str) -> FileKind | None:
    """The kind with this key ("csv", "png", ...)."""
    return _BY_KEY.get(key)


def extension_of(name: str) -> str:
    """The lower-case extension of a file name with its dot, or ''."""
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def for_name(name: str) -> FileKind | None:
    """The kind a file name's extension implies, uploadable or not."""
    return _BY_EXTENSION.get(extension_of(name))


def upload_kind(name: str) -> FileKind | None:
    """The kind a file name implies if the Files page accepts it, else None."""
    kind = for_name(name)
    return kind if kind is not None and kind.uploadable else None


def for_mime(mime: str) -> FileKind | None:
    """The kind of a MIME type (parameters such as '; charset=' ignored)."""
    return _BY_MIME.get(mime.split(";")[0].strip().lower())


def for_name_or_mime(name: str, mime: str = "") -> FileKind | None:
    """The kind by extension, else by MIME type."""
    return for_name(name) or (for_mime(mime) if mime else None)


def icon(name: str, mime: str = "") -> str:
    """A Material icon for a file, by extension or MIME type."""
    kind = for_name_or_mime(name, mime)
    return kind.icon if kind else DEFAULT_ICON


def is_image(name_or_mime: str) -> bool:
    """Whether a path (by its extension) or a MIME type names a raster image we can thumbnail."""
    text = str(name_or_mime).strip().lower()
    kind = for_mime(text) if "/" in text and not extension_of(text) else for_name_or_mime(text, text)
    return bool(kind and kind.image)


def _kinds_of(name: str, mime: str) -> list[FileKind]:
    return [k for k in (for_name(name), for_mime(mime) if mime else None) if k is not None]


def shown_inline(name: str, mime: str = "") -> bool:
    """Whether a generated file may be drawn in the page: raster images only, by both its name and its MIME type."""
    kinds = _kinds_of(name, mime)
    return bool(kinds) and all(k.image for k in kinds)


def is_active(name: str, mime: str = "") -> bool:
    """Whether a file is markup that could run scripts if a browser rendered it (SVG, HTML)."""
    text = mime.split(";")[0].strip().lower()
    return any(k.active for k in _kinds_of(name, mime)) or "svg" in text or "html" in text


def download_mime(name: str, mime: str = "") -> str:
    """The MIME type to serve a download with: active markup goes as plain bytes so no browser renders it."""
    return "application/octet-stream" if is_active(name, mime) else (mime or mime_for(name))


def detect_content(data: bytes) -> str | None:
    """Recognise a binary format by its magic numbers (needs the whole file only for zip); None for text."""
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
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return zip_kind(data)
    return None


def zip_kind(data: bytes) -> str:
    """Tell an Office Open XML file from a plain ZIP by the entries it holds (reads the directory only)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return office_kind(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "zip"


def office_kind(names: Iterable[str]) -> str:
    """'xlsx', 'docx' or 'pptx' for the entry names of an Office Open XML file, else 'zip'."""
    names = list(names)
    if "[Content_Types].xml" in names:
        for prefix, kind in (("xl/", "xlsx"), ("word/", "docx"), ("ppt/", "pptx")):
            if any(n.startswith(prefix) for n in names):
                return kind
    return "zip"


def mime_for(name: str, data: bytes = b"") -> str:
    """A MIME type: by magic bytes, then extension, then text or binary."""
    found = detect_content(data[:65536] if not data.startswith(b"PK") else data) if data else None
    kind = get(found) if found else for_name(name)
    if kind is not None:
        return kind.mime
    return "text/plain" if data and b"\x00" not in data[:8192] else "application/octet-stream"


_FORBIDDEN_CHARS = re.compile(r'[<>:"|?*\\/\x00-\x1f\x7f]')
_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,10}$")
# Names Windows reserves for devices, whatever the extension.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)
# Control characters, invisible format characters (bidirectional overrides can make "evil\u202Egpj.csv" display as
# "evilvsc.jpg") and lone surrogates, which cannot even be encoded.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# On-disk names stay well under the 255 bytes a file system allows, so the temporary names made beside a file
# while it is written or fetched (a dot, the name, a random tag) fit too.
DISK_NAME_BYTES = 200
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,63}")


def _split_extension(base: str) -> tuple[str, str]:
    """A cleaned name's stem and its extension (with the dot), if it has one that looks like an extension."""
    stem, dot, ext = base.rpartition(".")
    return (stem, "." + ext) if dot and _EXTENSION.match("." + ext) else (base, "")


def _cut(text: str, max_bytes: int) -> str:
    """At most `max_bytes` of UTF-8, cut between characters."""
    return text.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", "ignore")


def sanitize_filename(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A safe file name: last path part, no reserved names or control characters, at most `max_bytes` of UTF-8."""
    base = re.split(r"[\\/]", name)[-1]
    # Tabs and newlines become spaces rather than vanishing, so words are not glued together.
    base = re.sub(r"[\t\n\r\v\f]", " ", base)
    base = "".join(ch for ch in base if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    base = unicodedata.normalize("NFC", _FORBIDDEN_CHARS.sub("", base))
    base = " ".join(base.split())
    stem, extension = _split_extension(base)
    stem = stem.strip(" .")
    if not stem:
        return "file" + extension
    if _RESERVED.match(stem.split(".")[0]):
        stem = "_" + stem
    # Capped in UTF-8 bytes (not characters) because that is what file systems limit.
    return _cut(stem, max_bytes - len(extension.encode())).rstrip(" .") + extension


def disk_name(file_id: str, name: str) -> str:
    """The name a file is stored under: its id, a dash, then its cleaned name cut to fit, extension kept.

    One path component of at most DISK_NAME_BYTES bytes of UTF-8, always the same for the same id and name, and
    different for different ids: an id that is not plain letters, digits and underscores stands as its hash."""
    if not _PLAIN_ID.fullmatch(file_id):
        file_id = "_" + hashlib.sha256(file_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{file_id}-{sanitize_filename(name, DISK_NAME_BYTES - len(file_id) - 1)}"


def unique_names(names: Iterable[str]) -> list[str]:
    """Names for files put side by side (in a zip or a folder): each cleaned to one safe name, repeats numbered
    (`a.csv`, `a-2.csv`) and told apart regardless of case, as Windows and macOS file systems do."""
    entries: list[str] = []
    taken: set[str] = set()
    for name in names:
        entry, n = sanitize_filename(name), 1
        while entry.casefold() in taken:
            n += 1
            stem, extension = _split_extension(sanitize_filename(name, MAX_NAME_BYTES - len(f"-{n}")))
            entry = f"{stem}-{n}{extension}"
        taken.add(entry.casefold())
        entries.append(entry)
    return entries
