"""Reading delimited text and measuring JSON, whatever the bytes: dialect and encoding sniffing, header names, depth."""

from __future__ import annotations

import codecs
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.files import delimited
from lib.files.delimited import DELIMITERS, ENCODING_NAMES, CsvError, csv_dialect, read_head
from lib.files.preview import json_depth

CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@pytest.mark.fuzz
@given(st.binary(max_size=2_000), st.sampled_from(["csv", "tsv"]))
def test_any_bytes_get_a_known_dialect_and_never_an_exception(data, kind):
    dialect = csv_dialect(data, kind)
    assert dialect.delimiter in DELIMITERS and dialect.encoding in ENCODING_NAMES
    assert dialect.decimal in ".," and dialect.skiprows >= 0
    assert dialect.describe()


@pytest.mark.fuzz
@given(st.binary(max_size=2_000), st.sampled_from(["csv", "tsv"]))
def test_reading_the_head_of_any_bytes_gives_a_table_with_unique_names_or_says_why(data, kind):
    try:
        frame = read_head(data, rows=20, kind=kind)
    except CsvError:
        return
    names = list(frame.columns)
    assert len(set(names)) == len(names) and all(str(n).strip() for n in names)


@pytest.mark.fuzz
@given(
    st.lists(st.lists(CELL.filter(lambda c: c.strip() == c), min_size=2, max_size=6), min_size=2, max_size=8),
    st.sampled_from(DELIMITERS),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_a_written_table_is_read_back_with_its_delimiter_and_encoding(rows, delimiter, encoding):
    import csv
    import io

    width = len(rows[0])
    rows = [r[:width] + [""] * (width - len(r)) for r in rows]
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\n").writerows(rows)
    try:
        data = text.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # a character this encoding cannot write
    dialect = csv_dialect(data)
    if encoding == "utf-8-sig":
        assert dialect.encoding == "utf-8-sig"
    assert codecs.decode(data, dialect.encoding, errors="replace")
    names = delimited.header_names(data, dialect, whole=True)
    if names is not None and dialect.delimiter == delimiter and not dialect.skiprows:
        assert names == rows[0]


@pytest.mark.fuzz
@given(st.lists(st.sampled_from(["", " ", "a", "a.1", "a.2", "Unnamed: 0", "Unnamed: 1", "b", "A"]), max_size=10))
def test_unique_names_are_unique_named_and_keep_what_was_already_fine(names):
    out = delimited.unique_names(names)
    assert len(out) == len(names) and len(set(out)) == len(out) and all(n.strip() for n in out)
    first = {n for i, n in enumerate(names) if n.strip() and n not in names[:i]}
    assert first <= set(out)


def test_repeated_and_blank_header_cells_are_named_as_pandas_names_them():
    import io

    import pandas as pd

    for header in ("id,value,value,Value,id", ",name,,amount,", "a,a,a.1"):
        text = header + "\n" + ",".join(str(i) for i in range(header.count(",") + 1)) + "\n"
        assert list(read_head(text.encode()).columns) == list(pd.read_csv(io.StringIO(text)).columns)


JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=30,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@pytest.mark.fuzz
@given(JSON)
def test_json_depth_is_the_nesting_of_any_document(value):
    assert json_depth(json.dumps(value).encode()) == _depth(value)


@pytest.mark.fuzz
@given(st.binary(max_size=3_000))
def test_json_depth_of_any_bytes_never_raises(data):
    assert json_depth(data) >= 0
