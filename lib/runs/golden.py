"""Golden questions: reading a golden file and checking an answer against its expectations (pure)."""

from __future__ import annotations

import difflib
import fnmatch
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lib import numbers
from lib.errors import AppError
from lib.tracing import RunTrace


# a number as people write it: optional sign, thousands separators (1,234,567 or 1 234 567), decimals,
# exponent; a plain space is not read as a separator, so "in 2024 120 units" stays two numbers
@dataclass(frozen=True)
class NumberExpectation:
    """A number the answer must quote, within a tolerance."""

    value: float
    tolerance: float = 0.0


@dataclass(frozen=True)
class Expectations:
    """What an answer must contain and produce."""

    contains: list[str] = field(default_factory=list)  # regular expressions
    numbers: list[NumberExpectation] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # glob patterns over generated file names


@dataclass(frozen=True)
class GoldenQuestion:
    """One golden question: files to attach, the question, and expectations."""

    name: str
    files: list[Path]
    question: str
    expect: Expectations


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one expectation."""

    passed: bool
    expectation: str  # what was expected, e.g. "contains /rows?/"
    found: str  # what was found, to say why it passed or failed


TOP_KEYS = ("questions",)
QUESTION_KEYS = ("name", "files", "file", "question", "expect")
EXPECT_KEYS = ("contains", "numbers", "files")
NUMBER_KEYS = ("value", "tolerance")


class GoldenFileError(AppError):
    """A golden file that cannot be used as it is."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(
            "Golden file not understood",
            f"{path}: {message}",
            "Each entry of `questions:` needs `question:`, `files:` (a list) and `expect:` with at least one of "
            "`contains:` (regexes), `numbers:` (each `value:` and `tolerance:`) and `files:` (glob patterns).",
            code="golden",
        )


def parse_numbers(text: str) -> list[float]:
    """Every number written in a text, reading thousands separators (1,234.5 is 1234.5)."""
    return [n.value for n in numbers.find(text)]


def check_contains(text: str, pattern: str) -> CheckResult:
    """Whether a regular expression matches the answer text (case-insensitive)."""
    label = f"contains /{pattern}/"
    try:
        match = re.search(pattern, text, re.IGNORECASE)
    except re.error as err:
        return CheckResult(False, label, f"not a valid regular expression: {err}")
    if match:
        return CheckResult(True, label, f"found {_quote(match.group(0))}")
    return CheckResult(False, label, f"no match in the answer ({_quote(text, 80)})")


def check_number(numbers: list[float], expected: NumberExpectation) -> CheckResult:
    """Whether a number within the tolerance is quoted in the answer."""
    label = f"number {_fmt(expected.value)} ± {_fmt(expected.tolerance)}"
    inside = [n for n in numbers if abs(n - expected.value) <= expected.tolerance + 1e-12]
    if inside:
        return CheckResult(True, label, f"found {_fmt(inside[0])}")
    if not numbers:
        return CheckResult(False, label, "the answer quotes no numbers")
    nearest = min(numbers, key=lambda n: abs(n - expected.value))
    return CheckResult(False, label, f"nearest quoted number is {_fmt(nearest)}")


def check_files(filenames: list[str], pattern: str) -> CheckResult:
    """Whether a generated file's name matches a glob pattern."""
    label = f"file {pattern}"
    hits = [n for n in filenames if fnmatch.fnmatch(n, pattern) or fnmatch.fnmatch(Path(n).name, pattern)]
    if hits:
        return CheckResult(True, label, "produced " + ", ".join(hits))
    produced = ", ".join(filenames) if filenames else "no files"
    return CheckResult(False, label, f"not produced (the run made {produced})")


def check_traced(trace: RunTrace | None) -> CheckResult:
    """Whether every number the answer quotes was traced to a code output that showed it; names those that
    were not."""
    label = "numbers traced"
    if trace is None:
        return CheckResult(False, label, "the answer's numbers were not traced (the run did not finish)")
    return CheckResult(not trace.untraced, label, trace.described)


def check_answer(text: str, filenames: list[str], expect: Expectations) -> list[CheckResult]:
    """Every expectation checked against an answer's text and generated file names, in the order written."""
    numbers = parse_numbers(text)
    return (
        [check_contains(text, p) for p in expect.contains]
        + [check_number(numbers, n) for n in expect.numbers]
        + [check_files(filenames, p) for p in expect.files]
    )


def load_golden(path: Path) -> list[GoldenQuestion]:
    """The golden questions of a YAML file; attached files are relative to the file's folder."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise GoldenFileError(path, f"cannot be read ({err.strerror or err}).") from err
    except yaml.YAMLError as err:
        raise GoldenFileError(path, f"is not valid YAML ({err}).") from err
    return parse_golden(data, path)


def parse_golden(data: Any, path: Path) -> list[GoldenQuestion]:
    """Golden questions from loaded YAML data (a mapping with `questions:`, or a plain list); an unknown key
    anywhere and a question without expectations are errors, so a typo cannot pass as a check that held."""
    if isinstance(data, Mapping):
        _known_keys(data, TOP_KEYS, "the top level", path)
        entries = data.get("questions")
    else:
        entries = data
    if not isinstance(entries, list) or not entries:
        raise GoldenFileError(path, "has no list of questions (expected `questions:` with at least one entry).")
    base = Path(path).parent
    return [_question(entry, i, base, path) for i, entry in enumerate(entries, start=1)]


def _question(entry: Any, number: int, base: Path, path: Path) -> GoldenQuestion:
    where = f"question {number}"
    if not isinstance(entry, Mapping):
        raise GoldenFileError(path, f"{where} is not a mapping.")
    if isinstance(entry.get("name"), str) and entry["name"].strip():
        where = f"question {number} ({entry['name'].strip()!r})"
    _known_keys(entry, QUESTION_KEYS, where, path)
    question = entry.get("question")
    if not isinstance(question, str) or not question.strip():
        raise GoldenFileError(path, f"{where} has no `question:` text.")
    files = entry.get("files", entry.get("file", []))
    files = [files] if isinstance(files, str) else files
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise GoldenFileError(path, f"{where} needs `files:` with at least one file path.")
    expect = entry.get("expect")
    if expect is None:
        raise GoldenFileError(path, f"{where} has no `expect:`, so nothing would be checked.")
    if not isinstance(expect, Mapping):
        raise GoldenFileError(path, f"{where}: `expect:` is not a mapping.")
    _known_keys(expect, EXPECT_KEYS, f"{where}: `expect:`", path)
    name = str(entry.get("name") or question.strip().splitlines()[0])
    expectations = Expectations(
        contains=_strings(expect.get("contains"), f"{where}: `contains:`", path),
        numbers=[_number(n, f"{where}: `numbers:`", path) for n in _listed(expect.get("numbers"))],
        files=_strings(expect.get("files"), f"{where}: `files:` under `expect:`", path),
    )
    if not (expectations.contains or expectations.numbers or expectations.files):
        raise GoldenFileError(path, f"{where}: `expect:` lists no expectation, so nothing would be checked.")
    return GoldenQuestion(
        name=name, files=[_resolve(base, f) for f in files], question=question.strip(), expect=expectations
    )


def _known_keys(mapping: Mapping, known: tuple[str, ...], where: str, path: Path) -> None:
    """Refuse a key that is not one of `known`, naming the closest known one."""
    for key in mapping:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        guess = f" (did you mean `{close[0]}:`?)" if close else ""
        allowed = ", ".join(f"`{k}:`" for k in known)
        raise GoldenFileError(path, f"{where} has an unknown key `{key}:`{guess}; known keys are {allowed}.")


def _resolve(base: Path, name: str) -> Path:
    candidate = Path(name).expanduser()
    if candidate.is_absolute():
        return candidate
    return base / candidate if (base / candidate).exists() or not candidate.exists() else candidate


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _strings(value: Any, where: str, path: Path) -> list[str]:
    items = _listed(value)
    if not all(isinstance(v, str) for v in items):
        raise GoldenFileError(path, f"{where} must be text (or a list of texts).")
    return items


def _number(value: Any, where: str, path: Path) -> NumberExpectation:
    if isinstance(value, Mapping):
        _known_keys(value, NUMBER_KEYS, f"{where} an entry", path)
        raw, tolerance = value.get("value"), value.get("tolerance", 0)
    else:
        raw, tolerance = value, 0
    try:
        parsed, tol = float(raw), float(tolerance)
    except (TypeError, ValueError):
        raise GoldenFileError(path, f"{where} each entry needs a numeric `value:` (and `tolerance:`).") from None
    if not math.isfinite(parsed) or not math.isfinite(tol) or tol < 0:
        raise GoldenFileError(path, f"{where} `value:` must be finite and `tolerance:` zero or more.")
    return NumberExpectation(parsed, tol)


def summary(results: Iterable[CheckResult]) -> tuple[int, int]:
    """How many expectations passed, and how many there were."""
    listed = list(results)
    return sum(r.passed for r in listed), len(listed)


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def _quote(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return '"' + (flat if len(flat) <= limit else flat[: limit - 1] + "…") + '"'
