"""The file-kind registry: each kind's extensions, MIME type and magic bytes; lookups; the file-name cleaner."""

from __future__ import annotations

import io
import zipfile

import pytest

from lib.files import kinds
from lib.files.kinds import (
    ACCEPTED_TYPES_TEXT,
    IMAGE_KINDS,
    KINDS,
    TABLE_KINDS,
    UPLOAD_LABELS,
    UPLOADABLE,
    detect_content,
    for_mime,
    for_name,
    icon,
    is_image,
    mime_for,
    sanitize_filename,
    upload_kind,
)


def zip_bytes(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, b"<x/>")
    return out.getvalue()


MAGIC = {
    "png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
    "jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 20,
    "pdf": b"%PDF-1.7\n%\xe2\xe3\n",
    "parquet": b"PAR1" + b"\x00" * 20 + b"PAR1",
    "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20,
    "gif": b"GIF89a" + b"\x00" * 20,
    "webp": b"RIFF\x10\x00\x00\x00WEBPVP8 ",
    "gzip": b"\x1f\x8b\x08\x00" + b"\x00" * 20,
    "xlsx": zip_bytes("[Content_Types].xml", "xl/workbook.xml"),
    "docx": zip_bytes("[Content_Types].xml", "word/document.xml"),
    "pptx": zip_bytes("[Content_Types].xml", "ppt/presentation.xml"),
    "zip": zip_bytes("notes.txt"),
}


def test_keys_extensions_and_mime_types_are_unique():
    keys = [k.key for k in KINDS]
    extensions = [e for k in KINDS for e in k.extensions]
    mimes = [k.mime for k in KINDS]
    assert len(keys) == len(set(keys))
    assert len(extensions) == len(set(extensions)), "an extension may name one kind only"
    assert len(mimes) == len(set(mimes))
    for kind in KINDS:
        assert all(e.startswith(".") and e == e.lower() for e in kind.extensions), kind
        assert kind.extension == kind.extensions[0]
        assert "/" in kind.mime and kind.icon.startswith(":material/")
        assert kind.described.startswith(("a ", "an ")), kind.described


def test_the_files_page_accepts_exactly_these_kinds():
    assert [k.key for k in UPLOADABLE] == ["csv", "tsv", "xlsx", "json", "parquet", "txt", "pdf", "png", "jpeg"]
    assert TABLE_KINDS == {"csv", "tsv", "xlsx", "json", "parquet"}
    assert IMAGE_KINDS == {"png", "jpeg"}
    assert {k.key for k in UPLOADABLE if k.text} == {"csv", "tsv", "json", "txt"}
    assert UPLOAD_LABELS == "CSV, TSV, XLSX, JSON, Parquet, TXT, PDF, PNG, JPEG"
    assert ACCEPTED_TYPES_TEXT.startswith("CSV (.csv), TSV (.tsv, .tab), Excel (.xlsx)")
    assert ACCEPTED_TYPES_TEXT.endswith("and JPEG (.jpg, .jpeg)")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.key)
def test_every_extension_finds_its_kind(kind):
    for ext in kind.extensions:
        assert for_name(f"Report.Final{ext.upper()}") is kind
        assert for_name(f"C:\\Users\\ann\\data{ext}") is kind
        assert (upload_kind(f"x{ext}") is kind) == kind.uploadable
    assert for_mime(kind.mime) is kind
    assert for_mime(kind.mime.upper() + "; charset=utf-8") is kind
    assert icon(f"x{kind.extension}") == kind.icon


@pytest.mark.parametrize(("key", "data"), MAGIC.items(), ids=MAGIC.keys())
def test_magic_bytes_name_the_kind(key, data):
    assert detect_content(data) == key
    assert mime_for("anything.bin", data) == kinds.get(key).mime  # type: ignore[union-attr]


def test_text_has_no_magic_and_zip_damage_is_just_zip():
    for text in (b"a,b\n1,2\n", b'{"a": 1}', b"", b"PAR1 not parquet"):
        assert detect_content(text) is None
    assert detect_content(b"PK\x03\x04 cut short") == "zip"
    assert detect_content(zip_bytes("[Content_Types].xml", "other/x.xml")) == "zip"


def test_office_kind_by_entry_names():
    assert kinds.office_kind(iter(["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"])) == "xlsx"
    assert kinds.office_kind(["[Content_Types].xml", "word/document.xml"]) == "docx"
    assert kinds.office_kind(["[Content_Types].xml", "ppt/presentation.xml"]) == "pptx"
    assert kinds.office_kind(["xl/workbook.xml"]) == kinds.office_kind([]) == "zip"


def test_unknown_names_and_mime_types():
    for name in ("README", "archive.tar", "photo.heic", "data.csv.exe", ".csv.", "", "dir/"):
        assert upload_kind(name) is None, name
    assert for_name("report.xls").key == "xls" and upload_kind("report.xls") is None  # type: ignore[union-attr]
    assert for_mime("application/x-unknown") is None
    assert icon("mystery.bin") == kinds.DEFAULT_ICON
    assert icon("blob", "image/png") == kinds.get("png").icon  # type: ignore[union-attr]
    assert mime_for("notes.unknown", b"plain words") == "text/plain"
    assert mime_for("blob.unknown", b"\x00\x01\x02") == "application/octet-stream"
    assert mime_for("table.csv") == "text/csv"


def test_is_image_by_name_or_mime():
    assert is_image("chart.PNG") and is_image("image/webp") and is_image("photo.jpeg")
    assert not is_image("drawing.svg") and not is_image("image/svg+xml")  # SVG is markup, never thumbnailed
    assert not is_image("table.csv") and not is_image("text/csv")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("sales.csv", "sales.csv"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\Windows\\System32\\x.csv", "x.csv"),
        ("/abs/path/to/data.json", "data.json"),
        ("CON.csv", "_CON.csv"),
        ("nul.txt", "_nul.txt"),
        ("com1.tar.gz", "_com1.tar.gz"),
        ("console.csv", "console.csv"),
        ("invoice\u202egpj.csv", "invoicegpj.csv"),
        ("q3\nreport\t2024.csv", "q3 report 2024.csv"),
        ('a<b>c:d"e|f?g*.csv', "abcdefg.csv"),
        ("  spaced   out  .csv", "spaced out.csv"),
        ("trailing dots....csv", "trailing dots.csv"),
        ("...", "file"),
        (".csv", "file.csv"),
        ("", "file"),
        ("../", "file"),
        ("Cafe\u0301.csv", "Café.csv"),  # decomposed accents are composed (NFC)
        ("report.weird-extension!", "report.weird-extension!"),  # not an extension: kept as part of the name
    ],
)
def test_sanitize_filename(raw, clean):
    assert sanitize_filename(raw) == clean


def test_sanitize_filename_caps_utf8_bytes_and_keeps_the_extension():
    long = sanitize_filename("ü" * 300 + ".parquet")
    assert long.endswith(".parquet")
    assert len(long.encode("utf-8")) <= kinds.MAX_NAME_BYTES
    assert len(sanitize_filename("x" * 1000 + ".csv")) == kinds.MAX_NAME_BYTES
    assert sanitize_filename(sanitize_filename("../a\x00b.csv")) == "ab.csv"  # cleaning twice changes nothing


def test_only_raster_images_are_drawn_and_markup_is_served_as_bytes():
    assert kinds.shown_inline("chart.png", "image/png") and kinds.shown_inline("photo.jpg")
    assert not kinds.shown_inline("drawing.svg", "image/svg+xml")
    assert not kinds.shown_inline("chart.png", "image/svg+xml")  # name and MIME type must both say raster
    assert not kinds.shown_inline("report.html") and not kinds.shown_inline("blob")
    for name, mime in (("a.svg", ""), ("a.png", "image/svg+xml"), ("page.htm", ""), ("x", "text/html; charset=utf-8")):
        assert kinds.is_active(name, mime), (name, mime)
        assert kinds.download_mime(name, mime) == "application/octet-stream"
    assert not kinds.is_active("chart.png", "image/png")
    assert kinds.download_mime("chart.png", "image/png") == "image/png"
    assert kinds.download_mime("table.csv") == "text/csv"
