"""Traced numbers drawn with Streamlit: untraced ones marked in the answer, and the list of a turn's numbers with
the output line that showed each and a link to its cell."""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

from lib.runs.view import cell_anchor, cell_name
from lib.tracing import Status, TracedNumber, TurnTrace, rewrite

MARK = "orange-background"  # Streamlit's colour directive for a number no output showed
MAX_LISTED = 300  # numbers listed per turn
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # ASCII punctuation, which markdown may read as syntax
_TICKS = re.compile(r"`+")


def marked(text: str, numbers: Sequence[TracedNumber]) -> str:
    """An answer's markdown with each untraced number marked in colour (numbers in code are never listed, so
    never marked)."""
    return rewrite(text, numbers, lambda n: _mark(n.text) if n.status is Status.UNTRACED else None)


def by_item(trace: TurnTrace | None) -> dict[int, list[TracedNumber]]:
    """A turn's numbers by the position of their Text item."""
    found: dict[int, list[TracedNumber]] = {}
    for n in trace.numbers if trace is not None else ():
        found.setdefault(n.seq, []).append(n)
    return found


def numbers_expander(trace: TurnTrace) -> None:
    """Every number of a turn's answer, in order: the output line that showed it (exact or rounded) with a link
    to its cell, or that none did; then those not counted."""
    if not trace.numbers:
        return
    with st.expander(f"Numbers · {trace.summary}", icon=":material/fact_check:"):
        counted = trace.counted
        if counted:
            st.markdown("\n".join(_line(n) for n in counted[:MAX_LISTED]))
        if len(counted) > MAX_LISTED:
            st.caption(f"… and {len(counted) - MAX_LISTED} more.")
        skipped = [n for n in trace.numbers if not n.counted][:MAX_LISTED]
        if skipped:
            st.caption("Not counted: " + "; ".join(f"{_escaped(n.text)} ({n.reason})" for n in skipped) + ".")
        if not trace.complete:
            st.caption("Some outputs showed more numbers than were read, so an untraced one may still be in them.")


def _line(n: TracedNumber) -> str:
    """One number as a list item: where it came from, or that no output showed it."""
    source = n.source
    if not n.traced or source is None:
        return f"- {_mark(n.text)} untraced: no output before it shows this number"
    how = "exact" if n.status is Status.EXACT else "rounded"
    if source.cell_number is not None:
        name = cell_name(source.turn, source.cell_number)
        cell = f"[cell {name}](#{cell_anchor(name)})"
    else:
        cell = f"an output of question {source.turn + 1}"
    if source.file:
        label = f", under {_code(source.label)}" if source.label else ""
        where = f"{_code(source.file)} saved by {cell}, line {source.line}{label}"
    else:
        where = f"{cell}, output line {source.line}"
    return f"- {_code(n.text)} {how} · {where}: {_code(source.line_text)}"


def _mark(text: str) -> str:
    return f":{MARK}[{_escaped(text)}]"


def _escaped(text: str) -> str:
    """Text that markdown shows as it is ($ would start a formula, * emphasis, [ a link…)."""
    return _PUNCTUATION.sub(r"\\\1", text)


def _code(text: str) -> str:
    """Text as a markdown code span, however many backticks it holds."""
    ticks = "`" * (max((len(m) for m in _TICKS.findall(text)), default=0) + 1)
    pad = " " if not text or text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
