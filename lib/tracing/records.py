"""What a trace is made of: each number of the prose with its status and source, a turn's and a run's trace,
their serialisable form, and the numbers a generated file shows (the input read in the sandbox)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any


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
