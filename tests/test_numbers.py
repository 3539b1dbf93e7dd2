"""Numbers read from answers: as people write them, bounded, and never an exception, whatever the model wrote."""

from __future__ import annotations

import math
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib import numbers
from lib.runs import diff
from lib.runs.diff import compare_numbers, tokens
from lib.runs.golden import parse_numbers
from lib.transcript import Text


def values(text: str) -> list[float]:
    return [n.value for n in numbers.find(text)]


def test_numbers_as_answers_write_them():
    assert values("1,234.5 · −3 · .5 · 12.5% · $4,500 · 2e3 · 1.5E-3 · 1e+0300") == [
        1234.5, -3.0, 0.5, 12.5, 4500.0, 2000.0, 0.0015, 1e300
    ]  # fmt: skip


@pytest.mark.parametrize("written", ["2e9999999", "2e100000000", "1e400", "1e-400", "9" * 400, "1." + "0" * 500])
def test_digits_beyond_the_limits_are_words_not_numbers(written):
    assert values(f"the total is {written} units") == []
    assert parse_numbers(f"the total is {written} units") == []


def test_an_answer_quoting_a_huge_exponent_compares_at_once_and_in_full():
    """`2e9999999` once made the comparison compute a ten-million-digit integer holding the GIL; `1e400` raised."""
    old = "Revenue grew 2e9999999 times, 1e400 overall, to 1,200 units."
    new = "Revenue grew 2e9999999 times, 1e400 overall, to 1,350 units."
    done = threading.Event()
    result: list[object] = []

    def compare() -> None:
        result.append(compare_numbers(old, new))
        done.set()

    threading.Thread(target=compare, daemon=True).start()
    assert done.wait(30), "comparing two answers stalled"
    paired, only_old, only_new = result[0]
    assert [(c.old.text, c.new.text, c.change_text) for c in paired if c.changed] == [("1,200", "1,350", "+150")]
    assert not only_old and not only_new


@pytest.mark.fuzz
@given(st.text())
def test_reading_any_text_never_raises_and_gives_finite_bounded_numbers(text):
    for n in numbers.find(text):
        assert math.isfinite(n.value) and text[n.start : n.end] == n.text
        digits = sum(c.isdigit() for c in n.text.lower().split("e")[0])
        assert digits <= numbers.LIMITS.number_digits


NUMBERISH = st.text(alphabet="0123456789.,eE+-−%$€ \u202f\u00a0abc`\n", max_size=80)


@pytest.mark.fuzz
@given(NUMBERISH, NUMBERISH)
def test_aligning_any_two_answers_never_raises(old, new):
    paired, only_old, only_new = compare_numbers(old, new)
    for change in paired:
        assert isinstance(change.change_text, str) and isinstance(change.relative_text, str)
    quoted = [q for _, q in tokens(old) if q is not None]
    assert len(paired) + len(only_old) == len(quoted)


@pytest.mark.fuzz
@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15).filter(
        lambda v: v == 0 or abs(v) > 1e-290  # smaller ones are written with exponents beyond the limit
    ),
    st.sampled_from(["{:,.2f}", "{:.3f}", "{:g}", "{:.2e}", "{:,.0f}"]),
)
def test_a_number_written_the_usual_ways_reads_back(value, form):
    written = form.format(value)
    found = values(f"the total is {written} units")
    assert len(found) == 1 and math.isclose(found[0], float(written.replace(",", "")), rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.fuzz
@given(st.lists(st.text(alphabet="0123456789e.,+- x", max_size=30), max_size=4))
def test_comparing_two_runs_of_any_answers_never_raises(answers):
    turns = [(f"q{i}", [Text(text=a)]) for i, a in enumerate(answers)]
    found = diff.diff_runs(turns, list(reversed(turns)))
    assert len(found.turns) == len(answers) and found.problem == ""
