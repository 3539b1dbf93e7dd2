"""The one-pass DuckDB profile of large delimited files agrees with the streaming pyarrow profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lib.files import tables
from lib.files.preview import Refused, TablePreview, inspect_path

FAST_NOTE = "distinct counts estimated"


def both(tmp_path: Path, data: bytes, kind: str = "csv", monkeypatch=None) -> tuple[TablePreview, TablePreview]:
    """(streamed, scanned) previews of the same file."""
    path = tmp_path / f"upload.{kind}"
    path.write_bytes(data)
    streamed = inspect_path(path, f"f.{kind}", kind)
    monkeypatch.setattr(tables, "SCAN_MIN_BYTES", 0)
    scanned = inspect_path(path, f"f.{kind}", kind)
    monkeypatch.undo()
    assert isinstance(streamed, TablePreview) and isinstance(scanned, TablePreview)
    assert FAST_NOTE not in streamed.note
    return streamed, scanned


def assert_same(streamed: TablePreview, scanned: TablePreview) -> None:
    assert FAST_NOTE in scanned.note, scanned.note
    assert (scanned.rows, scanned.columns) == (streamed.rows, streamed.columns)
    assert scanned.dtypes == streamed.dtypes
    assert dict(scanned.missing) == pytest.approx(dict(streamed.missing))
    assert scanned.head.equals(streamed.head)
    for s, f in zip(streamed.profile, scanned.profile, strict=True):
        if s.mean is not None:
            assert (f.min, f.max) == (s.min, s.max), s.name
            assert f.mean == pytest.approx(s.mean), s.name
            assert f.std == pytest.approx(s.std), s.name
        if s.distinct is not None:
            # two estimates (K-minimum values, HyperLogLog), each within about 10% of the truth
            assert f.distinct == pytest.approx(s.distinct, rel=0.15, abs=1), s.name
            assert not f.distinct_exact


def test_numbers_text_dates_and_gaps(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    lines = ["id,when,city,amount,flag"]
    cities = ["Oslo", "Bergen", "Köln", "São Paulo", "NA"]
    for i in range(40_000):
        amount = "" if i % 17 == 0 else f"{rng.normal(100, 30):.2f}"
        lines.append(
            f"{i},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{cities[i % 5]},{amount},{'true' if i % 3 else 'false'}"
        )
    streamed, scanned = both(tmp_path, ("\n".join(lines) + "\n").encode(), monkeypatch=monkeypatch)
    assert_same(streamed, scanned)
    assert dict(scanned.dtypes) == {"id": "int64", "when": "date", "city": "str", "amount": "float64", "flag": "bool"}
    assert dict(scanned.missing)["city"] == pytest.approx(0.2)  # "NA" is a missing value in both readers


def test_late_values_widen_their_column(tmp_path, monkeypatch):
    # Types come from the first block; a word or a fraction far into the file widens the column.
    body = [f"{i},{i},{i}" for i in range(300_000)]
    body[-5] = "oops,1.5,7"
    streamed, scanned = both(tmp_path, ("a,b,c\n" + "\n".join(body) + "\n").encode(), monkeypatch=monkeypatch)
    assert_same(streamed, scanned)
    assert dict(scanned.dtypes) == {"a": "str", "b": "float64", "c": "int64"}


def test_semicolons_decimal_commas_comment_lines_latin1(tmp_path, monkeypatch):
    lines = ["# exported from a till", "Stadt;Umsatz;Menge"]
    lines += [f"{['Köln', 'München', 'Düsseldorf'][i % 3]};{i},{i % 100:02d};{i % 9}" for i in range(20_000)]
    data = ("\n".join(lines) + "\n").encode("cp1252")
    streamed, scanned = both(tmp_path, data, monkeypatch=monkeypatch)
    assert_same(streamed, scanned)
    assert scanned.encoding == "cp1252" and scanned.delimiter == ";"
    assert dict(scanned.dtypes)["Umsatz"] == "float64"


def test_quoted_newlines(tmp_path, monkeypatch):
    data = b"id,text\n" + b"".join(b'%d,"line one\nline two, with a comma"\n' % i for i in range(5000))
    streamed, scanned = both(tmp_path, data, monkeypatch=monkeypatch)
    assert_same(streamed, scanned)
    assert scanned.rows == 5000


def test_ragged_rows_get_the_streaming_readers_message(tmp_path, monkeypatch):
    path = tmp_path / "upload.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 5000 + b"3\n")
    monkeypatch.setattr(tables, "SCAN_MIN_BYTES", 0)
    with pytest.raises(Refused) as info:
        inspect_path(path, "ragged.csv", "csv")
    assert "ragged.csv could not be read as CSV" in info.value.reason
    assert "Expected 2 columns, got 1" in info.value.reason


def test_very_wide_tables_use_the_streaming_reader(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "SCAN_MIN_BYTES", 0)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(1500)) + "\n" + ",".join("1" * 1500) + "\n")
    result = inspect_path(wide, wide.name, "csv")
    assert isinstance(result, TablePreview)
    assert result.columns == 1500 and FAST_NOTE not in result.note


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("id,value,value,Value,id", ["id", "value", "value.1", "Value", "id.1"]),
        (",name,,amount,", ["Unnamed: 0", "name", "Unnamed: 2", "amount", "Unnamed: 4"]),
    ],
)
def test_repeated_and_blank_headers_are_named_in_the_one_pass_scan(tmp_path, monkeypatch, header, names):
    monkeypatch.setattr(tables, "SCAN_MIN_BYTES", 0)
    path = tmp_path / "h.csv"
    path.write_text(header + "\n1,2,3,4,5\n6,7,8,9,10\n")
    result = inspect_path(path, path.name, "csv")
    assert isinstance(result, TablePreview) and FAST_NOTE in result.note
    assert [c.name for c in result.profile] == names and list(result.head.columns) == names
    assert [c.max for c in result.profile] == [6, 7, 8, 9, 10]
