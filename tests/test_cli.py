"""The command line: `ask` and `check` run as a user would run them, against the local emulator."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.cli import render
from lib.emulator import Emulator
from lib.emulator.faults import Fault
from lib.runs.golden import (
    Expectations,
    GoldenFileError,
    NumberExpectation,
    check_answer,
    check_contains,
    check_files,
    check_number,
    load_golden,
    parse_numbers,
)
from lib.storage.records import ArtifactFilter
from lib.storage.store import Store
from lib.transcript import Thinking
from tests.support.items import one_of_each

REPO = Path(__file__).resolve().parents[1]
SALES = REPO / "samples" / "monthly_sales.csv"
QUESTION = "How do monthly sales move over time?"


def run_cli(tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m lib.cli …` in a temporary folder, home and data directory, with no key unless given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ANALYST_"))}
    env.update(PYTHONPATH=str(REPO), HOME=str(tmp_path), ANALYST_DATA_DIR=str(tmp_path / "data"), MPLBACKEND="Agg")
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "lib.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


# --- the expectation checks -------------------------------------------------------------------


def test_numbers_are_read_with_thousands_separators_signs_and_decimals() -> None:
    text = "`f.csv` has **1,440 rows**, revenue 12,345.67 (+64.8%), a drop of -3.5 and 2e3 in 2024 120 units."
    assert parse_numbers(text) == [1440.0, 12345.67, 64.8, -3.5, 2000.0, 2024.0, 120.0]


def test_identifiers_and_dates_give_no_stray_numbers() -> None:
    assert parse_numbers("file_011Sk and q3 total") == []
    assert parse_numbers("from 2021-01-01") == [2021.0, 1.0, 1.0]  # a date's parts, never negative numbers


def test_a_number_within_its_tolerance_passes_and_a_miss_names_the_nearest() -> None:
    numbers = parse_numbers("units went from 93.83 to 154.67")
    assert check_number(numbers, NumberExpectation(154.7, 0.05)).passed
    miss = check_number(numbers, NumberExpectation(150, 1))
    assert not miss.passed
    assert miss.expectation == "number 150 ± 1"
    assert "154.67" in miss.found
    assert check_number([], NumberExpectation(1)).found == "the answer quotes no numbers"


def test_regexes_match_case_insensitively_and_a_bad_one_fails_with_its_error() -> None:
    assert check_contains("No values are MISSING.", r"no values are missing").passed
    failed = check_contains("576 rows", r"\d+ columns")
    assert not failed.passed and "no match" in failed.found
    bad = check_contains("text", "(unclosed")
    assert not bad.passed and "not a valid regular expression" in bad.found


def test_file_globs_match_generated_names() -> None:
    names = ["monthly_sales_trend.png", "monthly_sales_trend.vl.json"]
    assert check_files(names, "*.png").found == "produced monthly_sales_trend.png"
    missing = check_files(names, "*.csv")
    assert not missing.passed and "monthly_sales_trend.vl.json" in missing.found


def test_check_answer_reports_every_expectation_in_order() -> None:
    expect = Expectations(contains=["rows"], numbers=[NumberExpectation(576)], files=["*.svg"])
    results = check_answer("has 576 rows", ["chart.png"], expect)
    assert [(r.expectation, r.passed) for r in results] == [
        ("contains /rows/", True),
        ("number 576 ± 0", True),
        ("file *.svg", False),
    ]


def test_golden_files_are_read_relative_to_their_folder(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    golden = tmp_path / "golden.yaml"
    golden.write_text(
        "questions:\n"
        "  - name: first look\n"
        "    files: data.csv\n"
        "    question: Describe it\n"
        "    expect:\n"
        "      contains: rows\n"
        "      numbers: [{value: 1234.5, tolerance: 0.5}, 7]\n"
        "      files: ['*.png']\n"
    )
    [q] = load_golden(golden)
    assert q.name == "first look" and q.files == [tmp_path / "data.csv"] and q.question == "Describe it"
    assert q.expect == Expectations(["rows"], [NumberExpectation(1234.5, 0.5), NumberExpectation(7, 0)], ["*.png"])


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("questions: []\n", "no list of questions"),
        ("questions:\n  - files: [a.csv]\n", "has no `question:`"),
        ("questions:\n  - question: q\n", "needs `files:`"),
        ("questions:\n  - {question: q, files: [a.csv], expect: {numbers: [{value: x}]}}\n", "numeric `value:`"),
        ("questions:\n  - {question: q, files: [a.csv], expect: {words: [a]}}\n", "unknown expectation(s) words"),
        ("questions: [\n", "not valid YAML"),
    ],
)
def test_a_broken_golden_file_says_what_is_wrong(tmp_path: Path, text: str, said: str) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(text)
    with pytest.raises(GoldenFileError) as caught:
        load_golden(golden)
    assert said in caught.value.message


# --- the commands, as subprocesses ---------------------------------------------------------


def test_ask_streams_the_answer_saves_the_files_and_leaves_the_run_in_the_store(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": emulator.url}
    done = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--out", "charts", extra_env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "I'll load `monthly_sales.csv` with pandas" in out
    assert "```python" in out and "df = load_table(PATH)" in out  # the code cells
    assert "Rows: 576" in out  # their output
    assert "[file] monthly_sales_trend.png" in out
    assert out.rstrip().endswith("(and the interactive chart `monthly_sales_trend.vl.json`).")
    assert "[1/1] monthly_sales.csv: checking 20.5 KB… uploading… done" in done.stderr
    saved = tmp_path / "charts" / "monthly_sales_trend.png"
    assert saved.read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "charts" / "monthly_sales_trend.vl.json").is_file()
    assert any(r.path == "/v1/messages" for r in emulator.requests)

    store = Store(tmp_path / "data")
    [run] = store.runs()
    assert run.status == "done" and run.title == QUESTION and not run.demo
    assert f"run {run.id} done" in done.stderr
    [record] = store.files()
    assert run.file_ids == [record.id] and record.filename == "monthly_sales.csv"
    artifacts, _ = store.artifacts(ArtifactFilter(run_id=run.id))
    assert {a.filename for a in artifacts} >= {"monthly_sales_trend.png", "monthly_sales_summary.csv"}


def test_ask_exits_non_zero_when_the_run_ends_in_error(tmp_path: Path, emulator: Emulator) -> None:
    emulator.inject(Fault("status", path="/v1/messages", status=400, message="prompt is too long"))
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": emulator.url}
    done = run_cli(tmp_path, "ask", str(SALES), QUESTION, extra_env=env)
    assert done.returncode == 1, done.stderr
    assert "[error]" in done.stdout and "prompt is too long" in done.stdout
    assert "ended error" in done.stderr
    [run] = Store(tmp_path / "data").runs()
    assert run.status == "error"


def test_ask_without_a_key_says_how_to_set_one(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "ask", str(SALES), QUESTION)
    assert done.returncode == 2
    assert "No Anthropic API key is configured" in done.stderr and "--emulator" in done.stderr
    assert "Traceback" not in done.stderr


def test_ask_refuses_an_empty_file_before_any_run(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    done = run_cli(tmp_path, "ask", str(empty), QUESTION, "--emulator")
    assert done.returncode == 2
    assert "empty.csv is empty (0 bytes)" in done.stderr
    assert Store(tmp_path / "data" / "demo").runs() == []


GOLDEN = f"""
questions:
  - name: sales first look
    files: [{SALES}]
    question: {QUESTION}
    expect:
      contains: ['576 rows', 'no values are missing']
      numbers:
        - {{value: 5, tolerance: 0}}
        - {{value: 154.7, tolerance: 0.05}}
      files: ['*.png', '*.vl.json', 'monthly_sales_summary.csv']
"""


def test_check_passes_a_golden_file_that_holds(tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN)
    done = run_cli(tmp_path, "check", str(golden), "--emulator")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("  PASS  ") == 7 and "FAIL" not in done.stdout
    assert "PASS  number 154.7 ± 0.05 — found 154.67" in done.stdout
    assert "7/7 expectations passed; all passed" in done.stdout
    [run] = Store(tmp_path / "data" / "demo").runs()  # kept where the app's offline demo shows it
    assert run.status == "done" and run.demo
    assert not (tmp_path / "outputs").exists()  # files are copied only when --out asks for them


def test_check_fails_and_names_the_expectation_that_did_not_hold(tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN.replace("value: 154.7, tolerance: 0.05", "value: 160, tolerance: 1"))
    done = run_cli(tmp_path, "check", str(golden), "--emulator")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert [line.strip() for line in lines if "FAIL" in line] == [
        "FAIL  number 160 ± 1 — nearest quoted number is 154.67"
    ]
    assert "6/7 expectations passed; 1 of 1 question(s) failed" in done.stdout


def test_check_with_a_missing_file_says_which(tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text("questions:\n  - {question: q, files: [nowhere.csv]}\n")
    done = run_cli(tmp_path, "check", str(golden), "--emulator")
    assert done.returncode == 2
    assert "nowhere.csv" in done.stderr and "not found" in done.stderr


def test_ask_with_the_emulator_saves_to_outputs_by_run_id(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--emulator")
    assert done.returncode == 0, done.stderr
    [run] = Store(tmp_path / "data" / "demo").runs()
    assert run.demo and f"run {run.id} done; it shows in the app's offline demo" in done.stderr
    assert (tmp_path / "outputs" / run.id / "monthly_sales_trend.png").read_bytes().startswith(b"\x89PNG")


# --- replay and compare -------------------------------------------------------------------------


def test_replay_asks_the_run_again_on_a_new_file_and_reports_the_changed_numbers(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": emulator.url}
    first = run_cli(tmp_path, "ask", str(SALES), "Give me a first look at monthly_sales.csv", extra_env=env)
    assert first.returncode == 0, first.stderr
    store = Store(tmp_path / "data")
    [original] = store.runs()
    half = tmp_path / "monthly_sales_h1.csv"
    half.write_text("".join(SALES.read_text().splitlines(keepends=True)[:289]))

    done = run_cli(tmp_path, "replay", original.id[:8], str(half), "--diff", extra_env=env)
    assert done.returncode == 0, done.stderr
    replay = next(r for r in store.runs() if r.replay_of == original.id)
    assert store.turns(replay.id)[0].question == "Give me a first look at monthly_sales_h1.csv"
    assert "`monthly_sales_h1.csv` has **288 rows**" in done.stdout  # streamed as it answered
    assert "Question 1: Give me a first look at monthly_sales_h1.csv" in done.stdout
    assert "`monthly_sales_h1.csv` has … rows and: 576 → 288 (-288, -50.0%)" in done.stdout
    assert "    -Rows: 576" in done.stdout and "    +Rows: 288" in done.stdout  # --diff: the cell diffs in full
    assert "chart: monthly_sales_trend.vl.json | monthly_sales_h1_trend.vl.json" in done.stdout
    assert f"replay {replay.id} of run {original.id} done" in done.stderr
    assert (tmp_path / "outputs" / replay.id / "monthly_sales_h1_trend.png").is_file()

    compared = run_cli(tmp_path, "compare", original.id, replay.id[:6])  # reading the store needs no key
    assert compared.returncode == 0, compared.stderr
    assert compared.stdout.startswith(f"Original: Give me a first look at monthly_sales.csv ({original.id})")
    assert "576 → 288 (-288, -50.0%)" in compared.stdout and "-Rows: 576" not in compared.stdout


def test_replay_says_what_is_wrong_with_its_arguments(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "replay", "abcd1234", str(SALES), "--emulator")
    assert done.returncode == 2 and "No run `abcd1234` in the offline demo's runs" in done.stderr
    asked = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--emulator")
    assert asked.returncode == 0, asked.stderr
    run_id = asked.stderr.split("run ")[1].split()[0]
    done = run_cli(tmp_path, "replay", run_id, str(SALES), str(SALES), "--emulator")
    assert done.returncode == 2
    assert "used 1 file(s); give one file in place of each" in done.stderr and "Traceback" not in done.stderr


def test_every_item_type_is_written_and_reasoning_and_unknown_blocks_are_brief() -> None:
    out = io.StringIO()
    for item in one_of_each():
        render(item, out)
    text = out.getvalue()
    assert text.startswith("The mean is 4.2.\n[reasoning] First the columns, then the mean.\n")
    assert "```python\nprint(4.2)\n```\noutput:\n  4.2\n" in text
    assert "[tool error] Down. Retry.\n" in text and "[file] lost.csv (failed: The file is gone.)\n" in text
    assert "[warning] A new container was started.\n" in text
    assert "[error] Overloaded: The API is overloaded. Try again.\n" in text
    assert "[unsupported block] mystery_block_2027: " in text
    assert "[sql demo] SELECT region, sum(revenue) FROM monthly_sales GROUP BY region -> 4 rows in 20 ms\n" in text
    long = io.StringIO()
    render(Thinking(text="step " * 100), long)
    line = long.getvalue().strip()
    assert line.startswith("[reasoning] step step") and line.endswith("…") and len(line) <= len("[reasoning] ") + 200
