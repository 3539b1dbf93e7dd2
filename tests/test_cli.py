"""The command line: `ask` and `check` run as a user would run them, against the local emulator."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from lib.cli.terminal import render
from lib.emulator import Emulator
from lib.emulator.faults import Fault
from lib.runs.golden import (
    CheckResult,
    Expectations,
    GoldenFileError,
    NumberExpectation,
    check_answer,
    check_contains,
    check_files,
    check_number,
    check_traced,
    load_golden,
    parse_numbers,
)
from lib.storage.records import ArtifactFilter
from lib.storage.store import Store
from lib.tracing.trace import trace_run
from lib.transcript import Output, Text, Thinking
from tests.support.items import one_of_each
from tests.support.model_outputs import HUGE_NUMBER_ANSWER, seed_with_outputs
from tests.support.seed import seed_file, seed_run

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
        ("questions:\n  - {question: q, files: [a.csv], expect: {words: [a]}}\n", "unknown key `words:`"),
        ("questions:\n  - {question: q, files: [a.csv]}\n", "question 1 has no `expect:`"),
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
    assert "```python" in out and "more lines (--full-code)" in out  # the code cells, their first lines
    assert "Rows: 576" in out  # their output
    assert "[file] monthly_sales_trend.png" in out
    assert out.rstrip().endswith("(and the interactive chart `monthly_sales_trend.vl.json`).")
    assert "[1/1] monthly_sales.csv: checking 20.5 KB… uploading… done" in done.stderr
    assert "claude-sonnet-4-6 · " in done.stderr and " 1 code execution · est. $" in done.stderr
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


def _cells(out: str) -> list[list[str]]:
    """The code cells `ask` printed, as lists of lines."""
    return [block.split("\n```", 1)[0].splitlines()[1:] for block in out.split("```python")[1:]]


def test_ask_prints_code_in_full_only_when_asked_and_quiet_prints_the_answer(tmp_path: Path) -> None:
    full = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--emulator", "--full-code")
    short = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--emulator")
    none = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--emulator", "--no-code")
    quiet = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--emulator", "--quiet")
    for done in (full, short, none, quiet):
        assert done.returncode == 0, done.stderr
    whole, heads = _cells(full.stdout), _cells(short.stdout)
    assert len(whole) == len(heads) >= 1 and all(len(cell) > 20 for cell in whole)
    for cell, head in zip(whole, heads, strict=True):  # each cell's first lines, then how many were left out
        assert (
            head[:-1] == cell[: len(head) - 1]
            and head[-1] == f"# … {len(cell) - len(head) + 1} more lines (--full-code)"
        )
    assert len(short.stdout.splitlines()) < len(full.stdout.splitlines()) / 2
    assert "```" not in none.stdout and none.stdout.count("[python cell, ") == len(whole)
    assert "Rows: 576" in none.stdout  # the output stays
    assert "```" not in quiet.stdout and "Rows: 576" not in quiet.stdout and "[python cell" not in quiet.stdout
    answer = full.stdout.rstrip().splitlines()[-1]
    assert quiet.stdout.rstrip().splitlines()[-1] == answer and "576 rows" in answer
    assert "[file] monthly_sales_trend.png" in quiet.stdout
    assert "demo · 1 code execution · no cost" in quiet.stderr and "claude" not in quiet.stderr


def test_help_says_its_first_sentence_whole(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--help")
    assert done.returncode == 0
    said = " ".join(done.stdout.split())
    assert "`compare` reports what changed between two runs and `runs` lists or searches the runs kept." in said
    asked = " ".join(run_cli(tmp_path, "ask", "--help").stdout.split())
    assert "--no-code" in asked and "--quiet" in asked and "--full-code" in asked


def test_a_missing_key_is_reported_before_the_sdk_is_even_imported(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom lib import cli\n"
        "code = cli.main(['ask', 'any.csv', 'q'])\n"
        "print(code, sorted(m for m in ('anthropic', 'pandas', 'sqlalchemy', 'lib.emulator') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ANALYST_"))}
    env.update(PYTHONPATH=str(REPO), HOME=str(tmp_path), ANALYST_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
    assert "No Anthropic API key is configured" in done.stderr


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
        - {{value: 1856, tolerance: 0}}
      files: ['*.png', '*.vl.json', 'monthly_sales_summary.csv']
"""


def test_check_passes_a_golden_file_that_holds(tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN)
    done = run_cli(tmp_path, "check", str(golden), "--emulator")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("  PASS  ") == 7 and "FAIL" not in done.stdout
    assert "PASS  number 1856 ± 0 — found 1856" in done.stdout  # the last month's total units, read as 1,856
    assert "7/7 expectations passed; all passed" in done.stdout
    [run] = Store(tmp_path / "data" / "demo").runs()  # kept where the app's offline demo shows it
    assert run.status == "done" and run.demo
    assert not (tmp_path / "outputs").exists()  # files are copied only when --out asks for them


def test_check_fails_and_names_the_expectation_that_did_not_hold(tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN.replace("value: 1856, tolerance: 0", "value: 1900, tolerance: 1"))
    done = run_cli(tmp_path, "check", str(golden), "--emulator")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert [line.strip() for line in lines if "FAIL" in line] == [
        "FAIL  number 1900 ± 1 — nearest quoted number is 1856"
    ]
    assert "6/7 expectations passed; 1 of 1 question(s) failed" in done.stdout


FORECAST = "Forecast next month's units."


def test_check_require_traced_fails_on_an_untraced_number_and_names_it(tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(
        f"questions:\n  - {{name: next month, files: [{SALES}], question: {FORECAST!r}, "
        "expect: {contains: ['next month']}}\n"
    )
    done = run_cli(tmp_path, "check", str(golden), "--emulator", "--require-traced")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "  PASS  contains /next month/" in done.stdout
    assert "  FAIL  numbers traced — 3 of 4 numbers traced; untraced: 155.8\n" in done.stdout
    assert "1/2 expectations passed; 1 of 1 question(s) failed" in done.stdout
    without = run_cli(tmp_path, "check", str(golden), "--emulator")  # the same answer, not required to be traced
    assert without.returncode == 0 and "numbers traced" not in without.stdout


def test_check_require_traced_passes_an_answer_whose_numbers_all_come_from_its_code(tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN)
    done = run_cli(tmp_path, "check", str(golden), "--emulator", "--require-traced")
    assert done.returncode == 0, done.stdout + done.stderr
    traced = re.search(r"  PASS  numbers traced — (\d+) of \1 numbers traced\n", done.stdout)
    assert traced and int(traced[1]) >= 3, done.stdout  # every number of the first look is traced


def test_ask_ends_with_how_many_numbers_were_traced(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "ask", str(SALES), FORECAST, "--emulator")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("At that pace the next month should come in at 155.8.")
    [*_, count, last] = done.stderr.splitlines()
    assert count == "3 of 4 numbers traced; untraced: 155.8" and last.endswith("it shows in the app's offline demo")


def test_check_traced_names_the_untraced_numbers() -> None:
    items = [Output(stdout="mean 12.3456\n"), Text(text="The mean is 12.35, maybe 13.9 or 2,000.")]
    trace = trace_run([("Q", items)])
    assert check_traced(trace) == CheckResult(False, "numbers traced", "1 of 3 numbers traced; untraced: 13.9, 2,000")
    assert check_traced(trace_run([("Q", items[:1])])).passed
    assert not check_traced(None).passed and "not traced" in check_traced(None).found


def test_check_with_a_missing_file_says_which(tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text("questions:\n  - {question: q, files: [nowhere.csv], expect: {contains: rows}}\n")
    done = run_cli(tmp_path, "check", str(golden), "--emulator")
    assert done.returncode == 2
    assert "nowhere.csv" in done.stderr and "not found" in done.stderr


def test_ask_with_the_emulator_saves_to_outputs_by_run_id(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--emulator")
    assert done.returncode == 0, done.stderr
    [run] = Store(tmp_path / "data" / "demo").runs()
    assert run.demo and f"run {run.id} done; it shows in the app's offline demo" in done.stderr
    assert (tmp_path / "outputs" / run.id / "monthly_sales_trend.png").read_bytes().startswith(b"\x89PNG")


def _golden(entry: str = "    expect:\n      contains: ['rows']\n      numbers: [{value: 576, tolerance: 0}]\n") -> str:
    return f"questions:\n  - name: first look\n    files: [{SALES}]\n    question: {QUESTION}\n{entry}"


# a golden file that checks nothing must not pass: each is refused before anything is asked, saying what is wrong
GOLDEN_TYPOS = {
    "expects": (
        _golden("    expects:\n      contains: ['rows']\n"),
        "question 1 ('first look') has an unknown key `expects:` (did you mean `expect:`?)",
    ),
    "top-level": (
        "question: x\n" + _golden(),
        "the top level has an unknown key `question:` (did you mean `questions:`?)",
    ),
    "contain": (
        _golden("    expect:\n      contain: ['rows']\n"),
        "`expect:` has an unknown key `contain:` (did you mean `contains:`?)",
    ),
    "tolerence": (
        _golden("    expect:\n      numbers: [{value: 576, tolerence: 1}]\n"),
        "an entry has an unknown key `tolerence:` (did you mean `tolerance:`?)",
    ),
    "no-expect": (_golden(""), "question 1 ('first look') has no `expect:`, so nothing would be checked"),
    "empty-expect": (
        _golden("    expect:\n      contains: []\n"),
        "`expect:` lists no expectation, so nothing would be checked",
    ),
}


@pytest.mark.parametrize("case", list(GOLDEN_TYPOS))
def test_check_refuses_a_golden_file_with_a_typo_or_nothing_to_check(tmp_path: Path, case: str) -> None:
    text, said = GOLDEN_TYPOS[case]
    golden = tmp_path / "golden.yaml"
    golden.write_text(text)
    done = run_cli(tmp_path, "check", str(golden), "--emulator")
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stderr and f"{golden}:" in done.stderr
    assert "passed" not in done.stdout and "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was asked, nothing stored


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


def test_compare_reads_answers_that_quote_2e9999999_and_1e400(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = seed_with_outputs(data, "How did revenue grow?", HUGE_NUMBER_ANSWER, [])
    new = seed_with_outputs(data, "How did revenue grow?", HUGE_NUMBER_ANSWER.replace("1,200", "1,350"), [])
    compared = run_cli(tmp_path, "compare", old, new)
    assert compared.returncode == 0, compared.stderr
    assert "and reached … units in: 1,200 → 1,350 (+150, +12.5%)" in compared.stdout
    assert "1 quoted number(s) changed, 0 the same" in compared.stdout


def test_replay_says_what_is_wrong_with_its_arguments(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "replay", "abcd1234", str(SALES), "--emulator")
    assert done.returncode == 2
    assert f"No run `abcd1234` in the offline demo's runs ({tmp_path / 'data' / 'demo'})" in done.stderr
    asked = run_cli(tmp_path, "ask", str(SALES), QUESTION, "--emulator")
    assert asked.returncode == 0, asked.stderr
    run_id = asked.stderr.split("run ")[1].split()[0]
    done = run_cli(tmp_path, "replay", run_id, str(SALES), str(SALES), "--emulator")
    assert done.returncode == 2
    assert "used 1 file(s); give one file in place of each" in done.stderr and "Traceback" not in done.stderr
    # a demo run looked for among the app's runs: both data directories are named, and where it is
    compared = run_cli(tmp_path, "compare", run_id, "abcd1234")
    assert compared.returncode == 2
    assert f"No run `{run_id}` in the app's runs ({tmp_path / 'data'})" in compared.stderr
    assert (
        f"It is in the offline demo's runs ({tmp_path / 'data' / 'demo'}): run the command again with --emulator"
        in (compared.stderr)
    )
    compared = run_cli(tmp_path, "compare", run_id, "abcd1234", "--emulator")
    assert f"No run `abcd1234` in the offline demo's runs ({tmp_path / 'data' / 'demo'})" in compared.stderr


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


# --- runs and run names -------------------------------------------------------------------------


def test_runs_lists_and_searches_and_compare_takes_a_name_when_it_is_unambiguous(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    sales = seed_file(store, "file_sales", "monthly_sales.csv")
    november = seed_run(store, "How do sales move?", [sales], datetime(2026, 11, 30, 9, 15).timestamp(), "576 rows")
    december = seed_run(store, "How do sales move?", [sales], datetime(2026, 12, 3, 14, 5).timestamp(), "600 rows")
    store.rename_run(november.id, "Sales, November data")
    again = seed_run(store, "Which region grew?", [], datetime(2026, 12, 4, 8, 0).timestamp())

    listed = run_cli(tmp_path, "runs")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        f"{again.id[:8]}  2026-12-04 08:00  done         Which region grew?  (no files)",
        f"{december.id[:8]}  2026-12-03 14:05  done         How do sales move?  (monthly_sales.csv)",
        f"{november.id[:8]}  2026-11-30 09:15  done         Sales, November data  (monthly_sales.csv)",
    ]
    assert listed.stderr == "3 run(s)\n"
    found = run_cli(tmp_path, "runs", "--search", "monthly_sales", "2026-11")
    assert found.returncode == 0 and found.stdout.splitlines() == [listed.stdout.splitlines()[2]]
    none = run_cli(tmp_path, "runs", "--search", "churn")
    assert none.returncode == 0 and none.stdout == "" and "No run matches `churn` in this data directory" in none.stderr

    compared = run_cli(tmp_path, "compare", "sales, november DATA", "How do sales move?")
    assert compared.returncode == 0, compared.stderr
    assert compared.stdout.startswith(
        f"Before: Sales, November data ({november.id})\nAfter: How do sales move? ({december.id})\n"
    )
    # two runs of one name: said, with what tells them apart, and nothing compared
    store.rename_run(again.id, "How do sales move?")
    ambiguous = run_cli(tmp_path, "compare", "How do sales move?", november.id[:6])
    assert ambiguous.returncode == 2 and ambiguous.stdout == ""
    assert "`How do sales move?` could be any of 2 runs:" in ambiguous.stderr
    assert f"  {december.id[:8]}  2026-12-03 14:05  done" in ambiguous.stderr
    assert f"  {again.id[:8]}  2026-12-04 08:00  done" in ambiguous.stderr
    assert "Give more of the id of the one you mean." in ambiguous.stderr
    missing = run_cli(tmp_path, "compare", "No such name", november.id)
    assert missing.returncode == 2 and "`python -m lib.cli runs` lists them" in missing.stderr
