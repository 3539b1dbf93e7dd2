"""Every number in an answer traced to the code output that showed it.

A number in a turn's prose (its Text items) is **traced** when an item earlier in the same run shows it: the
stdout of a Python or bash cell (printed tables included), the content of a text-editor `view`, or a CSV or
JSON file the code generated (its numbers read in the sandbox and handed over as `FileNumbers`). A number an
output joins to another with a dash, slash or colon is part of a date or time (2024-03-01, 14:30) and not one
it shows. It is traced

- **exactly** when that output shows the same value, however either side writes it: with or without thousands
  separators (1,234 = 1234), a currency sign ($4,500 = 4500), a Unicode minus (−3 = -3), trailing zeros
  (12.50 = 12.5), an exponent (1.2e3 = 1200) or a k, M, bn, thousand, million or billion suffix (1.2M =
  1,200,000); a percent is also its fraction (12.5% = 0.125);
- **as a rounding** when the output shows more digits and rounds to the number as written (12.35 from
  12.3456, 12 from 12.4, 1.2M from 1,234,567, 13% from 0.1254; a value exactly halfway rounds either way).
  A plain one-digit number (3, 0.5) is not taken as a rounding unless it is a percent, has a suffix or follows
  "about", "around", "roughly", "approximately", "nearly", "almost", "circa", "some", "close to", "~" or "≈";
  after those words its trailing zeros are not digits shown either, so "about 1,200" is a rounding of 1,234.
- After "fell", "dropped", "decreased", "declined", "lost", "down" and the like (with or without "by"/"of"),
  a number also stands for its negative, so "fell by 3" is traced to -3.

The source recorded is the latest output before the text that shows the number exactly, or failing that the
latest that shows it as a rounding.

Not counted, and listed as skipped with the reason: years (four plain digits from 1900 to 2100), the parts of
dates and times (2024-03-01, 01/03/2024, March 5, 14:30, 9 am), list ordinals ("1." or "2)" at a line's start,
"step 2", "table 3", "#4", "[5]"), and numbers equal to one written in the run's questions so far or in
`known` (the file's stored profile: row and column counts). Numbers in code spans, fenced code blocks, link
targets and URLs are not numbers of the prose and are not listed. Every other number is untraced.

Work is bounded: each output contributes at most MAX_PER_OUTPUT numbers and the run at most MAX_PER_RUN
(`RunTrace.complete` says whether everything was looked at); each text item at most MAX_PER_TEXT numbers. The
outputs are indexed once per run, by exact value and by every rounded form.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from itertools import islice
from typing import Any, NamedTuple

from lib import numbers
from lib.transcript import CodeCell, EditorResult, GeneratedFile, Item, Output, Text

MAX_PER_OUTPUT = 2_000  # numbers indexed per output or generated file
MAX_PER_RUN = 20_000  # numbers indexed per run
MAX_PER_TEXT = 1_000  # numbers looked at per text item
MAX_DIGITS = 30  # significant digits of a number that can be traced
MAX_EXPONENT = 60
MAX_WRITTEN = 64  # characters of a number as written, separators, sign and exponent included
LINE_CHARS = 200  # of the line a number came from

Key = tuple[int, int]  # (d, n): the value n / 10**d

SCALES = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "million": 6, "b": 9, "bn": 9, "billion": 9, "tn": 12, "trillion": 12}
# 1.2M, $4.5k, 3bn: a suffix glued to the digits (lib.numbers leaves these alone, the suffix being a letter);
# never starting inside a run of digit groups, which would read a long run once per group
_GLUED = re.compile(
    rf"(?<![\w.])(?<!\d[{numbers.SEPARATORS}])[-+−]?[$€£]?"
    rf"(?:\d{{1,3}}(?:[{numbers.SEPARATORS}]\d{{3}})+|\d+)(?:\.\d+)?(?P<suffix>[kKMB]|bn|mn|tn)(?![\w%])"
)
_DATE_JOINS = ("-", "/", ":")
_GLUED_HINT = re.compile(r"\d(?:[kKMB]|bn|mn|tn)(?![\w%])")
_WORD_STARTS = tuple(f"{space}{c}" for space in " \u00a0" for c in "tTmMbBpP")
_WORD_AFTER = re.compile(r"[ \u00a0](?P<word>thousand|million|billion|trillion|bn|mn|percent|per cent)\b", re.I)
_PLAIN = str.maketrans({",": None, "\u202f": None, "\u00a0": None, "$": None, "€": None, "£": None, "%": None})
_PLAIN.update(str.maketrans({" ": None, "+": None, "−": "-"}))
_PARTS = re.compile(r"(-?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d{1,4}))?")
_POW10 = [10**i for i in range(MAX_DIGITS + 2)]

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


class Status(StrEnum):
    """What became of a number in the prose."""

    EXACT = "exact"  # an earlier output shows this value
    ROUNDED = "rounded"  # an earlier output shows a value that rounds to it
    UNTRACED = "untraced"  # no earlier output shows it
    SKIPPED = "skipped"  # not counted: see `TracedNumber.reason`


@dataclass(frozen=True)
class ShownNumber:
    """A number a generated file shows, as written there, and where."""

    text: str
    line: int  # 1-based line of the file
    context: str  # that line, or the part of it around the number
    label: str = ""  # the column (CSV) or key (JSON) it is under


@dataclass(frozen=True)
class FileNumbers:
    """The numbers a generated file shows, read in the sandbox; bounded in count and size."""

    numbers: tuple[ShownNumber, ...] = ()
    truncated: bool = False  # the file shows more than was read
    note: str = ""  # why it could not be read, when it could not


@dataclass(frozen=True)
class Source:
    """Where an output shows a number: the item, the code cell that made it, and the line."""

    turn: int
    seq: int  # the Output, EditorResult or GeneratedFile item
    cell_seq: int | None  # the CodeCell whose run made it (None when the run does not have it)
    line: int  # 1-based, in the stdout or the file
    line_text: str
    file: str = ""  # the generated file's name, when it came from one
    label: str = ""  # the file's column or key
    cell_number: int | None = None  # that CodeCell's place among the code cells of its turn (1: the first)


@dataclass(frozen=True)
class TracedNumber:
    """A number in a turn's prose and what it was traced to."""

    turn: int
    seq: int  # the Text item
    start: int  # where it is in that item's text
    end: int
    text: str
    status: Status
    source: Source | None = None
    reason: str = ""  # why it is skipped

    @property
    def traced(self) -> bool:
        """Whether an output shows it, exactly or as a rounding."""
        return self.status in (Status.EXACT, Status.ROUNDED)

    @property
    def counted(self) -> bool:
        """Whether it counts in "14 of 15 numbers traced"."""
        return self.status is not Status.SKIPPED


def summary(traced: int, counted: int) -> str:
    """'14 of 15 numbers traced'."""
    if not counted:
        return "no numbers to trace"
    return f"{traced} of {counted} number{'' if counted == 1 else 's'} traced"


@dataclass(frozen=True)
class TurnTrace:
    """Every number in one turn's prose, in order, with what it was traced to; `complete` is False when some
    output had more numbers than were indexed."""

    turn: int
    numbers: list[TracedNumber]
    complete: bool = True

    @property
    def counted(self) -> list[TracedNumber]:
        """The numbers that count (skipped ones left out)."""
        return [n for n in self.numbers if n.counted]

    @property
    def traced(self) -> list[TracedNumber]:
        """The numbers an output shows."""
        return [n for n in self.numbers if n.traced]

    @property
    def untraced(self) -> list[TracedNumber]:
        """The numbers no earlier output shows."""
        return [n for n in self.numbers if n.status is Status.UNTRACED]

    @property
    def summary(self) -> str:
        """'14 of 15 numbers traced'."""
        return summary(len(self.traced), len(self.counted))

    def in_item(self, seq: int) -> list[TracedNumber]:
        """The numbers of one Text item, in order (for marking them in its text)."""
        return [n for n in self.numbers if n.seq == seq]

    def by_item(self) -> dict[int, list[TracedNumber]]:
        """The numbers of each Text item, in order, by its position in the turn."""
        found: dict[int, list[TracedNumber]] = {}
        for n in self.numbers:
            found.setdefault(n.seq, []).append(n)
        return found

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form, read back by `turn_trace_from_dict`."""
        return {"turn": self.turn, "complete": self.complete, "numbers": [asdict(n) for n in self.numbers]}


def turn_trace_from_dict(data: Mapping[str, Any]) -> TurnTrace:
    """A turn's trace from `TurnTrace.to_dict` output, ignoring fields this version does not know; raises
    ValueError, KeyError or TypeError when it is not one."""
    numbers = []
    for n in data["numbers"]:
        source = n.get("source")
        numbers.append(
            TracedNumber(
                **{k: n[k] for k in _NUMBER_FIELDS if k in n},
                status=Status(n["status"]),
                source=Source(**{k: source[k] for k in _SOURCE_FIELDS if k in source}) if source else None,
            )
        )
    return TurnTrace(int(data["turn"]), numbers, bool(data.get("complete", True)))


_NUMBER_FIELDS = [f.name for f in fields(TracedNumber) if f.name not in ("status", "source")]
_SOURCE_FIELDS = [f.name for f in fields(Source)]


def rewrite(text: str, numbers: Iterable[TracedNumber], how: Callable[[TracedNumber], str | None]) -> str:
    """A Text item's text with each of its numbers (in order) written as `how` gives it (None: as it was); a
    number that is not where its trace says (the text changed since) is left alone."""
    parts: list[str] = []
    at = 0
    for n in numbers:
        if n.start < at or text[n.start : n.end] != n.text:
            continue
        written = how(n)
        if written is not None:
            parts += [text[at : n.start], written]
            at = n.end
    return "".join(parts) + text[at:]


@dataclass(frozen=True)
class RunTrace:
    """Every turn of a run traced; `complete` is False when some output had more numbers than were indexed."""

    turns: list[TurnTrace]
    complete: bool = True

    @property
    def untraced(self) -> list[TracedNumber]:
        """Every untraced number of the run."""
        return [n for t in self.turns for n in t.untraced]

    @property
    def summary(self) -> str:
        """'14 of 15 numbers traced' over the whole run."""
        return summary(sum(len(t.traced) for t in self.turns), sum(len(t.counted) for t in self.turns))

    @property
    def described(self) -> str:
        """'14 of 15 numbers traced; untraced: 23.4'."""
        untraced = ", ".join(n.text for n in self.untraced)
        return self.summary + (f"; untraced: {untraced}" if untraced else "")


# --- numbers as written, and their exact keys ------------------------------------------------------------


class Written(NamedTuple):
    """A number as a text writes it: where, as written, its value as (digits shown, integer), and whether it is
    a percent or carries a suffix (1.2M)."""

    start: int
    end: int
    text: str
    key: Key | None  # None: not a number that can be traced (too many digits, an absurd exponent)
    percent: bool = False
    scaled: bool = False


def written_numbers(text: str) -> Iterator[Written]:
    """Every number a text writes, in order: those lib.numbers.NUMBER matches, and those with a k/M/bn suffix
    or a scale word after them."""
    glued = map(_scaled, _GLUED.finditer(text)) if _GLUED_HINT.search(text) else iter(())
    nxt = next(glued, None)
    for m in numbers.NUMBER.finditer(text):
        at = m.start()
        while nxt is not None and nxt.end <= at:
            yield nxt
            nxt = next(glued, None)
        if nxt is None or not nxt.start <= at < nxt.end:  # the "1" of "1,234M" is part of it
            yield _plain(text, m)
    if nxt is not None:
        yield nxt
    yield from glued


def _plain(text: str, m: re.Match[str]) -> Written:
    # The key comes from the digits as written, not from numbers.value_of: tracing compares decimal digits,
    # and shown_key bounds the work (MAX_DIGITS, MAX_EXPONENT) whatever the match.
    written, start, end = m.group(0), m.start(), m.end()
    key = shown_key(written)
    if not text.startswith(_WORD_STARTS, end):
        return Written(start, end, written, key, written[-1] == "%")
    word = _WORD_AFTER.match(text, end)
    if word is None:
        return Written(start, end, written, key, written[-1] == "%")
    name = word["word"].lower()
    if name in ("percent", "per cent"):
        return Written(start, word.end(), text[start : word.end()], key, True)
    return Written(start, word.end(), text[start : word.end()], _scale(key, SCALES[name]), scaled=True)


def _date_part(text: str, start: int, end: int) -> bool:
    """Whether a number in an output is part of a date or time (2024-03-01, 03/01/2024, 14:30): joined to
    another number by a dash, slash or colon."""
    return (start > 1 and text[start - 1] in "-/:" and text[start - 2].isdigit()) or (
        text[end : end + 1] in _DATE_JOINS and text[end + 1 : end + 2].isdigit()
    )


def _key_at(text: str, m: re.Match[str]) -> Key | None:
    """The key of a NUMBER match, as _plain gives it."""
    return _plain(text, m).key if text.startswith(_WORD_STARTS, m.end()) else shown_key(m.group(0))


def _scaled(m: re.Match[str]) -> Written:
    suffix = m["suffix"]
    key = shown_key(m.group(0)[: -len(suffix)])
    return Written(m.start(), m.end(), m.group(0), _scale(key, SCALES[suffix.lower()]), scaled=True)


def _scale(key: Key | None, power: int) -> Key | None:
    return None if key is None else (key[0] - power, key[1])


def shown_key(text: str) -> Key | None:
    """A number as written (1,234.50 · −3 · $4.5 · 12.5% · 2e3) as (digits after the point, integer): 12.50 is
    (2, 1250), 2e3 is (-3, 2); None when it has more than MAX_DIGITS digits or an absurd exponent."""
    return None if len(text) > MAX_WRITTEN else _shown_key(text)


@functools.lru_cache(maxsize=1 << 16)
def _shown_key(text: str) -> Key | None:
    m = _PARTS.fullmatch(text.strip().translate(_PLAIN))
    if m is None:
        return None
    sign, whole, frac, exp = m.groups()
    frac = frac or ""
    digits = whole + frac
    if not digits or len(digits.lstrip("0")) > MAX_DIGITS:
        return None
    power = int(exp) if exp else 0
    if abs(power) > MAX_EXPONENT:
        return None
    n = int(digits)
    return len(frac) - power, -n if sign else n


def canonical(key: Key) -> Key:
    """The same value with no trailing zeros: (2, 1250) -> (1, 125); zero is (0, 0)."""
    d, n = key
    if n == 0:
        return 0, 0
    while n % 10 == 0:
        n //= 10
        d -= 1
    return d, n


@functools.lru_cache(maxsize=1 << 16)
def _forms(key: Key) -> tuple[Key, tuple[Key, ...]]:
    """A value's canonical key and every rounded form of it."""
    key = canonical(key)
    return key, tuple(_roundings(key))


def _roundings(key: Key) -> Iterator[Key]:
    """Every form of a canonical value rounded to fewer digits, down to its first digit (both neighbours of an
    exact half; never zero)."""
    d, n = key
    a, sign = abs(n), (-1 if n < 0 else 1)
    for step in range(1, MAX_DIGITS + 1):
        p = _POW10[step]
        if 2 * a < p:
            return
        q, r = divmod(a, p)
        half = p // 2
        if r < half:
            if q:
                yield d - step, sign * q
        elif r > half:
            yield d - step, sign * (q + 1)
        else:
            if q:
                yield d - step, sign * q
            yield d - step, sign * (q + 1)


def number_key(value: float | int | str) -> Key | None:
    """The exact key of a number given as a value (a profile's row count) or as written."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return canonical((0, value)) if abs(value) < _POW10[MAX_DIGITS] else None
    if isinstance(value, float):
        return None if not math.isfinite(value) else _maybe_canonical(shown_key(repr(value)))
    return _maybe_canonical(shown_key(value))


def _maybe_canonical(key: Key | None) -> Key | None:
    return None if key is None else canonical(key)


# --- the run's outputs, indexed once ----------------------------------------------------------------------

Entry = tuple[int, int, int, int]  # (turn, seq) of the output item, its origin, where in it (offset or index)


@dataclass
class _Origin:
    """An output item numbers were indexed from."""

    turn: int
    seq: int
    cell_seq: int | None
    cell_number: int | None
    text: str = ""  # stdout or the viewed file's content
    file: str = ""
    shown: tuple[ShownNumber, ...] = ()


@dataclass
class Index:
    """The numbers a run's outputs show, by exact value and by every rounded form, each with where it is."""

    exact: dict[Key, list[Entry]] = field(default_factory=dict)
    rounded: dict[Key, list[Entry]] = field(default_factory=dict)
    origins: list[_Origin] = field(default_factory=list)
    count: int = 0
    complete: bool = True

    def add(self, key: Key, entry: Entry) -> None:
        """Index one number (once per origin: a value shown again in the same output adds nothing)."""
        exact, rounded, ref = self.exact, self.rounded, entry[2]
        key, forms = _forms(key)
        found = exact.get(key)
        if found is None:
            exact[key] = [entry]
        elif found[-1][2] != ref:
            found.append(entry)
        else:
            return
        for form in forms:
            found = rounded.get(form)
            if found is None:
                rounded[form] = [entry]
            elif found[-1][2] != ref:
                found.append(entry)

    def add_text(self, origin: _Origin) -> None:
        """Index the numbers an output's text shows."""
        ref = len(self.origins)
        self.origins.append(origin)
        text, turn, seq = origin.text, origin.turn, origin.seq
        limit = min(MAX_PER_OUTPUT, MAX_PER_RUN - self.count)
        seen = 0
        # written_numbers, unrolled for the common case of no k/M/bn suffix: this loop is most of the work
        found = (
            ((w.start, w.end, w.key) for w in written_numbers(text))
            if _GLUED_HINT.search(text)
            else ((m.start(), m.end(), _key_at(text, m)) for m in numbers.NUMBER.finditer(text))
        )
        for start, end, key in found:
            if seen == limit:
                self.complete = False
                break
            seen += 1
            if key is not None and not _date_part(text, start, end):
                self.add(key, (turn, seq, ref, start))
        self.count += seen

    def add_file(self, origin: _Origin) -> None:
        """Index the numbers a generated file shows."""
        ref = len(self.origins)
        self.origins.append(origin)
        limit = min(MAX_PER_OUTPUT, MAX_PER_RUN - self.count)
        if len(origin.shown) > limit:
            self.complete = False
        for i, shown in enumerate(origin.shown[:limit]):
            key = shown_key(shown.text)
            if key is None and shown.text[-1:].isalpha():  # 1.2M
                key = next((w.key for w in written_numbers(shown.text)), None)
            if key is not None:
                self.add(key, (origin.turn, origin.seq, ref, i))
        self.count += min(limit, len(origin.shown))

    def source(self, entry: Entry) -> Source:
        """Where an indexed number is, with its line."""
        origin = self.origins[entry[2]]
        where = (origin.turn, origin.seq, origin.cell_seq)
        if origin.file:
            shown = origin.shown[entry[3]]
            return Source(*where, shown.line, shown.context, origin.file, shown.label, origin.cell_number)
        text, at = origin.text, entry[3]
        start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
        line = text[start : len(text) if end < 0 else end]
        if len(line) > LINE_CHARS:
            left = max(0, min(at - start - LINE_CHARS // 2, len(line) - LINE_CHARS))
            line = line[left : left + LINE_CHARS]
        return Source(*where, text.count("\n", 0, at) + 1, line.strip(), cell_number=origin.cell_number)


_NO_CELL: tuple[None, None] = (None, None)


def index_run(turns: Sequence[tuple[str, Sequence[Item]]], files: Mapping[str, FileNumbers] | None = None) -> Index:
    """The numbers every output of a run shows: stdout, text-editor views, and generated files in `files`
    (by file id)."""
    index = Index()
    files = files or {}
    for t, (_question, items) in enumerate(turns):
        codes = [(seq, i) for seq, i in enumerate(items) if isinstance(i, CodeCell)]
        # a result's cell by its tool use id: its position in the turn and its place among the turn's code cells
        cells = {cell.tool_use_id: (seq, n) for n, (seq, cell) in enumerate(codes, start=1) if cell.tool_use_id}
        for seq, item in enumerate(items):
            if index.count >= MAX_PER_RUN:
                index.complete = False
                return index
            if isinstance(item, Output) and item.stdout:
                index.add_text(_Origin(t, seq, *cells.get(item.tool_use_id, _NO_CELL), item.stdout))
            elif isinstance(item, EditorResult) and item.operation == "view" and item.content:
                index.add_text(_Origin(t, seq, *cells.get(item.tool_use_id, _NO_CELL), item.content))
            elif isinstance(item, GeneratedFile) and item.file_id in files:
                found = files[item.file_id]
                index.complete = index.complete and not found.truncated
                cell = cells.get(item.tool_use_id, _NO_CELL)
                index.add_file(_Origin(t, seq, *cell, file=item.filename, shown=found.numbers))
    return index


def _latest_before(entries: list[Entry] | None, where: tuple[int, int]) -> Entry | None:
    if not entries:
        return None
    i = bisect.bisect_left(entries, where)
    return entries[i - 1] if i else None


# --- tracing the prose ------------------------------------------------------------------------------------


def trace_run(
    turns: Sequence[tuple[str, Sequence[Item]]],
    files: Mapping[str, FileNumbers] | None = None,
    known: Iterable[float | int | str] = (),
) -> RunTrace:
    """Trace every number in a run's prose: `turns` are (question, items) in order, an item's seq being its
    position in its turn; `files` the numbers of generated CSV/JSON files by file id; `known` the numbers of
    the files' stored profiles (not counted). See the module's docstring for what counts as traced."""
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
        reason = _skip_reason(text, w, dates, ordinals, asked, known)
        if reason:
            found.append(TracedNumber(where[0], where[1], w.start, w.end, w.text, Status.SKIPPED, reason=reason))
            continue
        status, entry = _trace(text, w, index, where)
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
    text: str,
    w: Written,
    dates: list[tuple[int, int]],
    ordinals: list[tuple[int, int]],
    asked: set[Key],
    known: set[Key],
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
        if key in known:
            return "in the file's profile"
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
        entry = _latest_before(index.exact.get(canonical(form)), where)
        if entry is not None:
            return Status.EXACT, entry
    if abs(w.key[1]) < 10 and not (hedged or w.percent or w.scaled):
        return Status.UNTRACED, None
    for form in forms:
        entry = _latest_before(index.rounded.get(form), where)
        if entry is None and hedged:
            entry = _latest_before(index.rounded.get(canonical(form)), where)
        if entry is not None:
            return Status.ROUNDED, entry
    return Status.UNTRACED, None
