"""Tests of lib.files.preview: what the local preview shows for each kind of file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from lib.files.delimited import detect_encoding, read_head, sniff_delimiter
from lib.files.preview import (
    DocumentPreview,
    ImagePreview,
    Refused,
    TablePreview,
    first_look,
    inspect_path,
)
from lib.files.prompts import table_columns
from lib.limits import LIMITS
from lib.storage.records import FileRecord


@pytest.fixture(autouse=True)
def _tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def preview_file(data: bytes, name: str, kind: str, max_rows: int = 20):
    path = Path(name).with_name("upload-" + Path(name).name)
    path.write_bytes(data)
    return inspect_path(path, name, kind, max_rows)


def table(data: bytes, kind: str = "csv", **kwargs) -> TablePreview:
    result = preview_file(data, f"file.{kind}", kind, **kwargs)
    assert isinstance(result, TablePreview), result
    return result


def refused(data: bytes, name: str, kind: str) -> Refused:
    with pytest.raises(Refused) as info:
        preview_file(data, name, kind)
    assert info.value.reason and info.value.hint
    return info.value


def missing(result: TablePreview) -> dict[str, float]:
    return dict(result.missing)


# --- encoding and delimiter -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbfa,b\n", "utf-8-sig"),
        ("naïve,café\n".encode(), "utf-8"),
        ("price,€\n".encode("cp1252"), "cp1252"),
        (b"a,b\n\x81\x8d\n", "latin-1"),
        (b"plain ascii\n", "utf-8"),
    ],
)
def test_detect_encoding(data, expected):
    assert detect_encoding(data) == expected


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ","),
        ("a;b;c\n1,5;2,5;3\n4,0;5,1;6\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ('name,comment\n"Smith; J.","hi; there"\n"Doe; A.","x; y"\n', ","),
        ("only\none\ncolumn\n", ","),
        ("", ","),
    ],
)
def test_sniff_delimiter(sample, expected):
    assert sniff_delimiter(sample) == expected


# --- CSV previews -----------------------------------------------------------------------------


def test_plain_csv():
    result = table(b"city,pop\nOslo,700\nBergen,285\nTromso,\n")
    assert (result.rows, result.columns) == (3, 2)
    assert result.delimiter == "," and result.encoding == "utf-8"
    assert dict(result.dtypes) == {"city": "str", "pop": "int64"}  # a missing value does not make it float
    assert missing(result) == {"city": 0.0, "pop": pytest.approx(1 / 3)}
    assert result.note.startswith("3 rows × 2 columns; comma-delimited")
    assert result.sheets == []


def test_semicolon_csv_with_decimal_commas():
    data = b"ts;sensor;temp\n2025-01-01 00:00;A;20,5\n2025-01-01 01:00;A;\n2025-01-01 02:00;B;-1,25\n2025-01-01 03:00;B;19,0\n"
    result = table(data)
    assert result.delimiter == ";"
    assert (result.rows, result.columns) == (4, 3)
    assert dict(result.dtypes)["temp"] == "float64"
    assert result.head["temp"].tolist()[0] == 20.5
    assert result.head["temp"].tolist()[2] == -1.25
    assert missing(result)["temp"] == 0.25
    assert "semicolon-delimited" in result.note and "decimal commas" in result.note


def test_tab_separated():
    data = b"id\tname\tscore\n1\tAnn\t3.5\n2\tBo\t4.0\n"
    result = table(data, "tsv")
    assert result.delimiter == "\t"
    assert [c for c, _ in result.dtypes] == ["id", "name", "score"]
    assert dict(result.dtypes)["id"] == "int64"


def test_bom_csv_header_has_no_bom():
    result = table(b"\xef\xbb\xbfid,value\n1,10\n2,20\n")
    assert result.encoding == "utf-8-sig"
    assert list(result.head.columns) == ["id", "value"]


def test_latin1_csv_keeps_accents():
    data = "Stadt;Einwohner\nKöln;1084831\nMünchen;1488202\nDüsseldorf;\n".encode("cp1252")
    result = table(data)
    assert result.encoding == "cp1252"
    assert result.head["Stadt"].tolist() == ["Köln", "München", "Düsseldorf"]
    assert missing(result)["Einwohner"] == pytest.approx(1 / 3)
    assert "Windows-1252" in result.note


def test_leading_comment_line_is_skipped():
    result = table(b"# Data source: somewhere\nDate,Close\n2024-01-01,10.5\n")
    assert list(result.head.columns) == ["Date", "Close"]
    assert result.rows == 1


def test_row_count_is_exact_across_chunks():
    rows = 250_001
    body = "\n".join(f"{i},{i % 7}" for i in range(rows))
    result = table(f"n,m\n{body}\n".encode(), max_rows=5)
    assert result.rows == rows
    assert len(result.head) == 5


def test_quoted_newlines_count_as_one_row():
    result = table(b'id,text\n1,"line one\nline two"\n2,plain\n')
    assert result.rows == 2


@pytest.mark.parametrize(
    ("data", "kind", "words"),
    [
        (b"PK\x03\x04garbage", "xlsx", "is a damaged workbook"),
        (b"PAR1xxxxPAR1", "parquet", "damaged Parquet file"),
        (b"{bad", "json", "not valid JSON"),
    ],
)
def test_unreadable_tables_are_refused_with_a_reason(data, kind, words):
    assert words in refused(data, f"bad.{kind}", kind).reason


def test_unreadable_csv_is_refused_with_the_place():
    result = refused(b'a,b\n"unterminated,1\n', "x.csv", "csv")
    assert result.reason.startswith("x.csv could not be read as CSV")


# --- other tables ------------------------------------------------------------------------------


def test_xlsx_with_two_sheets():
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        pd.DataFrame({"region": ["N", "S", "E"], "sales": [1.5, None, 3.0]}).to_excel(
            writer, sheet_name="Sales", index=False
        )
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
    result = table(out.getvalue(), "xlsx")
    assert result.sheets == ["Sales", "Notes"]
    assert (result.rows, result.columns) == (3, 2)
    assert missing(result)["sales"] == pytest.approx(1 / 3)
    assert 'Sheet "Sales" shown; 2 sheets' in result.note
    assert result.delimiter is None and result.encoding is None


def _xlsx_with_repeated_header() -> bytes:
    out = io.BytesIO()
    frame = pd.DataFrame([["N", 1.5, 2], ["S", None, 3]], columns=["region", "sales", "sales"])
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="Sales", index=False)
    return out.getvalue()


def _parquet_bytes() -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2], "tags": [["a"], []], "when": ["x", None]}), out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "kind", "make"),
    [
        ("semi.csv", "csv", lambda: "Stadt;Temperatur\nKöln;12,5\nMünchen;9,0\n".encode("cp1252")),
        ("t.tsv", "tsv", lambda: b"a\tb c\n1\t2\n"),
        ("w.xlsx", "xlsx", _xlsx_with_repeated_header),
        ("p.parquet", "parquet", _parquet_bytes),
        ("r.json", "json", lambda: json.dumps([{"a": 1, "b": "x"}, {"a": 2, "c": None}]).encode()),
    ],
)
def test_the_first_look_names_the_columns_the_whole_reading_finds(name, kind, make):
    path = Path(name)
    path.write_bytes(make())
    look = first_look(path)
    assert isinstance(look, TablePreview) and not look.estimated, "a small file is read whole at once"
    assert look.dtypes and look.dtypes == table(make(), kind).dtypes


def test_a_json_document_that_is_not_a_table_is_shown_as_text():
    path = Path("deep.json")
    path.write_bytes(b"[" * (LIMITS.json_depth + 5) + b"]" * (LIMITS.json_depth + 5))
    assert isinstance(first_look(path), DocumentPreview)


def test_table_columns_come_from_the_profile_kept_with_the_first_profiled_file():
    def record(name: str, kind: str, data: bytes) -> FileRecord:
        Path(name).write_bytes(data)
        found = inspect_path(Path(name), name, kind)
        profile = found.table_profile() if isinstance(found, TablePreview) else None
        return FileRecord(name, name, "", len(data), "", kind, name, 0.0, profile=profile)

    picture = record("p.png", "png", _png())
    sheet = record("w.xlsx", "xlsx", _xlsx_with_repeated_header())
    assert table_columns([picture, sheet]) == ["region", "sales", "sales.1"]
    assert table_columns([picture]) == []


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "PNG")
    return out.getvalue()


def test_a_workbook_with_too_many_entries_is_refused_from_its_directory():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for i in range(LIMITS.archive_entries):
            archive.writestr(f"xl/p{i}.xml", b"")
    result = refused(out.getvalue(), "many.xlsx", "xlsx")
    assert (
        result.reason
        == f"many.xlsx is a ZIP-based file with {LIMITS.archive_entries + 1:,} entries; the limit is 10,000."
    )


def test_json_records():
    data = json.dumps([{"a": 1, "b": "x"}, {"a": 2, "b": None}, {"a": 3}]).encode()
    result = table(data, "json")
    assert (result.rows, result.columns) == (3, 2)
    assert missing(result)["b"] == pytest.approx(2 / 3)


def test_json_lines():
    data = b'{"event": "open", "ms": 12}\n{"event": "close", "ms": 30}\n\n{"event": "open", "ms": 7}\n'
    result = table(data, "json")
    assert result.rows == 3
    assert dict(result.dtypes)["ms"] == "int64"


def test_nested_json_is_flattened():
    data = json.dumps({"data": [{"id": 1, "user": {"name": "A", "age": 30}}, {"id": 2, "user": {"name": "B"}}]})
    result = table(data.encode(), "json")
    assert [c for c, _ in result.dtypes] == ["id", "user.name", "user.age"]
    assert 'from the "data" key' in result.note
    assert "flattened" in result.note


def test_parquet_row_count_and_missing():
    frame = pd.DataFrame({"n": np.arange(10_000), "v": [None if i % 4 == 0 else float(i) for i in range(10_000)]})
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame), out, row_group_size=3_000)
    result = table(out.getvalue(), "parquet", max_rows=10)
    assert (result.rows, result.columns) == (10_000, 2)
    assert len(result.head) == 10
    assert missing(result) == {"n": 0.0, "v": 0.25}
    assert dict(result.dtypes)["n"] == "int64"
    assert "4 row group(s)" in result.note


def test_parquet_without_statistics():
    out = io.BytesIO()
    pq.write_table(pa.table({"v": [1, None, 3, None]}), out, write_statistics=False)
    result = table(out.getvalue(), "parquet")
    assert missing(result) == {"v": 0.5}


def test_read_head_semicolon_decimal_comma(tmp_path):
    (tmp_path / "f.csv").write_bytes(b"a;b\n1,5;x\n2,25;y\n")
    frame = read_head(tmp_path / "f.csv")
    assert frame["a"].tolist() == [1.5, 2.25]
    preview = inspect_path(tmp_path / "f.csv", "f.csv", "csv")
    assert isinstance(preview, TablePreview) and preview.head["a"].tolist() == [1.5, 2.25]


def test_text_is_not_a_table(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"hello")
    preview = inspect_path(tmp_path / "notes.txt", "notes.txt", "txt")
    assert isinstance(preview, DocumentPreview) and preview.text_head == "hello"


# --- images and documents ---------------------------------------------------------------------


def test_image_preview():
    out = io.BytesIO()
    Image.new("RGBA", (320, 200)).save(out, "PNG")
    result = preview_file(out.getvalue(), "chart.png", "png")
    assert result == ImagePreview(320, 200, "RGBA", "PNG", result.note)
    assert "320 × 200 px" in result.note


def test_jpeg_preview():
    out = io.BytesIO()
    Image.new("RGB", (64, 32), "red").save(out, "JPEG")
    result = preview_file(out.getvalue(), "p.jpg", "jpeg")
    assert isinstance(result, ImagePreview)
    assert (result.width, result.height, result.format) == (64, 32, "JPEG")


def test_broken_image_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (100, 100)).save(out, "PNG")
    assert "chart.png is a broken image" in refused(out.getvalue()[:60], "chart.png", "png").reason


def test_text_preview_shows_first_40_lines():
    data = "".join(f"line {i}\n" for i in range(100)).encode()
    result = preview_file(data, "notes.txt", "txt")
    assert isinstance(result, DocumentPreview)
    assert result.text_head.splitlines() == [f"line {i}" for i in range(40)]
    assert result.note.startswith("100 lines")
    assert result.pages is None


def test_pdf_page_count():
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type /Pages /Kids [2 0 R 3 0 R] /Count 2>>endobj\n"
        b"2 0 obj<</Type /Page /Parent 1 0 R>>endobj\n3 0 obj<</Type/Page /Parent 1 0 R>>endobj\n%%EOF\n"
    )
    result = preview_file(pdf, "paper.pdf", "pdf")
    assert isinstance(result, DocumentPreview)
    assert result.pages == 2
    assert result.size == len(pdf)
    assert result.note.startswith("PDF, 2 pages")


def test_pdf_without_visible_pages():
    result = preview_file(b"%PDF-1.7\n(compressed)\n%%EOF", "x.pdf", "pdf")
    assert result.pages is None
    assert "page count not available" in result.note
