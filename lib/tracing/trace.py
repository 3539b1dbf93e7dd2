"""Tracing a run's prose: each number of its Text items traced to the outputs before it, or skipped with the
reason (what counts as traced: lib.tracing's docstring)."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice

from lib.tracing.index import Entry, Index, index_run
from lib.tracing.records import FileNumbers, RunTrace, Status, TracedNumber, TurnTrace
from lib.tracing.written import Key, Written, canonical, number_key, written_numbers
from lib.transcript import Item, Text

MAX_PER_TEXT = 1_000  # numbers looked at per text item

# what a number in the prose is not: code, link targets and URLs (not listed at all) ...
_CODE = re.compile(
    r"^[ \t]*(`{3,}|~{3,}).*?(?:^[ \t]*\1[ \t]*$|\Z)|(`{1,3})[^`\n]{1,1000}\2|\]\([^()\[\]\s]{0,500}\)"
    r"|https?://[^\s)>\]]+",
    re.M | re.S,
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# ... dates and times ...
_DATE_TIME = re.compile(
    r"\b(?:19|20)\d\d(?:[-/]\d{1,2}(?:[-/]\d{1,2})?|\.\d{1,2}\.\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?(?i:[ap]\.?m)\b\.?)?"
    r"|\b\d{1,2}\s?(?i:[ap]\.?m)\b\.?"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?![a-z])(?:,?\s+\d{{4}}\b)?"
)
# ... and list ordinals: "1." at a line's start, "step 2", "#3", "[4]"
_LINE_ORDINAL = re.compile(r"^[ \t]*(?:[-*+>#]+[ \t]*)?\d{1,3}[.)](?=\s|$)", re.M)
_REFERENCE = re.compile(r"\[\d{1,3}\]")
_YEAR = re.compile(r"(?:19\d\d|20\d\d|2100)")
# words right before a number that make it an ordinal, a rounding, or a fall
_ORDINAL_WORDS = frozenset(
    "step stage phase part section chapter figure fig. table cell item question option page no.".split()
)
_HEDGES = frozenset("about around roughly approximately approx. nearly almost circa ca. some".split())
_DECLINES = frozenset(
    "fell fall falls falling dropped drop drops decreased decrease decreases declined decline declines shrank "
    "shrunk slipped sank lost loss down lower reduced reduction cut".split()
)
_OPENING = "([{\"'“‘*_"
_BEFORE = 40  # characters of prose looked at before a number
KNOWN = "in the files note"  # its size, profile or notes: a number Claude was told, not one it found


def trace_run(
    turns: Sequence[tuple[str, Sequence[Item]]],
    files: Mapping[str, FileNumbers] | None = None,
    known: Iterable[float | int | str] = (),
) -> RunTrace:
    """Trace every number in a run's prose: `turns` are (question, items) in order, an item's seq being its
    position in its turn; `files` the numbers of generated CSV/JSON files by file id; `known` the numbers of
    the files' stored profiles (not counted). See lib.tracing's docstring for what counts as traced."""
    index = index_run(turns, files)
    known_keys = {k for k in map(number_key, known) if k is not None}
    asked: set[Key] = set()
    traced = []
    for t, (question, items) in enumerate(turns):
        asked.update(canonical(w.key) for w in written_numbers(question) if w.key is not None)
        found: list[TracedNumber] = []
        for seq, item in enumerate(items):
            if isinstance(item, Text) and item.text:
                found.extend(trace_text(item.text, (t, seq), index, asked, known_keys))
        traced.append(TurnTrace(t, found, index.complete))
    return RunTrace(traced, index.complete)


def trace_text(text: str, where: tuple[int, int], index: Index, asked: set[Key], known: set[Key]) -> list[TracedNumber]:
    """The numbers of one Text item at (turn, seq), traced to outputs before it."""
    written = list(islice(written_numbers(text), MAX_PER_TEXT))
    if not written:
        return []
    end = written[-1].end + _BEFORE  # the rest of a long text is not looked at
    code = _spans(_CODE, text, end)
    dates = _spans(_DATE_TIME, text, end)
    ordinals = sorted(_spans(_LINE_ORDINAL, text, end) + _spans(_REFERENCE, text, end))
    found = []
    for w in written:
        if _inside(w.start, code):
            continue
        reason = _skip_reason(text, w, dates, ordinals, asked)
        if reason:
            found.append(TracedNumber(where[0], where[1], w.start, w.end, w.text, Status.SKIPPED, reason=reason))
            continue
        status, entry = _trace(text, w, index, where)
        if status is Status.UNTRACED and w.key is not None and canonical(w.key) in known:
            # what the files note told Claude needs no output; printed by a cell too, it is traced like any other
            found.append(TracedNumber(where[0], where[1], w.start, w.end, w.text, Status.SKIPPED, reason=KNOWN))
            continue
        source = index.source(entry) if entry is not None else None
        found.append(TracedNumber(where[0], where[1], w.start, w.end, w.text, status, source))
    return found


def _spans(pattern: re.Pattern[str], text: str, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text, 0, end)]


def _inside(at: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a position is inside one of some spans that do not overlap, in order."""
    i = bisect.bisect_right(spans, (at, math.inf))
    return bool(i) and at < spans[i - 1][1]


def _skip_reason(
    text: str, w: Written, dates: list[tuple[int, int]], ordinals: list[tuple[int, int]], asked: set[Key]
) -> str:
    if _inside(w.start, dates):
        return "date or time"
    if _YEAR.fullmatch(w.text):
        return "year"
    if _inside(w.start, ordinals) or _words_before(text, w.start)[1] in _ORDINAL_WORDS or _hash_before(text, w):
        return "list ordinal"
    if w.key is not None:
        key = canonical(w.key)
        if key in asked:
            return "in the question"
    return ""


def _words_before(text: str, at: int) -> tuple[str, str, str]:
    """The two words before a position, lower-case (markdown emphasis and opening brackets left out), and the
    last character before it that is not a space."""
    before = text[max(0, at - _BEFORE) : at].rstrip(" \u00a0*_")
    words = before.lower().split()[-2:]
    last = words[-1].lstrip(_OPENING) if words else ""
    return (words[0].lstrip(_OPENING) if len(words) == 2 else ""), last, before[-1:]


def _hash_before(text: str, w: Written) -> bool:
    """Whether the number is written "#3" (not a heading's "# 3")."""
    return (
        w.start >= 1
        and text[w.start - 1] == "#"
        and not (w.start >= 2 and (text[w.start - 2] == "#" or text[w.start - 2].isalnum()))
    )


def _trace(text: str, w: Written, index: Index, where: tuple[int, int]) -> tuple[Status, Entry | None]:
    if w.key is None:
        return Status.UNTRACED, None
    first, last, char = _words_before(text, w.start)
    hedged = last in _HEDGES or char in "~≈" or (first, last) == ("close", "to")
    forms = [w.key]
    if w.percent:
        forms.append((w.key[0] + 2, w.key[1]))  # 12.5% is 0.125
    if last in _DECLINES or (last in ("by", "of") and first in _DECLINES):
        forms += [(d, -n) for d, n in forms]
    for form in forms:
        entry = index.exact_before(canonical(form), where)
        if entry is not None:
            return Status.EXACT, entry
    if abs(w.key[1]) < 10 and not (hedged or w.percent or w.scaled):
        return Status.UNTRACED, None
    for form in forms:
        entry = index.rounded_before(form, where)
        if entry is None and hedged:
            entry = index.rounded_before(canonical(form), where)
        if entry is not None:
            return Status.ROUNDED, entry
    return Status.UNTRACED, None
