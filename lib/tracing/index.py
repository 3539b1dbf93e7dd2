"""The numbers a run's outputs show (stdout, text-editor views, generated files), indexed once by exact value
and by every rounded form, each with where it is."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lib.tracing.records import FileNumbers, ShownNumber, Source
from lib.tracing.written import Key, key_forms, keys_of, shown_key, written_numbers
from lib.transcript import CodeCell, EditorResult, GeneratedFile, Item, Output

MAX_PER_OUTPUT = 2_000  # numbers indexed per output or generated file
MAX_PER_RUN = 20_000  # numbers indexed per run
LINE_CHARS = 200  # of the line a number came from
_DATE_JOINS = ("-", "/", ":")

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
        key, forms = key_forms(key)
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
        for start, end, key in keys_of(text):
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

    def exact_before(self, key: Key, where: tuple[int, int]) -> Entry | None:
        """The latest output before (turn, seq) that shows this canonical value."""
        return _latest_before(self.exact.get(key), where)

    def rounded_before(self, key: Key, where: tuple[int, int]) -> Entry | None:
        """The latest output before (turn, seq) that shows a value rounding to this one."""
        return _latest_before(self.rounded.get(key), where)

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


def _date_part(text: str, start: int, end: int) -> bool:
    """Whether a number in an output is part of a date or time (2024-03-01, 03/01/2024, 14:30): joined to
    another number by a dash, slash or colon."""
    return (start > 1 and text[start - 1] in "-/:" and text[start - 2].isdigit()) or (
        text[end : end + 1] in _DATE_JOINS and text[end + 1 : end + 2].isdigit()
    )


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
