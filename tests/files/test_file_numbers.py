"""The numbers a generated CSV or JSON file shows, read in the sandbox: positions, dialects, bounds, hostile
bytes, and a run whose answer is traced to a saved file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.files import sandbox
from lib.files.file_numbers import CONTEXT_CHARS, generated_numbers, numbers_in_file
from lib.tracing.records import FileNumbers, ShownNumber, Status
from lib.tracing.trace import trace_run
from lib.tracing.written import MAX_WRITTEN
from lib.transcript import CodeCell, GeneratedFile, Output, Text

FUZZ = settings(
    max_examples=200, database=None, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def shown(path: Path, **kw) -> list[tuple[str, int, str]]:
    return [(n.text, n.line, n.label) for n in numbers_in_file(path, **kw).numbers]


def test_csv_numbers_with_line_column_and_the_row_as_written(tmp_path):
    path = write(tmp_path, "summary.csv", 'region,sales,share\nNorth,"1,234.5",12.5%\nSouth,90,0.125\n')
    found = numbers_in_file(path)
    assert [(n.text, n.line, n.label) for n in found.numbers] == [
        ("1,234.5", 2, "sales"),
        ("12.5%", 2, "share"),
        ("90", 3, "sales"),
        ("0.125", 3, "share"),
    ]
    assert found.numbers[0].context == 'North,"1,234.5",12.5%' and not found.truncated


def test_unquoted_cells_are_separate_numbers_not_thousands(tmp_path):
    path = write(tmp_path, "wide.csv", "a,b,c\n100,200,300\n")
    assert [t for t, _, _ in shown(path)] == ["100", "200", "300"]


def test_semicolons_and_decimal_commas(tmp_path):
    path = write(tmp_path, "eu.csv", "region;sales\nNorth;12,5\nSouth;7,25\nEast;3,75\n")
    assert shown(path) == [("12.5", 2, "sales"), ("7.25", 3, "sales"), ("3.75", 4, "sales")]


def test_tsv_and_a_row_over_two_lines(tmp_path):
    path = write(tmp_path, "notes.tsv", 'note\tvalue\n"two\nlines"\t42\nplain\t7\n')
    assert shown(path) == [("42", 3, "value"), ("7", 4, "value")]


def test_latin1_csv(tmp_path):
    path = write(tmp_path, "latin.csv", "ville,prix\nMontréal,12.5\n".encode("latin-1"))
    assert shown(path) == [("12.5", 2, "prix")]


def test_json_numbers_with_line_and_key(tmp_path):
    spec = {"title": "Sales 2024: $4.5k", "data": {"values": [{"region": "North", "revenue": 120.5}]}, "width": 600}
    path = write(tmp_path, "chart.vl.json", json.dumps(spec, indent=1))
    assert shown(path) == [("2024", 2, "title"), ("$4.5k", 2, "title"), ("120.5", 7, "revenue"), ("600", 11, "width")]


def test_json_arrays_are_separate_numbers(tmp_path):
    path = write(tmp_path, "a.json", '{"v": [100,200,300], "e": -1.5e-3}')
    assert shown(path) == [("100", 1, "v"), ("200", 1, "v"), ("300", 1, "v"), ("-1.5e-3", 1, "e")]


def test_json_lines(tmp_path):
    path = write(tmp_path, "rows.jsonl", '{"n": 1}\n{"n": 22}\n')
    assert shown(path) == [("1", 1, "n"), ("22", 2, "n")]


def test_a_long_json_line_shows_the_part_around_the_number(tmp_path):
    values = ",".join(str(1000 + i) for i in range(5000))
    found = numbers_in_file(write(tmp_path, "long.json", f'{{"v": [{values}]}}')).numbers
    middle = next(n for n in found if n.text == "2500")
    assert "2500" in middle.context and len(middle.context) <= CONTEXT_CHARS + 2


def test_other_kinds_are_not_read(tmp_path):
    found = numbers_in_file(write(tmp_path, "chart.png", b"\x89PNG 123"))
    assert found.numbers == () and "not a CSV or JSON file" in found.note


# --- bounds and hostile bytes ------------------------------------------------------------------------------


def test_bytes_past_the_limit_are_not_read(tmp_path):
    path = write(tmp_path, "big.csv", "n\n" + "".join(f"{i}\n" for i in range(100_000)))
    found = numbers_in_file(path, max_bytes=1000)
    assert found.truncated and 0 < len(found.numbers) < 400
    assert all(n.text.isdigit() for n in found.numbers)  # whole lines only: no number cut in two


def test_a_long_line_is_cut_between_numbers(tmp_path):
    path = write(tmp_path, "one_line.json", json.dumps(list(range(100_000, 200_000))))
    found = numbers_in_file(path, max_bytes=1000)
    assert found.truncated and found.numbers[-1].text == str(100_000 + len(found.numbers) - 1)
    assert all(len(n.text) == 6 for n in found.numbers)


def test_numbers_past_the_limit_are_not_kept(tmp_path):
    path = write(tmp_path, "many.json", json.dumps(list(range(5000))))
    found = numbers_in_file(path, max_numbers=100)
    assert found.truncated and len(found.numbers) == 100


HOSTILE = [
    ("an unterminated string", "cut.json", b'{"a": 1, "b": "never ends ' + b"9" * 100_000),
    ("escaped quotes with no end", "esc.json", b'["' + b'\\"' * 200_000),
    ("deep nesting", "deep.json", b"[" * 200_000 + b"1" + b"]" * 200_000),
    ("a megabyte of digits", "digits.json", b"[" + b"7" * 1_000_000 + b"]"),
    ("a megabyte of digits in a cell", "digits.csv", b"n\n" + b"7" * 1_000_000 + b"\n"),
    ("a cell over csv's field limit", "field.csv", b'n\n"' + b"x" * 300_000 + b'"\n1\n'),
    ("NUL bytes", "nul.csv", b"a,b\n1,\x002\n3,4\n"),
    ("binary garbage", "garbage.json", bytes(range(256)) * 4000),
    ("not UTF-8", "bad.json", b'{"a": "\xff\xfe", "b": 5}'),
]


@pytest.mark.parametrize(("name", "data"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_files_give_a_bounded_answer(tmp_path, name, data):
    found = numbers_in_file(write(tmp_path, name, data))
    assert isinstance(found, FileNumbers)
    assert all(len(n.text) <= MAX_WRITTEN and len(n.context) <= CONTEXT_CHARS + 2 for n in found.numbers)


@pytest.mark.fuzz
@FUZZ
@given(data=st.binary(max_size=2000), name=st.sampled_from(["f.csv", "f.tsv", "f.json", "f.jsonl"]))
def test_any_bytes_give_a_bounded_answer(tmp_path_factory, data, name):
    path = write(tmp_path_factory.mktemp("fuzz"), name, data)
    found = numbers_in_file(path, max_bytes=1500, max_numbers=50)
    assert len(found.numbers) <= 50
    assert all(isinstance(n, ShownNumber) and n.line >= 1 and len(n.text) <= MAX_WRITTEN for n in found.numbers)


@pytest.mark.fuzz
@FUZZ
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=30))
def test_every_number_of_a_json_document_is_shown(tmp_path_factory, values):
    path = write(tmp_path_factory.mktemp("fuzz"), "v.json", json.dumps({"values": values}))
    assert [float(n.text) for n in numbers_in_file(path).numbers] == values


# --- through the sandbox, into the trace ------------------------------------------------------------------


def test_the_sandbox_task_and_a_traced_answer(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "artifacts").mkdir(parents=True)
    write(data_dir / "artifacts", "summary.csv", "col,mean\nx,98.25\n")
    items = [
        CodeCell(tool_use_id="c1", code="summary.to_csv('summary.csv')"),
        Output(tool_use_id="c1", stdout="Saved summary: summary.csv\n"),
        GeneratedFile(file_id="f1", filename="summary.csv", path="artifacts/summary.csv", tool_use_id="c1"),
        GeneratedFile(file_id="f2", filename="chart.png", path="artifacts/chart.png", tool_use_id="c1"),
        GeneratedFile(file_id="f3", filename="gone.json", path="artifacts/gone.json", tool_use_id="c1"),
        Text(text="x averages 98.3, not 97."),
    ]
    files = generated_numbers(data_dir, items)
    assert set(files) == {"f1", "f3"} and files["f3"].numbers == () and "could not be read" in files["f3"].note
    assert files["f1"] == sandbox.call(numbers_in_file, data_dir / "artifacts" / "summary.csv", 1000)
    traced, untraced = trace_run([("Q", items)], files=files).turns[0].numbers
    assert traced.status is Status.ROUNDED and traced.source is not None
    assert (traced.source.file, traced.source.line, traced.source.label, traced.source.seq) == (
        "summary.csv",
        2,
        "mean",
        2,
    )
    assert untraced.status is Status.UNTRACED
