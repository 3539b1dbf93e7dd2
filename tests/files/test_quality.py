"""Broken files get the right explanation, and every first look says what an analyst should know before an
analysis: a mixed or doubtful encoding (with its lines), a damaged workbook, identifier-like columns, extreme
values. Checked through the upload check, in the sandbox, as the Files page runs it."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from lib.files.preview import TablePreview
from lib.files.samples import list_samples
from lib.files.uploads import Accepted, Rejected, inspect_upload
from tests.support.hostile import xlsx

LIMIT = 100_000_000


def accepted(name: str, data: bytes) -> TablePreview:
    checked = inspect_upload(name, data, LIMIT)
    assert isinstance(checked.verdict, Accepted), checked.verdict
    assert isinstance(checked.preview, TablePreview)
    assert checked.verdict.profile is not None and checked.verdict.profile.notes == checked.preview.quality
    return checked.preview


def refused(name: str, data: bytes) -> Rejected:
    verdict = inspect_upload(name, data, LIMIT).verdict
    assert isinstance(verdict, Rejected), verdict
    return verdict


def notes_with(preview: TablePreview, words: str) -> list[str]:
    return [n for n in preview.quality if words in n]


def workbook(rows: int = 3000, sheets: int = 1) -> bytes:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"store": [f"S{i}" for i in range(rows)], "sales": rng.normal(100, 10, rows).round(2)})
    return xlsx({f"Sheet{n + 1}": frame for n in range(sheets)})


# --- broken files get the right explanation ---------------------------------------------------------------


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.1], ids=["halfway", "near-the-end", "near-the-start"])
def test_a_workbook_cut_off_is_a_damaged_workbook_to_export_again(cut):
    data = workbook()
    verdict = refused("report.xlsx", data[: int(len(data) * cut)])
    assert "report.xlsx is a damaged workbook" in verdict.reason
    assert "ZIP" not in verdict.reason and "unzip" not in verdict.hint
    assert "save it again as .xlsx" in verdict.hint


def test_a_plain_zip_named_xlsx_is_still_told_apart():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("export/data.csv", "a,b\n1,2\n")
    verdict = refused("data.xlsx", data.getvalue())
    assert "a ZIP archive, not XLSX" in verdict.reason and "unzip" in verdict.hint


def corrupted(data: bytes, part: str) -> bytes:
    """The workbook with bytes of one part's compressed data changed (its checksum no longer matches)."""
    out = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(part)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for at in range(start + 10, start + 30):
        out[at] ^= 0x5A
    return bytes(out)


def test_a_workbook_whose_sheet_is_corrupted_is_refused_as_damaged():
    verdict = refused("two.xlsx", corrupted(workbook(sheets=2), "xl/worksheets/sheet2.xml"))
    assert "two.xlsx is a damaged workbook and can't be read" in verdict.reason
    assert "save it again as .xlsx" in verdict.hint


def test_a_workbook_damaged_beside_its_data_is_read_and_said_to_be_damaged():
    preview = accepted("props.xlsx", corrupted(workbook(), "docProps/app.xml"))
    assert preview.rows == 3000
    [note] = notes_with(preview, "Damaged workbook")
    assert "`docProps/app.xml` is corrupted" in note and "re-export it" in note


# --- encodings ---------------------------------------------------------------------------------------------


def mixed_csv() -> bytes:
    rows = ["id,city,amount"]
    for i in range(1, 11):
        rows.append(f"{i},München,{i * 1.5}")
    lines = [r.encode("utf-8") + b"\n" for r in rows]
    for line_number in (4, 9):  # lines of the file (the header is line 1)
        lines[line_number - 1] = lines[line_number - 1].decode("utf-8").encode("cp1252")
    return b"".join(lines)


def test_a_csv_of_utf8_and_latin1_rows_reads_each_in_its_own_encoding_and_names_the_lines():
    preview = accepted("cities.csv", mixed_csv())
    assert preview.encoding == "mixed"
    assert preview.head["city"].tolist() == ["München"] * 10, "no row reads as MÃ¼nchen or M�nchen"
    [note] = notes_with(preview, "Mixed encoding")
    assert "lines 4 and 9 of the file are in Windows-1252" in note and "line by line" in note


def test_a_large_csv_whose_late_rows_are_latin1_is_warned_about_those_rows():
    head = "id,city\n" + "".join(f"{i},Köln\n" for i in range(200_000))  # far more than a first look reads
    late = "200000,Düsseldorf\n".encode("cp1252")
    data = head.encode("utf-8") + late + "200001,Köln\n".encode()
    preview = accepted("late.csv", data)
    assert preview.rows == 200_002 and preview.encoding == "mixed"
    [note] = notes_with(preview, "Mixed encoding")
    assert "line 200,002 of the file is in Windows-1252" in note


def test_bytes_no_windows_1252_character_has_are_a_doubtful_encoding():
    preview = accepted("odd.csv", b"name,n\nabc,1\n\x81\x8dxy,2\nok,3\n")
    assert preview.encoding == "latin-1"
    [note] = notes_with(preview, "Doubtful encoding")
    assert "line 3 holds bytes that are no character in Windows-1252" in note


def test_text_encoded_twice_is_a_doubtful_encoding_with_an_example():
    data = "city,n\nMÃ¼nchen,1\nBerlin,2\nKÃ¶ln,3\n".encode()
    preview = accepted("twice.csv", data)
    [note] = notes_with(preview, "encoded twice")
    assert "lines 2 and 4" in note and "`MÃ¼nchen` is probably `München`" in note


def test_a_plain_utf8_or_windows_1252_file_has_no_encoding_note():
    for data in ("city\nMünchen\nKöln\n".encode(), "city\nMünchen\nKöln\n".encode("cp1252")):
        assert not notes_with(accepted("plain.csv", data), "encoding")


# --- columns ---------------------------------------------------------------------------------------------


def test_identifier_like_columns_are_named():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{n:05d}" for n in range(500)],
            "row": np.arange(1, 501),  # all different and consecutive
            "zip code": rng.integers(10000, 10100, 500),  # repeats, but named like an identifier
            "units": rng.integers(1, 50, 500),
            "price": rng.normal(20, 3, 500).round(2),
        }
    )
    [note] = notes_with(accepted("customers.csv", frame.to_csv(index=False).encode()), "Identifier-like")
    assert "`customer_id`, `row`, `zip code`" in note and "`units`" not in note and "`price`" not in note
    assert "don't add them up, average them" in note


def test_an_extreme_value_is_named_with_its_column():
    rng = np.random.default_rng(2)
    amounts = rng.normal(250, 40, 2000).round(2)
    amounts[1234] = 1_000_000.0
    frame = pd.DataFrame({"order": rng.integers(0, 10**9, 2000), "amount": amounts})
    [note] = notes_with(accepted("orders.csv", frame.to_csv(index=False).encode()), "Extreme value")
    assert note.startswith("Extreme value in `amount`: its largest, 1,000,000, lies")
    assert "standard deviations above the mean" in note


@pytest.mark.parametrize("sample", list_samples(), ids=lambda s: s.name)
def test_the_samples_have_no_encoding_damage_or_outlier_alarm_except_their_real_ones(sample):
    preview = accepted(sample.name, sample.path.read_bytes())
    assert not notes_with(preview, "encoding") and not notes_with(preview, "Damaged")
    expected = {"subscriptions_churn.csv": ["Identifier-like column: `customer_id`."]}.get(sample.name, [])
    assert [n.split(" It labels")[0] for n in notes_with(preview, "Identifier-like")] == expected
    extremes = notes_with(preview, "Extreme value")
    assert extremes == [] if sample.name != "subscriptions_churn.csv" else len(extremes) <= 1
