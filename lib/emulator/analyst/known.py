"""What the request's files note already says about a table (its profile, made when the file was uploaded), so
the demo analyst need not spend a code cell finding it out."""

from __future__ import annotations

import re
from dataclasses import dataclass

NOTE_START = "Files attached to the container for this question:"
_PROFILE = re.compile(r"Profile of `(?P<name>[^`]+)`[^:]*: (?P<rows>[\d,]+) rows × (?P<columns>[\d,]+) columns")
_COLUMN = re.compile(r"^- `(?P<name>[^`]+)` (?P<type>\S+): (?P<missing>[\d,]+) missing", re.MULTILINE)


@dataclass(frozen=True)
class KnownTable:
    """A table's shape and its columns' types and missing counts, as the note gives them."""

    rows: int
    columns: int
    types: dict[str, str]
    missing: dict[str, int]


def split(text: str) -> tuple[str, str]:
    """(the question, the files note) of a user message's text."""
    question, found, note = text.partition(NOTE_START)
    return question.strip(), found + note


def known_table(note: str, name: str) -> KnownTable | None:
    """The profile the note gives of the file `name`, if it gives one."""
    for found in _PROFILE.finditer(note):
        if found.group("name") != name:
            continue
        block = note[found.end() :].split("\nProfile of `", 1)[0]
        columns = list(_COLUMN.finditer(block))
        return KnownTable(
            rows=int(found.group("rows").replace(",", "")),
            columns=int(found.group("columns").replace(",", "")),
            types={c.group("name"): c.group("type") for c in columns},
            missing={c.group("name"): int(c.group("missing").replace(",", "")) for c in columns},
        )
    return None
