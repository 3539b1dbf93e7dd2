"""Tests of lib.files.uploads: what a user is told before a file goes to the Files API."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from lib.files import kinds
from lib.files.uploads import (
    FILES_API_MAX_BYTES,
    Accepted,
    Rejected,
    check_upload,
    sanitize_filename,
)
from tests.support.hostile import MINIMAL_PDF, jpeg, parquet, png, png_claiming, xlsx, zip_of

LIMIT = 10_000_000


def parquet_bytes() -> bytes:
    return parquet(pa.table({"a": list(range(5))}))


def rejected(name: str, data: bytes, max_bytes: int = LIMIT) -> Rejected:
    result = check_upload(name, data, max_bytes)
    assert isinstance(result, Rejected), result
    assert result.name == name
    assert result.reason and result.hint
    return result


def accepted(name: str, data: bytes) -> Accepted:
    result = check_upload(name, data, LIMIT)
    assert isinstance(result, Accepted), result
    return result


# --- acceptance of every kind ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("sales.csv", lambda: b"date,units\n2024-01-01,5\n2024-02-01,7\n", "csv"),
        ("sales.tsv", lambda: b"date\tunits\n2024-01-01\t5\n", "tsv"),
        ("sales.tab", lambda: b"date\tunits\n2024-01-01\t5\n", "tsv"),
        ("book.xlsx", xlsx, "xlsx"),
        ("records.json", lambda: json.dumps([{"a": 1}, {"a": 2}]).encode(), "json"),
        ("events.json", lambda: b'{"a": 1}\n{"a": 2}\n', "json"),
        ("table.parquet", parquet_bytes, "parquet"),
        ("notes.txt", lambda: "Notes about Q3 – café\n".encode(), "txt"),
        ("README.md", lambda: b"# Title\n\nSome text.\n", "txt"),
        ("paper.pdf", lambda: MINIMAL_PDF, "pdf"),
        ("chart.png", png, "png"),
        ("photo.jpg", jpeg, "jpeg"),
        ("photo.JPEG", jpeg, "jpeg"),
    ],
)
def test_accepts_each_good_kind(name, make, kind):
    data = make()
    result = accepted(name, data)
    assert result.kind == kind
    assert result.mime == kinds.get(kind).mime
    assert result.size == len(data)
    assert len(result.sha256) == 64
    assert result.name == name


def test_accepts_semicolon_and_latin1_csv():
    data = "Stadt;Temperatur\nKöln;12,5\nMünchen;9,0\n".encode("cp1252")
    assert accepted("wetter.csv", data).kind == "csv"


def test_accepted_name_is_sanitised():
    assert accepted("../../etc/passwd.csv", b"a,b\n1,2\n").name == "passwd.csv"


def test_mime_types_map():
    MIME_TYPES = {k.key: k.mime for k in kinds.UPLOADABLE}
    assert MIME_TYPES["xlsx"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert MIME_TYPES["parquet"] == "application/vnd.apache.parquet"
    assert MIME_TYPES["tsv"] == "text/tab-separated-values"
    assert set(MIME_TYPES) == {"csv", "tsv", "xlsx", "json", "parquet", "txt", "pdf", "png", "jpeg"}


# --- size -----------------------------------------------------------------------------------


def test_empty_file():
    result = rejected("sales.csv", b"")
    assert result.reason == "sales.csv is empty (0 bytes)."
    assert "header row and at least one data row" in result.hint


def test_oversize_names_both_sizes_in_mb():
    result = rejected("big.csv", b"a,b\n" + b"1,2\n" * 600_000, max_bytes=2_000_000)
    assert "big.csv is 2.4 MB" in result.reason
    assert "2.0 MB limit" in result.reason
    assert "smaller" in result.hint


def test_files_api_limit_applies_even_with_a_higher_app_limit():
    assert FILES_API_MAX_BYTES == 500_000_000
    result = check_upload("x.csv", b"a,b\n1,2\n", 10**12)
    assert isinstance(result, Accepted)


# --- type by content --------------------------------------------------------------------------


def test_png_disguised_as_csv():
    result = rejected("report.csv", png())
    assert result.reason == "report.csv is a PNG image, not CSV."
    assert result.hint == "Rename it to .png or upload the real CSV file."


def test_pdf_disguised_as_xlsx():
    result = rejected("book.xlsx", MINIMAL_PDF)
    assert "book.xlsx is a PDF document, not XLSX" in result.reason
    assert ".pdf" in result.hint


def test_jpeg_named_png():
    result = rejected("chart.png", jpeg())
    assert "a JPEG image, not PNG" in result.reason
    assert ".jpg" in result.hint


def test_xlsx_named_csv():
    result = rejected("data.csv", xlsx())
    assert "Excel workbook (XLSX), not CSV" in result.reason
    assert ".xlsx" in result.hint


def test_old_xls_content_in_xlsx():
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    result = rejected("old.xlsx", ole2)
    assert "old-format Excel file (.xls)" in result.reason
    assert "Save As > Excel Workbook (.xlsx)" in result.hint


def test_xls_extension_has_its_own_message():
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    result = rejected("old.xls", ole2)
    assert "old-format Excel file (.xls)" in result.reason
    assert ".xlsx" in result.hint and "CSV" in result.hint


def test_plain_zip_named_xlsx():
    result = rejected("book.xlsx", zip_of({"data.csv": b"a,b\n1,2\n"}))
    assert "book.xlsx is a ZIP archive, not XLSX." == result.reason
    assert "unzip" in result.hint


def test_word_document_named_xlsx():
    result = rejected("book.xlsx", zip_of({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"}))
    assert "Word document" in result.reason


def test_text_named_pdf():
    result = rejected("paper.pdf", b"just some text\n")
    assert "not a valid PDF file" in result.reason


def test_parquet_needs_magic_at_both_ends():
    data = parquet_bytes()
    assert "not a valid Parquet file" in rejected("t.parquet", data[:-4]).reason


def test_damaged_parquet_footer():
    data = parquet_bytes()
    broken = data[:4] + b"\x00" * (len(data) - 8) + data[-4:]
    assert "damaged Parquet file" in rejected("t.parquet", broken).reason


def test_broken_png():
    result = rejected("chart.png", png((200, 200))[:80])
    assert "chart.png is a broken image" in result.reason
    assert "export it again as PNG" in result.hint


def test_truncated_jpeg():
    data = jpeg((300, 200))
    assert "broken image" in rejected("photo.jpg", data[: len(data) // 2]).reason


def test_image_over_the_pixel_limit():
    result = rejected("huge.png", png_claiming(10_000, 9_000))
    assert result.reason == "huge.png is too large an image (10,000 × 9,000 pixels); the limit is 89,478,485 pixels."
    assert "Resize" in result.hint


def test_decompression_bomb_far_over_the_limit():
    result = rejected("bomb.png", png_claiming(100_000, 100_000))
    assert "bomb.png is too large an image" in result.reason


def test_binary_disguised_as_csv():
    result = rejected("data.csv", bytes(range(256)) * 20)
    assert result.reason == "data.csv contains binary data, not CSV text."
    assert "CSV UTF-8" in result.hint


def test_utf16_text_gets_a_save_as_utf8_hint():
    result = rejected("data.csv", "a\tb\n1\t2\n".encode("utf-16"))
    assert "UTF-16" in result.reason
    assert "UTF-8" in result.hint


def test_bad_json():
    result = rejected("data.json", b'{"a": 1,, "b": 2}')
    assert result.reason.startswith("data.json is not valid JSON: ")
    assert "line 1 column" in result.reason
    assert "JSON Lines" in result.hint


def test_bad_json_lines():
    assert "not valid JSON" in rejected("events.json", b'{"a": 1}\n{"a": \n').reason


def test_csv_with_header_only():
    result = rejected("sales.csv", b"date,units\n")
    assert result.reason == "sales.csv has a header row but no data rows."


def test_csv_that_is_only_blank_lines():
    assert "no columns" in rejected("sales.csv", b"\n\n\n").reason


# --- unknown types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("setup.exe", "setup.exe is a .exe file, which can't be analysed here."),
        ("letter.docx", "letter.docx is a .docx file, which can't be analysed here."),
        ("README", "README has no file extension."),
    ],
)
def test_unknown_types_list_the_accepted_ones(name, reason):
    result = rejected(name, b"MZ\x90\x00 some bytes")
    assert result.reason == reason
    for label in ("CSV (.csv)", "Excel (.xlsx)", "Parquet", "PDF", "PNG", "JPEG (.jpg, .jpeg)"):
        assert label in result.hint


def test_no_extension_but_known_content_suggests_a_name():
    result = rejected("chart", png())
    assert result.reason == "chart has no file extension."
    assert "rename it to end in .png" in result.hint


# --- file names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\x\\y.csv", "y.csv"),
        ("a\x00b\x1fc\x07.csv", "abc.csv"),
        ('re<po>r:t"|?*.csv', "report.csv"),
        ("  ..hidden .csv", "hidden.csv"),
        ("my   sales\tQ3.csv", "my sales Q3.csv"),
        ("données_数据 é.xlsx", "données_数据 é.xlsx"),
        ("???.csv", "file.csv"),
        ("..", "file"),
        ("", "file"),
        ("report.CSV", "report.CSV"),
    ],
)
def test_sanitize_filename(given, expected):
    assert sanitize_filename(given) == expected


def test_sanitize_very_long_name_keeps_extension():
    clean = sanitize_filename("x" * 400 + ".parquet")
    assert clean.endswith(".parquet")
    assert len(clean) == 255


def test_sanitize_long_unicode_name_fits_255_bytes():
    clean = sanitize_filename("数" * 200 + ".csv")
    assert clean.endswith(".csv") and clean.startswith("数")
    assert len(clean.encode("utf-8")) <= 255


def test_control_characters_in_upload_name_are_not_echoed_into_accepted_name():
    result = accepted("q3\n\r report.csv", b"a,b\n1,2\n")
    assert result.name == "q3 report.csv"
