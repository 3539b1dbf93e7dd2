"""Traced numbers drawn with Streamlit: untraced ones marked in the answer, and the list of a turn's numbers with
the output line that showed each and a link to its cell."""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

from lib.runs.view import cell_anchor, code_span, shown_where
from lib.tracing import Status, TracedNumber, TurnTrace, rewrite

MARK = "orange-background"  # Streamlit's colour directive for a number no output showed
MAX_LISTED = 300  # numbers listed per turn
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # ASCII punctuation, which markdown may read as syntax


def marked(text: str, numbers: Sequence[TracedNumber]) -> str:
    """An answer's markdown with each untraced number marked in colour (numbers in code are never listed, so
    never marked)."""

    def mark(n: TracedNumber) -> str | None:
        if n.status is not Status.UNTRACED:
            return None
        # after a colon the directive would not be read as one ("x::orange…"): a zero-width space parts them
        return ("\u200b" if text[n.start - 1 : n.start] == ":" else "") + _mark(n.text)

    return rewrite(text, numbers, mark)


def numbers_expander(trace: TurnTrace) -> None:
    """Every number of a turn's answer, in order: the output line that showed it (exact or rounded) with a link
    to its cell, or that none did; then those not counted."""
    if not trace.numbers:
        return
    with st.expander(f"Numbers · {trace.summary}", icon=":material/fact_check:"):
        counted = trace.counted
        if counted:
            st.markdown(listed(trace))
        if len(counted) > MAX_LISTED:
            st.caption(f"… and {len(counted) - MAX_LISTED} more.")
        skipped = [n for n in trace.numbers if not n.counted][:MAX_LISTED]
        if skipped:
            st.caption("Not counted: " + "; ".join(f"{_escaped(n.text)} ({n.reason})" for n in skipped) + ".")
        if not trace.complete:
            st.caption("Some outputs showed more numbers than were read, so an untraced one may still be in them.")


def listed(trace: TurnTrace) -> str:
    """The counted numbers of a turn as a markdown list (at most MAX_LISTED): where each came from, or that no
    output showed it."""
    return "\n".join(_line(n) for n in trace.counted[:MAX_LISTED])


def _line(n: TracedNumber) -> str:
    """One number as a list item: where it came from, or that no output showed it."""
    if not n.traced or n.source is None:
        return f"- {_mark(n.text)} untraced: no output before it shows this number"
    how = "exact" if n.status is Status.EXACT else "rounded"
    where = shown_where(n.source, lambda name: f"[cell {name}](#{cell_anchor(name)})")
    return f"- {code_span(n.text)} {how} · {where}: {code_span(n.source.line_text)}"


def _mark(text: str) -> str:
    return f":{MARK}[{_escaped(text)}]"


def _escaped(text: str) -> str:
    """Text that markdown shows as it is ($ would start a formula, * emphasis, [ a link…)."""
    return _PUNCTUATION.sub(r"\\\1", text)
