"""A generated corpus of hostile and awkward files: each with what the Files page must say about it."""

from __future__ import annotations

import gzip
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

MB = 1 << 20


# a megabyte of real cells with varied numbers: parsed one by one, and it does not compress past the ratio limit
SLOW_ROWS = b"".join(
    b"<row><c><v>%d.%d</v></c><c><v>%d</v></c></row>" % (n * 7919 % 10007, n % 97, n * 31) for n in range(20_000)
)  # under a megabyte, whole rows only
SLOW_SHEET_LIMIT = re.compile(r"reading it took longer than \d+ seconds|reading it needs more than [\d.]+ GB of memory")


@dataclass(frozen=True)
class Case:
    """One file and the words its rejection must contain, or a check of its accepted preview."""

    id: str
    name: str
    make: Callable[[], bytes]
    rejected: str | re.Pattern | None = None  # words (or a pattern) in the reason, when the file must be refused
    check: Callable | None = None  # called with (Accepted, preview) when it must be accepted


def png(size=(40, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "teal").save(out, "PNG")
    return out.getvalue()


def jpeg(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header is patched to claim a huge canvas."""
    data = bytearray(jpeg())
    at = data.index(b"\xff\xc0") + 5
    data[at : at + 4] = struct.pack(">HH", height, width)
    return bytes(data)


def xlsx(frames: dict[str, pd.DataFrame] | None = None) -> bytes:
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for sheet, frame in (frames or {"Data": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})}).items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    return out.getvalue()


def xlsx_with(replace: dict[str, bytes], extra: int = 0, stream_sheet: int = 0, row: bytes = b"<row/>") -> bytes:
    """A real workbook with some parts replaced, `extra` empty parts added, or its sheet swollen to `stream_sheet` bytes of `row`."""
    source = zipfile.ZipFile(io.BytesIO(xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml" and stream_sheet:
                with archive.open(info.filename, "w", force_zip64=True) as handle:
                    handle.write(
                        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                        b"<sheetData>"
                    )
                    block = row * (MB // len(row))
                    for _ in range(stream_sheet // len(block)):
                        handle.write(block)
                    handle.write(b"</sheetData></worksheet>")
                continue
            archive.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for n in range(extra):
            archive.writestr(f"xl/media/pad{n}.bin", b"")
    return out.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return out.getvalue()


def parquet(table: pa.Table, **kwargs) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, **kwargs)
    return out.getvalue()


def csv_rows(n: int, cols: int = 3) -> bytes:
    header = ",".join(f"c{i}" for i in range(cols))
    return (header + "\n" + "".join(",".join(str(r * cols + i) for i in range(cols)) + "\n" for r in range(n))).encode()


MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type /Catalog /Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type /Pages /Kids [3 0 R] /Count 1>>endobj\n"
    b"3 0 obj<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script><rect width="9"/></svg>'
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{"&lol" + (str(i - 1) if i > 1 else "") + ";"}{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 9}">'.encode()
        for i in range(1, 10)
    )
    + b']><worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)


def table_of(rows: int, cols: int):
    def check(ok, preview):
        assert (preview.rows, preview.columns) == (rows, cols), preview.note

    return check


def kind_is(cls_name: str, note: str = ""):
    def check(ok, preview):
        assert type(preview).__name__ == cls_name, preview
        assert note in getattr(preview, "note", ""), preview.note

    return check


def named(expected: str):
    def check(ok, preview):
        assert ok.name == expected

    return check


def col_type(column: str, type_: str, rows: int):
    def check(ok, preview):
        assert dict(preview.dtypes)[column] == type_, preview.dtypes
        assert preview.rows == rows

    return check


def encoding_is(encoding: str):
    def check(ok, preview):
        assert preview.encoding == encoding, preview.note

    return check


def _late(value: bytes, rows: int = 200_000) -> bytes:
    """Integers for many rows (well past the first block), then one odd value."""
    return b"id,n\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(rows)) + b"%d,%s\n" % (rows, value)


CASES: list[Case] = [
    # archives
    Case(
        "xlsx-zip-bomb-1gib",
        "bomb.xlsx",
        lambda: xlsx_with({}, stream_sheet=1 << 30),
        "expands to 1.1 GB; the limit is 500.0 MB",
    ),
    Case("xlsx-ratio-bomb", "ratio.xlsx", lambda: xlsx_with({}, stream_sheet=120 * MB), "the limit is 200 times"),
    Case(
        "xlsx-malformed-sheet-xml",
        "broken.xlsx",
        lambda: xlsx_with({"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row><c"}),
        "damaged workbook",
    ),
    Case(
        "xlsx-malformed-workbook-xml",
        "broken2.xlsx",
        lambda: xlsx_with({"xl/workbook.xml": b"<workbook><sheets><sheet name="}),
        "damaged workbook",
    ),
    Case(
        "xlsx-billion-laughs",
        "laughs.xlsx",
        lambda: xlsx_with({"xl/worksheets/sheet1.xml": BILLION_LAUGHS}),
        "damaged workbook",
    ),
    # Within the size and ratio limits (45 MB of sheet XML), but 1.5 million cells take openpyxl far
    # longer than the time limit: the worker is stopped and the next file gets a fresh one.
    Case(
        "xlsx-slow-sheet",
        "slow.xlsx",
        lambda: xlsx_with({}, stream_sheet=80 * MB, row=SLOW_ROWS),
        # which limit a machine reaches first depends on its speed: either is one clear message
        SLOW_SHEET_LIMIT,
    ),
    Case("xlsx-too-many-parts", "parts.xlsx", lambda: xlsx_with({}, extra=10_050), "the limit is 10,000"),
    Case(
        "xlsx-missing-workbook",
        "hollow.xlsx",
        lambda: zip_of({"[Content_Types].xml": b"<Types/>", "xl/styles.xml": b"<x/>"}),
        "damaged workbook",
    ),
    Case("xlsx-plain-zip", "data.xlsx", lambda: zip_of({"data.csv": b"a,b\n1,2\n"}), "a ZIP archive, not XLSX"),
    Case(
        "xlsx-is-docx",
        "letter.xlsx",
        lambda: zip_of({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"}),
        "Word document",
    ),
    Case("xlsx-truncated", "cut.xlsx", lambda: xlsx()[:300], "is a damaged workbook"),
    Case("xlsx-cut-halfway", "half.xlsx", lambda: (lambda d: d[: len(d) // 2])(xlsx()), "is a damaged workbook"),
    Case("xlsx-ole-xls", "old.xlsx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "old-format Excel"),
    Case("xlsx-empty-sheet", "blank.xlsx", lambda: xlsx({"Empty": pd.DataFrame()}), "is empty"),
    Case(
        "xlsx-two-sheets",
        "two.xlsx",
        lambda: xlsx({"S": pd.DataFrame({"x": range(30)}), "T": pd.DataFrame({"y": [1]})}),
        check=table_of(30, 1),
    ),
    Case("xlsx-wide", "wide.xlsx", lambda: xlsx({"W": pd.DataFrame([list(range(600))] * 3)}), check=table_of(3, 600)),
    Case(
        "gzip-named-csv",
        "data.csv",
        lambda: gzip.compress(b"month,sales\n2024-01,100\n" * 20),
        "gzip-compressed file, not CSV",
    ),
    Case("zip-named-csv", "data.csv", lambda: zip_of({"a.csv": b"a\n1\n"}), "a ZIP archive, not CSV"),
    # JSON
    Case(
        "json-deep-arrays",
        "deep.json",
        lambda: b"[" * 100_000 + b"]" * 100_000,
        check=kind_is("DocumentPreview", "nested 100,000 levels deep"),
    ),
    Case(
        "json-deep-objects",
        "deepobj.json",
        lambda: b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        check=kind_is("DocumentPreview", "nested 50,000 levels deep"),
    ),
    Case(
        "json-deep-in-big-file",
        "deepbig.json",
        lambda: b"[" * 2_000_000 + b"]" * 2_000_000,
        check=kind_is("DocumentPreview", "levels deep"),
    ),
    Case(
        "json-deep-brackets-in-strings",
        "strings.json",
        lambda: json.dumps([{"s": "[" * 5000}] * 3).encode(),
        check=table_of(3, 1),
    ),
    Case("json-just-under-depth-limit", "d150.json", lambda: b"[" * 150 + b"1" + b"]" * 150, check=table_of(1, 1)),
    Case(
        "json-wide-object",
        "wide.json",
        lambda: json.dumps({f"k{i}": i for i in range(10_000)}).encode(),
        check=table_of(1, 10_000),
    ),
    Case(
        "json-wide-records",
        "widerec.json",
        lambda: json.dumps([{f"k{i}": i for i in range(2_000)}] * 5).encode(),
        check=table_of(5, 2_000),
    ),
    Case(
        "json-huge-string", "bigstr.json", lambda: json.dumps([{"s": "x" * 5_000_000}]).encode(), check=table_of(1, 1)
    ),
    Case("json-invalid", "bad.json", lambda: b'{"a": 1,, "b": 2}', "not valid JSON"),
    Case("json-lines-bad-line", "events.json", lambda: b'{"a": 1}\n{"a": \n', "not valid JSON"),
    Case("json-whitespace-only", "space.json", lambda: b"   \n\t\n  ", "blank space"),
    Case("json-nan-infinity", "nan.json", lambda: b'[{"v": NaN}, {"v": Infinity}, {"v": 1}]', check=table_of(3, 1)),
    Case("json-bom", "bom.json", lambda: b"\xef\xbb\xbf" + json.dumps([{"a": 1}]).encode(), check=table_of(1, 1)),
    Case("json-scalar", "one.json", lambda: b"42", check=table_of(1, 1)),
    Case("json-empty-array", "empty_list.json", lambda: b"[]", check=table_of(0, 1)),
    Case(
        "json-mixed-types",
        "mixed.json",
        lambda: json.dumps([{"v": 1}, {"v": "two"}, {"v": [3]}, {"v": {"x": 4}}]).encode(),
        check=kind_is("TablePreview"),
    ),
    Case("json-nul-bytes", "nul.json", lambda: b'{"a": "\x00\x00"}', "binary data"),
    # CSV and text
    Case("csv-binary", "data.csv", lambda: bytes(range(256)) * 20, "binary data, not CSV"),
    Case("csv-nul-late", "late_nul.csv", lambda: csv_rows(20_000) + b"1,\x00,3\n", "binary data"),
    Case("csv-5mb-single-line", "line.csv", lambda: b"x," * (5 * MB // 2), "header row but no data rows"),
    Case("txt-5mb-single-line", "line.txt", lambda: b"word " * MB, check=kind_is("DocumentPreview", "1 line")),
    Case(
        "csv-5mb-single-field-row", "longcell.csv", lambda: b"a,b\n1," + b"y" * (5 * MB) + b"\n", check=table_of(1, 2)
    ),
    Case(
        "csv-utf8-then-cp1252",
        "mixed.csv",
        lambda: csv_rows(120_000) + "1,2,Café €\n".encode("cp1252"),
        check=encoding_is("cp1252"),
    ),
    Case("csv-invalid-utf8", "invalid.csv", lambda: b"a,b\n\x81\x8d,1\n\xff\xfe\xfd,2\n", check=encoding_is("latin-1")),
    Case("csv-utf16", "wide16.csv", lambda: "a\tb\n1\t2\n".encode("utf-16"), "UTF-16"),
    Case("csv-10000-columns", "cols.csv", lambda: csv_rows(3, 10_000), check=table_of(3, 10_000)),
    Case("csv-duplicate-headers", "dups.csv", lambda: b"a,a,b\n1,2,3\n4,5,6\n", check=table_of(2, 3)),
    Case("csv-ragged-row", "ragged.csv", lambda: csv_rows(100) + b"1,2,3,4,5\n", "could not be read as CSV"),
    Case("csv-late-word-in-numbers", "lateword.csv", lambda: _late(b"abc"), check=col_type("n", "str", 200_001)),
    Case("csv-late-float-in-ints", "latefloat.csv", lambda: _late(b"1.5"), check=col_type("n", "float64", 200_001)),
    Case("csv-late-quoted-newline", "latequote.csv", lambda: _late(b'"7\n8"'), check=col_type("n", "str", 200_001)),
    Case("csv-header-only", "head.csv", lambda: b"date,units\n", "header row but no data rows"),
    Case("csv-whitespace-only", "blank.csv", lambda: b"  \n \n\t\n", "blank space"),
    Case("csv-many-blank-lines", "lines.csv", lambda: b"\n" * 200_000, "blank space"),
    Case("csv-crlf", "crlf.csv", lambda: b"a,b\r\n1,2\r\n3,4\r\n", check=table_of(2, 2)),
    Case("csv-cr-only", "mac.csv", lambda: b"a,b\r1,2\r3,4\r", check=table_of(2, 2)),
    Case(
        "csv-script-and-formulas",
        "cells.csv",
        lambda: b'a,b\n"<script>alert(1)</script>","=cmd|\' /C calc\'!A0"\n',
        check=table_of(1, 2),
    ),
    Case("csv-is-pdf", "paper.csv", lambda: MINIMAL_PDF, "a PDF document, not CSV"),
    Case("csv-3mb-in-child", "big.csv", lambda: csv_rows(150_000), check=table_of(150_000, 3)),
    Case("tsv-with-commas", "comma.tsv", lambda: b"a,b\n1,2\n", check=table_of(1, 2)),
    Case("txt-nul", "notes.txt", lambda: b"hello\x00world\n", "binary data"),
    Case("txt-whitespace-only", "space.txt", lambda: b"   \n   \n", check=kind_is("DocumentPreview", "2 lines")),
    Case("txt-svg-with-script", "drawing.txt", lambda: SVG_SCRIPT, check=kind_is("DocumentPreview")),
    # empty files
    Case("empty-csv", "e.csv", lambda: b"", "empty (0 bytes)"),
    Case("empty-json", "e.json", lambda: b"", "empty (0 bytes)"),
    Case("empty-xlsx", "e.xlsx", lambda: b"", "empty (0 bytes)"),
    Case("empty-png", "e.png", lambda: b"", "empty (0 bytes)"),
    # names
    Case("name-path-traversal", "../../etc/passwd.csv", lambda: b"a,b\n1,2\n", check=named("passwd.csv")),
    Case("name-windows-traversal", "..\\..\\Windows\\System32\\x.csv", lambda: b"a,b\n1,2\n", check=named("x.csv")),
    Case("name-reserved-con", "CON.csv", lambda: b"a,b\n1,2\n", check=named("_CON.csv")),
    Case("name-reserved-nul", "nul.txt", lambda: b"hi\n", check=named("_nul.txt")),
    Case("name-bidi-override", "invoice\u202egpj.csv", lambda: b"a,b\n1,2\n", check=named("invoicegpj.csv")),
    Case("name-control-chars", "q3\n\r\x00report.csv", lambda: b"a,b\n1,2\n", check=named("q3 report.csv")),
    Case("name-very-long", "x" * 400 + ".csv", lambda: b"a,b\n1,2\n", check=lambda ok, p: len(ok.name.encode()) <= 255),
    Case("name-no-extension", "README", lambda: b"hello", "has no file extension"),
    Case("name-double-extension-exe", "report.csv.exe", lambda: b"MZ\x90\x00", ".exe file"),
    # images
    Case("png-truncated", "cut.png", lambda: png((200, 200))[:80], "broken image"),
    Case("jpeg-truncated", "cut.jpg", lambda: jpeg((300, 200))[:300], "broken image"),
    Case("png-bomb-header", "bomb.png", lambda: png_claiming(100_000, 100_000), "too large an image"),
    Case("png-just-over-limit", "over.png", lambda: png_claiming(10_000, 9_000), "(10,000 × 9,000 pixels)"),
    Case("jpeg-bomb-header", "bomb.jpg", lambda: jpeg_claiming(65_000, 65_000), "too large an image"),
    Case("png-is-jpeg", "photo.png", jpeg, "a JPEG image, not PNG"),
    Case("png-is-gif", "anim.png", lambda: b"GIF89a" + b"\x00" * 30, "a GIF image, not PNG"),
    Case("png-is-svg", "logo.png", lambda: SVG_SCRIPT, "not a valid PNG file"),
    Case("svg-with-script", "logo.svg", lambda: SVG_SCRIPT, ".svg file, which can't be analysed here"),
    Case("png-zip-polyglot", "poly.png", lambda: png() + zip_of({"x.txt": b"hi"}), check=kind_is("ImagePreview")),
    Case("xlsx-png-polyglot", "poly.xlsx", lambda: png() + xlsx(), "a PNG image, not XLSX"),
    Case("png-good", "chart.png", png, check=kind_is("ImagePreview")),
    # parquet and pdf
    Case(
        "parquet-truncated",
        "cut.parquet",
        lambda: parquet(pa.table({"a": range(100)}))[:-4],
        "not a valid Parquet file",
    ),
    Case(
        "parquet-bad-footer",
        "bad.parquet",
        lambda: (lambda d: d[:4] + b"\x00" * (len(d) - 8) + d[-4:])(parquet(pa.table({"a": range(100)}))),
        "damaged Parquet file",
    ),
    Case("parquet-garbage", "junk.parquet", lambda: b"PAR1" + b"\xff" * 100 + b"PAR1", "damaged Parquet file"),
    Case(
        "parquet-5000-columns",
        "wide.parquet",
        lambda: parquet(pa.table({f"c{i}": [i] for i in range(5_000)})),
        check=table_of(1, 5_000),
    ),
    Case(
        "parquet-nested",
        "nested.parquet",
        lambda: parquet(pa.table({"l": [[1, 2], None], "s": [{"x": 1}, {"x": 2}]})),
        check=table_of(2, 2),
    ),
    Case("pdf-is-exe", "doc.pdf", lambda: b"MZ\x90\x00" + b"\x00" * 200, "not a valid PDF file"),
    Case("pdf-minimal", "paper.pdf", lambda: MINIMAL_PDF, check=kind_is("DocumentPreview", "1 page")),
]
