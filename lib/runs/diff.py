"""Two runs side by side, question by question: numbers quoted in the answers, stdout of each code cell, charts.

The turns are paired by position (a replay asks the original's questions in order), and so are the code cells
and the charts within a turn. Numbers are paired by the words around them: both answers are cut into words
and numbers, every number counts as the same word, and the longest common stretches line them up.

Answers and outputs are written by a model, and aligning them costs time that grows with their length, so
`compare_runs` works in the sandbox pool within a time limit; a comparison that cannot be made says why.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lib import numbers
from lib.files import charts, decoded, kinds, sandbox
from lib.limits import LIMITS
from lib.transcript import CodeCell, GeneratedFile, Item, Output, Text

# inline code first (names), then numbers, then words; whichever starts first wins
TOKEN = re.compile(rf"(?P<code>`[^`\n]*`)|(?P<number>{numbers.NUMBER.pattern})|(?P<word>[^\W\d_][\w'’-]*)")
SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)|\n")
NUM = "\0#"  # how every number reads to the aligner
CONTEXT_WORDS = 5


@dataclass(frozen=True)
class Quoted:
    """A number as an answer wrote it, with its value and the words before and after it."""

    text: str
    value: float
    before: str
    after: str


@dataclass(frozen=True)
class NumberChange:
    """One number both answers quote at the same place, and how it moved."""

    old: Quoted
    new: Quoted

    @property
    def change(self) -> float:
        """New minus old."""
        return self.new.value - self.old.value

    @property
    def relative(self) -> float | None:
        """The change as a share of the old value (None when the old value is 0)."""
        return self.change / abs(self.old.value) if self.old.value else None

    @property
    def changed(self) -> bool:
        """Whether the value differs."""
        return self.old.value != self.new.value

    @property
    def where(self) -> str:
        """The words around the number in the newer answer, the number itself left out."""
        return f"{self.new.before} … {self.new.after}".strip()

    @property
    def change_text(self) -> str:
        """The change as people read it: +2, -29.1 pts (between percentages), or 'same'."""
        if not self.changed:
            return "same"
        points = self.old.text.endswith("%") and self.new.text.endswith("%")
        return f"{self.change:+,.6g}" + (" pts" if points else "")

    @property
    def relative_text(self) -> str:
        """The change in percent of the old value, or '' when unchanged or the old value is 0."""
        return "" if self.relative is None or not self.changed else f"{self.relative:+.1%}"


@dataclass(frozen=True)
class CellDiff:
    """The stdout of the n-th code cell of a turn in each run, and their line diff."""

    number: int  # 1-based, in order of execution within the turn
    old_code: str
    new_code: str
    old_stdout: str
    new_stdout: str
    old_failed: bool = False
    new_failed: bool = False
    diff: list[str] = field(default_factory=list)  # unified diff lines; empty when both printed the same

    @property
    def same(self) -> bool:
        """Whether both cells printed the same."""
        return self.old_stdout == self.new_stdout


@dataclass(frozen=True)
class Figure:
    """A chart a turn produced: its Vega-Lite spec and/or its image."""

    name: str
    spec: GeneratedFile | None = None
    image: GeneratedFile | None = None


@dataclass(frozen=True)
class TurnDiff:
    """One question as each run asked it, and what changed in the answer."""

    idx: int
    old_question: str | None  # None: that run has no turn at this position
    new_question: str | None
    numbers: list[NumberChange]
    only_old: list[Quoted]  # numbers the old answer quotes where the new one says something else
    only_new: list[Quoted]
    cells: list[CellDiff]
    figures: list[tuple[Figure | None, Figure | None]]

    @property
    def changed_numbers(self) -> list[NumberChange]:
        """The paired numbers whose value differs."""
        return [n for n in self.numbers if n.changed]


@dataclass(frozen=True)
class RunDiff:
    """Every question of two runs, paired in order; with `problem`, why they could not be compared."""

    turns: list[TurnDiff]
    problem: str = ""

    @property
    def changed_numbers(self) -> int:
        """How many quoted numbers changed over all questions."""
        return sum(len(t.changed_numbers) for t in self.turns)

    @property
    def changed_cells(self) -> int:
        """How many code cells printed something different."""
        return sum(1 for t in self.turns for c in t.cells if not c.same)


def _clause(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def tokens(text: str) -> list[tuple[str, Quoted | None]]:
    """An answer as aligner tokens: lower-cased words, and numbers (all alike) with what they quote.

    Inline code (file and column names) is one opaque word, so digits in names are never taken for numbers."""
    spans = [(m, m.lastgroup or "") for m in TOKEN.finditer(text)]
    found: list[tuple[str, Quoted | None]] = []
    for i, (m, kind) in enumerate(spans):
        value = numbers.value_of(m) if kind == "number" else None
        if value is None:  # a word, or digits not read as a number (too long, exponent too large)
            found.append((m.group(0).lower(), None))
            continue
        start = spans[max(0, i - CONTEXT_WORDS)][0].start()
        end = spans[min(len(spans) - 1, i + 2)][0].end()
        before = _clause(SENTENCE_END.split(text[start : m.start()])[-1])
        after = _clause(SENTENCE_END.split(text[m.end() : max(end, m.end())])[0])
        found.append((NUM, Quoted(m.group(0).strip(), value, before, after)))
    return found


def compare_numbers(old_text: str, new_text: str) -> tuple[list[NumberChange], list[Quoted], list[Quoted]]:
    """Numbers quoted at the same place in both texts (paired), and those only one text quotes."""
    old, new = tokens(old_text), tokens(new_text)
    matcher = difflib.SequenceMatcher(None, [w for w, _ in old], [w for w, _ in new], autojunk=False)
    paired: list[NumberChange] = []
    only_old: list[Quoted] = []
    only_new: list[Quoted] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        olds = [q for _, q in old[i1:i2] if q is not None]
        news = [q for _, q in new[j1:j2] if q is not None]
        if op == "equal" or (op == "replace" and len(olds) == len(news)):
            paired.extend(NumberChange(a, b) for a, b in zip(olds, news, strict=True))
        else:
            only_old.extend(olds)
            only_new.extend(news)
    return paired, only_old, only_new


def answer_text(items: Sequence[Item]) -> str:
    """Everything a turn said in words, in order."""
    return "\n\n".join(i.text for i in items if isinstance(i, Text) and i.text.strip())


def executions(items: Sequence[Item]) -> list[tuple[CodeCell, Output | None]]:
    """A turn's code cells in order, each with its output (None when none came back)."""
    outputs = {i.tool_use_id: i for i in items if isinstance(i, Output)}
    return [(i, outputs.get(i.tool_use_id)) for i in items if isinstance(i, CodeCell) and not i.operation]


def compare_cells(old_items: Sequence[Item], new_items: Sequence[Item]) -> list[CellDiff]:
    """The stdout of each code cell, paired by order, with a unified diff where they differ."""
    old, new = executions(old_items), executions(new_items)
    found = []
    for n in range(max(len(old), len(new))):
        a_cell, a_out = old[n] if n < len(old) else (None, None)
        b_cell, b_out = new[n] if n < len(new) else (None, None)
        a_text, b_text = (a_out.stdout if a_out else ""), (b_out.stdout if b_out else "")
        diff = []
        if a_text != b_text:
            lines = difflib.unified_diff(
                a_text.splitlines(), b_text.splitlines(), "original", "replay", n=1, lineterm=""
            )
            diff = list(lines)
        found.append(
            CellDiff(
                n + 1,
                a_cell.code if a_cell else "",
                b_cell.code if b_cell else "",
                a_text,
                b_text,
                bool(a_out and a_out.return_code),
                bool(b_out and b_out.return_code),
                diff,
            )
        )
    return found


def figures(items: Sequence[Item]) -> list[Figure]:
    """A turn's charts in order: each Vega-Lite spec with its PNG sibling, and every other image on its own."""
    pairs = charts.pair_files(items, charts.shown_name)
    paired = charts.paired_pngs(items, charts.shown_name)
    found = []
    for i, item in enumerate(items):
        if not isinstance(item, GeneratedFile) or not charts.shown_name(item) or i in paired:
            continue
        if i in pairs:
            png = items[pairs[i]] if pairs[i] is not None else None
            found.append(Figure(item.filename, spec=item, image=png if isinstance(png, GeneratedFile) else None))
        elif kinds.shown_inline(item.filename, item.mime_type):
            found.append(Figure(item.filename, image=item))
    return found


def compare_turns(
    idx: int, old_question: str | None, old_items: Sequence[Item], new_question: str | None, new_items: Sequence[Item]
) -> TurnDiff:
    """What changed between two answers to the same question."""
    numbers, only_old, only_new = compare_numbers(answer_text(old_items), answer_text(new_items))
    old_figs, new_figs = figures(old_items), figures(new_items)
    pairs = [
        (old_figs[n] if n < len(old_figs) else None, new_figs[n] if n < len(new_figs) else None)
        for n in range(max(len(old_figs), len(new_figs)))
    ]
    return TurnDiff(
        idx, old_question, new_question, numbers, only_old, only_new, compare_cells(old_items, new_items), pairs
    )


Turns = Sequence[tuple[str, Sequence[Item]]]


def compare_runs(old: Turns, new: Turns) -> RunDiff:
    """Two runs given as (question, items) per turn, compared turn by turn in order, in the sandbox within the
    time limit (kept, so a page's rerun does not compare again); a RunDiff with `problem` when it could not be."""
    found = decoded.of_value(diff_runs, list(old), list(new), seconds=LIMITS.compare_seconds)
    if found.value is None:
        return RunDiff([], problem=f"The answers could not be compared: {found.problem}.")
    return found.value


@sandbox.task
def diff_runs(old: Turns, new: Turns) -> RunDiff:
    """Two runs given as (question, items) per turn, compared turn by turn in order (in this process)."""
    turns = []
    for n in range(max(len(old), len(new))):
        a_q, a_items = old[n] if n < len(old) else (None, [])
        b_q, b_items = new[n] if n < len(new) else (None, [])
        turns.append(compare_turns(n, a_q, a_items, b_q, b_items))
    return RunDiff(turns)
